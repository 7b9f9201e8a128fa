"""The profile's fast paths (performance) give what the tolerant readers give, on well-formed and odd input.

Each fast path covers the common well-formed shape and hands anything else to the tolerant reader; these
tests compare the two on both kinds of input, so a fast path can never read data differently.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.fhir.systems import ICD10, LOINC, SCT
from cds_service.profile import labs
from cds_service.profile.codes import MAPPING_FILES, _read_codings, codings, codings_key, index
from cds_service.profile.fhirread import (
    _DATE_FIELDS,
    _status_code,
    _text_of,
    as_str,
    first_date,
    resource_date,
    status_code,
    text_of,
)
from cds_service.profile.quantities import _read_number, read_number

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                    st.sampled_from(["", " ", "777-3", " 777-3 ", "29593-1", "C7A.012", "c7a012", LOINC,
                                     "http://LOINC.org/", ICD10, SCT, "2026-01-02", "2026-13-45", "2026", "x"]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["system", "code", "display", "coding", "text", "value", "unit",
                                     "comparator", "start", "end"]), inner, max_size=4)), max_leaves=8)
CODING = st.fixed_dictionaries({}, optional={"system": SCALARS, "code": SCALARS, "display": SCALARS})
CONCEPT = st.one_of(
    JSON,
    st.fixed_dictionaries({"coding": st.lists(st.one_of(CODING, JSON), max_size=3)}, optional={"text": SCALARS}),
    st.lists(st.fixed_dictionaries({"coding": st.lists(CODING, max_size=2)}), max_size=2),
)

WELL_FORMED = [
    {"coding": [{"system": LOINC, "code": "777-3", "display": "Platelets"}], "text": "Platelets"},
    {"coding": [{"system": LOINC, "code": " 29593-1 "}]},
    {"coding": [{"system": ICD10, "code": "c7a.012"}, {"system": SCT, "code": "1651000119109", "display": "x"}]},
    {"coding": [{"code": "777-3"}]},
    {"coding": []},
    {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.1", "code": "2951-2", "display": ""}]},
]
ODD = [
    None, 3, "777-3", [], [{"coding": [{"system": LOINC, "code": "777-3"}]}],
    {"system": LOINC, "code": "777-3"}, {"coding": {"system": LOINC, "code": "777-3"}},
    {"coding": [{"system": LOINC, "code": 777}]}, {"coding": [{"system": LOINC, "code": True}]},
    {"coding": [{"system": LOINC, "code": 1}]}, {"coding": [{"system": LOINC, "code": 1.0}]},
    {"coding": [{"system": [LOINC], "code": "777-3"}]}, {"coding": [{"system": LOINC, "code": "777-3", "display": 5}]},
    {"coding": [None, {"system": LOINC, "code": "777-3"}]}, {"coding": [[{"system": LOINC, "code": "777-3"}]]},
    {"coding": [{"system": LOINC, "code": ""}]}, {"coding": None, "code": "777-3"},
]


@pytest.mark.parametrize("concept", WELL_FORMED + ODD)
def test_codings_equal_the_tolerant_reader(concept: Any) -> None:
    assert codings(concept) == _read_codings(concept)
    assert codings(concept) == _read_codings(concept)  # from the cache


def test_codings_key_only_for_plain_strings() -> None:
    assert all(codings_key(c) is not None for c in WELL_FORMED)
    # 1 and True hash alike: numbers and booleans never make a key, so they can never share a cache entry
    assert codings_key({"coding": [{"system": LOINC, "code": 1}]}) is None
    assert codings_key({"coding": [{"system": LOINC, "code": True}]}) is None


def test_cached_codings_are_a_fresh_list() -> None:
    concept = WELL_FORMED[0]
    codings(concept).append(("loinc", "junk", None))
    assert codings(concept) == _read_codings(concept)


@settings(max_examples=300, deadline=None)
@given(CONCEPT)
def test_codings_fuzzed(concept: Any) -> None:
    assert codings(concept) == _read_codings(concept)
    assert codings(concept) == _read_codings(concept)


@settings(max_examples=300, deadline=None)
@given(CONCEPT, st.sampled_from(MAPPING_FILES), st.sampled_from([None, "observation", "nen", "medication"]))
def test_first_of_equals_first_fuzzed(concept: Any, name: str, concept_name: str | None) -> None:
    code_index = index(name)
    assert code_index.first_of(concept, concept_name) == code_index.first(_read_codings(concept), concept_name)


@pytest.mark.parametrize("concept", WELL_FORMED + ODD)
@pytest.mark.parametrize("concept_name", [None, "observation", "nen"])
def test_first_of_equals_first(concept: Any, concept_name: str | None) -> None:
    for name in MAPPING_FILES:
        for _ in range(2):  # computed, then cached
            assert index(name).first_of(concept, concept_name) == index(name).first(_read_codings(concept),
                                                                                     concept_name)


QUANTITIES: list[Any] = [
    {"value": 12, "unit": "ng/mL"}, {"value": 12.5, "unit": " mg/dL "}, {"value": 0, "code": "%"},
    {"value": -3.5}, {"value": 1e-7, "unit": ""}, {"value": 123456789.0, "unit": "/uL"},
    {"value": 5, "unit": "", "code": "U/L"}, {"value": 5, "unit": 7}, {"value": 5, "unit": None, "code": None},
    {"value": 5, "comparator": "<"}, {"value": 5, "comparator": None}, {"value": 5, "comparator": ""},
    {"value": 5, "comparator": 3}, {"value": True}, {"value": False}, {"value": "12,5"}, {"value": None},
    {"value": math.nan}, {"value": math.inf}, {"value": -math.inf}, {}, [], [{"value": 3}], None, "12",
]


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_read_number_equals_the_tolerant_reader(quantity: Any) -> None:
    observation = {"resourceType": "Observation", "valueQuantity": quantity}
    assert read_number(observation) == _read_number(observation)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_read_number_fuzzed(quantity: Any) -> None:
    observation = {"resourceType": "Observation", "valueQuantity": quantity}
    assert read_number(observation) == _read_number(observation)


DATED: list[dict[str, Any]] = [
    {"resourceType": "Observation", "effectiveDateTime": "2026-01-02"},
    {"resourceType": "Observation", "effectiveDateTime": "2026-13-45", "issued": "2025-02-03T10:00:00Z"},
    {"resourceType": "Observation", "effectivePeriod": {"end": "2024"}, "effectiveInstant": 5},
    {"resourceType": "Observation", "effectivePeriod": [{"start": "2024-05"}]},
    {"resourceType": "Observation", "effectivePeriod": "2024-05-01"},
    {"resourceType": "Observation", "effectivePeriod": [{"start": "x"}, {"start": "2024"}]},
    {"resourceType": "Condition", "onsetPeriod": {"start": 2020}, "recordedDate": "2021-03"},
    {"resourceType": "Procedure", "performedPeriod": {"end": "2019-01-01"}},
    {"resourceType": "Patient", "birthDate": "1960-01-01"},
    {"effectiveDateTime": "2026-01-02"},
]


@pytest.mark.parametrize("resource", DATED)
def test_resource_date_equals_first_date(resource: dict[str, Any]) -> None:
    fields = _DATE_FIELDS.get(resource.get("resourceType", ""), ())
    assert resource_date(resource) == (first_date(resource, *fields) if fields else None)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_DATE_FIELDS)),
       st.dictionaries(st.sampled_from(["effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued",
                                        "onsetDateTime", "onsetPeriod", "recordedDate", "performedPeriod",
                                        "authoredOn", "started", "date", "dateAsserted"]), JSON, max_size=4))
def test_resource_date_fuzzed(rtype: str, fields: dict[str, Any]) -> None:
    resource = {"resourceType": rtype, **fields}
    assert resource_date(resource) == first_date(resource, *_DATE_FIELDS[rtype])


TEXTS: list[Any] = [
    {"text": "Ga-68 DOTATATE PET/CT"}, {"text": " CgA ", "coding": [{"display": "Chromogranin A"}, {"code": "x"}]},
    {"coding": [{"display": "A"}, {"display": ""}, {"display": "  B "}]}, {"text": "", "coding": None}, {},
    {"text": 5}, {"text": "x", "coding": {"display": "y"}}, {"coding": [[{"display": "y"}]]},
    {"coding": [{"display": 7}]}, [{"text": "a"}, {"text": "b"}], "Plain string ", None, 3,
]


@pytest.mark.parametrize("value", TEXTS)
def test_text_of_equals_the_general_reader(value: Any) -> None:
    for _ in range(2):  # computed, then cached
        assert text_of(value) == _text_of((value,))
        assert text_of(value, None) == _text_of((value, None))
        assert text_of(value, "PET") == _text_of((value, "PET"))


@settings(max_examples=300, deadline=None)
@given(CONCEPT)
def test_text_of_fuzzed(value: Any) -> None:
    assert text_of(value) == _text_of((value,))
    assert text_of(value) == _text_of((value,))
    assert text_of(value, None) == _text_of((value, None))


def _reference_read_newest(resources: list[dict[str, Any]], name: str) -> list[Any]:
    """read_newest as first written: nlargest over the resources, each date read twice."""
    if len(resources) > labs.KEEP_PER_LAB and name not in labs.FULL_HISTORY_LABS:
        resources = heapq.nlargest(labs.KEEP_PER_LAB, resources, key=lambda r: resource_date(r) or "")
    return [labs.read_lab(r, name) for r in resources]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["2026-01-02", "2026-01-02T10:00:00Z", "2025-12", "2024", "bad", ""]),
                          st.none()), min_size=0, max_size=60),
       st.sampled_from(["cga", "calcium"]))
def test_read_newest_keeps_the_same_results_in_the_same_order(dates: list[str | None], name: str) -> None:
    resources = [{"resourceType": "Observation", "id": f"o{i}", "valueQuantity": {"value": i, "unit": "U/L"},
                  **({"effectiveDateTime": d} if d is not None else {})} for i, d in enumerate(dates)]
    assert labs.read_newest(resources, name) == _reference_read_newest(resources, name)


REFERENCES = st.one_of(SCALARS, st.sampled_from(["Patient/p1", "Patient/p1/", "Patient/p2", "http://x/Patient/p1",
                                                 "Patient/a/b", "Patient/", "Group/p1", "patient/p1"]))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["Observation", "Patient", "Condition"]),
       st.dictionaries(st.sampled_from(["subject", "patient"]),
                       st.one_of(JSON, st.fixed_dictionaries({"reference": REFERENCES})), max_size=2),
       st.sampled_from(["p1", "p2", "a/b", "b", "", "Patient"]))
def test_belongs_to_patient_equals_the_general_rule(rtype: str, refs: dict[str, Any], patient_id: str) -> None:
    from cds_service.fhir.gather import _belongs_to_patient, _names_this_patient

    resource = {"resourceType": rtype, "id": "p1", **refs}
    assert _belongs_to_patient(resource, patient_id) == _names_this_patient(resource, patient_id)


@pytest.mark.parametrize("value", [
    "final", " Preliminary ", "", {"coding": [{"code": "Active"}]}, {"coding": [{"code": " "}, {"code": "x"}]},
    {"coding": [{"code": 5}]}, {"coding": [None, {"code": "y"}]}, {"coding": [], "text": "Done"},
    {"coding": {"code": "z"}}, [{"coding": [{"code": "w"}]}], {"text": 3}, None, 7,
])
def test_status_code_equals_the_general_reader(value: Any) -> None:
    assert status_code(value) == _status_code(value)


@settings(max_examples=300, deadline=None)
@given(CONCEPT)
def test_status_code_fuzzed(value: Any) -> None:
    assert status_code(value) == _status_code(value)


def test_caches_stay_bounded_and_correct_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    from cds_service.profile import codes, fhirread

    monkeypatch.setattr(codes, "_CODINGS_CACHE_SIZE", 3)
    monkeypatch.setattr(fhirread, "_TEXT_OF_CACHE_SIZE", 3)
    observations = index("observations")
    for i in range(10):
        concept = {"coding": [{"system": LOINC, "code": f"{i}-{i}", "display": f"d{i}"}], "text": f"t{i}"}
        assert codings(concept) == _read_codings(concept)
        assert observations.first_of(concept, "observation") == observations.first(_read_codings(concept),
                                                                                   "observation")
        assert observations.match(codings(concept)) == list(observations._match(_read_codings(concept), None))
        assert text_of(concept) == _text_of((concept,))
    assert len(codes._CODINGS_CACHE) <= 4 and len(observations._first_cache) <= 4
    assert len(observations._match_cache) <= 4 and len(fhirread._TEXT_OF_CACHE) <= 4


def _reference_reference_of(resource: dict[str, Any]) -> str:
    """fhirread.reference_of before its fast path."""
    rtype = as_str(resource.get("resourceType")) or "Resource"
    rid = as_str(resource.get("id"))
    return f"{rtype}/{rid}" if rid else f"{rtype}/#"


@pytest.mark.parametrize("resource", [
    {"resourceType": "Observation", "id": "k1"}, {"resourceType": " Observation ", "id": " k1 "},
    {"resourceType": "Observation", "id": ""}, {"resourceType": "Observation", "id": "  "},
    {"resourceType": "", "id": "x"}, {"resourceType": "Observation", "id": 5}, {"resourceType": 3, "id": "x"},
    {"resourceType": "Observation"}, {"id": "x"}, {}, {"resourceType": "Observation", "id": True},
])
def test_reference_of_equals_the_general_reader(resource: dict[str, Any]) -> None:
    from cds_service.profile.fhirread import reference_of

    assert reference_of(resource) == _reference_reference_of(resource)


def test_long_strings_are_read_uncached_and_the_same() -> None:
    from cds_service.profile import codes, fhirread

    long_text = "Ga-68 DOTATATE PET " * 40
    concept = {"coding": [{"system": LOINC, "code": "777-3", "display": long_text}], "text": long_text}
    long_code = {"coding": [{"system": LOINC, "code": "7" * 300}]}
    assert codings_key(concept) is None and codings(concept) == _read_codings(concept)
    assert text_of(concept) == _text_of((concept,))
    observations = index("observations")
    for value in (concept, long_code):
        assert observations.first_of(value, "observation") == observations.first(_read_codings(value), "observation")
        assert observations.match(codings(value)) == list(observations._match(_read_codings(value), None))
    cached = [*codes._CODINGS_CACHE, *observations._first_cache, *observations._match_cache, *fhirread._TEXT_OF_CACHE]
    assert long_text not in repr(cached) and "7" * 300 not in repr(cached)

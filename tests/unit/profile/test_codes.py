"""Code lists in mappings/ (net-decision-model.md section 2: match by (system, code), common spellings)."""

from __future__ import annotations

import pytest

from cds_service.profile.codes import MAPPING_FILES, STATUSES, codings, index, load_all, system_key


@pytest.mark.parametrize("spelling", [
    "http://loinc.org", "https://loinc.org", "http://loinc.org/", "2.16.840.1.113883.6.1",
    "urn:oid:2.16.840.1.113883.6.1", "  http://LOINC.org  ",
])
def test_loinc_system_spellings(spelling: str) -> None:
    assert system_key(spelling) == "loinc"


@pytest.mark.parametrize(("spelling", "key"), [
    ("http://hl7.org/fhir/sid/icd-10-cm", "icd-10-cm"),
    ("urn:oid:2.16.840.1.113883.6.90", "icd-10-cm"),
    ("2.16.840.1.113883.6.90", "icd-10-cm"),
    ("https://hl7.org/fhir/sid/icd-10-cm/", "icd-10-cm"),
    ("http://snomed.info/sct", "snomed"),
    ("urn:oid:2.16.840.1.113883.6.96", "snomed"),
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "rxnorm"),
    ("https://www.nlm.nih.gov/research/umls/rxnorm/", "rxnorm"),
    ("urn:oid:2.16.840.1.113883.6.88", "rxnorm"),
    ("http://www.whocc.no/atc", "atc"),
    ("https://whocc.no/atc/", "atc"),
    ("http://terminology.hl7.org/CodeSystem/icd-o-3", "icd-o-3"),
    ("https://cap.org/eCC", "cap-ecc"),
])
def test_common_system_spellings(spelling: str, key: str) -> None:
    assert system_key(spelling) == key


def test_unknown_or_missing_system_matches_nothing() -> None:
    assert system_key("http://example.org/local") is None
    assert system_key(None) is None
    assert index("conditions").match(codings({"coding": [{"code": "C25.4"}]})) == []


def test_every_mapping_entry_has_system_code_display_and_status() -> None:
    for name, idx in load_all().items():
        assert name in MAPPING_FILES
        for e in idx.entries:
            assert e.system and e.code and e.display and e.status in STATUSES, (name, e)
            assert all(v is not None for v in e.attrs.values()), (name, e)


ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _match(system: str, code: str, file: str = "conditions") -> list:
    return index(file).match(codings({"coding": [{"system": system, "code": code}]}))


def _concepts(system: str, code: str, file: str = "conditions") -> set[str]:
    return {e.concept for e in _match(system, code, file)}


@pytest.mark.parametrize("code", ["C7A.012", "C7A012", "c7a.012"])
def test_icd10_codes_compare_without_dots_and_case(code: str) -> None:
    entries = _match("urn:oid:2.16.840.1.113883.6.90", code)
    assert [e.get("site") for e in entries if e.concept == "nen"] == ["ileum"]


def test_icd10_prefix_family_c7a0_covers_unlisted_codes() -> None:
    entries = _match(ICD, "C7A.099")
    assert [(e.concept, e.get("differentiation")) for e in entries] == [("nen", "NET")]


@pytest.mark.parametrize("code", ["E34.0", "E34.00", "E34.01", "E34.09"])
def test_carcinoid_syndrome_e340_prefix(code: str) -> None:
    assert "syndrome" in _concepts("http://hl7.org/fhir/sid/icd-10-cm", code)


def test_e341_is_not_carcinoid_syndrome() -> None:
    entries = _match(ICD, "E34.1")
    assert [e.get("syndrome") for e in entries] == ["vipoma"]


def test_exact_code_and_prefix_of_another_concept_both_match() -> None:
    assert _concepts("http://hl7.org/fhir/sid/icd-10-cm", "C7B.02") == {"metastasis", "secondary_nen"}


def test_merkel_secondary_c7b1_is_not_a_net_metastasis() -> None:
    assert _concepts("http://hl7.org/fhir/sid/icd-10-cm", "C7B.1") == set()


@pytest.mark.parametrize(("code", "therapy"), [("A02BC05", "ppi"), ("A02BC", "ppi"), ("H01CB02", "ssa"),
                                               ("H01CB99", "ssa"), ("l01eg02", "everolimus")])
def test_atc_codes_and_class_prefixes(code: str, therapy: str) -> None:
    entries = index("medications").match(codings({"coding": [{"system": "http://www.whocc.no/atc", "code": code}]}))
    assert {e.get("therapy") for e in entries} == {therapy}


def test_h2_blocker_atc_is_not_a_ppi() -> None:
    assert _match("http://www.whocc.no/atc", "A02BA03", "medications") == []


@pytest.mark.parametrize("code", ["8240/3", "82403", "M-8240/3", "M8240/3"])
def test_icdo3_spellings(code: str) -> None:
    e = index("morphology").first(codings({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.43.1", "code": code}]}))
    assert e is not None and e.get("differentiation") == "NET"


def test_codings_tolerates_single_object_and_junk() -> None:
    assert codings({"coding": {"system": "http://loinc.org", "code": "29593-1"}}) == [("loinc", "29593-1", None)]
    assert codings({"coding": ["junk", 3, None, {"code": 5, "system": "http://loinc.org"}]}) == [("loinc", "5", None)]
    assert codings("C25.4") == [] and codings(None) == [] and codings([{"coding": []}]) == []


def test_text_rules_exist_only_where_the_model_allows_them() -> None:
    """Ki-67 has no text rule that is used (only a look-alike note); mitoses text 'mitotic' is allowed."""
    obs = index("observations")
    assert obs.text("observation", "mitotic rate") is not None
    assert obs.text("observation", "ki-67 index") is None

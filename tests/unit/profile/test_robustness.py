"""Real EHR data is messy (net-decision-model.md section 2): wrong types everywhere must give a profile
with notes, never a crash and never a confident value (safety invariant 5); every known value has a dated
source where the resource has a date (invariant 6)."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.systems import LOINC
from cds_service.profile import build_profile
from cds_service.profile.model import Fact
from tests.unit.profile.builders import (
    TODAY,
    condition,
    ileal_net,
    ki67,
    lab,
    medication,
    observation,
    profile,
    sstr_report,
)

HOSTILE: list[dict[str, Any]] = [
    {"resourceType": "Condition", "id": "h1", "code": "C25.4", "clinicalStatus": ["active"], "onsetDateTime": 2020,
     "extension": "morphology", "bodySite": 7, "verificationStatus": {"coding": "confirmed"}},
    {"resourceType": "Condition", "id": "h2", "code": {"coding": {"system": ["x"], "code": {"c": 1}}},
     "clinicalStatus": {"coding": [None, 3]}},
    {"resourceType": "Observation", "id": "h3", "status": {"x": 1}, "code": {"coding": "29593-1"},
     "valueQuantity": [1, 2], "effectiveDateTime": "not a date"},
    {"resourceType": "Observation", "id": "h4", "status": "final",
     "code": {"coding": [{"system": LOINC, "code": "29593-1"}]}, "valueQuantity": {"value": {"v": 3}, "unit": 5},
     "effectiveDateTime": "2026-13-45"},
    {"resourceType": "Observation", "id": "h5", "code": {"coding": [{"system": LOINC, "code": "29593-1"}]},
     "valueString": ["15%"], "effectivePeriod": "2026"},
    {"resourceType": "Observation", "id": "h6", "code": {"coding": [{"system": LOINC, "code": "777-3"}]},
     "valueQuantity": {"value": "lots", "unit": None}, "referenceRange": "150-400", "interpretation": "H"},
    {"resourceType": "Observation", "id": "h7", "code": {"coding": [{"system": LOINC, "code": "89247-1"}]},
     "valueCodeableConcept": 3, "effectiveDateTime": ["2026-01-01"]},
    {"resourceType": "Observation", "id": "h8", "code": {"text": ["Ga-68 DOTATATE PET"]},
     "interpretation": "POS", "valueCodeableConcept": "positive"},
    {"resourceType": "DiagnosticReport", "id": "h9", "code": {"text": "OctreoScan"}, "conclusionCode": "positive",
     "result": [1, "x", {"reference": 5}], "conclusion": ["Krenning 3"], "status": None},
    {"resourceType": "Procedure", "id": "h10", "code": None, "performedDateTime": {"d": 1}, "outcome": "ok"},
    {"resourceType": "ImagingStudy", "id": "h11", "procedureCode": 12, "description": {"t": "DOTATATE"}},
    {"resourceType": "MedicationRequest", "id": "h12", "status": ["active"], "intent": 4,
     "medicationReference": "Medication/x", "dosageInstruction": {"timing": [{"repeat": "BID"}]},
     "authoredOn": {"y": 2025}},
    {"resourceType": "MedicationStatement", "id": "h13", "medicationCodeableConcept": {"coding": [{"code": None}]},
     "effectivePeriod": ["2025-01-01"], "status": "active"},
    {"resourceType": "MedicationAdministration", "id": "h14", "medicationCodeableConcept": "Lutathera",
     "effectiveDateTime": None, "status": "completed", "contained": "x"},
    {"resourceType": "ServiceRequest", "id": "h15", "code": ["PRRT"], "occurrenceDateTime": 5, "status": {}},
    {"resourceType": "FamilyMemberHistory", "id": "h16", "condition": "MEN1", "relationship": 1},
    {"resourceType": "Patient", "id": "p1", "birthDate": 19600101},
]


def _hostile_record() -> PatientRecord:
    rec = PatientRecord(patient_id="p1")
    for r in HOSTILE:
        rec.add(r)
    rec.resources.extend(["junk", None, 42, {"resourceType": 5}])  # not even resources
    rec.draft_orders.extend([None, "x", {"resourceType": "MedicationRequest", "medicationCodeableConcept": 3,
                                         "dosageInstruction": "BID", "contained": [1]}])
    return rec


def test_hostile_record_gives_a_profile_with_notes_and_no_confident_values() -> None:
    p = build_profile(_hostile_record(), TODAY)
    assert p.notes
    assert p.ki67_percent.value is None and p.who_grade.value is None
    assert p.renal_function.value is None and p.performance_kps.value is None and p.age.value is None
    assert not p.prrt_eligibility.eligible
    assert [o.resource_type for o in p.draft_orders] == ["MedicationRequest"]


def test_hostile_values_are_read_by_the_readers_not_swallowed_by_the_safety_net() -> None:
    p = build_profile(_hostile_record(), TODAY)
    assert not [n for n in p.notes if "could not be read (" in n.message]


def test_array_sent_as_single_object_and_decimal_as_string() -> None:
    obs = observation("29593-1", valueQuantity={"value": "12.5", "unit": "%"})
    obs["code"] = {"coding": {"system": LOINC, "code": "29593-1"}}
    cond = condition("C7A.012")
    cond["clinicalStatus"] = {"coding": {"code": "active"}}
    p = profile(cond, obs)
    assert p.ki67_percent.value == 12.5 and p.nen_status == "active"
    assert any("decimal sent as a string" in n for n in p.ki67_percent.notes)


def test_unknown_extensions_are_ignored() -> None:
    cond = ileal_net()
    cond["extension"] = [{"url": "http://example.org/x", "valueString": "y"}, {"url": 5}, "z"]
    assert profile(cond).primary_site.value == "ileum"


def test_record_notes_are_carried_into_the_profile() -> None:
    rec = PatientRecord(patient_id="p1")
    rec.note("Prefetch 'conditions' failed", None, "prefetch")
    assert build_profile(rec, TODAY).notes[0].message == "Prefetch 'conditions' failed"


def _facts(p: Any) -> list[tuple[str, Fact]]:
    out = [(f.name, getattr(p, f.name)) for f in dataclasses.fields(p) if isinstance(getattr(p, f.name), Fact)]
    out += [(k, v) for k, v in p.comorbidities.items()]
    return out


def test_every_known_value_has_a_dated_source() -> None:
    """Invariant 6 on a rich record: a known Fact has sources, and a date when its resource has one."""
    p = profile(ileal_net(), condition("C7B.02"), condition("E34.0"), condition("I10"), ki67(12),
                sstr_report("Ga-68 DOTATATE PET/CT"), medication(text="octreotide LAR"),
                lab("35591-7", 70, "mL/min"), observation("89243-0", when="2026-11-01", valueInteger=80))
    for name, fact in _facts(p):
        if fact.value is None or name in ("functional_syndrome", "line_of_therapy", "sstr_status", "stage",
                                          "men1_status"):
            continue
        assert fact.sources, name
        assert all(s.date for s in fact.sources), name
        assert fact.date, name
    for t in p.therapies:
        assert t.sources and all(s.date for s in t.sources)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=True) | st.text(max_size=12)
    | st.sampled_from(["29593-1", "C25.4", "%", "active", "2026-01-01", "http://loinc.org", "<3%", "final"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["system", "code", "value", "unit", "text", "coding", "reference", "start", "end",
                         "repeat", "timing", "frequency", "period", "periodUnit"]), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["code", "status", "clinicalStatus", "verificationStatus", "valueQuantity", "valueString", "valueRange",
          "valueCodeableConcept", "effectiveDateTime", "effectivePeriod", "interpretation", "medicationCodeableConcept",
          "medicationReference", "dosageInstruction", "conclusionCode", "result", "extension", "bodySite",
          "performedDateTime", "onsetDateTime", "intent", "occurrenceDateTime", "referenceRange"]
TYPES = ["Condition", "Observation", "DiagnosticReport", "Procedure", "ImagingStudy", "MedicationStatement",
         "MedicationRequest", "MedicationAdministration", "ServiceRequest", "FamilyMemberHistory", "Patient"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TYPES), st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)),
                max_size=6),
       st.lists(json_values, max_size=2))
def test_fuzzed_resources_never_crash(resources: list[tuple[str, dict]], drafts: list[Any]) -> None:
    rec = PatientRecord(patient_id="p1")
    for i, (rtype, fields) in enumerate(resources):
        rec.add({"resourceType": rtype, "id": f"r{i}", **fields})
    rec.draft_orders.extend(drafts)
    p = build_profile(rec, TODAY)
    assert not [n for n in p.notes if "could not be read (" in n.message], p.notes
    if p.ki67_percent.value is not None:
        assert 0 <= p.ki67_percent.value <= 100

"""Decision model v2, sections 1-2: reading the record right (scope from primaries, verification status,
MEN1 status, low glucose). Test names carry the model's row or rule id."""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.fhir.systems import ICD10, LOINC, SCT
from tests.unit.profile.builders import (
    PID,
    _id,
    cc,
    condition,
    ileal_net,
    ki67,
    lab,
    medication,
    observation,
    pnet,
    procedure,
    profile,
    sstr_report,
)

V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def family_history(relationship: str | None, text: str | None = None, code: str = "E31.21") -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "FamilyMemberHistory", "id": _id("fmh"), "status": "completed",
                         "patient": {"reference": f"Patient/{PID}"}, "date": "2026-03-02",
                         "condition": [{"code": cc(ICD10, code, "Multiple endocrine neoplasia type 1")}]}
    if relationship or text:
        r["relationship"] = cc(V3_ROLE, relationship, text)
    return r


def germline(result_text: str | None = None, answer: str | None = None, status: str = "final") -> dict[str, Any]:
    r = observation("69548-6", text="Genetic variant assessment", when="2026-06-01", status=status,
                    component=[{"code": cc(LOINC, "48018-6", "Gene studied"),
                                "valueCodeableConcept": cc("http://www.genenames.org/geneId", "HGNC:7010", "MEN1")}])
    if answer:
        r["valueCodeableConcept"] = cc(LOINC, answer)
    if result_text:
        r["valueString"] = result_text
    return r


# ---- section 1: scope and site from primary NEN Conditions only ---------------------------------


def test_scope_secondary_code_never_puts_a_lung_net_in_scope() -> None:
    p = profile(condition("C7A.090"), condition("C7B.02"), ki67(5))
    assert not p.in_scope and p.site_group == "out-of-scope"
    assert p.liver_metastases.value is True  # the metastasis is still read


def test_scope_remission_primary_names_the_site_of_a_coded_liver_recurrence() -> None:
    p = profile(pnet(clinical="remission", onset="2019-04-01"), condition("C78.7", onset="2026-09-01"), ki67(4))
    assert p.nen_status == "active" and p.in_scope
    assert (p.primary_site.value, p.site_group) == ("pancreas", "pancreas")
    assert p.metastatic.value is True


def test_scope_unknown_primary_only_without_any_primary_nen_condition() -> None:
    p = profile(condition("C7B.02"), ki67(5))
    assert p.nen_status == "active" and p.in_scope and p.site_group == "unknown"
    assert "unknown primary" in " ".join(p.primary_site.notes)


def test_scope_secondary_code_does_not_override_a_coded_primary_site() -> None:
    p = profile(ileal_net(onset="2024-01-01"), condition("C7B.02", onset="2026-10-01"))
    assert p.primary_site.value == "ileum"


def test_scope_metastasis_without_nen_is_not_a_nen() -> None:
    p = profile(condition("94381002", SCT))
    assert p.nen_status == "none" and not p.in_scope


# ---- section 2: verification status ---------------------------------------------------------------


@pytest.mark.parametrize("verification", ["provisional", "differential", "unconfirmed"])
def test_verification_suspected_nen_never_makes_a_nen_patient(verification: str) -> None:
    p = profile(pnet(verification=verification), ki67(5))
    assert p.nen_status == "none" and not p.in_scope
    assert [(s.diagnosis, s.verification) for s in p.suspected] == [("nen", verification)]


def test_verification_differential_nec_never_sets_nec() -> None:
    p = profile(ileal_net(), condition("C7A.1", verification="differential"), ki67(5))
    assert p.differentiation.value == "NET"
    assert {s.diagnosis for s in p.suspected} >= {"nec"}


def test_verification_provisional_zes_never_sets_a_syndrome() -> None:
    p = profile(pnet(), condition("E16.4", verification="provisional"), ki67(5))
    assert p.functional_syndrome.value == "nonfunctional"
    assert [s.diagnosis for s in p.suspected] == ["gastrinoma"]


def test_verification_suspected_men1_metastasis_and_comorbidity_are_not_used() -> None:
    p = profile(pnet(), condition("E31.21", verification="unconfirmed"), condition("C78.7", verification="provisional"),
                condition("E11.9", verification="provisional"), ki67(5))
    assert p.men1.value is None and p.men1_status.value == "unknown"
    assert p.metastatic.value is None
    assert p.comorbidities["diabetes"].value is None
    assert {s.diagnosis for s in p.suspected} == {"men1", "metastasis"}


def test_verification_missing_status_is_asserted() -> None:
    p = profile(pnet(verification=None), condition("E16.4", verification=None), ki67(5))
    assert p.nen_status == "active" and p.functional_syndrome.value == "gastrinoma" and not p.suspected


# ---- X-6 / section 2 men1 row ---------------------------------------------------------------------


@pytest.mark.parametrize(("relationship", "text"), [("MTH", "mother"), ("BRO", None), (None, "Daughter")])
def test_men1_first_degree_family_history(relationship: str | None, text: str | None) -> None:
    p = profile(pnet(), family_history(relationship, text))
    assert p.men1_status.value == "family-history"
    assert p.men1_status.sources[0].reference.startswith("FamilyMemberHistory/")


def test_men1_second_degree_relative_is_not_family_history() -> None:
    p = profile(pnet(), family_history("GRMTH", "maternal grandmother"))
    assert p.men1_status.value == "unknown"


@pytest.mark.parametrize(("answer", "text"), [("LA6577-6", None), (None, "No pathogenic variant identified in MEN1")])
def test_men1_negative_germline_test_wins_over_family_history(answer: str | None, text: str | None) -> None:
    p = profile(pnet(), family_history("MTH"), germline(text, answer))
    assert p.men1_status.value == "tested-negative"
    assert p.men1_status.date == "2026-06-01"


def test_men1_pathogenic_variant_is_diagnosed() -> None:
    assert profile(pnet(), germline("Pathogenic variant c.249_252del in MEN1")).men1_status.value == "diagnosed"


def test_men1_uncertain_or_pending_test_changes_nothing() -> None:
    assert profile(pnet(), family_history("FTH"), germline("Variant of uncertain significance")
                   ).men1_status.value == "family-history"
    assert profile(pnet(), germline("No pathogenic variant", status="registered")).men1_status.value == "unknown"


def test_men1_germline_report_as_diagnosticreport_with_free_text_conclusion() -> None:
    report = {"resourceType": "DiagnosticReport", "id": "dr-men1", "status": "final",
              "code": {"text": "MEN1 gene sequencing and deletion/duplication"}, "issued": "2026-07-09T10:00:00Z",
              "subject": {"reference": f"Patient/{PID}"},
              "conclusion": "NEGATIVE. No pathogenic or likely pathogenic variants were detected."}
    p = profile(pnet(), report)
    assert p.men1_status.value == "tested-negative" and p.sstr_status.value == "unknown"


# ---- section 2 glucose_low row ---------------------------------------------------------------------


@pytest.mark.parametrize(("code", "value", "unit", "mg_dl", "low"), [
    ("2345-7", 38, "mg/dL", 38, True),
    ("41653-7", 61, "mg/dL", 61, False),
    ("14749-6", 2.4, "mmol/L", 43.2, True),
    ("15074-8", 3.1, "mmol/l", 55.8, False),
    ("2339-0", 53, "mg/dL", 53, True),
])
def test_glucose_low_mg_dl_and_mmol_l(code: str, value: float, unit: str, mg_dl: float, low: bool) -> None:
    p = profile(pnet(), lab(code, value, unit, when="2026-11-20"))
    assert p.lowest_recent_glucose.value == pytest.approx(mg_dl, abs=0.1)
    assert p.lowest_recent_glucose.unit == "mg/dL" and p.lowest_recent_glucose.date == "2026-11-20"
    assert p.lowest_recent_glucose.sources and p.glucose_low.value is low


def test_glucose_low_uses_the_lowest_within_30_days_only() -> None:
    p = profile(pnet(), lab("2345-7", 30, "mg/dL", when="2026-09-01"), lab("2345-7", 48, "mg/dL", when="2026-11-10"),
                lab("2345-7", 90, "mg/dL", when="2026-11-25"))
    assert p.lowest_recent_glucose.value == 48 and p.glucose_low.value is True


def test_glucose_low_unknown_without_recent_glucose_or_with_an_unreadable_unit() -> None:
    assert profile(pnet()).glucose_low.value is None
    p = profile(pnet(), lab("2345-7", 40, None, when="2026-11-20"))
    assert p.glucose_low.value is None
    assert any(n.field == "glucose_low" for n in p.notes)


# ---- section 2 prior_therapies: clinic-given depot SSA, all three medication resources alike --------------


def test_prior_therapies_clinic_given_lanreotide_is_active_for_28_days_after_each_dose() -> None:
    dose = medication("MedicationAdministration", text="lanreotide (Somatuline Depot) 120 mg", status="completed",
                      when="2026-11-09T10:15:00-05:00")
    ssa = profile(ileal_net(), dose).therapy("ssa")
    assert ssa is not None and ssa.active and ssa.given
    old = medication("MedicationAdministration", text="lanreotide 120 mg", status="completed", when="2026-09-01")
    assert not profile(ileal_net(), old).therapy("ssa").active  # type: ignore[union-attr]


def test_prior_therapies_recorded_interval_up_to_56_days_from_the_request_an_administration_fulfils() -> None:
    request = medication("MedicationRequest", text="octreotide LAR 30 mg", status="completed", start="2026-09-01",
                         dosageInstruction=[{"timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "wk"}}}])
    dose = medication("MedicationAdministration", text="octreotide LAR 30 mg", status="completed", when="2026-10-05",
                      request={"reference": f"MedicationRequest/{request['id']}"})
    ssa = profile(ileal_net(), request, dose).therapy("ssa")
    assert ssa is not None and ssa.active  # 2026-10-05 + 56 days > 2026-11-28


def test_prior_therapies_completed_interval_order_and_statement_read_alike() -> None:
    order = medication("MedicationRequest", text="lanreotide 120 mg", status="completed", start="2026-11-10",
                       dosageInstruction=[{"timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "wk"}}}])
    statement = medication("MedicationStatement", text="lanreotide 120 mg", status="completed", start="2026-11-10")
    assert profile(ileal_net(), order).therapy("ssa").active  # type: ignore[union-attr]
    assert profile(ileal_net(), statement).therapy("ssa").active  # type: ignore[union-attr]
    short = medication("MedicationAdministration", text="octreotide 100 mcg SC", status="completed", when="2026-11-27")
    assert not profile(ileal_net(), short).therapy("ssa").active  # type: ignore[union-attr]  # not a depot


def test_prior_therapies_unresolvable_medication_reference_is_never_silent() -> None:
    lost = medication("MedicationRequest", status="active", medicationReference={"reference": "Medication/gone"})
    p = profile(ileal_net(), lost)
    assert [s.reference for s in p.unknown_medications] == [f"MedicationRequest/{lost['id']}"]
    assert any("Medication/gone" in n.message and n.field == "therapies" for n in p.notes)


# ---- section 2 sstr_status: diagnostic vs therapy records ----------------------------------------------


@pytest.mark.parametrize("text", ["Ga-68 DOTATATE PET for PRRT eligibility",
                                  "Post-PRRT restaging Ga-68 DOTATATE PET/CT"])
def test_sstr_status_pet_naming_prrt_is_diagnostic_imaging_not_a_prrt_record(text: str) -> None:
    p = profile(ileal_net(), sstr_report(text), procedure(text, when="2026-10-15"))
    assert p.sstr_status.value == "positive" and p.sstr_modality == "sstr-pet"
    assert p.therapy("prrt") is None


@pytest.mark.parametrize("text", ["Lutathera dose 2 infusion", "Post-therapy SPECT after Lu-177 dotatate"])
def test_sstr_status_therapy_records_are_not_imaging(text: str) -> None:
    p = profile(ileal_net(), procedure(text, when="2026-10-15"))
    assert p.sstr_modality is None


def test_X_2b_latest_sstr_study_without_a_readable_result_makes_the_status_unknown() -> None:
    p = profile(ileal_net(), sstr_report("Ga-68 DOTATATE PET/CT", when="2025-05-01"),
                sstr_report("Ga-68 DOTATATE PET/CT", None, when="2026-10-15", conclusion="Stable hepatic lesions."))
    assert p.sstr_status.value == "unknown" and p.sstr_modality == "sstr-pet"
    assert p.sstr_unreadable is not None and p.sstr_unreadable.date == "2026-10-15"
    assert any("earlier SSTR-PET (2025-05-01) was positive" in n for n in p.sstr_status.notes)


# ---- section 2 ki67_percent: text that holds no result ----------------------------------------------------


@pytest.mark.parametrize("text", ["Pending - see addendum 2", "See addendum #1", "Result to follow (ref 2024-03-05)"])
def test_ki67_text_without_a_result_is_not_a_number(text: str) -> None:
    p = profile(ileal_net(), ki67(valueString=text))
    assert p.ki67_percent.value is None and p.who_grade.value is None
    assert any("holds no result" in n.message for n in p.notes)


def test_ki67_text_with_a_percentage_and_a_pointer_is_still_read() -> None:
    assert profile(ileal_net(), ki67(valueString="Ki-67 15% (see addendum)")).ki67_percent.value == 15

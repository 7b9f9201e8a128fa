"""Labs, renal function, performance status (net-decision-model.md section 2) and PRRT eligibility /
durability (section 3): each criterion with value, date and pass/fail/unknown."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cds_service.fhir.systems import FINDINGS, SCT
from cds_service.profile.labs import KEEP_PER_LAB
from tests.unit.profile.builders import (
    cc,
    condition,
    ileal_net,
    lab,
    medication,
    observation,
    pnet,
    procedure,
    profile,
    sstr_report,
)
from tests.unit.profile.builders import finding as clinical_finding

POSITIVE_PET = sstr_report("Ga-68 DOTATATE PET/CT", when="2026-10-15")


@pytest.mark.parametrize(("code", "unit"), [("9811-1", "ng/mL"), ("9811-1", "ug/L"), ("25587-7", "nmol/L"),
                                            ("30169-7", "U/L")])
def test_cga_kept_with_unit_and_reference_range(code: str, unit: str) -> None:
    p = profile(lab(code, 250, unit, low=0, high=98, interpretation="H"))
    cga = p.latest_lab("cga")
    assert cga is not None
    assert (cga.value, cga.unit, cga.reference_range, cga.interpretation) == (250, unit, f"0-98 {unit}", "H")
    assert cga.date == "2026-11-01" and cga.source.reference.startswith("Observation/")


def test_labs_newest_first() -> None:
    p = profile(lab("2333-3", 80, "pg/mL", when="2025-01-01"), lab("2333-3", 900, "pg/mL", when="2026-01-01"))
    assert [r.value for r in p.labs["gastrin"]] == [900, 80]


@pytest.mark.parametrize(("code", "name"), [("2333-3", "gastrin"), ("15072-2", "gastrin"), ("1695-6", "5-hiaa"),
                                            ("14573-0", "5-hiaa"), ("31203-3", "5-hiaa"), ("25971-3", "5-hiaa"),
                                            ("2345-7", "glucose"), ("777-3", "platelets"), ("26515-7", "platelets"),
                                            ("4548-4", "hba1c"), ("17861-6", "calcium"), ("2731-8", "pth")])
def test_lab_codes(code: str, name: str) -> None:
    assert profile(lab(code, 1, "x")).latest_lab(name) is not None


def test_non_numeric_lab_kept_as_text() -> None:
    r = profile(observation("9811-1", valueString="hemolysed")).latest_lab("cga")
    assert r is not None and r.value is None and r.text == "hemolysed"


def test_renal_crcl_preferred_over_egfr() -> None:
    p = profile(lab("35591-7", 62, "mL/min", when="2026-10-01"), lab("62238-1", 90, "mL/min/1.73m2", when="2026-11-20"))
    assert p.renal_function.value == 62 and not p.renal_function.notes


def test_renal_egfr_used_and_flagged() -> None:
    p = profile(lab("98979-8", 45, "mL/min/1.73m2"))
    assert p.renal_function.value == 45 and "eGFR used in place of CrCl" in p.renal_function.notes


def test_renal_older_than_90_days_is_unknown_with_note() -> None:
    p = profile(lab("35591-7", 70, "mL/min", when="2026-01-01"))
    assert p.renal_function.value is None and "older than 90 days" in p.renal_function.notes[0]


def test_kps_latest_within_90_days() -> None:
    p = profile(observation("89243-0", when="2026-06-01", valueInteger=90),
                observation("89243-0", when="2026-11-01", valueInteger=60))
    assert p.performance_kps.value == 60 and p.performance_kps.date == "2026-11-01"


@pytest.mark.parametrize(("ecog", "result"), [(0, "pass"), (1, "pass"), (2, "unknown"), (3, "fail"), (4, "fail")])
def test_ecog_mapped_for_prrt_criterion(ecog: int, result: str) -> None:
    p = profile(observation("89247-1", when="2026-11-01", valueInteger=ecog))
    assert p.performance_ecog.value == ecog and any("ECOG" in n for n in p.performance_kps.notes)
    kps = next(c for c in p.prrt_eligibility.criteria if c.name == "kps-gt-50")
    assert kps.result == result


def test_kps_out_of_range_rejected() -> None:
    p = profile(observation("89243-0", when="2026-11-01", valueInteger=150))
    assert p.performance_kps.value is None and any("rejected" in n.message for n in p.notes)


def _eligibility(*resources: dict) -> dict[str, object]:
    p = profile(ileal_net(), *resources)
    return {c.name: c for c in p.prrt_eligibility.criteria}


def test_prrt_eligible_when_all_four_pass() -> None:
    kps = observation("89243-0", when="2026-11-01", valueInteger=80)
    p = profile(ileal_net(), POSITIVE_PET, lab("35591-7", 62, "mL/min"), kps,
                lab("777-3", 150, "10*3/uL"))
    assert p.prrt_eligibility.eligible
    for c in p.prrt_eligibility.criteria:
        assert c.result == "pass" and c.value and c.date and c.sources


@pytest.mark.parametrize(("resource", "name", "result"), [
    (lab("35591-7", 50, "mL/min"), "crcl-gt-50", "fail"),
    (lab("35591-7", 51, "mL/min"), "crcl-gt-50", "pass"),
    (observation("89243-0", when="2026-11-01", valueInteger=50), "kps-gt-50", "fail"),
    (observation("89243-0", when="2026-11-01", valueInteger=60), "kps-gt-50", "pass"),
    (lab("777-3", 74, "10*9/L"), "platelets-ge-75", "fail"),
    (lab("777-3", 75, "10*9/L"), "platelets-ge-75", "pass"),
    (lab("777-3", 75000, "/uL"), "platelets-ge-75", "pass"),
    (lab("777-3", 60000, "/uL"), "platelets-ge-75", "fail"),
    (lab("777-3", 100, "furlongs"), "platelets-ge-75", "unknown"),
    (lab("777-3", 200, "10*3/uL", when="2026-01-01"), "platelets-ge-75", "unknown"),
])
def test_prrt_criterion_thresholds(resource: dict, name: str, result: str) -> None:
    assert _eligibility(resource)[name].result == result  # type: ignore[attr-defined]


def test_prrt_unknown_criteria_are_listed_never_passed() -> None:
    p = profile(ileal_net())
    assert not p.prrt_eligibility.eligible
    assert [c.name for c in p.prrt_eligibility.failed_or_unknown] == ["sstr-positive", "crcl-gt-50", "kps-gt-50",
                                                                      "platelets-ge-75"]
    assert all(c.result == "unknown" for c in p.prrt_eligibility.criteria)


def test_prrt_sstr_negative_fails_and_ihc_only_is_unknown() -> None:
    neg = _eligibility(sstr_report("Ga-68 DOTATATE PET", "260385009"))["sstr-positive"]
    assert neg.result == "fail"  # type: ignore[attr-defined]
    ihc = observation(None, text="SSTR2A immunohistochemistry", valueCodeableConcept=cc(SCT, "10828004"))
    assert _eligibility(ihc)["sstr-positive"].result == "unknown"  # type: ignore[attr-defined]


def _prrt_then_progression(last_dose: str, progression: str) -> object:
    dose = medication("MedicationAdministration", text="Lutathera", status="completed", when=last_dose)
    status = observation("97509-4", when=progression, valueCodeableConcept=cc(SCT, "271299001"))
    return profile(ileal_net(), dose, status)


def test_prrt_response_durable_when_progression_12_months_after_last_dose() -> None:
    p = _prrt_then_progression("2024-06-01", "2025-06-01")
    assert p.prrt_response_durable.value is True and p.prrt_response_durable.sources  # type: ignore[attr-defined]


def test_prrt_response_not_durable_within_12_months() -> None:
    assert _prrt_then_progression("2025-06-01", "2026-03-01").prrt_response_durable.value is False  # type: ignore[attr-defined]


def test_prrt_durable_unknown_without_progression_or_prrt() -> None:
    assert profile(ileal_net()).prrt_response_durable.value is None


# ---- disease status, findings, stage (section 2; section 4.6) -------------------------------


@pytest.mark.parametrize(("code", "status"), [("271299001", "progressing"), ("359746009", "stable"),
                                              ("268910001", "improved"), ("709137006", "undetermined")])
def test_disease_status_values(code: str, status: str) -> None:
    p = profile(ileal_net(), observation("97509-4", valueCodeableConcept=cc(SCT, code)))
    assert p.disease_status.value == status


def test_disease_status_latest_wins() -> None:
    p = profile(ileal_net(), observation("97509-4", when="2026-11-01", valueCodeableConcept=cc(SCT, "359746009")),
                observation("97509-4", when="2026-06-01", valueCodeableConcept=cc(SCT, "271299001")))
    assert p.disease_status.value == "stable" and any("latest wins" in n for n in p.disease_status.notes)


def test_remission_gives_resected_stage() -> None:
    remission = observation("97509-4", valueCodeableConcept=cc(SCT, "550991000124107"))
    p = profile(ileal_net(clinical="remission"), remission)
    assert p.stage.value == "resected" and p.disease_status.value is None


@pytest.mark.parametrize(("name", "kwargs", "value"), [
    ("tumor-burden", {"valueCodeableConcept": cc(FINDINGS, "high")}, "high"),
    ("tumor-burden", {"valueString": "Low"}, "low"),
    ("symptomatic", {"valueBoolean": True}, True),
    ("resectable", {"valueBoolean": False}, False),
    ("hepatic-predominant", {"valueString": "yes"}, True),
])
def test_project_clinical_findings(name: str, kwargs: dict, value: object) -> None:
    p = profile(ileal_net(), clinical_finding(name, **kwargs))
    assert getattr(p, name.replace("-", "_")).value == value


def test_unreadable_finding_is_unknown() -> None:
    assert profile(ileal_net(), clinical_finding("tumor-burden", valueString="moderate")).tumor_burden.value is None


def test_functional_syndrome_counts_as_symptomatic() -> None:
    p = profile(ileal_net(), condition("E34.0"))
    assert p.symptomatic.value is True and "counts as symptomatic" in p.symptomatic.notes[0]


def test_resection_without_later_metastases_is_resected() -> None:
    p = profile(condition("C25.4", clinical="remission"), procedure("Pancreaticoduodenectomy (Whipple)", code=None))
    assert p.stage.value == "resected" and p.stage.sources[0].reference.startswith("Procedure/")


def test_metastases_after_resection_are_metastatic() -> None:
    p = profile(ileal_net(), procedure("Right hemicolectomy", when="2023-01-01"),
                condition("C7B.02", onset="2024-05-01"))
    assert p.stage.value == "metastatic"


def test_metastases_only_before_resection_are_resected() -> None:
    p = profile(ileal_net(), condition("C7B.02", onset="2022-01-01"),
                procedure("Small bowel resection", when="2023-01-01"))
    assert p.stage.value == "resected" and p.metastatic.value is False


def test_age_from_birth_date() -> None:
    p = profile()
    assert p.age.value == 66 and p.age.sources[0].reference == "Patient/p1"


def test_symptoms_observed_keeps_the_explicit_finding_under_a_syndrome() -> None:
    p = profile(ileal_net(), condition("E34.0"), clinical_finding("symptomatic", valueBoolean=False))
    assert p.symptoms_observed.value is False and p.symptomatic.value is True


def test_profile_as_of_is_the_reference_date() -> None:
    assert profile().as_of == "2026-11-28"


def test_long_lab_history_keeps_the_newest_results_newest_first() -> None:
    """Years of routine labs: the newest KEEP_PER_LAB are read, newest first (the latest is never lost)."""
    days = [(date(2026, 11, 1) - timedelta(days=30 * i)).isoformat() for i in range(40)]
    history = [lab("9811-1", 100 + i, "ng/mL", when=day) for i, day in enumerate(reversed(days))]
    calcium = [lab("17861-6", 2.4, "mmol/L", when=day) for day in days]
    p = profile(pnet(), *history, *calcium)
    cga = p.labs["cga"]
    assert len(cga) == KEEP_PER_LAB
    assert cga[0].date == "2026-11-01" and cga[0].value == 139
    assert [r.date for r in cga] == sorted((r.date for r in cga), reverse=True)
    assert len(p.labs["calcium"]) == 40  # calcium keeps its whole history (hypercalcemia ever: X-6)

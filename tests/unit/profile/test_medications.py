"""prior_therapies, line of therapy (net-decision-model.md section 2 row prior_therapies; section 3) and
draft-order classification (section 5)."""

from __future__ import annotations

import pytest

from cds_service.fhir.systems import ATC, HCPCS, RXNORM
from tests.unit.profile.builders import cc, ileal_net, medication, procedure, profile

# ---- classes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "system", "therapy"), [
    ("141704", RXNORM, "everolimus"), ("1119402", RXNORM, "everolimus"), ("357977", RXNORM, "sunitinib"),
    ("1363268", RXNORM, "cabozantinib"), ("37776", RXNORM, "temozolomide"), ("194000", RXNORM, "capecitabine"),
    ("7646", RXNORM, "ppi"), ("40790", RXNORM, "ppi"), ("3327", RXNORM, "diazoxide"),
    ("2555", RXNORM, "platinum-etoposide"), ("4179", RXNORM, "platinum-etoposide"),
    ("1999687", RXNORM, "prrt"), ("H01CB02", ATC, "ssa"), ("H01CB03", ATC, "ssa"), ("A02BC02", ATC, "ppi"),
    ("A16AX15", ATC, "telotristat"), ("A9513", HCPCS, "prrt"),
])
def test_class_by_code(code: str, system: str, therapy: str) -> None:
    p = profile(medication(code=code, system=system, text="(coded)"))
    assert [t.therapy for t in p.therapies] == [therapy]


@pytest.mark.parametrize(("name", "therapy"), [
    ("Sandostatin LAR Depot 30 mg", "ssa"), ("Mycapssa 20 mg capsule", "ssa"), ("Bynfezia pen", "ssa"),
    ("Somatuline Depot 120 mg", "ssa"), ("Signifor LAR", "ssa"), ("lanreotide 120 mg", "ssa"),
    ("Lutathera 7.4 GBq", "prrt"), ("lutetium Lu 177 dotatate", "prrt"), ("Afinitor 10 mg", "everolimus"),
    ("Sutent 37.5 mg", "sunitinib"), ("Cabometyx 60 mg", "cabozantinib"), ("Xermelo 250 mg", "telotristat"),
    ("Temodar 100 mg", "temozolomide"), ("Xeloda 500 mg", "capecitabine"), ("Zanosar", "streptozocin"),
    ("Prilosec 20 mg", "ppi"), ("Nexium 40 mg", "ppi"), ("Prevacid", "ppi"), ("Dexilant", "ppi"),
    ("Protonix 40 mg", "ppi"), ("Aciphex", "ppi"), ("Proglycem suspension", "diazoxide"),
    ("carboplatin AUC 5", "platinum-etoposide"), ("omeprazole 20 mg", "ppi"), ("esomeprazole 40 mg", "ppi"),
    ("lansoprazole 30 mg", "ppi"), ("dexlansoprazole 60 mg", "ppi"), ("Pantoprazole 40 mg EC tablet", "ppi"),
    ("rabeprazole 20 mg", "ppi"), ("pasireotide", "ssa"), ("octreotide acetate", "ssa"), ("sunitinib", "sunitinib"),
    ("everolimus", "everolimus"), ("telotristat ethyl", "telotristat"), ("streptozocin", "streptozocin"),
    ("etoposide", "platinum-etoposide"), ("cisplatin", "platinum-etoposide"), ("diazoxide", "diazoxide"),
])
def test_class_by_generic_or_brand_name(name: str, therapy: str) -> None:
    assert [t.therapy for t in profile(medication(text=name)).therapies] == [therapy]


def test_pluvicto_is_not_prrt_dotatate() -> None:
    assert profile(medication(text="Pluvicto (lutetium Lu 177 vipivotide tetraxetan)")).therapies == ()


def test_h2_blocker_is_not_a_ppi() -> None:
    assert profile(medication(text="famotidine 20 mg")).therapies == ()


def test_medication_reference_contained() -> None:
    ms = medication(text=None)
    ms["contained"] = [{"resourceType": "Medication", "id": "m1", "code": cc(RXNORM, "357977")}]
    ms["medicationReference"] = {"reference": "#m1"}
    assert [t.therapy for t in profile(ms).therapies] == ["sunitinib"]


def test_medication_reference_in_the_record() -> None:
    med = {"resourceType": "Medication", "id": "med-ever", "code": {"text": "everolimus 10 mg tablet"}}
    ms = medication(text=None, medicationReference={"reference": "Medication/med-ever"})
    assert [t.therapy for t in profile(med, ms).therapies] == ["everolimus"]


def test_unresolved_medication_reference_uses_display_and_notes() -> None:
    ms = medication(text=None, medicationReference={"reference": "Medication/missing", "display": "Octreotide LAR"})
    p = profile(ms)
    assert [t.therapy for t in p.therapies] == ["ssa"]
    assert any("could not be resolved" in n.message for n in p.notes)


def test_captem_derived_from_capecitabine_and_temozolomide() -> None:
    p = profile(medication(text="capecitabine 750 mg/m2", start="2025-03-01"),
                medication(text="temozolomide 200 mg/m2", start="2025-03-10"))
    assert p.therapy("captem") is not None and p.line_of_therapy.value == "after-chemo"


# ---- status handling -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [
    ("MedicationStatement", "entered-in-error"), ("MedicationStatement", "not-taken"),
    ("MedicationRequest", "draft"), ("MedicationRequest", "cancelled"), ("MedicationRequest", "entered-in-error"),
    ("MedicationAdministration", "not-done"),
])
def test_statuses_that_are_never_exposures(kind: str, status: str) -> None:
    assert profile(medication(kind, text="everolimus", status=status)).therapies == ()


def test_active_vs_completed() -> None:
    active = profile(medication(text="lanreotide 120 mg", status="active")).therapy("ssa")
    done = profile(medication(text="lanreotide 120 mg", status="completed", end="2025-09-01")).therapy("ssa")
    assert active is not None and active.active and active.end is None
    assert done is not None and not done.active and done.end == "2025-09-01"


def test_active_status_with_past_end_is_not_active() -> None:
    t = profile(medication(text="everolimus", status="active", end="2025-06-01")).therapy("everolimus")
    assert t is not None and not t.active


def test_intended_statement_is_planned_not_prior() -> None:
    p = profile(medication(text="everolimus", status="intended", start="2026-12-05"))
    t = p.therapy("everolimus")
    assert t is not None and not t.given and t.planned == ("2026-12-05",)
    assert p.line_of_therapy.value == "naive"


def test_medication_request_order_counts_with_authored_date() -> None:
    t = profile(medication("MedicationRequest", text="sunitinib 37.5 mg", start="2025-04-01")).therapy("sunitinib")
    assert t is not None and t.active and t.start == "2025-04-01"


# ---- PRRT ----------------------------------------------------------------------------------


def _prrt_doses(n: int) -> list[dict]:
    return [medication("MedicationAdministration", text="Lutathera 7.4 GBq", status="completed",
                       when=f"2025-0{1 + 2 * i}-10") for i in range(n)]


def test_prrt_administrations_counted_with_last_date() -> None:
    t = profile(*_prrt_doses(4)).therapy("prrt")
    assert t is not None and t.administrations == 4 and t.last_administration == "2025-07-10"


def test_prrt_procedure_and_administration_on_the_same_day_count_once() -> None:
    doses = _prrt_doses(2)
    p = profile(*doses, procedure("PRRT cycle", when="2025-01-10"), procedure("PRRT cycle", when="2025-05-10"))
    t = p.therapy("prrt")
    assert t is not None and t.administrations == 3


def test_prrt_procedure_by_hcpcs_and_text() -> None:
    p = profile(procedure("Radiopharmaceutical therapy", code="A9513"), procedure("PRRT", when="2024-05-01"))
    t = p.therapy("prrt")
    assert t is not None and t.administrations == 2


def test_prrt_service_request_is_planned_not_given() -> None:
    sr = {"resourceType": "ServiceRequest", "id": "sr1", "status": "active", "intent": "order",
          "code": {"text": "Lu-177 DOTATATE (Lutathera) cycle 1"}, "occurrenceDateTime": "2026-12-10"}
    p = profile(sr)
    t = p.therapy("prrt")
    assert t is not None and not t.given and t.administrations == 0 and t.planned == ("2026-12-10",)
    assert p.line_of_therapy.value == "naive"


# ---- line of therapy -----------------------------------------------------------------------


@pytest.mark.parametrize(("names", "line"), [
    ([], "naive"),
    (["omeprazole"], "naive"),
    (["octreotide LAR"], "after-ssa"),
    (["lanreotide", "Lutathera"], "after-ssa-prrt"),
    (["lanreotide", "everolimus"], "after-targeted"),
    (["cabozantinib"], "after-targeted"),
    (["cisplatin", "etoposide"], "after-chemo"),
])
def test_line_of_therapy(names: list[str], line: str) -> None:
    p = profile(ileal_net(), *[medication(text=n) for n in names])
    assert p.line_of_therapy.value == line


def test_line_after_targeted_and_chemo_latest_started_decides() -> None:
    p = profile(medication(text="everolimus", start="2024-01-01"), medication(text="temozolomide", start="2025-06-01"))
    assert p.line_of_therapy.value == "after-chemo"


# ---- draft orders --------------------------------------------------------------------------


def _draft(text: str, **extra: object) -> dict:
    return {"resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"text": text}, **extra}


def _timing(**repeat: object) -> list[dict]:
    return [{"timing": {"repeat": repeat}}]


@pytest.mark.parametrize(("text", "long_acting"), [
    ("octreotide LAR 30 mg", True), ("Sandostatin LAR Depot", True), ("lanreotide 120 mg", True),
    ("Somatuline Autogel", True), ("octreotide 100 mcg/mL injection", False), ("pasireotide 0.6 mg", False),
])
def test_draft_ssa_long_acting(text: str, long_acting: bool) -> None:
    order = profile(drafts=[_draft(text)]).draft_orders[0]
    assert (order.therapy, order.long_acting) == ("ssa", long_acting)


def test_draft_ssa_long_acting_from_4_weekly_timing() -> None:
    order = profile(drafts=[_draft("octreotide 30 mg", dosageInstruction=_timing(frequency=1, period=4,
                                                                                 periodUnit="wk"))]).draft_orders[0]
    assert order.long_acting is True


def test_draft_ssa_long_acting_from_medication_form() -> None:
    med = {"resourceType": "Medication", "id": "m-oct", "code": {"text": "octreotide acetate 30 mg"},
           "form": {"text": "injectable suspension, extended release"}}
    order = {"resourceType": "MedicationRequest", "id": "d2", "status": "draft", "intent": "order",
             "medicationReference": {"reference": "#m-oct"}, "contained": [med]}
    assert profile(drafts=[order]).draft_orders[0].long_acting is True


@pytest.mark.parametrize(("dosage", "per_day"), [
    (_timing(frequency=2, period=1, periodUnit="d"), 2.0),
    (_timing(frequency=1, period=1, periodUnit="d"), 1.0),
    (_timing(frequency=1, period=12, periodUnit="h"), 2.0),
    ([{"timing": {"code": cc("http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "BID")}}], 2.0),
    ([{"timing": {"code": {"coding": [{"code": "QD"}]}}}], 1.0),
    ([{"timing": {"code": {"text": "TID"}}}], 3.0),
    ([{"text": "as directed"}], None),
])
def test_draft_ppi_doses_per_day(dosage: list, per_day: float | None) -> None:
    order = profile(drafts=[_draft("omeprazole 40 mg", dosageInstruction=dosage)]).draft_orders[0]
    assert order.therapy == "ppi" and order.doses_per_day == per_day and order.long_acting is None


def test_draft_orders_are_not_prior_therapies() -> None:
    p = profile(drafts=[_draft("everolimus 10 mg")])
    assert p.draft_orders[0].therapy == "everolimus" and p.therapies == ()


def test_draft_prrt_service_request() -> None:
    sr = {"resourceType": "ServiceRequest", "id": "sr-d", "status": "draft", "intent": "order",
          "code": {"text": "PRRT with Lutathera"}}
    order = profile(drafts=[sr]).draft_orders[0]
    assert (order.therapy, order.reference, order.resource_type) == ("prrt", "ServiceRequest/sr-d", "ServiceRequest")


def test_draft_that_fails_strict_validation_still_classified() -> None:
    broken = {"resourceType": "MedicationRequest", "status": 42, "intent": ["x"], "dosageInstruction": "BID",
              "medicationCodeableConcept": {"coding": {"system": RXNORM, "code": "7646"}}, "subject": "nobody"}
    order = profile(drafts=[broken, "junk", {"resource": _draft("Sutent")}]).draft_orders
    assert [o.therapy for o in order] == ["ppi", "sunitinib"]


@pytest.mark.parametrize(("extra", "when"), [
    ({"dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2026-12-01"}}}}]}, "2026-12-01"),
    ({"dosageInstruction": [{"timing": {"event": ["2026-12-20", "2026-12-05"]}}]}, "2026-12-05"),
    ({"authoredOn": "2026-11-27"}, "2026-11-27"),
    ({}, None),
])
def test_draft_order_date(extra: dict, when: str | None) -> None:
    assert profile(drafts=[_draft("octreotide LAR", **extra)]).draft_orders[0].date == when


def test_draft_service_request_date_from_occurrence() -> None:
    sr = {"resourceType": "ServiceRequest", "id": "sr-d", "status": "draft", "intent": "order",
          "code": {"text": "Lutathera"}, "occurrenceDateTime": "2026-12-15", "authoredOn": "2026-11-28"}
    assert profile(drafts=[sr]).draft_orders[0].date == "2026-12-15"


def test_active_prrt_order_is_not_an_administration() -> None:
    t = profile(medication("MedicationRequest", text="Lutathera 7.4 GBq", start="2026-11-01")).therapy("prrt")
    assert t is not None and t.administrations == 0 and t.last_administration is None


def test_completed_prrt_statements_stand_in_for_administrations() -> None:
    p = profile(medication(text="Lutathera", status="completed", start="2025-01-10", end="2025-01-10"),
                medication(text="Lutathera", status="completed", start="2025-03-10", end="2025-03-10"))
    t = p.therapy("prrt")
    assert t is not None and t.administrations == 2 and t.last_administration == "2025-03-10"


def test_notes_of_one_medication_keep_their_order_whatever_the_hash_seed() -> None:
    """Notes were de-duplicated through a set: their order changed between gunicorn workers."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json\n"
        "from tests.unit.profile.builders import medication, profile\n"
        "ms = medication(text=None, status='on-hold', medicationReference={'reference': 'Medication/gone',"
        " 'display': 'Octreotide LAR 30 mg'})\n"
        "print(json.dumps([n.message for n in profile(ms).notes if n.field == 'therapies']))\n")
    seen = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
                              capture_output=True, text=True, check=True, cwd=os.getcwd())
        messages = json.loads(done.stdout)
        assert len(messages) >= 2, messages  # the case needs several notes on one medication
        seen.add(tuple(messages))
    assert len(seen) == 1, seen
    assert "could not be resolved" in next(iter(seen))[0]  # first-seen order: the reference note comes first

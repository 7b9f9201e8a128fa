"""evaluate_patient on every sample as it is (no export, no padding): the row is what the patient-view hook
answers through the Flask app, as of the samples' date; failures are rows; the date and shared Medications
decide what they should."""

from __future__ import annotations

from datetime import date

import pytest

import cds_service.profile.build as profile_build
from cds_service.samples import list_samples, sample_set_as_of
from cds_service.worklist.evaluate import evaluate_patient
from cds_service.worklist.rows import FINDING_COLUMNS, ROW_COLUMNS, Finding, WorklistRow
from tests.worklist.hook_answers import hook_answer, row_answer

SAMPLES = list_samples()
AS_OF = sample_set_as_of()


def resources_of(sample) -> tuple[str, list[dict]]:  # noqa: ANN001
    resources = [e["resource"] for e in sample.bundle()["entry"]]
    return next(r["id"] for r in resources if r["resourceType"] == "Patient"), resources


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_every_sample_row_is_the_hook_answer(sample, client):
    patient_id, resources = resources_of(sample)
    row = evaluate_patient(patient_id, resources, {}, AS_OF)
    assert row.error is None
    assert row.patient_id == patient_id
    assert row_answer(row) == hook_answer(client, resources, patient_id, AS_OF)
    # the long form names every rule on a card, each with its card's topic and indicator
    assert {f.rule_id for f in row.findings} == set(row.rules)
    assert {f.topic for f in row.findings} == set(row.topics)


def test_the_samples_fire_the_rules_their_index_names():
    """The rows carry the samples' documented patient-view rules (samples/index.yaml; not the order-sign O-*
    rules, nor X-9, the profile card that is off by default), so the comparison above is not between two
    empty answers."""
    fired = 0
    for sample in SAMPLES:
        patient_id, resources = resources_of(sample)
        row = evaluate_patient(patient_id, resources, {}, AS_OF)
        fired += bool(row.rules)
        documented = {r for r in sample.rules if r.split("-")[0] in {"GI", "P", "G3", "NEC", "R", "F", "X", "SUSPECT"}}
        assert documented - {"X-9"} <= set(row.rules), sample.id
    assert fired == len(SAMPLES) - 1  # net-no-nen: no card


def test_the_profile_columns_are_read_off_the_profile():
    sample = next(s for s in SAMPLES if s.id == "net-pnet-gastrinoma")
    row = evaluate_patient(*resources_of(sample), {}, AS_OF)
    assert (row.in_scope, row.nen_status, row.pathway, row.site_group) == (True, "active", "pnet", "pancreas")
    assert (row.who_grade, row.ki67_percent, row.differentiation) == ("G2", 4.0, "NET")
    assert {"P-2", "P-8", "X-6"} <= {f.rule_id for f in row.findings}


def test_the_as_of_date_decides_time_windows():
    """X-7's 90-day windows: a year later the PRRT eligibility facts are too old and X-7 asks for them
    (evaluated as of the date given, the clock is never read)."""
    sample = next(s for s in SAMPLES if s.id == "net-si-after-prrt-durable")
    patient_id, resources = resources_of(sample)
    on_the_day = evaluate_patient(patient_id, resources, {}, AS_OF)
    a_year_on = evaluate_patient(patient_id, resources, {}, date(AS_OF.year + 1, AS_OF.month, 1))
    assert "X-7" not in on_the_day.rules and "X-7" in a_year_on.rules


def test_a_resource_that_makes_the_profile_raise_gives_a_row_with_the_error(monkeypatch):
    """Fault injection: the profile step raises on one patient's data; the row says where, without the
    exception's message (it may quote patient data)."""
    real = profile_build._derive

    def derive(p, record, c, today):  # noqa: ANN001, ANN202
        if any(r.get("id") == "poison" for r in record.resources):
            raise ValueError("Jane Doe, born 1950-01-01")
        return real(p, record, c, today)

    monkeypatch.setattr(profile_build, "_derive", derive)
    patient_id, resources = resources_of(SAMPLES[0])
    poison = {"resourceType": "Observation", "id": "poison", "subject": {"reference": f"Patient/{patient_id}"}}
    row = evaluate_patient(patient_id, [*resources, poison], {}, AS_OF)
    assert row.error is not None and row.error.startswith("ValueError")
    assert "Jane" not in row.error and "1950" not in row.error
    assert row.rules == () and row.patient_id == patient_id
    assert evaluate_patient(patient_id, resources, {}, AS_OF).error is None


def test_a_resource_that_is_not_a_json_object_gives_a_row_with_the_error():
    patient_id, resources = resources_of(SAMPLES[0])
    row = evaluate_patient(patient_id, [*resources, ["not", "a", "resource"]], {}, AS_OF)  # type: ignore[list-item]
    assert row.error and "while evaluating the patient" in row.error


def test_a_shared_medication_is_used_only_when_referenced():
    """medicationReference resolves through `shared`; without it, the profile notes the unresolved reference."""
    sample = next(s for s in SAMPLES if s.id == "net-si-progressing-on-ssa")
    patient_id, resources = resources_of(sample)
    statement = next(r for r in resources if r["resourceType"] == "MedicationStatement")
    concept = statement["medicationCodeableConcept"]
    by_reference = {k: v for k, v in statement.items() if k != "medicationCodeableConcept"}
    by_reference["medicationReference"] = {"reference": "Medication/shared-ssa"}
    changed = [by_reference if r is statement else r for r in resources]
    shared = {"Medication/shared-ssa": {"resourceType": "Medication", "id": "shared-ssa", "code": concept},
              "Medication/other": {"resourceType": "Medication", "id": "other"}}
    original = evaluate_patient(patient_id, resources, {}, AS_OF)
    resolved = evaluate_patient(patient_id, changed, shared, AS_OF)
    unresolved = evaluate_patient(patient_id, changed, {}, AS_OF)
    assert (resolved.rules, resolved.topics) == (original.rules, original.topics)
    assert unresolved.rules != original.rules
    assert any("Medication/shared-ssa" in note and "could not be resolved" in note for note in unresolved.notes)


def test_columns():
    row = WorklistRow(patient_id="p", findings=(Finding("X-1", "grade-missing", "warning"),))
    assert tuple(row.as_dict()) == ROW_COLUMNS and "findings" not in ROW_COLUMNS
    assert row.finding_dicts() == [dict(zip(FINDING_COLUMNS, ("p", "X-1", "grade-missing", "warning"), strict=True))]

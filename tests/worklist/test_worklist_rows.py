"""The worklist gives, for every patient, what the patient-view hook answers for that patient (issue 16)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from cds_service.worklist import engine_local, evaluate
from cds_service.worklist.compartment import patient_of
from cds_service.worklist.export import BulkExport
from cds_service.worklist.shared import shared_resources


def _by_patient(export: BulkExport) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for rtype in export.types():
        if rtype == "Medication":
            continue
        for resource in export.iter_resources(rtype):
            grouped.setdefault(patient_of(resource), []).append(resource)
    return grouped


def _hook_answer(client, patient: str, resources: list[dict], shared: dict, as_of: date) -> dict:
    """What the real hook endpoint answers with the patient's data as its prefetch (Medications included)."""
    service = load_services()["net-patient-view"]
    referenced = [shared[r["medicationReference"]["reference"]] for r in resources
                  if isinstance(r.get("medicationReference"), dict)
                  and r["medicationReference"].get("reference") in shared]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources + referenced]}
    body = hook_request(service, patient, prefetch=prefetch_from_bundle(service, bundle, patient), as_of=as_of)
    answer = client.post("/cds-services/net-patient-view", json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


@pytest.mark.parametrize("partitioner", ["duckdb", "python"])
def test_every_row_is_what_the_hook_answers_for_that_patient(client, bulk_export, partitioner):
    export = BulkExport.open(bulk_export)
    rows = list(engine_local.run(export, as_of=export.as_of, workers=2, partitioner=partitioner))
    grouped = _by_patient(export)
    shared = shared_resources(export)
    assert sorted(r.patient_id for r in rows) == sorted(grouped)
    assert any(r.in_scope for r in rows) and any(not r.in_scope for r in rows)
    for row in rows:
        answer = _hook_answer(client, row.patient_id, grouped[row.patient_id], shared, export.as_of)
        cards = answer["cards"]
        assert row.error is None
        assert list(row.topics) == [c["source"]["topic"]["code"] for c in cards], row.patient_id
        rules = [rule for c in cards for rule in c["extension"]["org.net-cds.card"]["rules"]]
        assert list(row.rules) == list(dict.fromkeys(rules)), row.patient_id
        counts = Counter(c["indicator"] for c in cards)
        assert (row.cards_critical, row.cards_warning, row.cards_info) == (
            counts["critical"], counts["warning"], counts["info"]), row.patient_id


def test_rows_come_in_the_same_order_from_both_partitioners_and_every_run(bulk_export):
    export = BulkExport.open(bulk_export)
    first = list(engine_local.run(export, as_of=export.as_of, workers=2))
    again = list(engine_local.run(export, as_of=export.as_of, workers=1))
    plain = list(engine_local.run(export, as_of=export.as_of, workers=2, partitioner="python"))
    assert first == again
    assert sorted(first, key=lambda r: r.patient_id) == sorted(plain, key=lambda r: r.patient_id)


def test_gzip_and_several_files_per_type_give_the_same_rows(bulk_export, bulk_export_gz):
    plain, gz = BulkExport.open(bulk_export), BulkExport.open(bulk_export_gz / "manifest.json")
    assert len(gz.files("Observation")) == 3 and all(f.name.endswith(".ndjson.gz") for f in gz.all_files())
    rows = {r.patient_id: r for r in engine_local.run(plain, as_of=plain.as_of, workers=2)}
    rows_gz = {r.patient_id: r for r in engine_local.run(gz, as_of=gz.as_of, workers=2)}
    assert rows == rows_gz


def test_shared_medications_reach_every_worker_and_their_absence_is_said(bulk_export, export_without_medications):
    export = BulkExport.open(bulk_export)
    with_meds = {r.patient_id: r for r in engine_local.run(export, as_of=export.as_of, workers=2)}
    bare = BulkExport.open(export_without_medications)
    without = {r.patient_id: r for r in engine_local.run(bare, as_of=export.as_of, workers=2)}
    shared_users = {p for p, resources in _by_patient(export).items()
                    if any("medicationReference" in r and "amlodipine" not in str(r["medicationReference"])
                           for r in resources)}
    assert shared_users, "the generator should move some NET drugs to shared Medications"
    changed = [p for p in shared_users if with_meds[p] != without[p]]
    assert changed  # the NET drugs were read through the broadcast Medications
    for patient in changed:
        assert not any("Medication" in n and "resolv" in n.lower() for n in with_meds[patient].notes)
        assert any("Medication/" in n for n in without[patient].notes), without[patient].notes


def test_a_patient_whose_evaluation_fails_is_a_row_with_the_error(monkeypatch, bulk_export):
    export = BulkExport.open(bulk_export)
    victim = sorted(_by_patient(export))[3]
    real = evaluate.profile_of

    def failing(record):  # noqa: ANN001, ANN202
        if record.patient_id == victim:
            raise KeyError("boom")
        return real(record)

    monkeypatch.setattr(evaluate, "profile_of", failing)
    rows = {r.patient_id: r for r in engine_local.run(export, as_of=export.as_of, workers=1)}
    assert rows[victim].error == "KeyError while evaluating the patient" and rows[victim].rules == ()
    assert "boom" not in rows[victim].error
    assert sum(1 for r in rows.values() if r.error) == 1 and len(rows) == len(_by_patient(export))

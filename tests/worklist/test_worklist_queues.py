"""Each clinic queue lists patients because of the rules their patient-view answer fired (issue 16)."""

from __future__ import annotations

from datetime import timedelta

from cds_service.samples import list_samples, sample_set_as_of
from cds_service.worklist.evaluate import evaluate_patient
from cds_service.worklist.queues import load_queues, queues_for


def _rows(days_later: int = 0):  # noqa: ANN202
    as_of = sample_set_as_of() + timedelta(days=days_later)
    for sample in list_samples():
        resources = [e["resource"] for e in sample.bundle()["entry"]]
        patient = next(r["id"] for r in resources if r["resourceType"] == "Patient")
        yield evaluate_patient(patient, resources, {}, as_of)


def test_every_queue_lists_some_sample_and_leaves_others_out():
    rows = list(_rows()) + list(_rows(days_later=400))  # a year on, post-PRRT checks fall due
    for queue in load_queues():
        listed = [r for r in rows if queue.id in queues_for(r)]
        assert listed, f"no sample in {queue.id}"
        assert len(listed) < len(rows), queue.id
        for row in listed:  # a queue is a view of the answer: one of its rules is on a card
            assert queue.rules.intersection(row.rules)
            assert not queue.overdue or queue.overdue.intersection(row.overdue)


def test_overdue_follow_up_needs_the_check_to_be_overdue():
    now = {r.patient_id: r for r in _rows()}
    later = {r.patient_id: r for r in _rows(days_later=400)}
    after_prrt = [p for p, r in now.items() if "F-3" in r.rules]
    assert after_prrt
    assert [p for p in after_prrt if "cbc" not in now[p].overdue]  # some are up to date today
    for patient in after_prrt:
        listed_now = "post-prrt-blood-counts-overdue" in queues_for(now[patient])
        assert listed_now == ("cbc" in now[patient].overdue)
        assert "post-prrt-blood-counts-overdue" in queues_for(later[patient])

"""FHIR output: one List per queue or one Task per patient and queue, ids that do not change between runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cds_service.worklist.fhir_output import (
    DEFAULT_SCOPE,
    QUEUE_SYSTEM,
    RULE_SYSTEM,
    QueueMembers,
    collection,
    export_scope,
    stable_id,
    worklist_resources,
)
from cds_service.worklist.queues import load_queues
from tests.worklist.sample_rows import sample_rows

WHEN = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 28, 6, 0, tzinfo=UTC)


def _tally() -> QueueMembers:
    tally = QueueMembers()
    for row in sample_rows():
        tally.add(row)
    return tally


def test_one_list_per_queue_with_its_patients():
    tally = _tally()
    lists = worklist_resources(load_queues(), tally.members, "list", scope="s", when=WHEN)
    assert [r["code"]["coding"][0]["code"] for r in lists] == [q.id for q in load_queues()]
    for resource in lists:
        qid = resource["code"]["coding"][0]["code"]
        assert resource["resourceType"] == "List" and resource["status"] == "current"
        assert resource["mode"] == "working" and resource["code"]["coding"][0]["system"] == QUEUE_SYSTEM
        assert [e["item"]["reference"] for e in resource["entry"]] == \
            [f"Patient/{pid}" for pid, _ in tally.members[qid]]


def test_one_task_per_patient_and_queue_for_the_rules_behind_it():
    tally = _tally()
    tasks = worklist_resources(load_queues(), tally.members, "task", scope="s", when=WHEN)
    assert len(tasks) == sum(len(m) for m in tally.members.values())
    cbc = [t for t in tasks if t["code"]["coding"][0]["code"] == "post-prrt-blood-counts-overdue"]
    assert len(cbc) == 1
    task = cbc[0]
    assert task["status"] == "requested" and task["intent"] == "proposal"
    assert task["for"] == task["focus"] == {"reference": "Patient/net-si-after-prrt-cbc-overdue"}
    assert task["reasonCode"]["coding"] == [{"system": RULE_SYSTEM, "code": "F-3"}]
    ppi = next(t for t in tasks if t["code"]["coding"][0]["code"] == "gastrinoma-ppi-once-daily")
    assert ppi["reasonCode"]["coding"] == [{"system": RULE_SYSTEM, "code": "P-8-PPI"}]
    ids = [t["id"] for t in tasks]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("mode", ["list", "task"])
def test_a_rerun_gives_the_same_ids_and_another_scope_other_ids(mode):
    tally = _tally()
    first = [r["id"] for r in worklist_resources(load_queues(), tally.members, mode, scope="g1", when=WHEN)]
    again = [r["id"] for r in worklist_resources(load_queues(), tally.members, mode, scope="g1", when=LATER)]
    other = [r["id"] for r in worklist_resources(load_queues(), tally.members, mode, scope="g2", when=WHEN)]
    assert first == again
    assert not set(first) & set(other)


def test_ids_are_valid_fhir_ids():
    import re
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", stable_id("Task", "q", "p" * 500, "s"))
    assert stable_id("a", "bc") != stable_id("ab", "c")


def test_an_emptied_queue_still_has_its_list_so_a_rerun_empties_it():
    lists = worklist_resources(load_queues(), {}, "list", scope="s", when=WHEN)
    assert len(lists) == len(load_queues()) and all(r["entry"] == [] for r in lists)


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="list"):
        worklist_resources(load_queues(), {}, "bundle", scope="s", when=WHEN)  # type: ignore[arg-type]


def test_the_collection_bundle_holds_each_resource_once():
    tasks = worklist_resources(load_queues(), _tally().members, "task", scope="s", when=WHEN)
    bundle = collection(tasks)
    assert bundle["type"] == "collection" and [e["resource"] for e in bundle["entry"]] == tasks


def test_the_scope_is_the_exports_request_not_its_files(tmp_path):
    assert export_scope(tmp_path) == DEFAULT_SCOPE
    (tmp_path / "manifest.json").write_text(json.dumps({
        "transactionTime": "2026-11-28T06:00:00Z", "request": "https://ehr.example/fhir/Group/net/$export",
        "output": []}), encoding="utf-8")
    assert export_scope(tmp_path) == "https://ehr.example/fhir/Group/net/$export"
    assert export_scope(tmp_path / "manifest.json") == "https://ehr.example/fhir/Group/net/$export"
    (tmp_path / "manifest.json").write_text("not json", encoding="utf-8")
    assert export_scope(tmp_path) == DEFAULT_SCOPE

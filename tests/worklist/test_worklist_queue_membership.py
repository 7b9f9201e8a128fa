"""Queue membership, sample by sample, from the answer of the real patient-view endpoint; the clinic's
questions each find their samples and leave out a near miss; the safety queue keeps every safety rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cds_service.rules.registry import all_rules
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from cds_service.worklist.queues import load_queues, queues_for
from cds_service.worklist.rows import Finding, WorklistRow
from tests.worklist.sample_rows import AS_OF, SAMPLES, resources_of, sample_row, sample_rows

ROOT = Path(__file__).resolve().parents[2]
SERVICE = load_services()["net-patient-view"]

# The clinic's questions (issue 16) and the samples each must find, with one it must leave out (a near
# miss). Written from the samples' stories (samples/index.yaml), not read from the code.
EXPECTED = {
    "prrt-after-ssa": ({"net-si-progressing-on-ssa", "net-si-after-ssa-everolimus", "net-pnet-progressing-diabetes"},
                       "net-si-after-prrt-durable"),
    "gastrinoma-ppi-once-daily": ({"net-pnet-gastrinoma"}, "net-pnet-insulinoma"),
    "post-prrt-blood-counts-overdue": ({"net-si-after-prrt-cbc-overdue"}, "net-si-after-prrt-early"),
    "post-prrt-kidney-overdue": ({"net-si-after-prrt-cbc-overdue"}, "net-si-after-prrt-durable"),
    "cga-on-ppi": ({"net-pnet-low-volume"}, "net-pnet-gastrinoma"),
    "no-ki67": ({"net-pnet-vipoma"}, "net-pnet-resected"),
    "safety": ({"net-pnet-low-volume", "net-si-after-prrt-early"}, "net-si-after-prrt-durable"),
}


def _hook_cards(client, sample) -> list[dict]:  # noqa: ANN001
    patient_id, resources = resources_of(sample)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    body = hook_request(SERVICE, patient_id, prefetch_from_bundle(SERVICE, bundle, patient_id), as_of=AS_OF)
    answer = client.post(f"/cds-services/{SERVICE.id}", json=body)
    assert answer.status_code == 200
    return answer.get_json()["cards"]


def _queues_from_cards(cards: list[dict]) -> set[str]:
    """The test's own reading of the queue file against the endpoint's cards (rules and overdue checks in
    each card's extension, indicators): what the queues must give, without cds_service.worklist."""
    ext = [c["extension"]["org.net-cds.card"] for c in cards]
    rules = {r for e in ext for r in e["rules"]}
    overdue = {o for e in ext for o in e.get("overdue") or ()}
    indicators = {c["indicator"] for c in cards}
    raw = yaml.safe_load((ROOT / "mappings" / "worklist-queues.yaml").read_text(encoding="utf-8"))
    return {q["id"] for q in raw["queues"]
            if (set(q.get("rules") or ()) & rules or set(q.get("indicators") or ()) & indicators)
            and (not q.get("overdue") or set(q["overdue"]) & overdue)}


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_a_samples_queues_follow_from_its_patient_view_answer(sample, client):
    assert set(queues_for(sample_row(sample.id))) == _queues_from_cards(_hook_cards(client, sample))


@pytest.mark.parametrize("queue_id", list(EXPECTED))
def test_each_clinic_question_finds_its_samples_and_leaves_out_a_near_miss(queue_id):
    members, left_out = EXPECTED[queue_id]
    found = {r.patient_id for r in sample_rows() if queue_id in queues_for(r)}
    assert found == members
    assert left_out not in found


def test_every_queue_has_a_sample_in_it_and_one_it_leaves_out():
    rows = sample_rows()
    for q in load_queues():
        listed = [r.patient_id for r in rows if q.id in queues_for(r)]
        assert listed and len(listed) < len(rows), q.id


def test_the_safety_queue_holds_every_safety_rule_and_every_critical_card():
    """A safety rule added to the registry later must join the queue (model section 6): sites whose EHR
    shows no order-time alerts get the safety checks from the worklist."""
    safety = next(q for q in load_queues() if q.id == "safety")
    kinds = {r.id for r in all_rules("patient-view") if r.kind == "safety"}
    assert kinds and kinds <= safety.rules
    critical = WorklistRow("p1", in_scope=True, rules=("GI-3",), cards_critical=1,
                           findings=(Finding("GI-3", "ssa-first-line", "critical"),))
    assert "safety" in queues_for(critical) and safety.reasons(critical) == ("GI-3",)
    assert queues_for(WorklistRow("p2", rules=("X-5",), error="TypeError at x.py:1 in f")) == ()


def test_every_rule_a_queue_names_is_a_registered_patient_view_rule():
    known = {r.id for r in all_rules("patient-view")}
    for q in load_queues():
        assert q.rules <= known, q.id


def test_docs_list_every_queue_with_its_rules():
    """docs/worklist.md, section "Queues": one table row per queue, naming its id and each rule id."""
    section = (ROOT / "docs" / "worklist.md").read_text(encoding="utf-8").split("## Queues", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = {line.split("`")[1]: line for line in section.splitlines() if line.startswith("| `")}
    assert list(rows) == [q.id for q in load_queues()]
    for q in load_queues():
        for rule_id in q.rules:
            assert rule_id in rows[q.id], (q.id, rule_id)

"""`net-cds explain`: profile plus every rule, fired or not, and why."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.commands import explain as explain_cmd
from cds_service.rules import all_rules

ROOT = Path(__file__).resolve().parents[3]
CASE = ROOT / "tests" / "vignettes" / "cases" / "GI-6.json"
DRAFT_CASE = ROOT / "tests" / "vignettes" / "cases" / "O-SSA-1.json"
DRAFT = ROOT / "tests" / "vignettes" / "cases" / "drafts" / "O-SSA-1.json"



def test_record_from_bundles_takes_first_patient_and_drafts() -> None:
    bundle = {"resourceType": "Bundle", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"resource": {"resourceType": "Condition", "id": "c1"}},
        {"resource": {"resourceType": "Patient", "id": "p2"}},
    ]}
    drafts = {"resourceType": "Bundle", "entry": {"fullUrl": "urn:uuid:d", "resource": {
        "resourceType": "MedicationRequest", "id": "d1", "status": "draft"}}}
    record = explain_cmd.record_from_bundles(bundle, drafts)
    assert record.patient_id == "p1"
    assert record.get("Condition/c1") is not None
    assert [d["id"] for d in record.draft_orders] == ["d1"]
    assert record.get("urn:uuid:d") is not None


def test_bundle_without_patient_is_an_error() -> None:
    with pytest.raises(ValueError, match="no Patient"):
        explain_cmd.record_from_bundles({"resourceType": "Bundle", "entry": []})


def test_explain_bundle_lists_every_rule_with_status_and_reason() -> None:
    result = explain_cmd.explain_bundle(json.loads(CASE.read_text()), today=date(2026, 11, 28))
    ids = [r["id"] for r in result["rules"]]
    assert sorted(ids) == sorted(r.id for r in all_rules("patient-view"))
    gi6 = next(r for r in result["rules"] if r["id"] == "GI-6")
    assert gi6["status"] == "fired" and gi6["card"]["topic"] == "prrt-after-ssa" and gi6["reason"]
    assert result["profile"]["ki67_percent"]["sources"]


def test_cli_order_sign_with_draft(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(file=str(DRAFT_CASE), hook=None, draft=str(DRAFT), json=False, as_of=date(2026, 11, 28))
    assert explain_cmd.run(args) == 0
    out = capsys.readouterr().out
    assert "NET profile (order-sign; knowledge base version 2" in out and "FIRED  O-SSA-1" in out


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(file=str(CASE), hook="patient-view", draft=None, json=True, as_of=date(2026, 11, 28))
    assert explain_cmd.run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hook"] == "patient-view" and any(r["status"] == "fired" for r in data["rules"])


def test_cli_missing_file_returns_2(tmp_path: Path) -> None:
    args = argparse.Namespace(file=str(tmp_path / "nope.json"), hook=None, draft=None, json=False, as_of=None)
    assert explain_cmd.run(args) == 2


def test_registers_an_explain_subcommand() -> None:
    parser = argparse.ArgumentParser()
    explain_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["explain", "x.json", "--hook", "order-sign", "--draft", "d.json", "--json"])
    assert args.func is explain_cmd.run and args.hook == "order-sign" and args.json

"""The NEN pre-filter loses no NEN patient; the command's outputs, audit and re-runs (issue 16)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from cds_service.cli import main
from cds_service.commands.profile import record_from_bundle
from cds_service.config import REPO_ROOT
from cds_service.rules.registry import all_rules
from cds_service.samples import list_samples, sample_set_as_of
from cds_service.services.answer import profile_of
from cds_service.worklist import engine_local, prefilter
from cds_service.worklist.export import BulkExport
from cds_service.worklist.queues import load_queues


def _nen(row) -> bool:  # noqa: ANN001
    return row.in_scope or row.nen_status != "none"


@pytest.mark.parametrize("duck", [True, False], ids=["duckdb", "python"])
def test_the_prefilter_keeps_every_patient_the_full_run_calls_nen(bulk_export, duck):
    export = BulkExport.open(bulk_export)
    if duck:
        kept = prefilter.nen_patient_ids(export)
    else:  # the pass used where DuckDB is not installed
        kept = prefilter._python_pass(str(p) for p in export.files("Condition"))
    rows = list(engine_local.run(export, as_of=export.as_of, workers=2))
    nen = {r.patient_id for r in rows if _nen(r)}
    assert nen and nen <= kept
    assert len(kept) < len(rows)  # it does filter: the padding patients have no NEN Condition


VIGNETTES = sorted((REPO_ROOT / "tests" / "vignettes" / "cases").glob("*.json"))


def test_the_prefilter_keeps_every_sample_and_vignette_whose_profile_is_a_nen():
    bundles = [(s.id, s.bundle()) for s in list_samples()] + [(p.name, json.loads(p.read_text())) for p in VIGNETTES]
    nen = 0
    for name, bundle in bundles:
        record = record_from_bundle(bundle)
        record.as_of = sample_set_as_of()
        profile = profile_of(record)
        conditions = [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Condition"]
        if profile.in_scope or profile.nen_status != "none":
            nen += 1
            assert any(prefilter.is_nen_content(c) for c in conditions), name
    assert nen > 100


def _run(tmp_path: Path, bulk: Path, out: str, *extra: str) -> Path:
    target = tmp_path / out
    assert main(["worklist", "--bulk", str(bulk), "--out", str(target), "--quiet", *extra]) == 0
    return target


def test_a_rerun_writes_the_same_rows_and_findings(tmp_path, bulk_export):
    first = _run(tmp_path / "a", bulk_export, "w.csv")
    second = _run(tmp_path / "b", bulk_export / "manifest.json", "w.csv")
    assert first.read_bytes() == second.read_bytes()
    findings = first.with_name("w.findings.csv")
    assert findings.read_bytes() == second.with_name("w.findings.csv").read_bytes()
    rows = list(csv.DictReader(first.open()))
    long = list(csv.DictReader(findings.open()))
    assert sum(len(r["rules"].split(";")) for r in rows if r["rules"]) == len(long)


def test_parquet_and_ndjson_hold_the_same_rows(tmp_path, bulk_export):
    parquet = _run(tmp_path, bulk_export, "w.parquet")
    ndjson = _run(tmp_path, bulk_export, "w.ndjson")
    lines = [json.loads(x) for x in ndjson.read_text().splitlines()]
    con = duckdb.connect()
    table = con.execute(f"SELECT patient_id, rules, queues, in_scope FROM read_parquet('{parquet}')").fetchall()
    assert [(r["patient_id"], r["rules"], r["queues"], r["in_scope"]) for r in lines] == [tuple(t) for t in table]
    long = con.execute(f"SELECT count(*) FROM read_parquet('{parquet.with_name('w.findings.parquet')}')").fetchone()
    assert long[0] == sum(len(r["rules"]) for r in lines)


def test_the_as_of_date_is_the_exports_unless_given_and_the_audit_says_what_ran(tmp_path, bulk_export):
    out = _run(tmp_path, bulk_export, "w.csv")
    audit = json.loads(out.with_name("w.audit.json").read_text())
    manifest = json.loads((bulk_export / "manifest.json").read_text())
    assert audit["export"]["asOf"] == manifest["transactionTime"][:10]
    assert audit["knowledgeBase"]["version"] == "2" and len(audit["export"]["sha256"]) == 64
    rows = list(csv.DictReader(out.open()))
    assert audit["patients"] == len(rows) == audit["patientsAfterPrefilter"]
    for queue in load_queues():
        assert audit["queues"][queue.id] == sum(queue.id in r["queues"].split(";") for r in rows)
    later = _run(tmp_path, bulk_export, "later.csv", "--as-of", "2031-01-01")
    assert json.loads(later.with_name("later.audit.json").read_text())["export"]["asOf"] == "2031-01-01"
    assert later.read_bytes() != out.read_bytes()  # five years on, follow-up is overdue: the rows differ


def test_no_prefilter_evaluates_every_patient(tmp_path, bulk_export):
    out = _run(tmp_path, bulk_export, "all.csv", "--no-prefilter")
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 80 and any(r["in_scope"] == "False" and r["nen_status"] == "none" for r in rows)


def test_a_folder_without_ndjson_is_a_clear_error(tmp_path, capsys):
    assert main(["worklist", "--bulk", str(tmp_path), "--out", str(tmp_path / "w.csv"), "--quiet"]) == 2
    assert "no Type.ndjson" in capsys.readouterr().err


def test_every_queue_names_registered_rules_and_a_source():
    known = {r.id for hook in ("patient-view",) for r in all_rules(hook)}
    for queue in load_queues():
        assert queue.rules <= known, queue.id
        assert queue.source and queue.title

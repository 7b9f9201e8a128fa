"""`net-cds worklist --report --fhir-output ... --fhir-server ...`: the files beside the output, and the
errors a user can make."""

from __future__ import annotations

import json

from cds_service.cli import main
from cds_service.worklist.fhir_output import export_scope, stable_id
from cds_service.worklist.queues import load_queues
from tests.integration.processes import free_port


def _run(bulk, out, *extra: str) -> int:  # noqa: ANN001
    return main(["worklist", "--bulk", str(bulk), "--out", str(out), "--quiet", "--workers", "2", *extra])


def test_report_and_fhir_output_beside_the_output(tmp_path, bulk_export):
    out = tmp_path / "w.csv"
    assert _run(bulk_export, out, "--report", "--fhir-output", "task") == 0
    audit = json.loads((tmp_path / "w.audit.json").read_text(encoding="utf-8"))
    html = (tmp_path / "w.report.html").read_text(encoding="utf-8")
    for q in load_queues():
        assert f"{q.title}: {audit['queues'][q.id]}" in " ".join(html.split())
    bundle = json.loads((tmp_path / "w.fhir-task.json").read_text(encoding="utf-8"))
    tasks = [e["resource"] for e in bundle["entry"]]
    assert len(tasks) == sum(audit["queues"].values()) > 0  # one Task per patient and queue
    assert {t["resourceType"] for t in tasks} == {"Task"}
    # a re-run (a month later by the clock) gives the same ids: an upload would update, not add
    assert _run(bulk_export, tmp_path / "again.csv", "--fhir-output", "task") == 0
    again = json.loads((tmp_path / "again.fhir-task.json").read_text(encoding="utf-8"))
    assert [e["resource"]["id"] for e in again["entry"]] == [t["id"] for t in tasks]


def test_lists_and_a_named_report_file(tmp_path, bulk_export):
    assert _run(bulk_export, tmp_path / "w.csv", "--report", str(tmp_path / "r.html"), "--fhir-output", "list") == 0
    assert (tmp_path / "r.html").exists() and not (tmp_path / "w.report.html").exists()
    lists = [e["resource"] for e in json.loads((tmp_path / "w.fhir-list.json").read_text())["entry"]]
    scope = export_scope(bulk_export)
    assert scope != "default"  # the generator's manifest names its kickoff request
    assert [r["id"] for r in lists] == [stable_id("List", q.id, scope) for q in load_queues()]


def test_a_server_without_fhir_output_is_refused(tmp_path, bulk_export, capsys):
    assert _run(bulk_export, tmp_path / "w.csv", "--fhir-server", "http://127.0.0.1:1/fhir") == 2
    assert "--fhir-output" in capsys.readouterr().err


def test_an_unreachable_server_fails_clearly_without_the_token(tmp_path, bulk_export, capsys):
    url = f"http://127.0.0.1:{free_port()}/fhir"
    code = _run(bulk_export, tmp_path / "w.csv", "--fhir-output", "list", "--fhir-server", url,
                "--token", "secret-token-123")
    err = capsys.readouterr()
    assert code == 2 and "could not be reached" in err.err
    assert "secret-token-123" not in err.out + err.err

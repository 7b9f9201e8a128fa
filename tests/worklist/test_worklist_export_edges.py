"""The export as real ones come (issue 16): empty, broken lines, server URLs in the manifest, no
transactionTime, one resource in two files; each gives a clear answer and never a traceback or rows that
depend on file order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.worklist import engine_local
from cds_service.worklist.export import BulkExport, ExportError

PARTITIONERS = ["duckdb", "python"]


def _rows(export: BulkExport, partitioner: str, as_of=None) -> list:  # noqa: ANN001
    return list(engine_local.run(export, as_of=as_of or export.as_of, workers=1, partitioner=partitioner))


def _copy(bulk_export: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(bulk_export, tmp_path / name))


@pytest.mark.parametrize("partitioner", PARTITIONERS)
def test_an_export_with_no_files_gives_no_rows(tmp_path, partitioner):
    (tmp_path / "manifest.json").write_text(json.dumps({"transactionTime": "2026-11-28T10:00:00Z", "output": []}))
    assert _rows(BulkExport.open(tmp_path), partitioner) == []


@pytest.mark.parametrize("partitioner", PARTITIONERS)
def test_a_line_that_is_not_json_is_an_export_error_naming_the_file(bulk_export, tmp_path, partitioner):
    broken = _copy(bulk_export, tmp_path, "broken")
    victim = sorted(broken.glob("Observation.*.ndjson"))[0]
    victim.write_text(victim.read_text() + '{"resourceType": "Observation", "id": \n')
    with pytest.raises(ExportError, match=victim.name):
        _rows(BulkExport.open(broken), partitioner)


def test_the_command_says_which_file_is_broken_and_stops(bulk_export, tmp_path, capsys):
    broken = _copy(bulk_export, tmp_path, "broken")
    victim = sorted(broken.glob("Condition.*.ndjson"))[0]
    victim.write_text(victim.read_text() + "not json\n")
    out = tmp_path / "w.csv"
    assert main(["worklist", "--bulk", str(broken), "--out", str(out), "--quiet", "--no-prefilter"]) == 2
    assert victim.name in capsys.readouterr().err


def test_server_urls_in_the_manifest_are_read_from_the_folder_and_never_outside_it(bulk_export, tmp_path):
    """A downloaded export keeps the server's URLs in its manifest: the files are read beside it, by name;
    a URL or path that leads out of the folder is refused."""
    moved = _copy(bulk_export, tmp_path, "moved")
    manifest = json.loads((moved / "manifest.json").read_text())
    for item in manifest["output"]:
        item["url"] = f"https://fhir.example.org/bulk/job-1/{item['url']}"
    (moved / "manifest.json").write_text(json.dumps(manifest))
    export = BulkExport.open(moved / "manifest.json")
    assert {f.parent for f in export.all_files()} == {moved.resolve()}
    assert _rows(export, "duckdb") == _rows(BulkExport.open(bulk_export), "duckdb")
    shutil.copy(moved / "Patient.001.ndjson", tmp_path / "outside.ndjson")
    for url in ("../outside.ndjson", "file:///etc/passwd", "/etc/passwd"):
        manifest["output"][0]["url"] = url
        (moved / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ExportError, match=r"output\[0\]"):
            BulkExport.open(moved)


def test_the_as_of_date_is_transaction_time_by_name_and_required_without_a_manifest(bulk_export, tmp_path):
    named = tmp_path / "named.csv"
    default = tmp_path / "default.csv"
    for out, extra in ((named, ["--as-of", "transactionTime"]), (default, [])):
        assert main(["worklist", "--bulk", str(bulk_export), "--out", str(out), "--quiet", *extra]) == 0
    assert named.read_bytes() == default.read_bytes()
    folder = tmp_path / "no-manifest"
    folder.mkdir()
    for item in bulk_export.glob("*.ndjson"):
        shutil.copy(item, folder / item.name)
    with pytest.raises(SystemExit, match="transactionTime"):
        main(["worklist", "--bulk", str(folder), "--out", str(tmp_path / "w.csv"), "--quiet"])
    manifest = json.loads((bulk_export / "manifest.json").read_text())
    assert BulkExport.open(bulk_export).as_of.isoformat() == manifest["transactionTime"][:10]


@pytest.mark.parametrize("partitioner", PARTITIONERS)
def test_one_resource_in_two_files_gives_the_same_rows_whichever_file_is_read_first(bulk_export, tmp_path,
                                                                                      partitioner):
    """An export may repeat a resource (two versions of one Observation): the record keeps the same copy
    whatever the files' order, so re-runs and the two partitioners agree."""
    export = BulkExport.open(bulk_export)
    target = next(r for r in export.iter_resources("Observation") if "valueQuantity" in r
                  and r.get("subject", {}).get("reference", "").startswith("Patient/"))
    changed = {**target, "valueQuantity": {**target["valueQuantity"], "value": 987654}}
    rows = []
    for name, first_file in (("a", "Observation.000.ndjson"), ("b", "Observation.999.ndjson")):
        folder = _copy(bulk_export, tmp_path, name)
        (folder / first_file).write_text(json.dumps(changed) + "\n")
        manifest = json.loads((folder / "manifest.json").read_text())
        entry = {"type": "Observation", "url": first_file}
        manifest["output"] = [entry, *manifest["output"]] if name == "a" else [*manifest["output"], entry]
        (folder / "manifest.json").write_text(json.dumps(manifest))
        rows.append(_rows(BulkExport.open(folder), partitioner))
    assert rows[0] == rows[1]


def test_a_rerun_writes_the_same_parquet(tmp_path, bulk_export):
    outs = [tmp_path / "a" / "w.parquet", tmp_path / "b" / "w.parquet"]
    for out in outs:
        assert main(["worklist", "--bulk", str(bulk_export), "--out", str(out), "--quiet"]) == 0
    import duckdb

    con = duckdb.connect()
    tables = [con.execute(f"SELECT * FROM read_parquet('{out}')").fetchall() for out in outs]
    assert tables[0] == tables[1] and tables[0]
    longs = [con.execute(f"SELECT * FROM read_parquet('{out.with_name('w.findings.parquet')}')").fetchall()
             for out in outs]
    assert longs[0] == longs[1] and longs[0]

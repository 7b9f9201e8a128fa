"""tools/make_bulk_export.py: the synthetic export is deterministic, its ids are new, its drugs are shared
Medications that resolve, gzip holds the same resources."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import make_bulk_export  # tools/ is on the path (tests/worklist/conftest.py)

from cds_service.samples import list_samples


def _lines(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_the_same_seed_gives_the_same_bytes_and_gzip_the_same_resources(tmp_path):
    first, second, zipped = tmp_path / "a", tmp_path / "b", tmp_path / "z"
    for out in (first, second):
        make_bulk_export.build(out, 12, nen_fraction=0.6, seed=3, files_per_type=2, gz=False)
    manifest = make_bulk_export.build(zipped, 12, nen_fraction=0.6, seed=3, files_per_type=2, gz=True)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    for item in manifest["output"]:
        assert item["url"].endswith(".ndjson.gz")
        assert _lines(zipped / item["url"]) == _lines(first / item["url"].removesuffix(".gz"))


def test_new_ids_and_shared_medications_that_resolve(bulk_export):
    manifest = json.loads((bulk_export / "manifest.json").read_text())
    every = [r for item in manifest["output"] for r in _lines(bulk_export / item["url"])]
    sample_ids = {e["resource"]["id"] for s in list_samples() for e in s.bundle()["entry"]}
    assert not sample_ids & {r["id"] for r in every}
    assert len({(r["resourceType"], r["id"]) for r in every}) == len(every)
    medications = {f"Medication/{r['id']}" for r in every if r["resourceType"] == "Medication"}
    references = [r["medicationReference"]["reference"] for r in every if "medicationReference" in r]
    assert references and set(references) <= medications
    assert len(references) > len(set(references))  # shared: several patients point to one Medication
    types = [item["type"] for item in manifest["output"]]
    assert types.count("Observation") == 2 and types.count("Patient") == 2

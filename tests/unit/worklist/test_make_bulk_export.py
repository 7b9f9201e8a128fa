"""tools/make_bulk_export.py: a deterministic synthetic Bulk Data export made from the samples."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from cds_service.samples import list_samples, sample_set_as_of
from tools.make_bulk_export import build


def lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("export")
    return out, build(out, 40, seed=7, nen_fraction=0.75, resources_per_patient=60, files_per_type=3)


def test_the_manifest_lists_several_files_per_type_with_their_counts(export):
    out, manifest = export
    assert manifest["transactionTime"].endswith("T06:00:00Z") and manifest["error"] == []
    by_type: dict[str, int] = {}
    for item in manifest["output"]:
        assert not item["url"].startswith(("/", "http")), "relative URLs only"
        assert len(lines(out / item["url"])) == item["count"]
        by_type[item["type"]] = by_type.get(item["type"], 0) + 1
    assert by_type["Observation"] == by_type["Patient"] == 3 and "Medication" in by_type


def test_new_ids_shifted_dates_and_padding(export):
    out, manifest = export
    as_of = date.fromisoformat(manifest["transactionTime"][:10])
    days = (as_of - sample_set_as_of()).days
    truth = list(csv.DictReader((out / "generated-patients.csv").open(encoding="utf-8")))
    patients = {r["id"]: r for item in manifest["output"] if item["type"] == "Patient"
                for r in lines(out / item["url"])}
    assert len(patients) == len(truth) == 40
    sample_ids = {e["resource"]["id"] for s in list_samples() for e in s.bundle()["entry"]}
    every = [r for item in manifest["output"] for r in lines(out / item["url"])]
    assert not sample_ids & {r["id"] for r in every}
    assert len({(r["resourceType"], r["id"]) for r in every}) == len(every)
    copies = [row for row in truth if row["template"] != "other"]
    assert 20 <= len(copies) < 40
    bundles = {s.id: s.bundle() for s in list_samples()}
    for row in copies:
        original = next(e["resource"] for e in bundles[row["template"]]["entry"]
                        if e["resource"]["resourceType"] == "Patient")
        if "birthDate" in original and len(original["birthDate"]) == 10:
            shifted = date.fromisoformat(original["birthDate"]) + timedelta(days=days)
            assert patients[row["patient_id"]]["birthDate"] == shifted.isoformat()
    assert 40 * 60 * 0.7 <= len(every) <= 40 * 60 * 1.3 + 20


def test_drugs_are_shared_medications_by_reference(export):
    out, manifest = export
    medications = {f"Medication/{r['id']}" for item in manifest["output"] if item["type"] == "Medication"
                   for r in lines(out / item["url"])}
    references = [r["medicationReference"]["reference"] for item in manifest["output"]
                  if item["type"].startswith("Medication") and item["type"] != "Medication"
                  for r in lines(out / item["url"]) if "medicationReference" in r]
    assert references and set(references) <= medications
    assert len(references) > len(set(references))  # shared: several patients point to one Medication


def test_the_same_seed_gives_the_same_bytes_and_gzip_the_same_resources(tmp_path):
    first, second, zipped = tmp_path / "a", tmp_path / "b", tmp_path / "z"
    build(first, 12, seed=3, files_per_type=2, resources_per_patient=30)
    build(second, 12, seed=3, files_per_type=2, resources_per_patient=30)
    manifest = build(zipped, 12, seed=3, files_per_type=2, resources_per_patient=30, compress=True)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    assert all(item["url"].endswith(".ndjson.gz") for item in manifest["output"])
    for item in manifest["output"]:
        assert lines(zipped / item["url"]) == lines(first / item["url"].removesuffix(".gz"))
    other = tmp_path / "c"
    build(other, 12, seed=4, files_per_type=2, resources_per_patient=30)
    assert (other / "Patient-000.ndjson").read_bytes() != (first / "Patient-000.ndjson").read_bytes()

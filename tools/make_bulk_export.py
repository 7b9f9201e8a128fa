"""Write a synthetic FHIR Bulk Data export from the bundled samples, for the worklist's tests and benchmark.

    .venv/bin/python tools/make_bulk_export.py OUT_DIR --patients 10000 [--nen-fraction 0.3] [--seed 1]
        [--files-per-type 2] [--gzip]

Each NEN patient is a copy of a sample (new ids, dates shifted a few weeks back, half of its drugs moved
to Medications shared by reference); every patient, NEN or not, is padded to ~150 resources with the
ordinary chart content in `tools/bulk_export/padding.yaml`. Resources go round-robin into several files
per type; `manifest.json` gives the export's transactionTime (the samples' as-of date). Same seed, same
bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service.samples import list_samples, sample_set_as_of  # noqa: E402

PADDING = Path(__file__).with_name("bulk_export") / "padding.yaml"
DATE_KEYS = {"effectiveDateTime", "onsetDateTime", "recordedDate", "authoredOn", "issued", "dateAsserted",
             "start", "end", "occurrenceDateTime", "performedDateTime", "abatementDateTime"}
MEDICATION_CHOICES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")


def _fill(value: Any, **fields: str) -> Any:
    if isinstance(value, str):
        return value.format(**fields) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, **fields) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, **fields) for k, v in value.items()}
    return value


def _shift(value: Any, days: int, key: str = "") -> Any:
    """Every date under a date key moved `days` back (the time of day, if any, kept)."""
    if isinstance(value, str) and key in DATE_KEYS and len(value) >= 10:
        try:
            return (date.fromisoformat(value[:10]) - timedelta(days=days)).isoformat() + value[10:]
        except ValueError:
            return value
    if isinstance(value, list):
        return [_shift(v, days, key) for v in value]
    if isinstance(value, dict):
        return {k: _shift(v, days, k) for k, v in value.items()}
    return value


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _renamed(v, names) for k, v in value.items()}
        if isinstance(out.get("reference"), str) and out["reference"] in names:
            out["reference"] = names[out["reference"]]
        return out
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def _medication_id(concept: dict) -> str:
    return "med-" + hashlib.sha256(json.dumps(concept, sort_keys=True).encode()).hexdigest()[:12]


def copy_sample(resources: list[dict], pid: str, days: int, share_drugs: bool,
                medications: dict[str, dict]) -> list[dict]:
    """A sample patient under new ids, its dates shifted, its drugs optionally moved to shared Medications."""
    names: dict[str, str] = {}
    for n, r in enumerate(resources):
        new = pid if r["resourceType"] == "Patient" else f"{pid}-{n}"
        names[f"{r['resourceType']}/{r['id']}"] = f"{r['resourceType']}/{new}"
    out = []
    for r in resources:
        copy = _shift(_renamed(r, names), days)
        copy["id"] = names[f"{r['resourceType']}/{r['id']}"].split("/", 1)[1]
        if share_drugs and copy["resourceType"] in MEDICATION_CHOICES and "medicationCodeableConcept" in copy:
            concept = copy.pop("medicationCodeableConcept")
            mid = _medication_id(concept)
            medications.setdefault(mid, {"resourceType": "Medication", "id": mid, "code": concept})
            copy["medicationReference"] = {"reference": f"Medication/{mid}"}
        out.append(copy)
    return out


def padding(pid: str, count: int, as_of: date, rng: random.Random, templates: list[dict]) -> list[dict]:
    out = []
    for n in range(count):
        day = (as_of - timedelta(days=rng.randrange(30, 3000))).isoformat()
        resource = _fill(templates[n % len(templates)], pid=pid, date=day)
        resource["id"] = f"{pid}-pad-{n}"
        out.append(resource)
    return out


def build(out: Path, patients: int, nen_fraction: float, seed: int, files_per_type: int, gz: bool) -> dict:
    """Write the export; return its manifest."""
    rng = random.Random(seed)
    data = yaml.safe_load(PADDING.read_text(encoding="utf-8"))
    templates, per_patient = data["templates"], data["resources_per_patient"]
    medications = {mid: {"resourceType": "Medication", "id": mid, **m} for mid, m in data["medications"].items()}
    as_of = sample_set_as_of() or date.today()
    samples = [[e["resource"] for e in s.bundle()["entry"]] for s in list_samples()]
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if gz else ".ndjson"
    handles: dict[tuple[str, int], Any] = {}
    raws: list[Any] = []  # the files under the gzip streams (GzipFile does not close a file it was given)

    def write(resource: dict, slot: int) -> None:
        key = (resource["resourceType"], slot % files_per_type)
        if key not in handles:
            path = out / f"{key[0]}.{key[1] + 1:03d}{suffix}"
            raw = path.open("wb")  # noqa: SIM115 - closed with the others below
            handles[key] = gzip.GzipFile(path.name, "wb", 1, raw, mtime=0) if gz else raw
            if gz:
                raws.append(raw)
        handles[key].write(json.dumps(resource, separators=(",", ":")).encode() + b"\n")

    try:
        for n in range(patients):
            pid = f"p{seed}-{n:07d}"
            chart: list[dict] = []
            if rng.random() < nen_fraction:
                sample = samples[rng.randrange(len(samples))]
                chart = copy_sample(sample, pid, rng.randrange(0, 28), rng.random() < 0.5, medications)
            else:
                chart = [{"resourceType": "Patient", "id": pid, "gender": rng.choice(["female", "male"]),
                          "birthDate": f"{rng.randrange(1940, 2000)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}"}]
            chart += padding(pid, max(per_patient - len(chart), 0), as_of, rng, templates)
            for resource in chart:
                write(resource, n)
        for m, medication in enumerate(sorted(medications.values(), key=lambda r: r["id"])):
            write(medication, m)
    finally:
        for handle in [*handles.values(), *raws]:
            handle.close()
    manifest = {
        "transactionTime": f"{as_of.isoformat()}T12:00:00Z",
        "request": "$export",
        "requiresAccessToken": False,
        "output": [{"type": t, "url": f"{t}.{s + 1:03d}{suffix}"} for t, s in sorted(handles)],
        "error": [],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--nen-fraction", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--files-per-type", type=int, default=2)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args(argv)
    manifest = build(args.out, args.patients, args.nen_fraction, args.seed, args.files_per_type, args.gzip)
    print(f"wrote {args.patients} patients in {len(manifest['output'])} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

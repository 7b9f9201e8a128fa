"""A synthetic FHIR Bulk Data export made from the sample patients, for the worklist's tests and benchmarks.

    .venv/bin/python tools/make_bulk_export.py --patients 10000 --out /tmp/export [--seed 1] [--gzip]
        [--nen-fraction 0.5] [--resources-per-patient 150] [--files-per-type 2] [--as-of 2027-03-01]

A share of the patients (--nen-fraction) are copies of a sample (samples/, picked at random): new ids for
every resource, every date shifted by the same number of days (the export's as-of date is the samples' as-of
date shifted likewise, and is the manifest's `transactionTime`), and each drug given by code turned into a
`medicationReference` to a Medication shared by every patient on that drug (Medication is outside the Patient
compartment: the worklist must broadcast it). The others are patients without a NEN. Everyone gets routine
padding up to about --resources-per-patient resources. The records are data (tools/bulk_export_records.yaml);
this builder only copies, renames and shifts. Each type is split over --files-per-type files listed in
manifest.json (relative URLs); `generated-patients.csv` says which sample each patient copies. The same seed
and options give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cds_service.samples import list_samples, sample_set_as_of  # noqa: E402

RECORDS = Path(__file__).with_name("bulk_export_records.yaml")
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)?$")
MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")


def shift_dates(value: Any, days: int) -> Any:
    """`value` with every full date (and the date of every dateTime) moved by `days`."""
    if isinstance(value, dict):
        return {k: shift_dates(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v, days) for v in value]
    if isinstance(value, str) and (match := DATE.match(value)):
        return (date.fromisoformat(match.group(1)) + timedelta(days=days)).isoformat() + (match.group(2) or "")
    return value


def rename(value: Any, references: dict[str, str]) -> Any:
    """`value` with every `reference` that names a resource of the bundle pointing to its new id."""
    if isinstance(value, dict):
        return {k: (references.get(v, v) if k == "reference" and isinstance(v, str) else rename(v, references))
                for k, v in value.items()}
    if isinstance(value, list):
        return [rename(v, references) for v in value]
    return value


def shared_medication(resource: dict, medications: dict[str, dict]) -> dict:
    """The resource with its coded drug moved into a shared Medication (the same drug: the same Medication)."""
    concept = resource.get("medicationCodeableConcept")
    if not isinstance(concept, dict) or not concept.get("coding"):
        return resource
    med_id = "med-" + hashlib.sha256(json.dumps(concept, sort_keys=True).encode()).hexdigest()[:12]
    medications[med_id] = {"resourceType": "Medication", "id": med_id, "code": concept}
    out = {k: v for k, v in resource.items() if k != "medicationCodeableConcept"}
    out["medicationReference"] = {"reference": f"Medication/{med_id}"}
    return out


def sample_template(bundle: dict, days: int, medications: dict[str, dict]) -> list[tuple[str, str]]:
    """(type, JSON with `{pid}` for the new patient id) for each resource of a sample bundle."""
    resources = [e["resource"] for e in bundle["entry"]]
    references = {}
    for n, r in enumerate(resources):
        new_id = "{pid}" if r["resourceType"] == "Patient" else f"{{pid}}-s{n}"
        references[f"{r['resourceType']}/{r['id']}"] = f"{r['resourceType']}/{new_id}"
    out = []
    for r in resources:
        copy = shift_dates(rename(r, references), days)
        copy["id"] = references[f"{r['resourceType']}/{r['id']}"].split("/", 1)[1]
        if copy["resourceType"] in MEDICATION_TYPES:
            copy = shared_medication(copy, medications)
        out.append((copy["resourceType"], json.dumps(copy, separators=(",", ":"))))
    return out


def fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


class Writer:
    """The export's files: `Type-NNN.ndjson[.gz]`, a patient's resources all in file `index % files`."""

    def __init__(self, out: Path, files: int, compress: bool) -> None:
        self.out, self.files, self.compress = out, files, compress
        self.handles: dict[tuple[str, int], IO[str]] = {}
        self.files_open: list[IO[bytes]] = []  # under the gzip streams, which do not close them
        self.counts: dict[tuple[str, int], int] = {}

    def write(self, rtype: str, index: int, line: str) -> None:
        key = (rtype, index % self.files)
        handle = self.handles.get(key)
        if handle is None:
            file = (self.out / self.name(*key)).open("wb")
            self.files_open.append(file)
            raw = (gzip.GzipFile(filename="", mode="wb", fileobj=file, mtime=0, compresslevel=1)
                   if self.compress else file)
            handle = self.handles[key] = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        handle.write(line + "\n")
        self.counts[key] = self.counts.get(key, 0) + 1

    def name(self, rtype: str, index: int) -> str:
        return f"{rtype}-{index:03d}.ndjson" + (".gz" if self.compress else "")

    def close(self) -> list[dict]:
        """Close every file; the manifest's `output` list (sorted by type and file)."""
        for handle in self.handles.values():
            handle.close()
        for file in self.files_open:
            file.close()
        return [{"type": t, "url": self.name(t, i), "count": self.counts[(t, i)]} for t, i in sorted(self.handles)]


def build(out: Path, patients: int, seed: int = 1, nen_fraction: float = 0.5, resources_per_patient: int = 150,
          files_per_type: int = 2, compress: bool = False, as_of: date | None = None) -> dict:
    """Write the export into `out` (created; must be empty) and return its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"make_bulk_export: {out} is not empty")
    rng = random.Random(seed)
    records = yaml.safe_load(RECORDS.read_text(encoding="utf-8"))
    samples_as_of = sample_set_as_of()
    assert samples_as_of is not None, "samples/index.yaml declares no as_of date"
    as_of = as_of or samples_as_of + timedelta(days=rng.randint(-365, 365))
    days = (as_of - samples_as_of).days
    medications = {m["id"]: {"resourceType": "Medication", "id": m["id"], "code": {"coding": [
        {"system": m["system"], "code": m["code"], "display": m["display"]}]}} for m in records["shared_medications"]}
    templates = {s.id: sample_template(s.bundle(), days, medications) for s in list_samples()}
    template_ids = sorted(templates)
    padding = [(p["resource"]["resourceType"], json.dumps(p["resource"], separators=(",", ":")), p.get("value"))
               for p in records["padding"]]
    weights = [p["weight"] for p in records["padding"]]
    other_patient = json.dumps(records["other_patient"], separators=(",", ":"))
    other_condition = json.dumps(records["other_condition"], separators=(",", ":"))
    med_ids = [m["id"] for m in records["shared_medications"]]
    writer = Writer(out, files_per_type, compress)
    seen: set[str] = set()
    with (out / "generated-patients.csv").open("w", newline="", encoding="utf-8") as truth_file:
        truth = csv.writer(truth_file, lineterminator="\n")
        truth.writerow(["patient_id", "template"])
        for index in range(patients):
            pid = f"{rng.getrandbits(64):016x}"
            while pid in seen:
                pid = f"{rng.getrandbits(64):016x}"
            seen.add(pid)
            if rng.random() < nen_fraction:
                template = rng.choice(template_ids)
                core = [(t, line.replace("{pid}", pid)) for t, line in templates[template]]
            else:
                template = "other"
                birth = as_of - timedelta(days=rng.randint(18 * 365, 90 * 365))
                core = [("Patient", fill(other_patient, pid=pid, gender=rng.choice(("female", "male")),
                                         birth=birth.isoformat()))]
                for n, condition in enumerate(rng.sample(records["other_patient_conditions"], rng.randint(1, 3))):
                    onset = as_of - timedelta(days=rng.randint(30, 3650))
                    core.append(("Condition", fill(other_condition, pid=pid, rid=f"{pid}-c{n}", date=onset.isoformat(),
                                                   **condition)))
            truth.writerow([pid, template])
            for rtype, line in core:
                writer.write(rtype, index, line)
            wanted = round(resources_per_patient * rng.uniform(0.7, 1.3)) - len(core)
            for n, (rtype, line, value) in enumerate(rng.choices(padding, weights, k=max(0, wanted))):
                when = (as_of - timedelta(days=rng.randint(1, 5 * 365))).isoformat()
                if value:
                    line = line.replace('"{value}"', str(round(rng.uniform(*value), 1)))
                writer.write(rtype, index, fill(line, pid=pid, rid=f"{pid}-p{n}", date=when, med=rng.choice(med_ids)))
    for n, med_id in enumerate(sorted(medications)):
        writer.write("Medication", n, json.dumps(medications[med_id], separators=(",", ":")))
    manifest = {"transactionTime": f"{as_of.isoformat()}T06:00:00Z",
                "request": f"synthetic $export (tools/make_bulk_export.py, seed {seed}, {patients} patients)",
                "requiresAccessToken": False, "output": writer.close(), "error": []}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder to create (must be empty)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nen-fraction", type=float, default=0.5, help="share of patients copied from a sample")
    parser.add_argument("--resources-per-patient", type=int, default=150, help="mean, with padding")
    parser.add_argument("--files-per-type", type=int, default=2)
    parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the export's date (transactionTime); default: the samples' date shifted by the seed")
    args = parser.parse_args(argv)
    manifest = build(args.out, args.patients, args.seed, args.nen_fraction, args.resources_per_patient,
                     args.files_per_type, args.gzip, args.as_of)
    total = sum(item["count"] for item in manifest["output"])
    print(f"make_bulk_export: {args.patients} patients, {total} resources in {len(manifest['output'])} files, "
          f"transactionTime {manifest['transactionTime']} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`net-cds profile FILE`: print the NET patient profile of a FHIR Bundle (or one resource) with provenance."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from cds_service.commands.as_of import add_as_of_option, chosen_as_of
from cds_service.fhir.record import PatientRecord
from cds_service.profile import build_profile
from cds_service.profile.render import profile_to_dict, render_text


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("profile", help="print the NET patient profile of a FHIR Bundle",
                                   description="Build the patient profile (decision model sections 2-3) of a FHIR "
                                               "R4 Bundle (collection, transaction or searchset) or a single "
                                               "resource, and print each fact with value, date and references.")
    parser.add_argument("file", metavar="FILE", help="FHIR Bundle or resource (JSON)")
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    add_as_of_option(parser, "--today")
    parser.add_argument("--drafts", metavar="FILE", default=None,
                        help="a Bundle of draft orders (order-sign context.draftOrders) to classify")
    parser.set_defaults(func=run)


def _entries(data: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    if data.get("resourceType") != "Bundle":
        return [(data, None)]
    entries = data.get("entry") or []
    if isinstance(entries, dict):
        entries = [entries]
    out = []
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            full_url = entry.get("fullUrl")
            out.append((resource, full_url if isinstance(full_url, str) else None))
    return out


def record_from_bundle(data: dict[str, Any], drafts: dict[str, Any] | None = None) -> PatientRecord:
    """A PatientRecord from a Bundle or single resource; the patient is the first Patient in it."""
    entries = _entries(data)
    patient = next((r for r, _ in entries if r.get("resourceType") == "Patient"), None)
    patient_id = str(patient.get("id") or "unknown") if patient else "unknown"
    record = PatientRecord(patient_id=patient_id)
    for resource, full_url in entries:
        record.add(resource, full_url)
    if drafts is not None:
        for resource, _ in _entries(drafts):
            record.draft_orders.append(resource)
    return record


def profile_file(path: str | Path, as_json: bool = False, today: date | None = None,
                 drafts: str | Path | None = None, out: TextIO | None = None) -> int:
    """Print the profile of one file; 0 on success, 1 when the file cannot be read as FHIR JSON."""
    out = out or sys.stdout
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        draft_data = json.loads(Path(drafts).read_text(encoding="utf-8")) if drafts else None
    except (OSError, ValueError) as exc:
        print(f"net-cds profile: cannot read {exc}", file=sys.stderr)
        return 1
    if not isinstance(data, dict) or (draft_data is not None and not isinstance(draft_data, dict)):
        print("net-cds profile: the file is not a FHIR resource (JSON object)", file=sys.stderr)
        return 1
    profile = build_profile(record_from_bundle(data, draft_data), today)
    if as_json:
        json.dump(profile_to_dict(profile), out, indent=2, default=str)
        out.write("\n")
    else:
        out.write(render_text(profile))
    return 0


def run(args: argparse.Namespace) -> int:
    return profile_file(args.file, args.json, chosen_as_of(args.as_of, args.file), args.drafts)

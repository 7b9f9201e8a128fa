"""The worklist as FHIR: one `List` per queue, or one `Task` per patient and queue, with stable ids.

Ids are a hash of what the resource is about (queue and scope for a List; queue, patient and scope for a
Task), so a re-run PUTs over the same resources instead of adding copies. The scope names the population
the export was made for: the manifest's `request` (e.g. `.../Group/net-clinic/$export`), not the export
itself, so the next month's export of the same group updates the same Lists and Tasks. Uploading goes
through the client `net-cds samples load` uses (`cds_service/fhir/upload.py`: one transaction of
`PUT Type/id` per batch, to the base URL given and nowhere else, no redirects, the token never printed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import requests

from cds_service.fhir.upload import UploadResult, check_base_url, upload_bundle
from cds_service.worklist.queues import Queue, load_queues
from cds_service.worklist.rows import WorklistRow

Mode = Literal["list", "task"]
MODES: tuple[str, ...] = ("list", "task")
QUEUE_SYSTEM = "https://fhir.net-cds.org/CodeSystem/worklist-queue"
RULE_SYSTEM = "https://fhir.net-cds.org/CodeSystem/rule"
IDENTIFIER_SYSTEM = "https://fhir.net-cds.org/worklist"
DEFAULT_SCOPE = "default"
BATCH = 500  # resources per transaction

Members = Mapping[str, Sequence[tuple[str, tuple[str, ...]]]]  # queue id -> (patient id, rule ids)


def stable_id(*parts: str) -> str:
    """A FHIR id (<= 64 characters) that depends only on `parts`."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"nc-{digest[:40]}"


def _queue_code(q: Queue) -> dict:
    return {"coding": [{"system": QUEUE_SYSTEM, "code": q.id, "display": q.title}], "text": q.title}


class QueueMembers:
    """Who is in which queue, kept while the rows stream past: (patient id, rule ids) per queue (a few
    short strings per listed patient, nothing for the others)."""

    def __init__(self, defined: tuple[Queue, ...] | None = None) -> None:
        self.defined = defined or load_queues()
        self.members: dict[str, list[tuple[str, tuple[str, ...]]]] = {q.id: [] for q in self.defined}

    def add(self, row: WorklistRow) -> None:
        for q in self.defined:
            if q.lists(row):
                self.members[q.id].append((row.patient_id, q.reasons(row)))


def queue_list(q: Queue, members: Sequence[tuple[str, tuple[str, ...]]], *, scope: str, when: datetime) -> dict:
    """The List of one queue: its patients, in row order."""
    return {
        "resourceType": "List",
        "id": stable_id("List", q.id, scope),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"{scope}|{q.id}"}],
        "status": "current",
        "mode": "working",
        "title": q.title,
        "code": _queue_code(q),
        "date": when.isoformat(timespec="seconds"),
        "note": [{"text": f"{q.note} Source: {q.source}.".strip()}],
        "entry": [{"item": {"reference": f"Patient/{pid}"}} for pid, _ in members],
    }


def queue_task(q: Queue, patient_id: str, rules: tuple[str, ...], *, scope: str, when: datetime) -> dict:
    """The Task for one patient in one queue: requested, about the patient, for the rules behind it."""
    patient = {"reference": f"Patient/{patient_id}"}
    reason = {"coding": [{"system": RULE_SYSTEM, "code": r} for r in rules], "text": q.source}
    return {
        "resourceType": "Task",
        "id": stable_id("Task", q.id, patient_id, scope),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"{scope}|{q.id}|{patient_id}"}],
        "status": "requested",
        "intent": "proposal",
        "code": _queue_code(q),
        "description": q.title,
        "focus": patient,
        "for": patient,
        "authoredOn": when.isoformat(timespec="seconds"),
        "reasonCode": reason,
    }


def worklist_resources(defined: Iterable[Queue], members: Members, mode: Mode, *, scope: str,
                       when: datetime) -> list[dict]:
    """Every List (one per queue, empty ones included: a queue that emptied is updated to empty) or every
    Task (one per patient and queue)."""
    if mode not in MODES:
        raise ValueError(f"FHIR output is one of {MODES}, not {mode!r}")
    out: list[dict] = []
    for q in defined:
        if mode == "list":
            out.append(queue_list(q, members.get(q.id, ()), scope=scope, when=when))
        else:
            out += [queue_task(q, pid, rules, scope=scope, when=when) for pid, rules in members.get(q.id, ())]
    return out


def collection(resources: Sequence[dict]) -> dict:
    """A collection Bundle of the resources (what `--fhir-output` writes beside the worklist)."""
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}


def upload(base_url: str, resources: Sequence[dict], *, token: str | None = None, timeout: float = 60.0,
           batch: int = BATCH) -> list[UploadResult]:
    """PUT the resources to the server, `batch` per transaction (UploadError on the first refusal)."""
    base = check_base_url(base_url)
    results: list[UploadResult] = []
    with requests.Session() as session:
        for start in range(0, len(resources), batch):
            part = resources[start:start + batch]
            label = f"worklist {start + 1}-{start + len(part)}"
            results.append(upload_bundle(base, {"resourceType": "Bundle", "type": "collection",
                                                "entry": [{"resource": r} for r in part]},
                                         label, token=token, timeout=timeout, session=session))
    return results


def export_scope(bulk: Path) -> str:
    """The population an export was made for: the manifest's `request` URL (kickoff request of the Bulk
    Data export, e.g. `.../Group/net-clinic/$export`), else DEFAULT_SCOPE. Never the export's own file
    names or hash, which change every month."""
    manifest = bulk if bulk.is_file() else bulk / "manifest.json"
    try:
        request = json.loads(manifest.read_text(encoding="utf-8")).get("request")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_SCOPE
    return request.strip() if isinstance(request, str) and request.strip() else DEFAULT_SCOPE

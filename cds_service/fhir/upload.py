"""Upload sample patients to a FHIR R4 server as transaction Bundles (`net-cds samples load`).

Each sample is a `collection` Bundle whose resources carry stable ids and refer to each other as
`Type/id`. It is sent as one `transaction` with a `PUT Type/id` entry per resource, so the ids on the
server are the sample's ids and loading again updates the same resources instead of adding copies
(FHIR update-as-create; HAPI, Medplum and sekmet allow client-assigned ids). Only standard FHIR REST is
used: one POST of the transaction to the base URL. The bearer token is sent, never printed or logged.
"""

from __future__ import annotations

import re
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

FHIR_JSON = "application/fhir+json"
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")  # FHIR id datatype


class UploadError(Exception):
    """The bundle could not be prepared or the server refused it. The message never holds the token."""


@dataclass
class UploadResult:
    """What one transaction did on the server."""

    label: str
    references: list[str]
    created: int = 0
    updated: int = 0
    types: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {t}" for t, n in sorted(self.types.items()))
        return (f"{self.label}: {len(self.references)} resources ({kinds}); "
                f"{self.created} created, {self.updated} updated")


def _walk_references(node: Any, rewrite: dict[str, str]) -> None:
    """Replace `reference` values that are fullUrls of bundle entries (urn:uuid:...) by `Type/id`."""
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref in rewrite:
            node["reference"] = rewrite[ref]
        for value in node.values():
            _walk_references(value, rewrite)
    elif isinstance(node, list):
        for value in node:
            _walk_references(value, rewrite)


def _stable_id(resource: dict, full_url: str | None) -> str:
    rid = resource.get("id")
    if not rid and isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
        rid = full_url.removeprefix("urn:uuid:")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise UploadError(f"{resource.get('resourceType')} without a valid stable id (id or urn:uuid fullUrl)")
    return rid


def to_transaction(bundle: dict, base_url: str | None = None) -> dict:
    """A `transaction` Bundle with one `PUT Type/id` per resource of `bundle` (a collection, or a transaction).

    Resources are copied; `meta.versionId`/`lastUpdated` are dropped (the server sets them), and
    references to other entries' `urn:uuid:` fullUrls become `Type/id`. With `base_url`, each entry's
    fullUrl is the resource's absolute URL on that server, as FHIR asks for resources with server ids.
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise UploadError("not a FHIR Bundle")
    prepared: list[tuple[str, str, dict]] = []
    rewrite: dict[str, str] = {}
    seen: set[str] = set()
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise UploadError("a bundle entry has no resource")
        rtype = resource["resourceType"]
        rid = _stable_id(resource, entry.get("fullUrl"))
        ref = f"{rtype}/{rid}"
        if ref in seen:
            raise UploadError(f"{ref} appears twice in the bundle")
        seen.add(ref)
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url != ref:
            rewrite[full_url] = ref
        copy = {**deepcopy(resource), "id": rid}  # deep: references are rewritten in place below
        meta = {k: v for k, v in (copy.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
        if meta:
            copy["meta"] = meta
        else:
            copy.pop("meta", None)
        prepared.append((rtype, rid, copy))
    if not prepared:
        raise UploadError("the bundle has no resources")
    entries = []
    for rtype, rid, resource in prepared:
        _walk_references(resource, rewrite)
        entry: dict = {"resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}
        if base_url:
            entry = {"fullUrl": f"{base_url.rstrip('/')}/{rtype}/{rid}", **entry}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def dangling_references(bundle: dict) -> list[str]:
    """Relative `Type/id` references in `bundle` to resources it does not contain.

    Servers that enforce referential integrity on write (HAPI does by default) reject such a transaction.
    """
    have = set()
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") or {}
        have.add(f"{resource.get('resourceType')}/{resource.get('id')}")
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and re.fullmatch(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}", ref) and ref not in have:
                found.add(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(bundle)
    return sorted(found)


def _outcome_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason
    issues = body.get("issue") if isinstance(body, dict) else None
    if isinstance(issues, list) and issues:
        parts = []
        for issue in (i for i in issues[:3] if isinstance(i, dict)):
            text = str(issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code"))
            where = issue.get("expression") or issue.get("location")
            parts.append(f"{text} at {', '.join(map(str, where))}" if isinstance(where, list) and where else text)
        return "; ".join(parts)[:500]
    return str(body)[:300]


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; an http(s) URL with a host is required."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UploadError(f"--fhir-server must be an http(s) base URL, not {base_url!r}")
    return base_url.rstrip("/")


def upload_bundle(base_url: str, bundle: dict, label: str, token: str | None = None, timeout: float = 60.0,
                  session: requests.Session | None = None) -> UploadResult:
    """POST `bundle` as a transaction to `base_url` and check the transaction-response entry by entry."""
    base = check_base_url(base_url)
    transaction = to_transaction(bundle, base)
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    http = session or requests.Session()
    try:
        response = http.post(base, json=transaction, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        raise UploadError(f"{label}: {base} did not answer within {timeout:g} s") from exc
    except requests.ConnectionError as exc:
        raise UploadError(f"{label}: {base} could not be reached") from exc
    if response.status_code in (401, 403):
        raise UploadError(f"{label}: {base} refused the request (HTTP {response.status_code}); check --token")
    if response.status_code != 200:
        raise UploadError(f"{label}: {base} answered HTTP {response.status_code}: {_outcome_text(response)}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise UploadError(f"{label}: {base} did not answer with JSON") from exc
    if not isinstance(answer, dict) or answer.get("resourceType") != "Bundle" \
            or answer.get("type") != "transaction-response":
        raise UploadError(f"{label}: {base} did not answer with a transaction-response Bundle")
    sent = transaction["entry"]
    got = answer.get("entry") or []
    if len(got) != len(sent):
        raise UploadError(f"{label}: {len(sent)} entries sent, {len(got)} answered")
    result = UploadResult(label=label, references=[e["request"]["url"] for e in sent])
    for request_entry, answer_entry in zip(sent, got, strict=True):
        status = str(((answer_entry or {}).get("response") or {}).get("status", ""))
        code = status.split(" ", 1)[0]
        if code == "201":
            result.created += 1
        elif code == "200":
            result.updated += 1
        else:
            raise UploadError(f"{label}: {request_entry['request']['url']} answered {status or 'no status'}")
        result.types[request_entry["resource"]["resourceType"]] += 1
    return result

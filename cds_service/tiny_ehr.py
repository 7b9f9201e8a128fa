"""A tiny EHR: answers a service's prefetch templates from a FHIR Bundle, as a FHIR server would.

`net-cds call`, the tests and the benchmarks use it to send realistic hook requests built from the
bundled sample patients, with no FHIR server at all.
"""

from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import parse_qsl, unquote

from cds_service.services.registry import PATIENT_TOKEN, CdsService, PrefetchQuery
from cds_service.web.as_of import as_of_extension

_MEDICATION_TYPES = {"MedicationStatement", "MedicationRequest", "MedicationAdministration"}


def _codings(value: object) -> list[dict]:
    if isinstance(value, dict):
        codings = value.get("coding")
        if isinstance(codings, dict):
            return [codings]
        return [c for c in codings or () if isinstance(c, dict)]
    if isinstance(value, list):
        return [c for item in value for c in _codings(item)]
    return []


def _matches(query: PrefetchQuery, resource: dict, patient_id: str) -> bool:
    if resource.get("resourceType") != query.resource_type:
        return False
    if query.is_read:
        return resource.get("id") == patient_id
    params = dict(parse_qsl(query.template.split("?", 1)[1].replace(PATIENT_TOKEN, patient_id)))
    if "code" in params:
        wanted = {unquote(token) for token in params["code"].split(",")}
        have = {f"{c.get('system')}|{c.get('code')}" for c in _codings(resource.get("code"))}
        if not wanted & have:
            return False
    categories = {c.get("code") for c in _codings(resource.get("category"))}
    return "category" not in params or params["category"] in categories


def prefetch_from_bundle(service: CdsService, bundle: dict, patient_id: str) -> dict:
    """The prefetch an EHR would send for this patient: a searchset per search, the resource per read,
    null where it has no data."""
    resources = [e["resource"] for e in bundle.get("entry") or () if isinstance(e.get("resource"), dict)]
    by_ref = {f"{r.get('resourceType')}/{r.get('id')}": r for r in resources}
    prefetch: dict = {}
    for query in service.queries:
        hits = [r for r in resources if _matches(query, r, patient_id)]
        if query.is_read:
            prefetch[query.key] = hits[0] if hits else None
            continue
        entries = [{"fullUrl": f"{r['resourceType']}/{r.get('id')}", "resource": r, "search": {"mode": "match"}}
                   for r in hits]
        if query.resource_type in _MEDICATION_TYPES:  # as with _include=...:medication
            for r in hits:
                target = (r.get("medicationReference") or {}).get("reference")
                if isinstance(target, str) and target in by_ref:
                    entries.append({"fullUrl": target, "resource": by_ref[target], "search": {"mode": "include"}})
        prefetch[query.key] = ({"resourceType": "Bundle", "type": "searchset", "total": len(hits),
                                "entry": entries} if entries else None)
    return prefetch


def hook_request(service: CdsService, patient_id: str, prefetch: dict | None = None,
                 fhir_server: str | None = None, access_token: str | None = None,
                 draft_orders: dict | None = None, user_id: str = "Practitioner/example",
                 as_of: date | None = None) -> dict:
    """A CDS Hooks 2.0 request body for `service` (asking for an evaluation as of `as_of` when given)."""
    context: dict = {"userId": user_id, "patientId": patient_id}
    if service.takes_drafts:
        context["draftOrders"] = draft_orders or {"resourceType": "Bundle", "type": "collection", "entry": []}
    if service.hook == "order-select":  # the clinician selected every drafted order
        context["selections"] = selections_of(context["draftOrders"])
    body: dict = {"hook": service.hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if fhir_server:
        body["fhirServer"] = fhir_server
        if access_token:
            body["fhirAuthorization"] = {"access_token": access_token, "token_type": "Bearer",
                                         "expires_in": 300, "scope": "patient/*.read",
                                         "subject": "net-cds", "patient": patient_id}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if as_of is not None:
        body["extension"] = as_of_extension(as_of)
    return body


def selections_of(draft_orders: dict) -> list[str]:
    """`Type/id` of every order in a draftOrders Bundle (order-select's `context.selections`)."""
    out = []
    for entry in draft_orders.get("entry") or ():
        resource = entry.get("resource") or {}
        if resource.get("resourceType") and resource.get("id") and resource["resourceType"] != "Medication":
            out.append(f"{resource['resourceType']}/{resource['id']}")
    return out


def patient_id_of(bundle: dict) -> str:
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient" and resource.get("id"):
            return resource["id"]
    raise ValueError("the bundle has no Patient with an id")

"""POST /cds-services/{id}: validate the request, gather FHIR data, build the profile, return cards.

Data flows one way: request -> FHIR data (prefetch / fallback) -> patient profile -> rules -> cards
-> validated response. This module only wires the steps together and turns problems into
400/404/412 answers that name the field.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import ValidationError

from cds_service import json_codec, metrics
from cds_service.config import Settings
from cds_service.feedback.recording import record_issued_cards
from cds_service.fhir.gather import HookCall, gather_record
from cds_service.fhir.record import PatientRecord
from cds_service.profile.model import DataQualityNote, PatientProfile
from cds_service.services.answer import cards_of, profile_of
from cds_service.services.card_options import CardOptions
from cds_service.services.registry import load_services
from cds_service.warmup import is_warm_up
from cds_service.web.as_of import requested_as_of
from cds_service.web.errors import ServiceError
from cds_service.web.gc_pause import gc_deferred
from cds_service.web.request_body import request_bytes
from cds_service.web.schemas import CONTEXT_SCHEMAS, HookRequestSchema, first_error
from cds_service.web.server_timing import StepTimer

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__)

DATA_QUALITY_EXTENSION = "org.net-cds.data-quality"

def read_json_object() -> dict:
    """The request body as a JSON object, or a 400/415 that says what is wrong with it."""
    mimetype = request.mimetype or ""
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ServiceError(415, "Request body must be JSON (Content-Type: application/json).")
    raw = request_bytes(request)
    try:
        body = json_codec.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(400, "Request body is not valid JSON.", "body") from exc
    if not isinstance(body, dict):
        raise ServiceError(400, "Request body must be a JSON object.", "body")
    return body


def _validated(body: dict, hook: str) -> tuple[dict, dict]:
    try:
        data = HookRequestSchema().load(body)
    except ValidationError as exc:
        field, message = first_error(exc.messages)
        raise ServiceError(400, f"{field}: {message}", field) from exc
    if data["hook"] != hook:
        raise ServiceError(400, f"hook: this service answers '{hook}', not '{data['hook']}'.", "hook")
    try:
        context = CONTEXT_SCHEMAS[hook]().load(data["context"])
    except ValidationError as exc:
        field, message = first_error(exc.messages, "context")
        raise ServiceError(400, f"{field}: {message}", field) from exc
    return data, context


def _drafts(raw_context: dict, context: dict) -> dict | None:
    """The draftOrders Bundle as sent; for order-select only the selected orders (400 naming a selection
    that is not among the drafts)."""
    if not context.get("draftOrders"):
        return None
    bundle = raw_context["draftOrders"]
    if "selections" not in context:
        return bundle
    entries = [e for e in bundle.get("entry") or () if isinstance(e, dict)]
    keep: list[dict] = []
    for index, selection in enumerate(context["selections"]):
        matches = [e for e in entries if _names(e, selection)]
        if not matches:
            raise ServiceError(400, f"context.selections[{index}]: '{selection}' is not an order in "
                               "context.draftOrders.", f"context.selections[{index}]")
        keep += [e for e in matches if e not in keep]
    medications = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "Medication"]
    return {**bundle, "entry": keep + [e for e in medications if e not in keep]}


def _names(entry: dict, selection: str) -> bool:
    resource = entry.get("resource") or {}
    own = f"{resource.get('resourceType')}/{resource.get('id')}" if isinstance(resource, dict) else ""
    full_url = entry.get("fullUrl")
    return selection == own or (isinstance(full_url, str) and (full_url == selection
                                                               or full_url.endswith("/" + selection)))


def _time_fallback(record: PatientRecord, timer: StepTimer) -> None:
    """Server-Timing and audit figures of the fallback requests (none when everything was prefetched)."""
    fhir: dict[str, Any] = {}
    if record.fetch_ms:
        slowest = max(record.fetch_ms, key=record.fetch_ms.__getitem__)
        timer.detail("fhir-slowest", record.fetch_ms[slowest], slowest)
        fhir = {"requests": len(record.fetch_ms), "slowest_ms": round(record.fetch_ms[slowest], 1)}
    if record.medication_reads:
        count, elapsed_ms = record.medication_reads
        timer.detail("fhir-medications", elapsed_ms, f"{count} Medication reads after the searches")
        fhir = {**fhir, "requests": fhir.get("requests", 0) + count, "medication_reads_ms": round(elapsed_ms, 1)}
    if fhir:
        g.audit["fhir"] = fhir


@bp.post("/cds-services/<service_id>")
@gc_deferred
def call_service(service_id: str) -> Response:
    timer = StepTimer()
    services = load_services()
    service = services.get(service_id)
    if service is None:
        raise ServiceError(404, f"Unknown CDS service '{service_id}'.")
    g.audit = {"service": service_id}
    with timer.step("request"):
        body = read_json_object()
        data, context = _validated(body, service.hook)
    g.audit["hookInstance"] = str(data["hookInstance"])
    settings: Settings = current_app.config["NET_CDS"]
    token = (data.get("fhirAuthorization") or {}).get("access_token")
    call = HookCall(
        patient_id=context["patientId"],
        prefetch=data.get("prefetch") or {},
        fhir_server=data.get("fhirServer"),
        access_token=token,
        draft_orders=_drafts(body["context"], context),
        as_of=requested_as_of(data.get("extension"), settings, trusted=is_warm_up(request.environ)),
    )
    with timer.step("fhir"):
        record = gather_record(service, call, settings)
    g.audit["dataSource"] = record.data_source
    _time_fallback(record, timer)
    with timer.step("profile"):
        profile = profile_of(record)
    with timer.step("cards"):
        cards = _issued_cards(service_id, profile)
    response = jsonify(_payload(cards, profile.notes))
    if settings.server_timing:
        response.headers["Server-Timing"] = timer.header()
    return response


def _issued_cards(service_id: str, profile: PatientProfile) -> list[dict]:
    """The service's cards that pass the CDS Hooks 2.0 checks (others logged and dropped), recorded for feedback."""
    settings: Settings = current_app.config["NET_CDS"]
    cards, rejected = cards_of(service_id, profile, CardOptions(settings.profile_card, settings.smart_app_url))
    for card, errors in rejected:
        topic = ((card.get("source") or {}).get("topic") or {}).get("code") if isinstance(card, dict) else None
        log.error("dropped invalid card (service=%s topic=%s): %s", service_id, topic, "; ".join(errors))
    g.audit["topics"] = [((c.get("source") or {}).get("topic") or {}).get("code") for c in cards]
    if not is_warm_up(request.environ):  # the worker's own warm-up is neither counted nor recorded
        metrics.observe_cards(service_id, cards)
        record_issued_cards(service_id, g.audit["hookInstance"], cards)  # feedback: card uuid -> topic
    return cards


def _payload(cards: list[dict], notes: list[DataQualityNote]) -> dict[str, Any]:
    """The CDS Hooks response: cards, and the data-quality notes as an extension when there are any."""
    payload: dict[str, Any] = {"cards": cards}
    if notes:
        payload["extension"] = {DATA_QUALITY_EXTENSION: [
            {k: v for k, v in dataclasses.asdict(n).items() if v} for n in notes]}
    return payload

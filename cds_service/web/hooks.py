"""POST /cds-services/{id}: validate the request, gather FHIR data, build the profile, return cards.

Data flows one way: request -> FHIR data (prefetch / fallback) -> patient profile -> rules -> cards
-> validated response. This module only wires the steps together and turns problems into
400/404/412 answers that name the field.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import logging
import threading
import types
import typing
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import ValidationError

from cds_service.config import Settings
from cds_service.feedback.recording import record_issued_cards
from cds_service.fhir.gather import HookCall, gather_record
from cds_service.fhir.validation import validate_used
from cds_service.profile.model import Fact, PatientProfile
from cds_service.services.registry import handler_for, load_services
from cds_service.web.card_validation import valid_cards
from cds_service.web.errors import ServiceError
from cds_service.web.schemas import CONTEXT_SCHEMAS, HookRequestSchema, first_error

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__)

DATA_QUALITY_EXTENSION = "org.net-cds.data-quality"

_gc_lock = threading.Lock()
_gc_running = 0  # requests in progress in this process
_gc_resume = True  # whether the collector was on when the first of them started
_gc_served = 0  # requests finished in this process
_GC_FREEZE_AFTER = frozenset({1, 10, 100})  # requests after which long-lived objects are frozen


def gc_deferred(view: Callable[..., Response]) -> Callable[..., Response]:
    """Run `view` with the cyclic garbage collector paused (performance only; see BENCHMARKS.md).

    Parsing a large prefetch allocates hundreds of thousands of dicts and lists, all alive until the
    response is built; the generational GC would scan them again and again (a 5,000-resource body
    parses 4x slower with it on). Request garbage is freed by reference counting when the request
    ends; the collector resumes as soon as no request is running and catches any cycles then.

    After the 1st, 10th and 100th request the process's long-lived objects (modules, FHIR models,
    mappings, templates, loaded lazily by the first calls) are collected once and then frozen
    (gc.freeze), so the periodic full collections no longer scan them: such a collection took
    50-70 ms of one request in every few dozen before.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        global _gc_running, _gc_resume, _gc_served
        with _gc_lock:
            if _gc_running == 0:
                _gc_resume = gc.isenabled()
                gc.disable()
            _gc_running += 1
        try:
            return view(*args, **kwargs)
        finally:
            with _gc_lock:
                _gc_running -= 1
                _gc_served += 1
                if _gc_running == 0 and _gc_served in _GC_FREEZE_AFTER:
                    gc.collect()
                    gc.freeze()
                if _gc_running == 0 and _gc_resume:
                    gc.enable()

    return wrapper


def read_json_object() -> dict:
    """The request body as a JSON object, or a 400/415 that says what is wrong with it."""
    mimetype = request.mimetype or ""
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ServiceError(415, "Request body must be JSON (Content-Type: application/json).")
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw)
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


_SKIPPED_FIELDS = ("notes", "draft_orders")
_SCALARS = (str, int, float, bool, type(None))
# Per dataclass type: the fields _references visits as (name, holds `sources`), or None when no value of
# the type can hold a Fact or a `sources` field (LabResult, Source, ...), judged from its type hints.
_visit_plans: dict[type, tuple[tuple[str, bool], ...] | None] = {}


def _inert(hint: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether values of this type hint can never hold a Fact or a dataclass with a `sources` field."""
    if hint in _SCALARS or hint is type(None):
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType) or origin is tuple:
        return all(a is Ellipsis or _inert(a, seen) for a in typing.get_args(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and not issubclass(hint, Fact):
        return hint in seen or _visit_plan(hint, seen | {hint}) is None
    return False  # dict, list, Any, type variables, anything unknown: walk it


def _visit_plan(cls: type, seen: frozenset[type] = frozenset()) -> tuple[tuple[str, bool], ...] | None:
    if cls in _visit_plans:
        return _visit_plans[cls]
    plan = tuple((f.name, f.name == "sources") for f in dataclasses.fields(cls) if f.name not in _SKIPPED_FIELDS)
    try:
        hints = typing.get_type_hints(cls)
        leaf = not any(is_sources or not _inert(hints.get(name, Any), seen | {cls}) for name, is_sources in plan)
    except Exception:  # unresolvable hints: walk every field
        leaf = False
    _visit_plans[cls] = None if leaf else plan
    return _visit_plans[cls]


def _references(profile: PatientProfile) -> set[str]:
    """Every FHIR reference behind a fact of the profile (Fact.sources and `sources` fields, except in
    notes and draft orders). Subtrees whose types cannot hold either are skipped without walking them."""
    refs: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, _SCALARS):
            return
        if isinstance(value, Fact):
            refs.update(s.reference for s in value.sources)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, (tuple, list)):
            for item in value:
                collect(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            plan = _visit_plan(type(value))
            for name, is_sources in plan or ():
                item = getattr(value, name)
                if is_sources:
                    refs.update(s.reference for s in item)
                else:
                    collect(item)

    collect(profile)
    return refs


@bp.post("/cds-services/<service_id>")
@gc_deferred
def call_service(service_id: str) -> Response:
    services = load_services()
    service = services.get(service_id)
    if service is None:
        raise ServiceError(404, f"Unknown CDS service '{service_id}'.")
    g.audit = {"service": service_id}
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
        draft_orders=context.get("draftOrders") and body["context"]["draftOrders"],
    )
    record = gather_record(service, call, settings)
    g.audit["dataSource"] = record.data_source
    from cds_service.profile import build_profile  # the profile package is heavy; import on first use

    profile = build_profile(record)
    profile.notes.extend(validate_used(record, _references(profile)))
    cards, rejected = valid_cards(handler_for(service_id)(profile))
    for card, errors in rejected:
        topic = ((card.get("source") or {}).get("topic") or {}).get("code") if isinstance(card, dict) else None
        log.error("dropped invalid card (service=%s topic=%s): %s", service_id, topic, "; ".join(errors))
    g.audit["topics"] = [((c.get("source") or {}).get("topic") or {}).get("code") for c in cards]
    record_issued_cards(service_id, g.audit["hookInstance"], cards)  # feedback: card uuid -> topic
    payload: dict[str, Any] = {"cards": cards}
    if profile.notes:
        payload["extension"] = {DATA_QUALITY_EXTENSION: [
            {k: v for k, v in dataclasses.asdict(n).items() if v} for n in profile.notes]}
    return jsonify(payload)

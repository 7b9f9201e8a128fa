"""POST /cds-services/{id}/feedback (CDS Hooks 2.0): validate, store idempotently, answer 200."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, jsonify
from marshmallow import ValidationError

from cds_service import metrics
from cds_service.feedback.recording import feedback_store
from cds_service.feedback.schemas import FeedbackRequestSchema, canonical_timestamp
from cds_service.feedback.store import FeedbackConflict, FeedbackEntry, FeedbackStore
from cds_service.services.registry import load_services
from cds_service.web.errors import ServiceError
from cds_service.web.hooks import read_json_object
from cds_service.web.schemas import first_error

log = logging.getLogger(__name__)
bp = Blueprint("feedback", __name__)


def _entry(service_id: str, item: dict) -> FeedbackEntry:
    reason = (item.get("overrideReason") or {}).get("reason") or {}
    return FeedbackEntry(
        service_id=service_id,
        card_uuid=item["card"],
        outcome=item["outcome"],
        outcome_timestamp=canonical_timestamp(item["outcomeTimestamp"]),
        accepted_suggestions=tuple(s["id"] for s in item.get("acceptedSuggestions") or ()),
        reason_system=reason.get("system"),
        reason_code=reason.get("code"),
        reason_display=reason.get("display"),
        user_comment=(item.get("overrideReason") or {}).get("userComment"),
        client_iss=(g.get("auth") or {}).get("iss"),
    )


@bp.post("/cds-services/<service_id>/feedback")
def post_feedback(service_id: str) -> Response:
    if service_id not in load_services():
        raise ServiceError(404, f"Unknown CDS service '{service_id}'.")
    g.audit = {"service": service_id}
    body = read_json_object()
    try:
        data = FeedbackRequestSchema().load(body)
    except ValidationError as exc:
        field, message = first_error(exc.messages)
        raise ServiceError(400, f"{field}: {message}", field) from exc
    store = feedback_store()
    if store is None:
        raise ServiceError(404, "This service does not accept feedback.")
    entries = [_entry(service_id, item) for item in data["feedback"]]
    stored_entries: list[FeedbackEntry] = []
    try:
        stored, duplicates = store.add_feedback(entries, on_stored=stored_entries.append)
    except FeedbackConflict as exc:
        raise ServiceError(409, f"feedback.{exc.index}: feedback for this card and outcomeTimestamp was already "
                                "stored with different content.", f"feedback.{exc.index}") from exc
    except Exception as exc:
        log.error("feedback not stored in %s: %s", store.location, type(exc).__name__)
        raise ServiceError(503, "Feedback could not be stored; please retry later.") from exc
    g.audit["feedback"] = {"stored": stored, "duplicate": duplicates}
    _count(store, stored_entries)
    return jsonify({"stored": stored, "duplicate": duplicates})


def _count(store: FeedbackStore, entries: list[FeedbackEntry]) -> None:
    """Metrics of the newly stored entries, by the card's topic (looked up; never fails the answer)."""
    if not entries:
        return
    try:
        topics = store.topics([e.card_uuid for e in entries])
    except Exception as exc:
        log.warning("feedback topics not read from %s: %s", store.location, type(exc).__name__)
        topics = {}
    known = _override_reason_codes()
    for e in entries:
        reason = None
        if e.outcome == "overridden" and e.reason_code:
            reason = e.reason_code if e.reason_code in known and e.reason_system == known[e.reason_code] else "other"
        metrics.observe_feedback(e.service_id, topics.get(e.card_uuid), e.outcome, reason)


def _override_reason_codes() -> dict[str, str]:
    """code -> system of the override reasons the cards offer (the only reason labels in metrics)."""
    from cds_service.cards.data import card_data

    reasons = card_data().override_reasons or {}
    return {r["code"]: reasons.get("system") for r in reasons.get("reasons") or ()}

"""Called by the hooks blueprint: remember each returned card (uuid -> topic) for feedback reports."""

from __future__ import annotations

import logging

from flask import current_app

from cds_service.feedback.store import FeedbackStore, IssuedCard

log = logging.getLogger(__name__)

EXTENSION_KEY = "net_cds_feedback"


def feedback_store() -> FeedbackStore | None:
    return current_app.extensions.get(EXTENSION_KEY)


def record_issued_cards(service_id: str, hook_instance: str, cards: list[dict]) -> None:
    """Store uuid, service, topic and hookInstance of each card. Never fails the hook call."""
    store = feedback_store()
    if store is None:
        return
    issued = []
    for card in cards:
        topic = (card.get("source") or {}).get("topic") or {}
        if isinstance(card.get("uuid"), str):
            issued.append(IssuedCard(card["uuid"], service_id, hook_instance, topic.get("system"),
                                     topic.get("code"), topic.get("display"), card.get("indicator")))
    try:
        store.record_issued(service_id, hook_instance, issued)
    except Exception as exc:  # feedback bookkeeping must not cost the clinician the cards
        log.error("issued cards not recorded in %s: %s", store.location, type(exc).__name__)

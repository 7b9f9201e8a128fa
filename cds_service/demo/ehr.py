"""The demo page's EHR: it sends a hook request built from a sample (the same JSON `net-cds call` and an EHR
send) to the service's own endpoint, through the whole WSGI stack (authentication, validation, audit,
issued-card recording), so the page shows exactly the answer an EHR gets."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from flask import Flask

from cds_service.config import Settings
from cds_service.samples import Sample, sample_set_as_of
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle

SERVICE_FOR_HOOK = {"patient-view": "net-patient-view", "order-select": "net-order-select",
                    "order-sign": "net-order-sign"}


@dataclass(frozen=True)
class HookCall:
    """One call as the EHR made it: the hook, the service, the request body, the HTTP status and answer."""

    hook: str
    service_id: str
    request: dict
    status: int
    answer: dict

    @property
    def cards(self) -> list[dict]:
        return list(self.answer.get("cards") or ()) if self.status == 200 else []


def request_for(hook: str, sample: Sample, settings: Settings | None = None) -> dict:
    """The hook request an EHR would send for `sample` (prefetch from its Bundle, its drafts, as of the
    sample set's date so the cards are the ones the samples are written for)."""
    service = load_services()[SERVICE_FOR_HOOK[hook]]
    bundle = sample.bundle()
    drafts = sample.draft_orders() if service.takes_drafts else None
    return hook_request(service, sample.id, prefetch=prefetch_from_bundle(service, bundle, sample.id),
                        draft_orders=drafts, as_of=sample_set_as_of(settings))


def call_hook(app: Flask, hook: str, sample: Sample) -> HookCall:
    """POST the request to /cds-services/{id} of this very app and return what it answered."""
    service_id = SERVICE_FOR_HOOK[hook]
    body = request_for(hook, sample, app.config["NET_CDS"])
    # A fresh context: Flask would otherwise reuse the page's own app context (and its `g`: request id, audit
    # fields) for the hook call, and the page's log line would carry the hook call's.
    response = contextvars.Context().run(app.test_client().post, f"/cds-services/{service_id}", json=body)
    return HookCall(hook, service_id, body, response.status_code, response.get_json(silent=True) or {})

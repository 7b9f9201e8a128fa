"""Limits seen from the outside: body size, FHIR query budget, FHIR timeouts."""

from __future__ import annotations

import json
import re

import requests
import responses

from cds_service import create_app
from cds_service.services.registry import load_services
from tests.conftest import FHIR_BASE
from tests.security.hook_bodies import full_prefetch, hook_body

PV = "/cds-services/net-patient-view"
TOKEN = {"access_token": "ehr-secret-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
         "subject": "net-cds"}
EMPTY = {"resourceType": "Bundle", "type": "searchset", "entry": []}


def outcome_text(response) -> str:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


def test_oversized_body_is_413_with_operation_outcome(settings):
    client = create_app(settings.with_overrides(max_body_bytes=2048)).test_client()
    body = hook_body()
    body["extension"] = {"padding": "x" * 4096}
    for path in (PV, PV + "/feedback"):
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 413
        assert "too large" in outcome_text(response)


def test_body_under_the_limit_is_read(settings):
    client = create_app(settings.with_overrides(max_body_bytes=64 * 1024)).test_client()
    assert client.post(PV, json=hook_body()).status_code == 200


def test_query_budget_exhausted_on_required_data_is_412(settings):
    """Two requests allowed, but the service needs one per missing prefetch key."""
    client = create_app(settings.with_overrides(fhir_query_budget=2)).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), json=EMPTY)
        response = client.post(PV, json=hook_body(prefetch={}, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
        assert len(rsps.calls) == 2
    assert response.status_code == 412
    assert "budget" in outcome_text(response)


def test_query_budget_on_optional_data_becomes_a_note(settings):
    """Required keys prefetched; optional keys missing; budget 1: one query runs, the rest are notes."""
    client = create_app(settings.with_overrides(fhir_query_budget=1)).test_client()
    service = load_services()["net-patient-view"]
    prefetch = {k: v for k, v in full_prefetch().items()
                if any(q.key == k and q.required for q in service.queries)}
    optional = [q.key for q in service.queries if not q.required]
    assert len(optional) >= 2
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), json=EMPTY)
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
        assert len(rsps.calls) == 1
    assert response.status_code == 200
    notes = response.get_json()["extension"]["org.net-cds.data-quality"]
    assert any("budget" in n["message"] for n in notes)


def test_fhir_timeout_is_applied_and_a_timeout_is_412(settings):
    client = create_app(settings.with_overrides(fhir_timeout=1.5)).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), body=requests.ConnectTimeout("slow"))
        response = client.post(PV, json=hook_body(prefetch={}, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
        assert rsps.calls and all(c.request.req_kwargs["timeout"] == 1.5 for c in rsps.calls)
    assert response.status_code == 412
    assert "did not answer" in outcome_text(response)
    assert "ehr-secret-token" not in response.get_data(as_text=True)

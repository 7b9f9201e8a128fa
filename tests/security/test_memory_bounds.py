"""Bounded memory and work per call and per worker (audit issue 13, finding 5).

The strict-validation cache was keyed by each resource's whole JSON (1 MiB kept per distinct large
resource); twelve 20 MiB FHIR answers raised a worker by up to 1.9 GiB; work went on past the total
deadline. Worker recycling (gunicorn max_requests with jitter) is checked in test_deployment.py; the
growth of a real worker over 300 calls is measured by bench/memory_growth.py.
"""

from __future__ import annotations

import json
import re
import time

import responses

from cds_service import create_app
from cds_service.fhir import validation
from cds_service.profile import fhirread
from tests.conftest import FHIR_BASE
from tests.security.hook_bodies import full_prefetch, hook_body
from tests.unit.core.fhir_builders import PATIENT_ID, ki67, searchset

PV = "/cds-services/net-patient-view"
TOKEN = {"access_token": "ehr-secret-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
         "subject": "net-cds"}


def notes(response) -> list[str]:
    return [n["message"] for n in (response.get_json().get("extension") or {}).get("org.net-cds.data-quality", [])]


def test_the_validation_cache_keeps_digests_not_resources():
    before = len(validation._cache)
    for index in range(40):
        resource = ki67(f"big-{index}", 12)
        resource["note"] = [{"text": f"{index}-" + "x" * 256 * 1024}]  # 256 KiB, distinct
        validation.strict_errors(resource)
    assert len(validation._cache) >= min(before + 40, validation.CACHE_ENTRIES)
    held = sum(len(key) + len(value or "") for key, value in validation._cache.items())
    assert all(len(key) == 16 for key in validation._cache)
    assert held < validation.CACHE_ENTRIES * 300  # bytes: digests and short messages only


def test_a_cached_verdict_is_reused_for_the_same_resource():
    resource = ki67("same", 12)
    resource["valueQuantity"]["value"] = "not a number"
    first = validation.strict_errors(resource)
    assert first and validation.strict_errors(json.loads(json.dumps(resource))) == first


def test_text_caches_do_not_keep_long_hostile_texts():
    fhirread._parse_date.cache_clear()
    long_date = "2026-01-01" + "x" * 1_000_000
    assert fhirread.parse_date(long_date) is not None  # still read
    assert fhirread._parse_date.cache_info().currsize == 0


def _fetching_client(settings, **overrides):
    return create_app(settings.with_overrides(**overrides)).test_client()


def test_fhir_answers_beyond_the_calls_byte_budget_are_not_read(settings):
    """Every search answers ~600 KiB; the call may read 1 MiB: the rest fails as notes, nothing is buffered."""
    client = _fetching_client(settings, fhir_max_call_bytes=1024 * 1024)
    prefetch = full_prefetch()
    optional = ["labs", "imaging", "reports", "procedures", "medicationRequests"]
    for key in optional:
        prefetch.pop(key, None)
    padding = {"resourceType": "Bundle", "type": "searchset", "entry": [], "padding": "x" * 600 * 1024}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), json=padding)
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
    assert response.status_code == 200
    assert any("MiB for this call" in n for n in notes(response)), notes(response)


def test_search_results_beyond_the_calls_resource_cap_fail_as_a_note(settings):
    client = _fetching_client(settings, fhir_max_resources=5)
    prefetch = full_prefetch()
    del prefetch["labs"]
    many = searchset(*[{**ki67(f"o{i}", 1), "code": {"text": "x"}} for i in range(8)])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), json=many)
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
    assert response.status_code == 200
    assert any("more than 5 resources" in n for n in notes(response)), notes(response)


def test_the_total_deadline_stops_the_paging_not_only_the_wait(settings):
    """A server that pages forever, slowly: once the call has answered, no further page is requested."""
    client = _fetching_client(settings, fhir_timeout=1.0, fhir_total_timeout=1.0, fhir_max_pages=1000)
    prefetch = full_prefetch()
    del prefetch["labs"]
    page = {"n": 0}

    def endless(request):  # noqa: ANN001, ANN202
        time.sleep(0.15)
        page["n"] += 1
        body = searchset(next_url=f"{FHIR_BASE}/Observation?page={page['n']}")
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), callback=endless)
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
        after_answer = len(rsps.calls)
        time.sleep(1.0)  # a search thread that went on would request more pages meanwhile
        later = len(rsps.calls)
    assert response.status_code == 200
    assert later <= after_answer + 1  # at most the request already in flight when the call answered
    assert PATIENT_ID

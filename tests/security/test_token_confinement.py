"""The EHR's bearer token never leaves the FHIR base path (audit issue 13, finding 4).

The auditor had the token sent to `GET /admin/x` by a `medicationReference` of `Medication/../../admin/x`
(from the FHIR server, the prefetch or a draft order), searches sent to `/` by a `fhirServer` holding `?`
or `#`, and `..;` / `..%2f` paths (that Tomcat and Jetty map to `/admin`) followed. Every request the
service made is recorded here and must lie under the FHIR base; the dangerous ones are never made.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import responses

from cds_service.config import Settings
from cds_service.fhir.fallback import FetchError, FhirFetcher
from cds_service.fhir.outbound import OutboundBlocked, check_fhir_url, is_under
from tests.conftest import FHIR_BASE
from tests.security.hook_bodies import full_prefetch, hook_body
from tests.unit.core.fhir_builders import med_request, searchset

PV = "/cds-services/net-patient-view"
OS = "/cds-services/net-order-sign"
TOKEN = {"access_token": "ehr-secret-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
         "subject": "net-cds"}
HOSTILE_REFERENCES = ["Medication/../../admin/x", "Medication/..;/..;/admin/x", "Medication/..%2f..%2fadmin%2fx",
                      "Medication/%2e%2e/%2e%2e/admin/x", "Medication/x?_format=../../admin", "Medication/x#/../admin",
                      "Medication/..", "Medication/.", "Medication/x/../../../admin", "Medication/" + "a" * 65,
                      "Medication/x;jsessionid=1", "Medication/x\\..\\admin"]
HOSTILE_BASES = [FHIR_BASE + "?x=/", FHIR_BASE + "#/", FHIR_BASE + "/..;/", FHIR_BASE + "/..;/admin",
                 FHIR_BASE + "/..%2f", FHIR_BASE + "/%2e%2e/admin", FHIR_BASE + "/x;y/", FHIR_BASE + "/%2fadmin",
                 FHIR_BASE + "?", FHIR_BASE + "#"]


def _sent_outside(calls) -> list[str]:
    """Requests that carried the token somewhere else than under the FHIR base path."""
    outside = []
    for call in calls:
        url = call.request.url
        path = urlsplit(url).path
        if (not url.startswith(FHIR_BASE + "/") or ".." in path or ";" in path or "%2f" in path.lower()
                or "%2e" in path.lower()):
            outside.append(url)
    return outside


def _record(client, path: str, body: dict) -> tuple[list[str], list[str], int]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(".*"), json={"resourceType": "Bundle", "type": "searchset", "entry": []})
        response = client.post(path, json=body)
        urls = [c.request.url for c in rsps.calls]
        outside = _sent_outside(rsps.calls)
    return urls, outside, response.status_code


@pytest.mark.parametrize("reference", HOSTILE_REFERENCES)
def test_a_medication_reference_in_the_prefetch_cannot_lead_the_token_off_the_base(client, reference):
    prefetch = full_prefetch()
    prefetch["medicationRequests"] = searchset(med_request("mr1", med_ref=reference))
    urls, outside, status = _record(client, PV, hook_body(prefetch=prefetch, fhirServer=FHIR_BASE,
                                                          fhirAuthorization=TOKEN))
    assert status == 200
    assert outside == [], outside
    assert not any("Medication/" in u for u in urls), urls  # not a strict FHIR id: not fetched at all


@pytest.mark.parametrize("reference", HOSTILE_REFERENCES[:4])
def test_a_medication_reference_in_a_draft_order_cannot_lead_the_token_off_the_base(client, reference):
    body = hook_body("net-order-sign", fhirServer=FHIR_BASE, fhirAuthorization=TOKEN)
    body["context"]["draftOrders"]["entry"] = [{"resource": {**med_request("draft1", med_ref=reference),
                                                             "status": "draft"}}]
    _, outside, status = _record(client, OS, body)
    assert status == 200
    assert outside == []


@pytest.mark.parametrize("reference", HOSTILE_REFERENCES[:4])
def test_a_medication_reference_from_the_fhir_server_cannot_lead_the_token_off_the_base(client, reference):
    prefetch = full_prefetch()
    del prefetch["medicationRequests"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/MedicationRequest\?.*"),
                 json=searchset(med_request("mr1", med_ref=reference)))
        rsps.add(responses.GET, re.compile(".*"), json={"resourceType": "Bundle", "type": "searchset", "entry": []})
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
        outside = _sent_outside(rsps.calls)
    assert response.status_code == 200
    assert outside == []


@pytest.mark.parametrize("server", HOSTILE_BASES)
def test_a_fhir_server_with_query_fragment_or_odd_segments_is_refused(server):
    settings = Settings().with_overrides(allowed_fhir_servers=(FHIR_BASE,))
    with pytest.raises(OutboundBlocked):
        check_fhir_url(server, settings)


@pytest.mark.parametrize("server", HOSTILE_BASES)
def test_a_hook_call_with_such_a_fhir_server_sends_nothing(client, server):
    urls, _, status = _record(client, PV, hook_body(prefetch={}, fhirServer=server, fhirAuthorization=TOKEN))
    assert urls == []
    assert status == 412


@pytest.mark.parametrize("url", [FHIR_BASE + "/..;/admin", FHIR_BASE + "/x/..%2f..%2fadmin",
                                 FHIR_BASE + "/%2e%2e/admin", FHIR_BASE + "/a;b/Condition"])
def test_paging_links_with_odd_segments_are_not_under_the_base(url):
    assert not is_under(FHIR_BASE, url)


@pytest.mark.parametrize("path", ["../admin", "Medication/../../admin", "/admin", "https://attacker.example/fhir/x",
                                  "//attacker.example/fhir/x", "Medication/..;/x", "Medication/..%2fx"])
def test_the_fetcher_checks_every_url_right_before_sending(settings, path):
    """The last guard: whatever a caller passes, the fetcher sends the token only under the base."""
    fetcher = FhirFetcher(FHIR_BASE, "ehr-secret-token", settings)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(".*"), json={"resourceType": "Medication", "id": "x"})
        with pytest.raises(FetchError):
            fetcher.read(path)
        assert len(rsps.calls) == 0

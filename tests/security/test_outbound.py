"""The outbound guard: only allowlisted FHIR servers are ever called; hostile URLs make no request at all."""

from __future__ import annotations

import re

import pytest
import responses

from cds_service.config import Settings
from cds_service.fhir.outbound import OutboundBlocked, check_fhir_url, is_under
from tests.conftest import FHIR_BASE
from tests.security.hook_bodies import hook_body

PV = "/cds-services/net-patient-view"
METADATA = "http://169.254.169.254/"

# Spellings of forbidden or foreign hosts; each must be refused even when listed in the allowlist itself.
FORBIDDEN_EVEN_IF_ALLOWLISTED = [
    METADATA,
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9.0xfe.0xa9.0xfe/",  # hex
    "http://0251.0376.0251.0376/",  # octal
    "http://169.254.43518/",  # a.b.c form
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
    "http://[fe80::1]/",  # IPv6 link-local
    "http://[fd00:ec2::254]/",  # AWS IPv6 metadata
    "http://metadata.google.internal/",
    "http://metadata.google.internal./",
    "http://100.100.100.200/",  # Alibaba metadata
    "http://0.0.0.0/",
    "http://0/",
    "http://224.0.0.1/",  # multicast
]

NOT_ALLOWLISTED = [
    "https://ehr.example.org.attacker.example/fhir",
    "https://ehr.example.org:8443/fhir",
    "http://ehr.example.org/fhir",  # other scheme
    "https://ehr.example.org/fhirx",
    "https://ehr.example.org/",  # above the base path
    "https://other.example.org/fhir",
    "http://127.0.0.1/",
    "http://localhost/",
]

MALFORMED = [
    "https://user:password@ehr.example.org/fhir",  # userinfo
    "https://ehr.example.org@169.254.169.254/fhir",
    "https://ehr.example.org\\@169.254.169.254/fhir",  # backslash: parsers disagree
    "https://169.254.169.254\\@ehr.example.org/fhir",
    "https://ehr.example.org/fhir/../admin",
    "https://ehr.example.org/fhir/%2e%2e/admin",
    "https://ehr.example.org/fhir/./",
    "https://ehr.example.org%2f@169.254.169.254/fhir",
    "https://%65hr.example.org/fhir",  # percent-encoded host
    "https://ehr.example.org/fhir\r\nHost: evil",
    "https://ehr.example.org:99999/fhir",
    "https://[fe80::1%25eth0]/fhir",
    "file:///etc/passwd",
    "gopher://ehr.example.org/fhir",
    "",
]


@pytest.fixture
def guard_settings() -> Settings:
    return Settings().with_overrides(allowed_fhir_servers=(FHIR_BASE, *FORBIDDEN_EVEN_IF_ALLOWLISTED))


@pytest.mark.parametrize("url", FORBIDDEN_EVEN_IF_ALLOWLISTED)
def test_metadata_and_link_local_are_refused_even_if_allowlisted(guard_settings, url):
    with pytest.raises(OutboundBlocked):
        check_fhir_url(url, guard_settings)


@pytest.mark.parametrize("url", NOT_ALLOWLISTED + MALFORMED)
def test_urls_off_the_allowlist_or_ambiguous_are_refused(guard_settings, url):
    with pytest.raises(OutboundBlocked):
        check_fhir_url(url, guard_settings)


@pytest.mark.parametrize("url", [FHIR_BASE, FHIR_BASE + "/", FHIR_BASE + "/Patient", "https://EHR.example.org/fhir",
                                 "https://ehr.example.org:443/fhir"])
def test_allowlisted_urls_pass(guard_settings, url):
    check_fhir_url(url, guard_settings)


def test_https_required_in_production_style_config():
    settings = Settings().with_overrides(allowed_fhir_servers=("http://ehr.internal/fhir",), require_https_fhir=True)
    with pytest.raises(OutboundBlocked, match="https"):
        check_fhir_url("http://ehr.internal/fhir", settings)


@pytest.mark.parametrize("url", ["https://ehr.example.org/fhir/Condition?page=2", "/fhir/Condition?page=2"])
def test_next_links_on_the_server_are_followed(url):
    assert is_under(FHIR_BASE, url if url.startswith("http") else "https://ehr.example.org" + url)


@pytest.mark.parametrize("url", ["https://attacker.example/fhir/Condition", "https://ehr.example.org/admin",
                                 "https://ehr.example.org/fhir/../admin", "https://u@ehr.example.org/fhir/x",
                                 "http://169.254.169.254/fhir/Condition"])
def test_next_links_off_the_server_are_not(url):
    assert not is_under(FHIR_BASE, url)


@pytest.mark.parametrize("server", [METADATA, "http://2852039166/", "http://[::ffff:169.254.169.254]/",
                                    "https://ehr.example.org@169.254.169.254/", "http://10.0.0.5/fhir",
                                    "https://attacker.example/fhir"])
def test_hook_call_with_a_hostile_fhir_server_makes_no_request(client, server):
    """No prefetch: the service would have to query fhirServer; it refuses (412) without any HTTP request."""
    body = hook_body(prefetch={}, fhirServer=server,
                     fhirAuthorization={"access_token": "ehr-secret-token", "token_type": "Bearer",
                                        "expires_in": 300, "scope": "patient/*.read", "subject": "net-cds"})
    with responses.RequestsMock() as rsps:  # any outbound request would raise ConnectionError here
        rsps.add(responses.GET, re.compile(".*"), json={"resourceType": "Bundle", "type": "searchset"})
        response = client.post(PV, json=body)
        assert len(rsps.calls) == 0
        rsps.assert_all_requests_are_fired = False
    assert response.status_code in (400, 412)
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert "ehr-secret-token" not in response.get_data(as_text=True)


def test_metadata_server_with_full_prefetch_is_never_contacted(client):
    """Even when no query is needed, a fhirServer pointing at the metadata service is not called."""
    body = hook_body(fhirServer=METADATA)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(".*"), json={})
        response = client.post(PV, json=body)
        assert len(rsps.calls) == 0
        rsps.assert_all_requests_are_fired = False
    assert response.status_code in (200, 412)


@pytest.mark.parametrize("patient_id", ["../../admin", "p1/../../../admin", "p1&_include=*", "p1#x", "p1?x=1",
                                        "%2e%2e", "..", "p1\n"])
def test_patient_id_cannot_steer_fallback_queries_off_the_fhir_base(client, patient_id):
    """context.patientId is placed in fallback query paths; it must not lead the EHR's token elsewhere."""
    body = hook_body(prefetch={}, fhirServer=FHIR_BASE,
                     fhirAuthorization={"access_token": "ehr-secret-token", "token_type": "Bearer",
                                        "expires_in": 300, "scope": "patient/*.read", "subject": "net-cds"})
    body["context"]["patientId"] = patient_id
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(".*"), json={"resourceType": "Bundle", "type": "searchset"})
        client.post(PV, json=body)
        off_base = [c.request.url for c in rsps.calls if not c.request.url.startswith(FHIR_BASE + "/")
                    or "/../" in c.request.url or not _own_includes(c.request.url)]
    assert off_base == []


def _own_includes(url: str) -> bool:
    """Only the service's own `_include`s (definitions.yaml fallback_include), never one a patient id smuggled in."""
    from urllib.parse import parse_qs, urlsplit

    includes = parse_qs(urlsplit(url).query).get("_include", [])
    return all(value in ("MedicationStatement:medication", "MedicationRequest:medication",
                         "MedicationAdministration:medication") for value in includes) and len(includes) <= 1

"""Real failures on the fallback path: a server that is down, one that is slow, one query that breaks.

The timing bounds are functional checks of the timeouts (timeout + 2 s of slack), not benchmarks.
"""

from __future__ import annotations

import socket
import time

import pytest

from cds_service import create_app
from cds_service.fhir.gather import HookCall, gather_record
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request
from cds_service.web.errors import PreconditionFailed
from tests.integration.conftest import FhirTestServer, service_settings
from tests.integration.loopback import serve

pytestmark = pytest.mark.integration

SERVICE = load_services()["net-patient-view"]
PATIENT = "itest-net-1"
SLACK = 2.0
# Through the proxy, the real servers must stay well inside the per-query timeout: the Medplum engine
# scans linearly and answers the multi-code Observation searches in up to ~0.8 s with all samples loaded.
TIMEOUT = 2.5
TOTAL = 4.0


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call_hook(server_url: str, token: str | None = None, **settings: object) -> tuple[int, dict, float]:
    """POST patient-view with fhirServer and no prefetch to the app; (status, body, seconds)."""
    client = create_app(service_settings(server_url, **settings)).test_client()
    body = hook_request(SERVICE, PATIENT, fhir_server=server_url, access_token=token)
    started = time.monotonic()
    response = client.post(f"/cds-services/{SERVICE.id}", json=body)
    return response.status_code, response.get_json(silent=True) or {}, time.monotonic() - started


def gather(server_url: str, token: str | None = None, **settings: object):
    call = HookCall(patient_id=PATIENT, prefetch={}, fhir_server=server_url, access_token=token)
    return gather_record(SERVICE, call, service_settings(server_url, **settings))


def test_server_down_is_a_412_within_the_timeout():
    url = f"http://127.0.0.1:{closed_port()}/fhir"
    status, body, elapsed = call_hook(url, "t", fhir_timeout=2.0, fhir_total_timeout=3.0)
    assert status == 412
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert "could not be reached" in issue["diagnostics"]
    assert issue["expression"] == ["prefetch.patient"] or issue["expression"][0].startswith("prefetch.")
    assert elapsed < TOTAL + SLACK


def test_slow_server_the_timeout_holds_and_it_is_a_412():
    with serve(lambda path: ("sleep", 10.0)) as slow:
        status, body, elapsed = call_hook(slow.base_url, "t", fhir_timeout=1.0, fhir_total_timeout=2.0)
    assert status == 412
    assert "did not answer within" in body["issue"][0]["diagnostics"] or "no answer within" in \
        body["issue"][0]["diagnostics"]
    assert elapsed < 2.0 + SLACK


def test_server_that_trickles_its_answer_cannot_hold_the_call():
    # Headers at once, then one byte every 0.5 s: each read is quick, so only a total deadline stops it.
    with serve(lambda path: ("dribble", 0.5)) as dribbling:
        started = time.monotonic()
        with pytest.raises(PreconditionFailed):
            gather(dribbling.base_url, "t", fhir_timeout=1.0, fhir_total_timeout=2.0)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0 + SLACK


def test_one_slow_query_becomes_a_note_and_the_rest_is_real(fhir_server: FhirTestServer):
    def rule(path: str):
        return ("sleep", 10.0) if path.startswith("/FamilyMemberHistory") else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        started = time.monotonic()
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
        elapsed = time.monotonic() - started
    assert record.key_outcomes["familyHistory"] == "failed"
    assert any("'familyHistory'" in n.message and f"{TIMEOUT} s" in n.message for n in record.notes), record.notes
    assert record.get(f"Patient/{PATIENT}") is not None
    assert record.get(f"Observation/{PATIENT}-ki67") is not None
    assert len([r for r in record.of_type("Observation") if "-cga-" in r["id"]]) == 24
    assert elapsed < TOTAL + SLACK


def test_one_failing_query_becomes_a_note(fhir_server: FhirTestServer):
    def rule(path: str):
        return ("status", 503) if path.startswith("/Procedure") else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
    assert record.key_outcomes["procedures"] == "failed"
    assert any("'procedures'" in n.message and "HTTP 503" in n.message for n in record.notes), record.notes
    assert record.key_outcomes["conditions"] == "fetched"
    assert record.get(f"Condition/{PATIENT}-net") is not None


def test_required_query_failing_is_a_412_that_names_it(fhir_server: FhirTestServer):
    def rule(path: str):
        return ("status", 500) if path.startswith("/Condition") else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        status, body, _ = call_hook(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
    assert status == 412
    assert body["issue"][0]["expression"] == ["prefetch.conditions"]
    assert "HTTP 500" in body["issue"][0]["diagnostics"]


def test_slow_medication_reads_stay_within_the_total_timeout(fhir_server: FhirTestServer):
    # A server without _include (the proxy refuses it, as a strict server would) makes the service read
    # Medication/<id> after the searches; those reads too must respect the call's total timeout.
    def rule(path: str):
        if "_include=" in path:
            return ("status", 400)
        return ("sleep", 10.0) if path.startswith("/Medication/") else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        started = time.monotonic()
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
        elapsed = time.monotonic() - started
    ref = f"Medication/{PATIENT}-octreotide-lar"
    assert record.get(ref) is None
    assert any(n.reference == ref for n in record.notes), record.notes
    assert elapsed < TOTAL + SLACK


def _path_of(server: FhirTestServer) -> str:
    """The path part of the server's base URL (/fhir/R4 or /fhir), kept by the proxy."""
    return "/" + server.base_url.split("/", 3)[3]


def test_many_slow_medication_reads_stay_within_the_total_timeout(fhir_server: FhirTestServer):
    # Searches take a while (0.5 s more each; _include refused, so asked twice); then 4 Medication reads
    # each hang: the call must still end by the total timeout, not after the searches + 4 x fhir_timeout.
    def rule(path: str):
        if "_include=" in path:
            return ("status", 400)
        if path.startswith("/Medication/"):
            return ("sleep", 10.0)
        return ("sleep", 0.5) if "?" in path else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        started = time.monotonic()
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
        elapsed = time.monotonic() - started
    missing = [n.reference for n in record.notes if (n.reference or "").startswith("Medication/")]
    assert len(missing) == 4, record.notes
    assert elapsed < TOTAL + SLACK


def test_a_trickling_server_does_not_tie_up_the_service_for_later_calls(fhir_server: FhirTestServer):
    # While a trickling server is still sending, a later call to a healthy server must still work: the
    # abandoned reads must give their worker threads back at their own deadline.
    with serve(lambda path: ("dribble", 0.2)) as dribbling:
        with pytest.raises(PreconditionFailed):
            gather(dribbling.base_url, "t", fhir_timeout=1.0, fhir_total_timeout=1.5)
        record = gather(fhir_server.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=6.0)
    assert set(record.key_outcomes.values()) <= {"fetched", "failed"}
    assert record.key_outcomes["patient"] == "fetched"
    assert record.key_outcomes["labs"] == "fetched"

"""Real failures on the fallback path: a server that is down, one that is slow, one query that breaks.

No test here measures how fast anything is: a busy machine makes everything slower. A slow server holds
its answer for HOLD (120 s) and a test shows the call ended without it (the held request is still
unanswered when the call returns, and the note names the timeout that ended it). The timeouts are set
so that the real servers, even on a loaded machine, answer well inside them.
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
from tests.integration.loopback import HOLD, serve

pytestmark = pytest.mark.integration

SERVICE = load_services()["net-patient-view"]
PATIENT = "itest-net-1"
# Through the proxy, the real servers must stay well inside the per-query timeout: the Medplum engine
# answers one patient's twelve parallel searches one after the other, in ~1.5 s in all on an idle 2-core
# machine and several times that on a loaded one.
TIMEOUT = 10.0
TOTAL = 20.0
# For the tests of the call's total deadline: per-request timeouts that cannot fire first, and a total
# the real servers' searches still fit in on a loaded machine.
NO_REQUEST_TIMEOUT = 60.0
CALL_DEADLINE = 10.0


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call_hook(server_url: str, token: str | None = None, **settings: object) -> tuple[int, dict]:
    """POST patient-view with fhirServer and no prefetch to the app; (status, body)."""
    client = create_app(service_settings(server_url, **settings)).test_client()
    body = hook_request(SERVICE, PATIENT, fhir_server=server_url, access_token=token)
    response = client.post(f"/cds-services/{SERVICE.id}", json=body)
    return response.status_code, response.get_json(silent=True) or {}


def gather(server_url: str, token: str | None = None, **settings: object):
    call = HookCall(patient_id=PATIENT, prefetch={}, fhir_server=server_url, access_token=token)
    return gather_record(SERVICE, call, service_settings(server_url, **settings))


def _path_of(server: FhirTestServer) -> str:
    """The path part of the server's base URL (/fhir/R4 or /fhir), kept by the proxy."""
    return "/" + server.base_url.split("/", 3)[3]


def _held(loopback, prefix: str) -> list[str]:
    """The requests for paths starting with `prefix` that the loopback server has not answered (yet)."""
    answered = set(loopback.answered)
    return [p for p in loopback.paths if p.startswith(prefix) and p not in answered]


def test_server_down_is_a_412_that_says_so():
    url = f"http://127.0.0.1:{closed_port()}/fhir"
    status, body = call_hook(url, "t")
    assert status == 412
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert "could not be reached" in issue["diagnostics"]
    assert issue["expression"] == ["prefetch.patient"] or issue["expression"][0].startswith("prefetch.")


def test_slow_server_the_timeout_holds_and_it_is_a_412():
    # The server would answer after HOLD (120 s); the call must give up at its timeouts (1 s, 2 s) instead.
    with serve(lambda path: ("sleep", HOLD)) as slow:
        status, body = call_hook(slow.base_url, "t", fhir_timeout=1.0, fhir_total_timeout=2.0)
        answered_before_the_412 = list(slow.answered)
    assert status == 412
    diagnostics = body["issue"][0]["diagnostics"]
    assert "did not answer within 1.0 s" in diagnostics or "no answer within 2.0 s" in diagnostics, diagnostics
    assert slow.paths and answered_before_the_412 == []


def test_server_that_trickles_its_answer_cannot_hold_the_call():
    # Headers at once, then one byte every 0.5 s for HOLD: each read is quick, so only a deadline stops it.
    with serve(lambda path: ("dribble", 0.5)) as dribbling:
        with pytest.raises(PreconditionFailed) as failure:
            gather(dribbling.base_url, "t", fhir_timeout=1.0, fhir_total_timeout=2.0)
        finished_before_the_412 = list(dribbling.answered)
    assert "within" in str(failure.value)
    assert dribbling.paths and finished_before_the_412 == []


def test_one_slow_query_becomes_a_note_and_the_rest_is_real(fhir_server: FhirTestServer):
    def rule(path: str):
        return ("sleep", HOLD) if path.startswith("/FamilyMemberHistory") else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
        held = _held(proxy, "/FamilyMemberHistory")
    assert held, "the call waited for the slow query's answer"
    assert record.key_outcomes["familyHistory"] == "failed"
    assert any("'familyHistory'" in n.message and f"within {TIMEOUT} s" in n.message for n in record.notes), \
        record.notes
    assert record.get(f"Patient/{PATIENT}") is not None
    assert record.get(f"Observation/{PATIENT}-ki67") is not None
    assert len([r for r in record.of_type("Observation") if "-cga-" in r["id"]]) == 24


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
        status, body = call_hook(proxy.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
    assert status == 412
    assert body["issue"][0]["expression"] == ["prefetch.conditions"]
    assert "HTTP 500" in body["issue"][0]["diagnostics"]


def test_slow_medication_reads_stay_within_the_total_timeout(fhir_server: FhirTestServer):
    # A server without _include (the proxy refuses it, as a strict server would) makes the service read
    # Medication/<id> after the searches; those reads too must end at the call's deadline. Each read's own
    # timeout (60 s) cannot fire first, so the note's "no answer within 10.0 s" shows which one ended it.
    def rule(path: str):
        if "_include=" in path:
            return ("status", 400)
        return ("sleep", HOLD) if path.startswith("/Medication/") else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=NO_REQUEST_TIMEOUT,
                        fhir_total_timeout=CALL_DEADLINE)
        held = _held(proxy, "/Medication/")
    ref = f"Medication/{PATIENT}-octreotide-lar"
    assert f"/{ref}" in held
    assert record.get(ref) is None
    assert any(n.reference == ref and f"no answer within {CALL_DEADLINE} s" in n.message for n in record.notes), \
        record.notes
    assert record.key_outcomes["medicationStatements"] == "fetched"


def test_many_slow_medication_reads_share_the_deadline_with_the_searches(fhir_server: FhirTestServer):
    # Searches take a while (3 s more each; _include refused, so medication searches are asked twice);
    # then 4 Medication reads each hang: they get what is left of the call's deadline, not a fresh one.
    search_delay = 3.0
    arrived: dict[str, float] = {}

    def rule(path: str):
        if "_include=" in path:
            return ("status", 400)
        if path.startswith("/Medication/"):
            arrived.setdefault(path, time.monotonic())
            return ("sleep", HOLD)
        return ("sleep", search_delay) if "?" in path else None

    with serve(rule, upstream=fhir_server.base_url, fhir_path=_path_of(fhir_server)) as proxy:
        record = gather(proxy.base_url, fhir_server.token, fhir_timeout=NO_REQUEST_TIMEOUT,
                        fhir_total_timeout=CALL_DEADLINE)
        ended = time.monotonic()
        held = _held(proxy, "/Medication/")
    missing = [n.reference for n in record.notes if (n.reference or "").startswith("Medication/")]
    assert len(missing) == 4 and len(held) == 4, (record.notes, held)
    assert all(f"no answer within {CALL_DEADLINE} s" in n.message for n in record.notes if n.reference in missing)
    # The reads were sent after searches that took at least search_delay, so if they share the call's
    # deadline they had at most CALL_DEADLINE - search_delay; a fresh deadline would give them CALL_DEADLINE.
    given = ended - min(arrived.values())
    assert given < CALL_DEADLINE - 1.0, f"the reads were given {given:.1f} s of a {CALL_DEADLINE} s call"


def test_a_trickling_server_does_not_tie_up_the_service_for_later_calls(fhir_server: FhirTestServer):
    # While a trickling server is still sending (for HOLD), a later call to a healthy server must still work:
    # the abandoned reads must give their worker threads back at their own deadline. Were they held, the
    # healthy call's queries would wait behind them past its own total timeout.
    with serve(lambda path: ("dribble", 0.2)) as dribbling:
        with pytest.raises(PreconditionFailed):
            gather(dribbling.base_url, "t", fhir_timeout=1.0, fhir_total_timeout=1.5)
        record = gather(fhir_server.base_url, fhir_server.token, fhir_timeout=TIMEOUT, fhir_total_timeout=TOTAL)
        assert dribbling.answered == []
    assert set(record.key_outcomes.values()) <= {"fetched", "failed"}
    assert record.key_outcomes["patient"] == "fetched"
    assert record.key_outcomes["labs"] == "fetched"

"""Server-Timing on hook answers: the request's steps, the slowest fallback request, durations only."""

from __future__ import annotations

import json
import logging
import re

import pytest
import responses

from cds_service import create_app
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request
from cds_service.web.server_timing import StepTimer, parse_server_timing
from tests.conftest import FHIR_BASE
from tests.unit.core.fhir_builders import PATIENT_ID, condition, ki67, patient, searchset

SERVICE = load_services()["net-patient-view"]
PV = "/cds-services/net-patient-view"


def full_prefetch() -> dict:
    prefetch: dict = {q.key: None for q in SERVICE.queries}
    prefetch.update(patient=patient(), conditions=searchset(condition("c1", "C7A.012")),
                    pathology=searchset(ki67("k1", 4)))
    return prefetch


def test_prefetch_answer_times_each_step_and_has_no_fallback_figure(client):
    response = client.post(PV, json=hook_request(SERVICE, PATIENT_ID, prefetch=full_prefetch()))
    assert response.status_code == 200
    timing = parse_server_timing(response.headers["Server-Timing"])
    assert set(timing) == {"request", "fhir", "profile", "cards", "total"}
    assert all(v >= 0 for v in timing.values())
    assert timing["total"] >= timing["fhir"] + timing["profile"] + timing["cards"] - 0.3  # rounding of 4 figures


def test_fallback_answer_names_its_slowest_request(client):
    prefetch = full_prefetch()
    del prefetch["labs"], prefetch["status"], prefetch["procedures"]
    body = hook_request(SERVICE, PATIENT_ID, prefetch=prefetch, fhir_server=FHIR_BASE, access_token="tok-123")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=searchset())
        response = client.post(PV, json=body)
    assert response.status_code == 200
    header = response.headers["Server-Timing"]
    assert re.search(r'fhir-slowest;dur=[\d.]+;desc="(labs\+status|procedures)"', header), header
    timing = parse_server_timing(header)
    assert timing["fhir-slowest"] <= timing["fhir"] <= timing["total"]
    assert "tok-123" not in header and PATIENT_ID not in header


def test_audit_line_counts_fallback_requests(client, caplog):
    caplog.set_level(logging.INFO, logger="cds_service.audit")
    prefetch = full_prefetch()
    del prefetch["labs"], prefetch["procedures"]
    body = hook_request(SERVICE, PATIENT_ID, prefetch=prefetch, fhir_server=FHIR_BASE, access_token="tok")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=searchset())
        assert client.post(PV, json=body).status_code == 200
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cds_service.audit"]
    assert line["fhir"]["requests"] == 2 and line["fhir"]["slowest_ms"] >= 0


def test_header_can_be_turned_off(settings):
    client = create_app(settings.with_overrides(server_timing=False)).test_client()
    response = client.post(PV, json=hook_request(SERVICE, PATIENT_ID, prefetch=full_prefetch()))
    assert response.status_code == 200 and "Server-Timing" not in response.headers


def test_errors_carry_no_timing(client):
    response = client.post(PV, json={"hook": "patient-view"})
    assert response.status_code == 400 and "Server-Timing" not in response.headers


@pytest.mark.parametrize("text", ['a "quoted" \\ path', "ünïcode\r\nInjected: 1", "x" * 200])
def test_descriptions_stay_a_valid_quoted_string(text):
    timer = StepTimer()
    timer.detail("fhir-slowest", 1.25, text)
    header = timer.header()
    desc = re.search(r'desc="([^"]*)"', header).group(1)
    assert len(desc) <= 80 and all(32 <= ord(c) < 127 and c not in '"\\' for c in desc)
    assert parse_server_timing(header)["fhir-slowest"] == pytest.approx(1.2, abs=0.06)


def test_a_round_of_medication_reads_is_timed_on_its_own(client):
    from tests.unit.core.fhir_builders import med_request

    prefetch = full_prefetch()
    prefetch["medicationRequests"] = searchset(med_request("m1", med_ref="Medication/lar"))
    del prefetch["procedures"]
    body = hook_request(SERVICE, PATIENT_ID, prefetch=prefetch, fhir_server=FHIR_BASE, access_token="tok")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/\w+\?.*"), json=searchset())
        rsps.add(responses.GET, f"{FHIR_BASE}/Medication/lar",
                 json={"resourceType": "Medication", "id": "lar", "code": {"text": "octreotide LAR"}})
        response = client.post(PV, json=body)
        assert len(rsps.calls) == 2
    header = response.headers["Server-Timing"]
    assert 'fhir-medications;dur=' in header and 'desc="1 Medication reads after the searches"' in header
    assert 'desc="procedures"' in header

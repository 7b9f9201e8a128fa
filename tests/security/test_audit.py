"""The audit log: one JSON line per request; never a token, never patient data beyond ids."""

from __future__ import annotations

import json
import logging

import pytest

from cds_service import create_app
from tests.security.conftest import PUBLIC, PV_PATH, bearer, mint
from tests.security.hook_bodies import hook_body

SECRET_ACCESS_TOKEN = "ehr-access-token-must-not-leak"


def audit_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "cds_service.audit"]


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # everything any module logs, not only the audit line
    return caplog


def test_hook_call_writes_one_line_with_ids_topics_and_latency(auth_client, keys, logs):
    token = mint(keys["es384"], PUBLIC + PV_PATH)
    body = hook_body(fhirServer="https://ehr.example.org/fhir",
                     fhirAuthorization={"access_token": SECRET_ACCESS_TOKEN, "token_type": "Bearer",
                                        "expires_in": 300, "scope": "patient/*.read", "subject": "net-cds"})
    response = auth_client.post(PV_PATH, json=body, headers=bearer(token))
    assert response.status_code == 200
    [line] = audit_lines(logs)
    cards = response.get_json()["cards"]
    assert line["status"] == 200 and line["method"] == "POST" and line["path"] == PV_PATH
    assert line["service"] == "net-patient-view" and line["hookInstance"] == body["hookInstance"]
    assert line["topics"] == [c["source"]["topic"]["code"] for c in cards] and line["cards"] == len(cards)
    assert line["dataSource"] == "prefetch"
    assert line["auth"] == "ok" and line["iss"] == "https://ehr.example.org" and line["jti"]
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    text = logs.text
    assert token not in text and token.split(".")[2] not in text
    assert SECRET_ACCESS_TOKEN not in text
    for patient_detail in ("1961-04-02", "Malignant carcinoid tumor", "C7A.010"):
        assert patient_detail not in text


def test_refused_token_is_logged_with_a_reason_only(auth_client, keys, logs):
    token = mint(keys["es384"], exp_in=-3600)
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 401
    [line] = audit_lines(logs)
    assert line["status"] == 401 and line["auth"] == "expired" and "jti" not in line
    assert token not in logs.text


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("get", "/healthz", {}, 200),
    ("get", "/cds-services", {}, 200),
    ("post", "/cds-services/nope", {"json": {}}, 404),
    ("post", PV_PATH, {"data": "{", "content_type": "application/json"}, 400),
    ("post", PV_PATH, {"data": "x" * 4097, "content_type": "application/json"}, 413),
])
def test_every_request_gets_exactly_one_line(settings, logs, method, path, kwargs, status):
    client = create_app(settings.with_overrides(max_body_bytes=4096)).test_client()
    assert getattr(client, method)(path, **kwargs).status_code == status
    [line] = audit_lines(logs)
    assert (line["path"], line["status"]) == (path, status)


def test_feedback_line_has_counts_not_comments(client, logs):
    comment = "patient mentioned her daughter's wedding"
    body = {"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-11-28T10:00:00Z",
                          "overrideReason": {"userComment": comment}}]}
    assert client.post(PV_PATH + "/feedback", json=body).status_code == 200
    [line] = audit_lines(logs)
    assert line["feedback"] == {"stored": 1, "duplicate": 0} and line["service"] == "net-patient-view"
    assert comment not in logs.text


def test_audit_line_is_written_when_the_handler_crashes(client, app, logs, monkeypatch):
    from cds_service.web import discovery

    def boom() -> dict:
        raise RuntimeError("patient p1 has secret diagnosis")

    monkeypatch.setattr(discovery, "load_services", boom)
    response = client.get("/cds-services")
    assert response.status_code == 500
    assert "secret diagnosis" not in response.get_data(as_text=True)
    [line] = audit_lines(logs)
    assert line["status"] == 500

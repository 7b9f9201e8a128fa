"""Platform endpoints: /metrics (counts what happened; not public), /livez and /readyz, the request id."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import Counter

import pytest

from cds_service import create_app
from tests.security.conftest import PUBLIC, PV_PATH, bearer, mint
from tests.security.hook_bodies import hook_body

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(client, **headers: str) -> dict[tuple[str, frozenset], float]:
    """The metrics as {(name, labels): value}."""
    response = client.get("/metrics", environ_base=LOOPBACK, headers=headers)
    assert response.status_code == 200
    samples = {}
    for line in response.get_data(as_text=True).splitlines():
        match = re.fullmatch(r"([a-z_:]+)(?:\{(.*)\})? (\S+)", line)
        if match and not line.startswith("#"):
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def _sample_body(sample_id: str) -> dict:
    from cds_service.samples import get_sample
    from cds_service.services.registry import load_services
    from cds_service.tiny_ehr import hook_request, prefetch_from_bundle

    service = load_services()["net-patient-view"]
    return hook_request(service, sample_id, prefetch=prefetch_from_bundle(service, get_sample(sample_id).bundle(),
                                                                          sample_id))


def test_metrics_count_hook_calls_cards_auth_failures_and_feedback(auth_client, keys):
    before = scrape(auth_client)
    sample = auth_client.post(PV_PATH, json=_sample_body("net-pnet-insulinoma"),
                              headers=bearer(mint(keys["es384"], PUBLIC + PV_PATH)))
    body = hook_body()
    del body["prefetch"]["labs"]  # a missing optional key, answered by a failed fallback (no fhirServer)
    token = mint(keys["es384"], PUBLIC + PV_PATH)
    minimal = auth_client.post(PV_PATH, json=body, headers=bearer(token))
    assert sample.status_code == minimal.status_code == 200
    assert auth_client.post(PV_PATH, json=hook_body()).status_code == 401  # no token
    assert auth_client.post(PV_PATH, json=hook_body(), headers=bearer(token)).status_code == 401  # replayed
    cards = sample.get_json()["cards"] + minimal.get_json()["cards"]
    warning = next(c for c in cards if c.get("overrideReasons"))
    reason = warning["overrideReasons"][0]
    feedback = {"feedback": [{"card": warning["uuid"], "outcome": "overridden", "overrideReason": {"reason": reason},
                              "outcomeTimestamp": "2026-12-05T10:00:00Z"}]}
    fb_path = PV_PATH + "/feedback"
    for _ in range(2):  # the retry is a duplicate: counted once
        assert auth_client.post(fb_path, json=feedback,
                                headers=bearer(mint(keys["es384"], PUBLIC + fb_path))).status_code == 200
    after = scrape(auth_client)

    service = "net-patient-view"
    assert delta(before, after, "net_cds_hook_calls_total", service=service, status="200") == 2
    assert delta(before, after, "net_cds_hook_duration_seconds_count", service=service) == 2
    by_label = Counter((c["source"]["topic"]["code"], c["indicator"]) for c in cards)
    for (topic, indicator), count in by_label.items():
        assert delta(before, after, "net_cds_cards_total", service=service, topic=topic, indicator=indicator) == count
    assert delta(before, after, "net_cds_prefetch_missing_total", service=service, key="labs") == 1
    assert delta(before, after, "net_cds_auth_failures_total", reason="missing-token") == 1
    assert delta(before, after, "net_cds_auth_failures_total", reason="replayed-jti") == 1
    assert delta(before, after, "net_cds_feedback_total", service=service,
                 topic=warning["source"]["topic"]["code"], outcome="overridden", reason=reason["code"]) == 1


def test_an_unknown_override_reason_is_counted_as_other(client):
    before = scrape(client)
    feedback = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp":
                              "2026-12-05T10:00:00Z", "overrideReason": {"reason": {"system": "x", "code": "free"}}}]}
    assert client.post(PV_PATH + "/feedback", json=feedback).status_code == 200
    after = scrape(client)
    assert delta(before, after, "net_cds_feedback_total", service="net-patient-view", topic="unknown",
                 outcome="overridden", reason="other") == 1


def test_fallback_requests_and_failures_are_counted(client):
    import responses

    before = scrape(client)
    body = hook_body()
    del body["prefetch"]["status"], body["prefetch"]["labs"]
    body["fhirServer"] = "https://ehr.example.org/fhir"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(r"https://ehr\.example\.org/fhir/.*"), status=500)
        assert client.post(PV_PATH, json=body).status_code == 200
        sent = len(mock.calls)
    after = scrape(client)
    assert sent >= 1
    assert delta(before, after, "net_cds_fhir_fallback_requests_total", service="net-patient-view") >= 1
    assert delta(before, after, "net_cds_fhir_fallback_failures_total", service="net-patient-view") == \
        delta(before, after, "net_cds_fhir_fallback_requests_total", service="net-patient-view")


@pytest.mark.parametrize("environ,headers", [
    ({"REMOTE_ADDR": "10.1.2.3"}, {}),  # not loopback
    (LOOPBACK, {"X-Forwarded-For": "203.0.113.9"}),  # relayed by a proxy
])
def test_metrics_are_not_answered_to_outsiders(client, environ, headers):
    assert client.get("/metrics", environ_base=environ, headers=headers).status_code == 404


def test_metrics_token_when_configured(settings):
    client = create_app(settings.with_overrides(metrics_token="scrape-secret")).test_client()
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                    headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200 and b"net_cds_hook_calls_total" in ok.data


def test_liveness_and_readiness(auth_client, client):
    assert auth_client.get("/livez").status_code == 200 and auth_client.get("/healthz").status_code == 200
    ready = auth_client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"keys": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "checks": {}}  # nothing shared to check


def test_readiness_is_503_when_the_shared_database_is_unreachable(settings):
    from tests.postgres_cluster import free_port

    pytest.importorskip("psycopg")
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    app = create_app(settings.with_overrides(feedback_db=url))  # starts although the database is down
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "checks": {"feedback-database": "unavailable"}}


def test_request_id_is_kept_or_made_and_on_the_audit_line(client, caplog):
    caplog.set_level(logging.INFO)
    given = client.post(PV_PATH, json=hook_body(), headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = client.post(PV_PATH, json=hook_body(), headers={"X-Request-Id": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"])
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cds_service.audit"]
    assert [line["request_id"] for line in lines] == ["abc-123", made.headers["X-Request-Id"]]
    assert all(getattr(r, "request_id", None) in ("abc-123", made.headers["X-Request-Id"])
               for r in caplog.records if r.name.startswith("cds_service"))

"""The worker warm-up: the app's full request path, once per service on a NET sample patient, that
leaves no trace (no feedback rows, no audit line), passes authentication only in-process, and never
raises."""

from __future__ import annotations

import json
import logging
import sqlite3

from flask import request

from cds_service import create_app
from cds_service.config import Settings
from cds_service.profile import codes
from cds_service.samples import get_sample
from cds_service.security.client_keys import generate_client_key
from cds_service.services.registry import load_services
from cds_service.warmup import WARM_UP, _requests, warm_up


def _issued_rows(db) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM issued_cards").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_warm_up_calls_each_service_through_the_app_and_leaves_no_trace(settings, tmp_path, caplog):
    app = create_app(settings)
    calls = []
    app.before_request(lambda: calls.append(request.path))
    with caplog.at_level(logging.INFO):
        assert warm_up(app) > 0
    assert sorted(set(calls)) == sorted(f"/cds-services/{s}" for s in load_services())
    assert any("warm-up done" in r.message for r in caplog.records)
    assert not [r for r in caplog.records if r.name == "cds_service.audit"], "the warm-up is no one's request"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("cds_service.w")]
    assert _issued_rows(settings.feedback_db) == 0, "the warm-up's cards are not recorded for feedback"
    assert codes.index.cache_info().currsize >= len(codes.MAPPING_FILES), "every mapping file is loaded"


def test_warm_up_uses_net_samples_with_draft_orders_for_order_sign(settings):
    requests = dict(_requests(settings))
    for service_id, service in load_services().items():
        body = requests[f"/cds-services/{service_id}"]
        sample = get_sample(body["context"]["patientId"], settings)
        assert "scope" not in sample.rules, f"{service_id} warms up on a NET patient"
        if service.hook == "order-sign":
            assert body["context"]["draftOrders"]["entry"], "order-sign warms up with draft orders"
        assert body["extension"]["org.net-cds.as-of"]  # the samples' date: their cards, not today's


def test_warm_up_passes_required_authentication_in_process_only(tmp_path, caplog):
    _, jwk = generate_client_key("k1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    settings = Settings().with_overrides(environment="production", trusted_issuers=("https://ehr.test",),
                                         jwks_file=jwks, jti_db="memory", feedback_db=str(tmp_path / "f.sqlite3"),
                                         public_base_url="https://cds.example.org",  # production needs both
                                         allowed_fhir_servers=("https://ehr.example.org/fhir",))
    app = create_app(settings)
    with caplog.at_level(logging.WARNING, logger="cds_service.warmup"):
        assert warm_up(app) > 0
    warnings = [r.message for r in caplog.records if r.name == "cds_service.warmup"]
    assert not warnings, warnings  # every warm-up call answered 200
    body = _requests(settings)[0][1]
    client = app.test_client()
    # what a network request can send: a header (HTTP_* in the environ, a string), never the key itself
    for headers in ({"net_cds.warm_up": "True"}, {"Net-Cds-Warm-Up": "1"}):
        assert client.post("/cds-services/net-patient-view", json=body, headers=headers).status_code == 401
    assert client.post("/cds-services/net-patient-view", json=body,
                       environ_overrides={WARM_UP: "True"}).status_code == 401  # only the value True counts


def test_warm_up_without_samples_or_with_broken_data_does_not_raise(tmp_path):
    settings = Settings().with_overrides(data_dir=tmp_path, feedback_db=str(tmp_path / "f.sqlite3"))
    assert warm_up(create_app(settings)) == 0.0
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "broken.json").write_text("{not json")
    assert warm_up(create_app(settings)) == 0.0

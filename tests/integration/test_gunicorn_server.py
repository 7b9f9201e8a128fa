"""The service as production runs it: `gunicorn cds_service.wsgi:app` on loopback, real HTTP.

Covers what only the real server exercises: the request body read from gunicorn's stream
(cds_service/web/request_body.py), chunked uploads, the size limit, and Server-Timing on the wire.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from cds_service.config import REPO_ROOT
from cds_service.samples import get_sample
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from tests.integration.processes import start, stop

SAMPLE = "net-si-progressing-on-ssa"
MAX_BODY = 600_000


@contextmanager
def _gunicorn(tmp: Path, **env_extra: str) -> Iterator[str]:
    """gunicorn with one worker on a free loopback port for the `with` block; yields its base URL."""
    env = {"NET_CDS_ENV": "development", "NET_CDS_FEEDBACK_DB": str(tmp / "feedback.sqlite3"),
           "NET_CDS_JTI_DB": "memory", "NET_CDS_MAX_BODY_BYTES": str(MAX_BODY), "NET_CDS_LOG_LEVEL": "WARNING",
           **env_extra}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    started = start("gunicorn", [str(gunicorn), "--workers", "1", "--timeout", "60", "cds_service.wsgi:app"],
                    cwd=REPO_ROOT, env=env, ready_url=lambda port: f"http://127.0.0.1:{port}/healthz",
                    log=tmp / "gunicorn.log", port_env=None, port_arg=lambda port: ["--bind", f"127.0.0.1:{port}"])
    try:
        yield f"http://127.0.0.1:{started.port}"
    finally:
        stop(started.process)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    with _gunicorn(tmp_path_factory.mktemp("gunicorn")) as url:
        yield url


def _body() -> bytes:
    service = load_services()["net-patient-view"]
    prefetch = prefetch_from_bundle(service, get_sample(SAMPLE).bundle(), SAMPLE)
    return json.dumps(hook_request(service, SAMPLE, prefetch=prefetch)).encode()


def _post(url: str, data, **headers: str) -> requests.Response:
    return requests.post(f"{url}/cds-services/net-patient-view", data=data, timeout=60,
                         headers={"Content-Type": "application/json", **headers})


def test_patient_view_over_real_http_matches_the_in_process_answer(base_url, client):
    raw = _body()
    response = _post(base_url, raw)
    assert response.status_code == 200, response.text
    local = client.post("/cds-services/net-patient-view", data=raw, content_type="application/json")
    topics = [c["source"]["topic"]["code"] for c in response.json()["cards"]]
    assert topics and topics == [c["source"]["topic"]["code"] for c in local.get_json()["cards"]]
    assert {"request", "fhir", "profile", "cards", "total"} <= {
        part.split(";")[0].strip() for part in response.headers["Server-Timing"].split(",")}


def test_chunked_upload_is_read_too(base_url):
    raw = _body()
    response = _post(base_url, (raw[i:i + 7000] for i in range(0, len(raw), 7000)))  # generator: chunked
    assert response.status_code == 200, response.text
    assert response.json()["cards"]


def test_body_over_the_limit_is_413_before_it_is_read(base_url):
    response = _post(base_url, b"{" + b" " * (MAX_BODY + 10) + b"}")
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_broken_json_over_real_http_is_400_naming_the_body(base_url):
    response = _post(base_url, _body()[:-20])
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["body"]


def test_cli_calls_a_secured_service_with_a_signed_jwt(tmp_path, capsys):
    """The integration team's path: generate keys, configure the service with the public set, call signed."""
    from cds_service.cli import main

    keys = tmp_path / "keys"
    assert main(["keys", "generate", "--out", str(keys)]) == 0
    iss = "https://ehr.integration.example"
    with _gunicorn(tmp_path, NET_CDS_AUTH="required", NET_CDS_TRUSTED_ISSUERS=iss,
                   NET_CDS_JWKS_FILE=str(keys / "client-jwks.json")) as url:
        capsys.readouterr()
        unsigned = main(["call", "patient-view", "--patient", SAMPLE, "--service-url", url])
        assert unsigned == 1 and "HTTP 401" in capsys.readouterr().err
        signed = main(["call", "patient-view", "--patient", SAMPLE, "--service-url", url, "--timing",
                       "--jwt-key", str(keys / "client-private.pem"), "--jwt-iss", iss])
        captured = capsys.readouterr()
    assert signed == 0, captured.err
    assert "topic: prrt-after-ssa" in captured.out and "timing: request" in captured.err

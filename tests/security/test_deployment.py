"""The deployment as shipped (gunicorn -c python:cds_service.gunicorn_conf cds_service.wsgi:app), attacked
over real HTTP on loopback (audit issue 13, findings 1, 6 and the server items of 9).

1: two slow connections without a token stopped the sync workers; here many slow clients are held
   open while a normal call is made, and the call must be answered. (Its latency is a benchmark, not an
   assertion: bench/slow_clients.py.)
6: the container wrote no audit line; here the 401's audit line, with its reason, must be on stderr.
9: a client-supplied SCRIPT_NAME must not be honoured; the access log must not keep query strings.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.server import wait_ready
from cds_service.config import REPO_ROOT
from tests.security.conftest import ISS, jwks, mint
from tests.security.hook_bodies import hook_body

PUBLIC = "https://cds.example.org"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    def __init__(self, url: str, port: int, log: Path) -> None:
        self.url, self.port, self.log = url, port, log

    def log_lines(self) -> list[dict]:
        lines = []
        for raw in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue  # gunicorn's own start-up lines are not JSON
        return lines


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, keys) -> Iterator[Deployment]:
    """Production settings (authentication required), one worker, the shipped gunicorn configuration."""
    folder = tmp_path_factory.mktemp("deployment")
    (folder / "jwks.json").write_text(json.dumps(jwks(keys["es384"])))
    port = _free_port()
    env = {**os.environ, "NET_CDS_ENV": "production", "NET_CDS_TRUSTED_ISSUERS": ISS,
           "NET_CDS_JWKS_FILE": str(folder / "jwks.json"), "NET_CDS_PUBLIC_BASE_URL": PUBLIC,
           "NET_CDS_ALLOWED_FHIR_SERVERS": "https://ehr.example.org/fhir", "NET_CDS_JTI_DB": "memory",
           "NET_CDS_FEEDBACK_DB": str(folder / "feedback.sqlite3"), "NET_CDS_BIND": f"127.0.0.1:{port}",
           "NET_CDS_WORKERS": "1", "NET_CDS_HEADER_TIMEOUT": "3"}
    log_path = folder / "stderr.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(gunicorn), "-c", "python:cds_service.gunicorn_conf", "cds_service.wsgi:app"],
                                   cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(f"{url}/healthz", timeout=90, process=process)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"gunicorn did not start ({exc}): {log_path.read_text()[-3000:]}")
        yield Deployment(url, port, log_path)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _hook_call(deployment: Deployment, keys) -> requests.Response:
    path = "/cds-services/net-patient-view"
    token = mint(keys["es384"], PUBLIC + path)
    return requests.post(deployment.url + path, json=hook_body(), headers={"Authorization": f"Bearer {token}"},
                         timeout=60)  # a bound for the test, not a performance figure


def test_the_shipped_deployment_uses_workers_that_tolerate_slow_clients():
    from cds_service import gunicorn_conf

    assert "Gevent" in gunicorn_conf.worker_class and gunicorn_conf.keepalive > 0
    assert gunicorn_conf.max_requests > 0 and gunicorn_conf.max_requests_jitter > 0
    assert gunicorn_conf.forwarded_allow_ips == "" and gunicorn_conf.accesslog is None
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "python:cds_service.gunicorn_conf" in dockerfile


def test_a_normal_call_is_answered_while_slow_clients_hold_connections(deployment, keys):
    """Thirty connections trickle a header byte every second (one worker): the hook call still gets its 200."""
    stop = threading.Event()

    def slow_client() -> None:
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", deployment.port), timeout=5) as sock:
                    sock.sendall(b"POST /cds-services/net-patient-view HTTP/1.1\r\nHost: x\r\n")
                    while not stop.wait(1.0):
                        sock.sendall(b"X")
            except OSError:
                stop.wait(0.1)

    threads = [threading.Thread(target=slow_client, daemon=True) for _ in range(30)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        for _ in range(3):
            assert _hook_call(deployment, keys).status_code == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def test_a_slow_header_is_cut_off(deployment):
    """A request head still incomplete after NET_CDS_HEADER_TIMEOUT (3 s here) gets its connection closed."""
    with socket.create_connection(("127.0.0.1", deployment.port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(20):  # up to ~20 s of one byte a second
            try:
                sock.sendall(b"X")
                time.sleep(1.0)
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        closed = True
                        break
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
            except OSError:
                closed = True
                break
        assert closed


def test_a_refused_token_leaves_an_audit_line_with_its_reason_on_stderr(deployment):
    assert requests.get(deployment.url + "/cds-services", timeout=30).status_code == 401
    response = requests.get(deployment.url + "/cds-services?access_token=secret-in-query",
                            headers={"Authorization": "Bearer not.a.jwt"}, timeout=30)
    assert response.status_code == 401
    time.sleep(0.5)  # the worker flushes its line
    audit = [line for line in deployment.log_lines() if line.get("path") == "/cds-services"]
    reasons = {line.get("auth") for line in audit if line.get("status") == 401}
    assert {"missing-token", "malformed-token"} <= reasons, audit
    assert "secret-in-query" not in deployment.log.read_text()


def test_a_client_script_name_is_not_honoured(deployment):
    """gunicorn honours SCRIPT_NAME from trusted addresses (loopback by default); the shipped config trusts none."""
    response = requests.get(deployment.url + "/cds-services", headers={"SCRIPT_NAME": "/cds-services"}, timeout=30)
    assert response.status_code == 401  # still the protected discovery, not /cds-services stripped to /
    response = requests.get(deployment.url + "/admin/healthz", headers={"SCRIPT_NAME": "/admin"}, timeout=30)
    assert response.status_code == 404


def test_large_bodies_answered_early_get_their_answer_not_a_reset(deployment):
    """A 5 MB body without a token gets its 401, and a 9 MB body (over the 8 MiB limit) its 413 (with a token
    check first: the 401), both as HTTP answers the client can read rather than a TCP reset."""
    for size in (5 * 1024 * 1024, 9 * 1024 * 1024):
        response = requests.post(deployment.url + "/cds-services/net-patient-view", data=b"x" * size,
                                 headers={"Content-Type": "application/json", "Connection": "close"}, timeout=60)
        assert response.status_code == 401
        assert response.json()["resourceType"] == "OperationOutcome"


def test_an_authenticated_oversized_body_gets_its_413(deployment, keys):
    path = "/cds-services/net-patient-view"
    token = mint(keys["es384"], PUBLIC + path)
    response = requests.post(deployment.url + path, data=b"x" * (9 * 1024 * 1024),
                             headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                                      "Connection": "close"},
                             timeout=60)
    assert response.status_code == 413

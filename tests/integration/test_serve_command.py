"""`net-cds serve` as a user starts it: what stops it from starting is one line with what to change,
said at once and before any "listening on"; when it starts, it says so only once it listens.

Each test starts real processes on loopback; waits have deadlines in tens of seconds (a busy machine
is slow, never wrong).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cds_service.config import REPO_ROOT
from cds_service.samples import get_sample
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from tests.integration.processes import free_port, stop

pytestmark = pytest.mark.integration
DEADLINE_S = 120
SAMPLE = "net-pnet-gastrinoma"


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NET_CDS_")}
    return {**env, "NET_CDS_FEEDBACK_DB": str(tmp / "feedback.sqlite3"), "NET_CDS_JTI_DB": "memory", **extra}


def _net_cds(*args: str) -> list[str]:
    return [sys.executable, "-m", "cds_service.cli", *args]


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE_S,
                          stdin=subprocess.DEVNULL)


def test_serve_on_a_busy_port_fails_at_once_with_a_port_hint(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(_net_cds("serve", "--port", str(port)), _env(tmp_path))
    assert result.returncode == 2
    assert "listening on" not in result.stdout.lower()
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port N" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_in_production_without_its_settings_names_them_in_one_line(tmp_path):
    result = _run(_net_cds("serve", "--port", str(free_port())), _env(tmp_path, NET_CDS_ENV="production"))
    assert result.returncode == 2 and "Traceback" not in result.stderr and "listening on" not in result.stdout
    line = result.stderr.strip()
    assert "\n" not in line
    assert "NET_CDS_TRUSTED_ISSUERS" in line and "NET_CDS_JWKS_FILE" in line


def test_gunicorn_in_production_without_its_settings_stops_with_that_line_and_no_traceback(tmp_path):
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    result = _run([gunicorn, "--bind", f"127.0.0.1:{free_port()}", "--workers", "1", "cds_service.wsgi:app"],
                  _env(tmp_path, NET_CDS_ENV="production"))
    assert result.returncode == 4  # gunicorn: the app failed to load; no endless worker restarts
    assert "NET-CDS cannot start: Authentication is required" in result.stderr
    assert "NET_CDS_TRUSTED_ISSUERS" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_setting_is_one_line_naming_it(tmp_path):
    result = _run(_net_cds("serve", "--port", str(free_port())), _env(tmp_path, NET_CDS_FHIR_TIMEOUT="soon"))
    assert result.returncode == 2
    assert result.stderr.strip() == "net-cds serve: NET_CDS_FHIR_TIMEOUT must be a number, not 'soon'."


@pytest.mark.parametrize("dev", [False, True], ids=["gunicorn", "dev"])
def test_serve_says_listening_once_it_answers_and_counts_its_calls(tmp_path, dev):
    port = free_port()
    out = tmp_path / "out.log"
    command = _net_cds("serve", "--port", str(port), "--workers", "2", *(["--dev"] if dev else []))
    with out.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=_env(tmp_path), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while "listening on" not in out.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, out.read_text(errors="replace")[-2000:]
            time.sleep(0.2)
        answer = None
        while answer is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/cds-services", timeout=30)
            except requests.RequestException:
                assert process.poll() is None and time.monotonic() < deadline, out.read_text(errors="replace")
                time.sleep(0.2)
        assert answer.status_code == 200 and len(answer.json()["services"]) >= 2
        assert f"Demo page (the sample patients' cards as an EHR shows them): http://127.0.0.1:{port}/" \
            in out.read_text(errors="replace")  # development: the newcomer's first screen
        body = hook_request(load_services()["net-patient-view"], SAMPLE,
                            prefetch=prefetch_from_bundle(load_services()["net-patient-view"],
                                                          get_sample(SAMPLE).bundle(), SAMPLE))
        for _ in range(2):
            assert requests.post(f"http://127.0.0.1:{port}/cds-services/net-patient-view", json=body,
                                 timeout=60).status_code == 200
        # every worker's calls are counted (gunicorn: one metrics folder for all workers), the warm-up's not
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
        assert 'net_cds_hook_calls_total{service="net-patient-view",status="200"} 2.0' in metrics
    finally:
        stop(process)


def test_serve_dev_does_not_claim_to_reload():
    result = _run(_net_cds("serve", "--help"), dict(os.environ))
    help_text = " ".join(result.stdout.split())
    assert "no reloading" in help_text and "(reloads)" not in help_text

"""The servers of a SMART launch test, started on loopback: the authorization server with its FHIR front
(tests/integration/smart_server.py) over sekmet holding two sample patients, and `net-cds serve` with the
SMART app configured. Used by the HTTP flow test and by the Chromium test (tests/browser)."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from cds_service.commands.explain import record_from_bundles
from cds_service.config import REPO_ROOT
from cds_service.fhir.upload import upload_bundle
from cds_service.samples import get_sample
from cds_service.timeline.render import timeline_for
from tests.integration.processes import free_port, log_tail, stop, wait_until_ready

PATIENT = "net-si-after-prrt-early"  # SSA, six PRRT doses, progression: a full timeline
OTHER_PATIENT = "net-pnet-gastrinoma"  # PPI running while CgA and gastrin were drawn
CLIENT_ID = "net-timeline-test"
AS_OF = "2026-11-28"  # the sample set's date, so the timeline is the one the profile gives for it


@dataclass
class SmartStack:
    service: str  # the NET-CDS service base URL
    auth: str  # the authorization server
    fhir: str  # the FHIR base URL that accepts the authorization server's tokens (the launch's iss)
    patient: str = PATIENT
    other_patient: str = OTHER_PATIENT

    def check_timeline(self, page: str, patient_id: str) -> None:
        check_timeline(page, patient_id)


def check_timeline(page: str, patient_id: str) -> None:
    """The page shows what the profile of the same patient (built from the sample here) says."""
    record = record_from_bundles(get_sample(patient_id).bundle())
    record.as_of = date.fromisoformat(AS_OF)
    expected = timeline_for(record)
    assert f"<strong>{patient_id}</strong>" in page
    for point in expected.diagnosis.ki67:
        assert f"Ki-67 {point.value:g} % on {point.date}" in page
    for bar in expected.therapies:
        assert bar.label in page
        for i, dose in enumerate(bar.doses, 1):
            assert f"PRRT dose {i} on {dose}" in page
    for marker in expected.markers:
        for p in marker.points:
            assert f"{marker.label} {p.value:g}" in page
    if expected.next_step:
        assert f"rule {expected.next_step.rule_id}" in page
    for rule in expected.rules:
        assert f"<td>{rule.rule_id}</td><td>{rule.kind}</td><td>{rule.status}</td>" in page


def _process(name: str, command: list[str], port: int, ready: str, log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as handle:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=handle,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    reason = wait_until_ready(ready, process)
    if reason is not None:
        stop(process)
        pytest.fail(f"{name} did not start: {reason}\n{log_tail(log)}", pytrace=False)
    return process


@contextlib.contextmanager
def running_smart_stack(fhir_server, workdir: Path) -> Iterator[SmartStack]:  # noqa: ANN001 - a FhirTestServer
    """Load the two patients into `fhir_server`, start the authorization server and the service."""
    for patient in (PATIENT, OTHER_PATIENT):
        upload_bundle(fhir_server.base_url, get_sample(patient).bundle(), patient, token=fhir_server.token)
    auth_port, service_port = free_port(), free_port()
    auth = f"http://127.0.0.1:{auth_port}"
    service = f"http://127.0.0.1:{service_port}"
    auth_process = _process(
        "the SMART authorization server",
        [sys.executable, "-m", "tests.integration.smart_server", "--port", str(auth_port),
         "--upstream", fhir_server.base_url, "--upstream-token", fhir_server.token, "--client-id", CLIENT_ID,
         "--redirect-uri", f"{service}/app/callback", "--launch", f"launch-1={PATIENT}",
         "--patient", OTHER_PATIENT, "--patient", PATIENT],
        auth_port, f"{auth}/fhir/.well-known/smart-configuration", workdir / "auth.log", {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("NET_CDS_")}
    env.update({"NET_CDS_ALLOWED_FHIR_SERVERS": f"{auth}/fhir", "NET_CDS_SMART_CLIENT_ID": CLIENT_ID,
                "NET_CDS_SMART_SESSION_KEY": secrets.token_urlsafe(32), "NET_CDS_AS_OF": AS_OF,
                "NET_CDS_FHIR_TIMEOUT": "20", "NET_CDS_FHIR_TOTAL_TIMEOUT": "40",
                "NET_CDS_FEEDBACK_DB": str(workdir / "feedback.sqlite3"), "NET_CDS_JTI_DB": "memory"})
    try:
        with (workdir / "service.log").open("wb") as handle:
            service_process = subprocess.Popen(
                [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(service_port), "--workers", "2"],
                cwd=REPO_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        reason = wait_until_ready(f"{service}/healthz", service_process)
        if reason is not None:
            stop(service_process)
            pytest.fail(f"net-cds serve did not start: {reason}\n{log_tail(workdir / 'service.log')}", pytrace=False)
        try:
            yield SmartStack(service, auth, f"{auth}/fhir")
        finally:
            stop(service_process)
    finally:
        stop(auth_process)

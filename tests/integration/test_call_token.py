"""`net-cds call --fhir-server` takes the bearer token from NET_CDS_FHIR_TOKEN, as `samples load`
does, so it stays out of the shell history (README, "Try it against a FHIR server")."""

from __future__ import annotations

import pytest

from cds_service.cli import main
from tests.integration.conftest import FhirTestServer

pytestmark = pytest.mark.integration
PATIENT = "net-pnet-gastrinoma"


@pytest.fixture(autouse=True)
def _databases_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("NET_CDS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.setenv("NET_CDS_JTI_DB", "memory")
    monkeypatch.setenv("NET_CDS_FHIR_TIMEOUT", "10")
    monkeypatch.setenv("NET_CDS_FHIR_TOTAL_TIMEOUT", "30")


def test_call_uses_the_token_from_the_environment(fhir_server: FhirTestServer, monkeypatch, capsys):
    fhir_server.require_loaded(PATIENT)
    argv = ["call", "patient-view", "--patient", PATIENT, "--fhir-server", fhir_server.base_url]
    monkeypatch.delenv("NET_CDS_FHIR_TOKEN", raising=False)
    assert main(argv) == 1
    refused = capsys.readouterr()
    assert "HTTP 412" in refused.err  # the server refused the call without a token
    monkeypatch.setenv("NET_CDS_FHIR_TOKEN", fhir_server.token)
    assert main(argv) == 0
    answered = capsys.readouterr()
    assert "topic: gastrinoma-acid-control" in answered.out and "gastrinoma" in answered.out
    assert fhir_server.token not in answered.out + answered.err

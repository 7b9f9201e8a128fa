"""The `net-cds` CLI as a new user runs it: samples list, and call on the embedded default."""

from __future__ import annotations

import json

import pytest

from cds_service.cli import main
from cds_service.samples import list_samples


@pytest.fixture(autouse=True)
def _databases_in_tmp(tmp_path, monkeypatch):
    """The CLI reads its settings from the environment: keep its databases out of the checkout."""
    monkeypatch.setenv("NET_CDS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.setenv("NET_CDS_JTI_DB", str(tmp_path / "jti.sqlite3"))


def test_samples_list_names_every_sample(capsys):
    assert main(["samples", "list"]) == 0
    out = capsys.readouterr().out
    for sample in list_samples():
        assert sample.id in out


def test_call_patient_view_on_a_sample_prints_cards(capsys):
    assert main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa"]) == 0
    out = capsys.readouterr().out
    assert "1. [INFO] GI NET progressing after SSA" in out and "topic: prrt-after-ssa" in out  # GI-6, first
    assert "topic: net-profile" not in out  # the profile card is off by default


def test_call_order_select_answers_the_sample_draft(capsys):
    assert main(["call", "order-select", "--patient", "net-pnet-gastrinoma"]) == 0
    out = capsys.readouterr().out
    assert "topic: ppi-gastrinoma-dosing" in out and "Change the drafted PPI to twice daily" in out


def test_profile_card_setting_adds_the_profile_card_last(capsys, monkeypatch):
    monkeypatch.setenv("NET_CDS_PROFILE_CARD", "on")
    assert main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa"]) == 0
    out = capsys.readouterr().out
    assert out.index("topic: prrt-after-ssa") < out.index("topic: net-profile")


def test_call_json_is_a_cds_hooks_response(capsys):
    assert main(["call", "order-sign", "--patient", "net-pnet-gastrinoma", "--json"]) == 0
    response = json.loads(capsys.readouterr().out)
    topics = [c["source"]["topic"]["code"] for c in response["cards"]]
    assert "ppi-gastrinoma-dosing" in topics  # O-PPI-3: once-daily PPI draft in ZES


def test_call_timing_prints_the_steps_on_stderr_only_when_asked(capsys):
    assert main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa"]) == 0
    assert "timing:" not in capsys.readouterr().err
    assert main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa", "--timing"]) == 0
    captured = capsys.readouterr()
    assert "topic: prrt-after-ssa" in captured.out and "timing:" not in captured.out
    for step in ("request", "fhir", "profile", "cards", "total"):
        assert f"{step} " in captured.err and " ms" in captured.err


def test_call_unknown_sample_says_so(capsys):
    assert main(["call", "patient-view", "--patient", "nobody"]) == 2
    assert "No sample patient 'nobody'" in capsys.readouterr().err


def test_call_against_unreachable_fhir_server_reports_412(capsys):
    code = main(["call", "patient-view", "--patient", "p1", "--fhir-server", "http://127.0.0.1:9/fhir"])
    assert code == 1
    assert "HTTP 412" in capsys.readouterr().err


def test_call_to_a_service_that_is_not_running_says_so(capsys):
    code = main(["call", "patient-view", "--patient", "net-si-progressing-on-ssa", "--service-url",
                 "http://127.0.0.1:9"])
    assert code == 1 and "Cannot reach the service at http://127.0.0.1:9" in capsys.readouterr().err

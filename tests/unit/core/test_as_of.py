"""The demo gives the same cards on any date: the samples are evaluated as of the date the sample set
declares (samples/index.yaml `as_of`), through the one path request -> record -> profile -> rules.

The clock is moved with time-machine (it shifts the process's clock, as `faketime` would).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import time_machine
import yaml

from cds_service import create_app
from cds_service.cli import main
from cds_service.config import Settings, StartupError
from cds_service.samples import list_samples, sample_set_as_of, samples_dir
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle
from cds_service.web.as_of import AS_OF_EXTENSION

AS_OF = sample_set_as_of()
A_YEAR_AHEAD = datetime.now() + timedelta(days=366)
README_CALL = ["call", "patient-view", "--patient", "net-si-after-prrt-durable"]


@pytest.fixture(autouse=True)
def _databases_in_tmp(tmp_path, monkeypatch):
    """The CLI reads its settings from the environment: keep its databases out of the checkout."""
    monkeypatch.setenv("NET_CDS_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.setenv("NET_CDS_JTI_DB", str(tmp_path / "jti.sqlite3"))
    monkeypatch.delenv("NET_CDS_AS_OF", raising=False)


def _run(argv: list[str], capsys) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_the_sample_set_declares_its_as_of_date():
    index = yaml.safe_load((samples_dir() / "index.yaml").read_text(encoding="utf-8"))
    assert date.fromisoformat(str(index["as_of"])) == AS_OF
    assert f"**{AS_OF.isoformat()}**" in (samples_dir() / "README.md").read_text(encoding="utf-8")


def test_the_readme_call_gives_the_same_cards_a_year_ahead(capsys, monkeypatch):
    monkeypatch.setenv("NET_CDS_PROFILE_CARD", "on")  # its PRRT eligibility line shows the 90-day windows
    today = _run(README_CALL, capsys)
    with time_machine.travel(A_YEAR_AHEAD, tick=False):
        assert date.today() > AS_OF + timedelta(days=365)
        later = _run(README_CALL, capsys)
        on_the_calendar = _run([*README_CALL, "--as-of", "today"], capsys)
    assert later == today
    assert f"As of {AS_OF.isoformat()}" in later
    assert "PRRT eligibility: all criteria met" in later  # X-7 facts within 90 days of the as-of date
    # the clock does matter: evaluated on the calendar's date, the 90-day windows have lapsed
    assert on_the_calendar != later and "not all criteria met or known" in on_the_calendar


def test_order_sign_washout_card_still_fires_a_year_ahead(capsys):
    argv = ["call", "order-sign", "--patient", "net-si-after-prrt-durable", "--json"]
    with time_machine.travel(A_YEAR_AHEAD, tick=False):
        topics = [c["source"]["topic"]["code"] for c in json.loads(_run(argv, capsys))["cards"]]
    assert "ssa-prrt-washout" in topics  # O-SSA-5: the planned PRRT dose (2026-12-10) is still ahead


@pytest.mark.parametrize("sample", [s for s in list_samples() if s.rules], ids=lambda s: s.id)
def test_the_samples_readme_map_holds_a_year_ahead(sample, capsys):
    """`net-cds explain` of each sample a year ahead is what it is on the sample set's date, which is
    where tests/vignettes check the README's rule ids; and those rules are on a card (fired, or a
    branch of a conditional card), not silent."""
    runs = [[]] + ([["--draft", str(sample.draft)]] if sample.draft else [])
    on_the_day = [json.loads(_run(["explain", str(sample.file), "--json", "--as-of", AS_OF.isoformat(), *extra],
                                  capsys)) for extra in runs]
    with time_machine.travel(A_YEAR_AHEAD, tick=False):
        later = [json.loads(_run(["explain", str(sample.file), "--json", *extra], capsys)) for extra in runs]
    assert later == on_the_day
    status = {r["id"]: r["status"] for result in later for r in result["rules"] if r["status"] != "not-fired"}
    silent = [r for r in sample.rules if r != "scope" and status.get(r) not in ("fired", "unknown")]
    assert not silent, f"{sample.id}: {silent} neither fired nor shown as a branch"


def test_profile_of_a_sample_is_as_of_the_sample_set_and_of_other_files_as_of_today(tmp_path, capsys):
    sample = next(s for s in list_samples() if s.id == "net-si-after-prrt-durable")
    with time_machine.travel(A_YEAR_AHEAD, tick=False):
        assert json.loads(_run(["profile", str(sample.file), "--json"], capsys))["as_of"] == AS_OF.isoformat()
        copy = tmp_path / "mine.json"
        copy.write_text(sample.file.read_text(encoding="utf-8"), encoding="utf-8")
        assert json.loads(_run(["profile", str(copy), "--json"], capsys))["as_of"] == date.today().isoformat()
        explicit = _run(["profile", str(copy), "--json", "--as-of", "2026-01-02"], capsys)
    assert json.loads(explicit)["as_of"] == "2026-01-02"


def test_bad_as_of_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([*README_CALL, "--as-of", "next week"])
    assert exc.value.code == 2 and "not a date (YYYY-MM-DD)" in capsys.readouterr().err


# --- the service: the request's extension, NET_CDS_AS_OF, production -------------------------------


def _request(as_of: object = None) -> dict:
    service = load_services()["net-patient-view"]
    sample = next(s for s in list_samples() if s.id == "net-si-after-prrt-durable")
    body = hook_request(service, sample.id, prefetch=prefetch_from_bundle(service, sample.bundle(), sample.id))
    if as_of is not None:
        body["extension"] = {AS_OF_EXTENSION: as_of}
    return body


def _eligibility(response: dict) -> str:
    detail = next(c["detail"] for c in response["cards"] if c["source"]["topic"]["code"] == "net-profile")
    return next(line for line in detail.splitlines() if "PRRT eligibility" in line)


def test_the_request_extension_sets_the_date_the_call_is_evaluated_as_of(tmp_path):
    client = create_app({"feedback_db": str(tmp_path / "f.sqlite3"), "profile_card": True}).test_client()
    with time_machine.travel(A_YEAR_AHEAD, tick=False):
        asked = client.post("/cds-services/net-patient-view", json=_request(AS_OF.isoformat()))
        clock = client.post("/cds-services/net-patient-view", json=_request())
    assert asked.status_code == clock.status_code == 200
    assert "all criteria met" in _eligibility(asked.get_json())
    assert "not all criteria met" in _eligibility(clock.get_json())


def test_net_cds_as_of_sets_the_date_of_calls_that_ask_for_none(tmp_path):
    settings = {"feedback_db": str(tmp_path / "f.sqlite3"), "as_of": AS_OF, "profile_card": True}
    client = create_app(settings).test_client()
    with time_machine.travel(A_YEAR_AHEAD, tick=False):
        response = client.post("/cds-services/net-patient-view", json=_request())
    assert "all criteria met" in _eligibility(response.get_json())


@pytest.mark.parametrize("value", ["2026-13-01", "28/11/2026", 20261128, "2026-11-28T00:00:00Z"])
def test_a_bad_as_of_extension_is_a_400_naming_the_field(tmp_path, value):
    client = create_app({"feedback_db": str(tmp_path / "f.sqlite3")}).test_client()
    response = client.post("/cds-services/net-patient-view", json=_request(value))
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [f"extension.{AS_OF_EXTENSION}"]


def test_production_refuses_an_as_of_request_and_setting(tmp_path):
    settings = Settings().with_overrides(environment="production", auth="disabled",
                                         public_base_url="https://cds.example.org",  # production needs both
                                         allowed_fhir_servers=("https://ehr.example.org/fhir",),
                                         feedback_db=str(tmp_path / "f.sqlite3"))
    response = create_app(settings).test_client().post("/cds-services/net-patient-view",
                                                       json=_request(AS_OF.isoformat()))
    assert response.status_code == 400 and "production" in response.get_json()["issue"][0]["diagnostics"]
    with pytest.raises(StartupError, match="NET_CDS_AS_OF"):
        create_app(settings.with_overrides(as_of=AS_OF))


def test_net_cds_as_of_must_be_a_date():
    with pytest.raises(StartupError, match="NET_CDS_AS_OF must be a date"):
        Settings.from_env({"NET_CDS_AS_OF": "soon"})
    assert Settings.from_env({"NET_CDS_AS_OF": "2026-11-28"}).as_of == date(2026, 11, 28)

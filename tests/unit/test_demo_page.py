"""The demo page at / (cds_service/demo): only in development and demo mode; what it shows is the hook's answer."""

from __future__ import annotations

import json
import re

import pytest

from cds_service import create_app
from cds_service.cards.panel_html import card_html
from cds_service.demo.ehr import request_for
from cds_service.samples import get_sample, list_samples
from cds_service.security.client_keys import generate_client_key
from tests.conftest import isolated
from tests.markup import HOSTILE  # markup in every field but the detail (markdown, raw HTML off)

PRODUCTION = {"environment": "production", "public_base_url": "https://cds.example.org",
              "allowed_fhir_servers": ("https://ehr.example.org/fhir",)}


def _cards_on(page: str, hook: str) -> list[tuple[str, str]]:
    """(indicator, card uuid) of each card in the panel of `hook` on the page."""
    panel = page.split(f'data-hook="{hook}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<article class="card (\w+)" data-card="([^"]+)">', panel)


@pytest.mark.parametrize("environment", ["development", "demo"])
def test_the_demo_page_is_served_in_development_and_demo(settings, environment):
    client = create_app(settings.with_overrides(environment=environment)).test_client()
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "NET-CDS demo" in page.get_data(as_text=True)
    assert client.get("/static/demo/demo.js").status_code == 200


def test_production_has_no_demo_page(settings, tmp_path):
    _, jwk = generate_client_key("k1")
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    client = create_app(settings.with_overrides(**PRODUCTION, trusted_issuers=("https://ehr.test",),
                                                jwks_file=tmp_path / "jwks.json")).test_client()
    assert client.get("/").status_code == 404
    assert client.get("/?sample=net-pnet-gastrinoma").status_code == 404


def test_every_sample_is_offered_and_an_unknown_one_is_a_404(client):
    page = client.get("/").get_data(as_text=True)
    for sample in list_samples():
        assert f'<option value="{sample.id}"' in page
    assert client.get("/?sample=no-such-patient").status_code == 404


def test_an_order_hook_needs_a_sample_with_a_draft(client):
    without_draft = next(s.id for s in list_samples() if s.draft is None)
    answer = client.get(f"/?sample={without_draft}&hook=order-sign")
    assert answer.status_code == 400 and "hook" in answer.get_json()["issue"][0]["diagnostics"]
    assert client.get("/?sample=net-pnet-gastrinoma&hook=patient-view").status_code == 400


@pytest.mark.parametrize("hook", ["patient-view", "order-sign"])
def test_the_page_shows_the_cards_the_hook_answers_in_order(app, hook):
    client = app.test_client()
    sample = get_sample("net-pnet-gastrinoma")
    query = "" if hook == "patient-view" else f"&hook={hook}"
    page = client.get(f"/?sample={sample.id}{query}").get_data(as_text=True)
    service = {"patient-view": "net-patient-view", "order-sign": "net-order-sign"}[hook]
    cards = client.post(f"/cds-services/{service}", json=request_for(hook, sample)).get_json()["cards"]
    shown = _cards_on(page, hook)
    assert [indicator for indicator, _ in shown] == [c["indicator"] for c in cards] and cards
    for card in cards:  # the same text (card uuids differ per call)
        assert card_html(card).split("</div>", 1)[0].split('data-card="', 1)[0] in page
        assert html_escaped(card["summary"]) in page


def html_escaped(text: str) -> str:
    from html import escape

    return escape(text)


def test_the_timeline_link_appears_only_when_the_smart_apps_sample_route_exists(settings):
    app = create_app(settings)
    if not any(rule.rule == "/app/sample/<sample_id>" for rule in app.url_map.iter_rules()):
        without = create_app(settings).test_client().get("/").get_data(as_text=True)
        assert "Timeline</a>" not in without
        app.add_url_rule("/app/sample/<sample_id>", "sample_timeline_for_test", lambda sample_id: sample_id)
    page = app.test_client().get("/?sample=net-pnet-gastrinoma").get_data(as_text=True)
    assert re.search(r'<a class="timeline" href="/app/sample/net-pnet-gastrinoma">Timeline</a>', page)


def test_a_card_renders_hostile_text_as_text():
    card = {"uuid": '"><script>x</script>', "indicator": "warning", "summary": HOSTILE.splitlines()[0],
            "source": {"label": "<b>src</b>"}, "detail": '<img src=x onerror="alert(1)"><script>alert(2)</script>',
            "suggestions": [{"label": "<i>go</i>", "uuid": "s1", "actions": [
                {"type": "create", "description": "<img src=x>",
                 "resource": {"resourceType": "MedicationRequest",
                              "medicationCodeableConcept": {"text": "<u>x</u>"}}}]}],
            "overrideReasons": [{"code": '"c', "system": "s", "display": "<em>why</em>"}],
            "links": [{"label": "bad", "url": "javascript:alert(1)", "type": "absolute"}]}
    rendered = card_html(card, interactive=True)
    for tag in ("<script", "<img", "<span style", "<b>", "<i>", "<u>", "<em>"):
        assert tag not in rendered
    assert 'href="javascript' not in rendered and "&lt;script&gt;" in rendered


def test_the_demo_page_feedback_goes_to_the_real_endpoint_and_is_stored(tmp_path):
    from cds_service.config import Settings

    app = create_app(isolated(Settings().with_overrides(auth="disabled"), tmp_path))
    client = app.test_client()
    page = client.get("/?sample=net-pnet-gastrinoma&hook=order-sign").get_data(as_text=True)
    (indicator, uuid), = _cards_on(page, "order-sign")
    reason = re.search(r'<button type="button" class="reason" data-code="([^"]+)" data-system="([^"]+)"', page)
    body = {"feedback": [{"card": uuid, "outcome": "overridden", "outcomeTimestamp": "2026-11-28T10:00:00Z",
                          "overrideReason": {"reason": {"code": reason[1], "system": reason[2]}}}]}
    assert client.post("/cds-services/net-order-sign/feedback", json=body).get_json() == {"stored": 1, "duplicate": 0}
    assert indicator == "warning"

"""The timeline page: every sample renders, values are text, no outside asset, development only."""

from __future__ import annotations

import re

import pytest

from cds_service.app import create_app
from cds_service.commands.explain import record_from_bundles
from cds_service.samples import list_samples
from cds_service.timeline.render import timeline_page
from tests.unit.profile import builders as b

SAMPLES = [s.id for s in list_samples()]
MAX_PAGE_BYTES = 500 * 1024


@pytest.fixture(scope="module")
def client():
    return create_app({"environment": "development", "auth": "disabled"}).test_client()


@pytest.mark.parametrize("sample_id", SAMPLES)
def test_every_sample_renders_within_the_size_limit(client, sample_id):
    answer = client.get(f"/app/sample/{sample_id}")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert len(answer.data) < MAX_PAGE_BYTES
    assert f"<strong>{sample_id}</strong>" in page
    assert "Every rule, fired or not" in page
    assert answer.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_the_page_loads_nothing_from_elsewhere(client):
    page = client.get("/app/sample/net-si-after-prrt-early").get_data(as_text=True)
    targets = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert targets == ["/app/static/timeline.css"]
    assert "<script" not in page
    css = client.get("/app/static/timeline.css")
    assert css.status_code == 200 and "@media print" in css.get_data(as_text=True)
    assert "url(" not in css.get_data(as_text=True)  # no font or image fetched by the stylesheet


def test_charts_have_text_alternatives(client):
    page = client.get("/app/sample/net-si-after-prrt-early").get_data(as_text=True)
    assert 'role="img"' in page and 'aria-labelledby="tl-title"' in page and 'aria-describedby="tl-tables"' in page
    assert "<caption>Therapies</caption>" in page
    assert page.count("PRRT dose ") >= 6  # six doses, each mark with its date as its title
    assert 'lang="en"' in page


def test_a_large_many_dose_history_is_one_page_under_the_limit():
    """A large record (the bench's padded sample) still makes a page well under 500 KB."""
    from bench.timeline_render import padded_record

    page = timeline_page(padded_record(500), "/app/static/timeline.css")
    assert len(page.encode()) < MAX_PAGE_BYTES


def test_text_from_fhir_is_text_never_markup():
    hostile = "<img src=x onerror=alert(1)>"
    record = b.record(b.ileal_net(), b.condition("C7A.1", text=hostile, verification="provisional"),
                      b.ki67(5, when="2026-01-02"))
    page = timeline_page(record, "/app/static/timeline.css")
    assert hostile not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_production_has_no_sample_route():
    client = create_app({"environment": "production", "auth": "disabled", "public_base_url": "https://cds.example.org",
                         "allowed_fhir_servers": ("https://fhir.example.org",)}).test_client()
    assert client.get("/app/sample/net-pnet-gastrinoma").status_code == 404


def test_unknown_sample_is_404(client):
    answer = client.get("/app/sample/no-such-patient")
    assert answer.status_code == 404 and "no-such-patient" in answer.get_json()["issue"][0]["diagnostics"]


def test_sample_bundles_are_what_the_route_renders():
    sample = list_samples()[3]
    page = timeline_page(record_from_bundles(sample.bundle()), "/x.css")
    assert sample.id in page

"""Decision-support source attributes (HTI-1 style) served; browsers may read Server-Timing (CORS)."""

from __future__ import annotations

import re

import yaml

from cds_service.app import create_app
from cds_service.cards.data import cards_dir


def test_source_attributes_are_served_with_every_evidence_source_dated(client) -> None:
    response = client.get("/cds-services/source-attributes")
    assert response.status_code == 200
    body = response.get_json()
    for key in ("developer", "funding", "intendedUse", "intendedUsers", "knownLimits", "knowledgeBase", "evidence"):
        assert body[key], key
    assert body["knowledgeBase"]["version"] == "2"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", body["knowledgeBase"]["lastClinicalReview"])
    sources = yaml.safe_load((cards_dir() / "sources.yaml").read_text())
    assert len(body["evidence"]) == len(sources)
    for item in body["evidence"]:
        assert item["url"].startswith("https://") and re.fullmatch(r"\d{4}(-\d{2})?", item["date"]), item


def test_every_card_names_the_knowledge_base_version(client) -> None:
    from cds_service.samples import get_sample
    from cds_service.services.registry import load_services
    from cds_service.tiny_ehr import hook_request, prefetch_from_bundle

    service = load_services()["net-patient-view"]
    bundle = get_sample("net-si-progressing-on-ssa").bundle()
    body = hook_request(service, "net-si-progressing-on-ssa",
                        prefetch=prefetch_from_bundle(service, bundle, "net-si-progressing-on-ssa"))
    cards = client.post("/cds-services/net-patient-view", json=body).get_json()["cards"]
    assert cards and all(c["extension"]["org.net-cds.card"]["knowledgeBase"]["version"] == "2" for c in cards)


def test_allowed_origins_may_read_server_timing_others_get_no_cors_headers() -> None:
    client = create_app({"cors_origins": ("https://sandbox.cds-hooks.org",)}).test_client()
    ok = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert "Server-Timing" in ok.headers["Access-Control-Expose-Headers"]
    assert ok.headers["Timing-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    other = client.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers and "Timing-Allow-Origin" not in other.headers

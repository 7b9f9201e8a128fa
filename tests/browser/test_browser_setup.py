"""The browser harness itself: Chromium reaches the service on loopback, nothing else, and axe-core runs."""

from __future__ import annotations

import pytest

from cds_service.config import REPO_ROOT
from tests.browser.accessibility import axe_violations


def test_the_browser_reads_the_live_services_discovery(browser_page, live_service):
    service = live_service()
    answer = browser_page.goto(service.url("/cds-services"))
    assert answer is not None and answer.status == 200
    assert "net-patient-view" in browser_page.content()
    assert browser_page.blocked == []


def test_a_request_to_another_host_is_aborted_and_listed(browser_page):
    from playwright.sync_api import Error

    with pytest.raises(Error, match="ERR_BLOCKED_BY_CLIENT"):
        browser_page.goto("http://example.org/")
    with pytest.raises(Error, match="ERR_BLOCKED_BY_CLIENT"):
        browser_page.goto("http://localhost:9/")  # loopback by another name is refused too
    assert browser_page.blocked == ["http://example.org/", "http://localhost:9/"]


def test_axe_finds_a_planted_violation_and_none_in_the_cards_demo(browser_page):
    browser_page.set_content('<html lang="en"><body><img src="data:,"></body></html>')  # an image without alt
    assert "image-alt" in {v["id"] for v in axe_violations(browser_page)}
    browser_page.set_content((REPO_ROOT / "docs" / "cards-demo.html").read_text(encoding="utf-8"))
    assert axe_violations(browser_page) == []

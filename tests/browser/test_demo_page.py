"""The demo page at / in a real browser, against `net-cds serve` on loopback: a newcomer picks a sample, reads
the cards the hook answers, dismisses one with a reason (stored by the feedback endpoint), signs the drafted
order, with the keyboard alone if need be; hostile FHIR text stays text; axe finds no serious problem."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import requests
import yaml

from cds_service.config import REPO_ROOT
from cds_service.demo.ehr import request_for
from cds_service.samples import get_sample, sample_set_as_of
from tests.browser.accessibility import axe_violations
from tests.markup import HOSTILE

GASTRINOMA = "net-pnet-gastrinoma"  # a warning on its drafted once-daily PPI (O-PPI-3), with override reasons
TAB_LIMIT = 400


def _cards(page, hook: str):  # noqa: ANN001, ANN202
    return page.locator(f'section[data-hook="{hook}"] article.card')


def _answer_on_page(page, hook: str) -> dict:  # noqa: ANN001
    """The hook's JSON answer as the page shows it under "Request and answer"."""
    return json.loads(page.locator(f'section[data-hook="{hook}"] details.json pre').nth(1).text_content())


def _stored_feedback(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT service_id, card_uuid, outcome, reason_code FROM feedback").fetchall()


def test_picking_a_sample_shows_the_cards_the_hook_answers(browser_page, live_service):
    service = live_service()
    page = browser_page
    page.goto(service.url("/"))
    page.select_option("#sample", GASTRINOMA)
    with page.expect_navigation():
        page.get_by_role("button", name="Open chart").click()
    sample = get_sample(GASTRINOMA)
    ehr = requests.post(service.url("/cds-services/net-patient-view"), json=request_for("patient-view", sample),
                        timeout=60).json()["cards"]
    shown = _cards(page, "patient-view")
    assert shown.count() == len(ehr) > 0
    assert [shown.nth(i).get_attribute("class") for i in range(len(ehr))] == [f"card {c['indicator']}" for c in ehr]
    assert [shown.nth(i).locator(".summary-text").inner_text() for i in range(len(ehr))] == [c["summary"] for c in ehr]
    assert [c["summary"] for c in _answer_on_page(page, "patient-view")["cards"]] == [c["summary"] for c in ehr]
    assert page.blocked == []  # every asset came from the service itself


def test_signing_the_draft_gives_the_ppi_alert_and_a_dismissal_is_stored(browser_page, live_service):
    service = live_service()
    page = browser_page
    page.goto(service.url(f"/?sample={GASTRINOMA}"))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign the order").click()
    alert = _cards(page, "order-sign").filter(has_text="twice daily")
    assert alert.count() == 1 and alert.get_attribute("class") == "card warning"
    uuid = alert.get_attribute("data-card")
    card = next(c for c in _answer_on_page(page, "order-sign")["cards"] if c["uuid"] == uuid)
    assert "O-PPI-3" in card["extension"]["org.net-cds.card"]["rules"]

    alert.locator("details.suggestion summary").first.click()  # what the suggestion would do
    assert "twice" in alert.locator("details.suggestion .actions-list").first.inner_text().lower()
    alert.get_by_text("Dismiss…").click()
    reason = alert.locator("button.reason").first
    code = reason.get_attribute("data-code")
    reason.click()
    alert.locator('.feedback-status:has-text("Feedback sent")').wait_for()
    assert _stored_feedback(service.feedback_db) == [("net-order-sign", card["uuid"], "overridden", code)]


def test_order_select_shows_the_same_alert_as_order_sign(browser_page, live_service):
    service = live_service()
    page = browser_page
    summaries = {}
    for hook, button in (("order-select", "Select the order"), ("order-sign", "Sign the order")):
        page.goto(service.url(f"/?sample={GASTRINOMA}"))
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()
        summaries[hook] = _cards(page, hook).locator(".summary-text").all_inner_texts()
    assert summaries["order-select"] == summaries["order-sign"] and summaries["order-sign"]


def _hostile_data_dir(folder: Path) -> Path:
    """A data folder with one sample, the gastrinoma, whose drafted order's text is markup and markdown."""
    sample = get_sample(GASTRINOMA)
    for name in ("cards", "mappings"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to(REPO_ROOT / name)
    samples = folder / "samples"
    (samples / "drafts").mkdir(parents=True)
    shutil.copy(sample.file, samples / sample.file.name)
    draft = sample.draft_orders()
    draft["entry"][0]["resource"]["medicationCodeableConcept"]["text"] = "omeprazole " + HOSTILE.replace("\n", " ")
    (samples / "drafts" / "hostile.json").write_text(json.dumps(draft), encoding="utf-8")
    index = {"as_of": sample_set_as_of().isoformat(),
             "samples": [{"id": GASTRINOMA, "file": sample.file.name, "title": "<b>bold</b> title",
                          "draft": "drafts/hostile.json"}]}
    (samples / "index.yaml").write_text(yaml.safe_dump(index), encoding="utf-8")
    return folder


def test_fhir_text_with_markup_is_shown_as_text(browser_page, live_service, tmp_path):
    """Safety invariant 7 on the page: the draft's text (markup, markdown, links, images) reaches the card
    and the order list as the characters it is; nothing in it becomes an element or a request."""
    service = live_service({"NET_CDS_DATA_DIR": str(_hostile_data_dir(tmp_path / "data"))})
    page = browser_page
    page.goto(service.url(f"/?sample={GASTRINOMA}&hook=order-sign"))
    cards = _cards(page, "order-sign")
    assert cards.count() >= 1
    assert '<img src="http://evil.example/x.png" onerror="alert(1)">' in cards.first.inner_text()
    assert '<script>alert(2)</script>' in page.locator("ul.drafts").inner_text()
    injected = page.evaluate("""() => [...document.querySelectorAll(
        'article.card img, article.card script, article.card span[style], ul.drafts *:not(li), option b')]
        .map(e => e.outerHTML)""")
    assert injected == []
    assert page.blocked == []  # no image or link target was fetched


def test_the_demo_page_has_no_serious_accessibility_violation(browser_page, live_service):
    service = live_service()
    page = browser_page
    page.goto(service.url(f"/?sample={GASTRINOMA}&hook=order-sign"))
    for summary in page.locator("details > summary").all():  # open everything: suggestions, reasons, JSON
        summary.click()
    assert axe_violations(page) == []
    page.goto(service.url("/"))
    assert axe_violations(page) == []


def _tab_to(page, selector: str) -> None:  # noqa: ANN001
    """Press Tab until the focused element matches `selector` (fail after TAB_LIMIT presses)."""
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_every_control_is_reachable_and_usable_with_the_keyboard(browser_page, live_service):
    service = live_service()
    page = browser_page
    page.goto(service.url("/"))
    _tab_to(page, "#sample")
    page.keyboard.press("End")  # the last sample in the list
    _tab_to(page, "form.picker button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#sample").input_value() == page.locator("#sample option").last.get_attribute("value")

    page.goto(service.url(f"/?sample={GASTRINOMA}"))
    _tab_to(page, 'button[value="order-sign"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, 'section[data-hook="order-sign"] details.override > summary')
    page.keyboard.press("Enter")
    _tab_to(page, 'section[data-hook="order-sign"] button.reason')
    page.keyboard.press("Enter")
    page.locator('section[data-hook="order-sign"] .feedback-status:has-text("Feedback sent")').wait_for()
    assert [row[2] for row in _stored_feedback(service.feedback_db)] == ["overridden"]

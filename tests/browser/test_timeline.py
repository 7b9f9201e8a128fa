"""The timeline in Chromium: a sample's page and the SMART launch end to end, as a clinician's browser
runs them. The launch uses the same real servers as tests/integration/test_smart_launch.py (an Authlib
authorization server with SMART launch context in front of sekmet), clicked through in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from cds_service.commands.explain import record_from_bundles
from cds_service.samples import get_sample, sample_set_as_of
from cds_service.timeline.render import timeline_for
from tests.browser.accessibility import axe_violations
from tests.integration.conftest import sekmet_server  # noqa: F401 - the FHIR test server fixture
from tests.integration.smart_launch import (
    AS_OF,
    OTHER_PATIENT,
    PATIENT,
    SmartStack,
    check_timeline,
    running_smart_stack,
)

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop_page(chromium, browser_page) -> Iterator[object]:
    """browser_page at a 1366x768 laptop's size."""
    browser_page.set_viewport_size(LAPTOP)
    yield browser_page


def test_a_sample_timeline_fits_a_laptop_screen_and_says_what_the_profile_says(live_service, laptop_page):
    service = live_service()
    laptop_page.goto(service.url(f"/app/sample/{PATIENT}"))
    assert laptop_page.blocked == []
    size = laptop_page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size[0] <= LAPTOP["width"] and size[1] <= LAPTOP["height"], f"page is {size}: it scrolls"
    assert sample_set_as_of() == date.fromisoformat(AS_OF)  # the date check_timeline evaluates the sample as of
    check_timeline(laptop_page.content(), PATIENT)
    expected = timeline_for(_record(PATIENT))
    prrt = next(b for b in expected.therapies if b.therapy == "prrt")
    marks = laptop_page.locator("svg.timeline path.dose title").all_text_contents()
    assert marks == [f"PRRT dose {i} on {d}" for i, d in enumerate(prrt.doses, 1)]


def test_the_explain_view_opens_from_the_keyboard(live_service, laptop_page):
    service = live_service()
    laptop_page.goto(service.url(f"/app/sample/{OTHER_PATIENT}"))
    table = laptop_page.locator("table.explain-table")
    assert not table.is_visible()
    summary = laptop_page.locator("details.explain > summary")
    for _ in range(20):  # Tab until the explain view's toggle has the focus
        laptop_page.keyboard.press("Tab")
        if summary.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("the explain view cannot be reached with the keyboard")
    laptop_page.keyboard.press("Enter")
    assert table.is_visible() and table.locator("tbody tr").count() == len(timeline_for(_record(OTHER_PATIENT)).rules)


def test_the_timeline_has_no_serious_accessibility_violation(live_service, chromium):
    """axe-core, injected into the page: the page's own CSP forbids scripts, so this context bypasses it."""
    service = live_service()
    context = chromium.new_context(viewport=LAPTOP, bypass_csp=True)
    try:
        page = context.new_page()
        for sample in (PATIENT, OTHER_PATIENT):
            page.goto(service.url(f"/app/sample/{sample}"))
            assert axe_violations(page) == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def smart_stack(sekmet_server, tmp_path_factory) -> Iterator[SmartStack]:  # noqa: F811
    with running_smart_stack(sekmet_server, tmp_path_factory.mktemp("smart-browser")) as stack:
        yield stack


def test_ehr_launch_in_chromium(smart_stack: SmartStack, laptop_page):
    laptop_page.goto(f"{smart_stack.service}/app/launch?iss={smart_stack.fhir}&launch=launch-1")
    assert laptop_page.url.startswith(f"{smart_stack.auth}/authorize")
    laptop_page.get_by_role("button", name="Approve").click()
    laptop_page.wait_for_url(f"{smart_stack.service}/app/timeline")
    smart_stack.check_timeline(laptop_page.content(), PATIENT)
    assert laptop_page.blocked == []


def test_standalone_launch_in_chromium(smart_stack: SmartStack, laptop_page):
    laptop_page.goto(f"{smart_stack.service}/app/standalone")
    laptop_page.get_by_label("Patient").select_option(OTHER_PATIENT)
    laptop_page.get_by_role("button", name="Approve").click()
    laptop_page.wait_for_url(f"{smart_stack.service}/app/timeline")
    smart_stack.check_timeline(laptop_page.content(), OTHER_PATIENT)


def _record(patient: str):
    record = record_from_bundles(get_sample(patient).bundle())
    record.as_of = sample_set_as_of()
    return record

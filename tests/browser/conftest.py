"""A real browser for the tests: Debian's Chromium, headless, driven by Playwright, on loopback only.

* `browser_page`: a fresh page (own context) that aborts every request not to 127.0.0.1 and lists what it
  aborted in `page.blocked` (no CDN, no other host: a page that needs one shows it broken, and a test can
  assert the list is empty).
* `live_service(env)`: starts `net-cds serve` (Flask's server, --dev) on a free loopback port with the
  environment given (feedback and jti databases in the test's folder), stopped after the test.
* `axe_violations(page)` (tests/browser/accessibility.py): axe-core's violations of the given impacts.

Playwright never downloads a browser here: it launches `shutil.which("chromium")`. Chromium or axe-core
missing (`scripts/bootstrap --test` installs both): skipped locally, a failure under CI=true.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cds_service.config import REPO_ROOT
from tests.browser.accessibility import unavailable
from tests.integration.processes import Started, start, stop

LOOPBACK = "127.0.0.1"
ACTION_TIMEOUT_MS = 30_000  # a busy machine is slow, never wrong: each browser action may wait this long
_SCHEMES_WITHOUT_HOST = ("data", "blob", "about")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in tests/browser carries the `browser` marker (-m "not browser" leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the session (Debian's; --no-sandbox because the tests may run as root)."""
    executable = shutil.which("chromium")
    if not executable:
        unavailable("Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


def is_loopback(url: str) -> bool:
    """Whether a request to `url` stays on this machine's 127.0.0.1 (or needs no host at all)."""
    parts = urlsplit(url)
    return parts.scheme in _SCHEMES_WITHOUT_HOST or parts.hostname == LOOPBACK


@pytest.fixture
def browser_page(chromium) -> Iterator[object]:
    """A page in its own context; every request to another host than 127.0.0.1 is aborted and listed
    in `page.blocked`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    blocked: list[str] = []

    def guard(route) -> None:  # noqa: ANN001 (playwright's Route)
        if is_loopback(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    page.blocked = blocked
    yield page
    context.close()


@dataclass
class LiveService:
    """A running `net-cds serve`: its base URL, process, log and the feedback database it writes."""

    base_url: str
    started: Started
    feedback_db: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """Start `net-cds serve --dev` on a free loopback port: `live_service({"NET_CDS_ENV": "demo"})`.
    Its feedback and jti databases are in the test's folder; every service started is stopped after."""
    running: list[LiveService] = []

    def launch(env: dict[str, str] | None = None) -> LiveService:
        folder = tmp_path / f"service{len(running)}"
        folder.mkdir()
        settings = {"NET_CDS_ENV": "development", "NET_CDS_FEEDBACK_DB": str(folder / "feedback.sqlite3"),
                    "NET_CDS_JTI_DB": "memory", "NET_CDS_LOG_LEVEL": "WARNING", **(env or {})}
        started = start("net-cds serve", [sys.executable, "-m", "cds_service.cli", "serve", "--dev",
                                          "--host", LOOPBACK],
                        cwd=REPO_ROOT, env=settings, ready_url=lambda port: f"http://{LOOPBACK}:{port}/livez",
                        log=folder / "serve.log", port_env=None, port_arg=lambda port: ["--port", str(port)])
        service = LiveService(f"http://{LOOPBACK}:{started.port}", started, Path(settings["NET_CDS_FEEDBACK_DB"]))
        running.append(service)
        return service

    yield launch
    for service in running:
        stop(service.started.process)

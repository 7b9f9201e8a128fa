"""Regenerate the README's screenshots (docs/img/*.png) from the running service, in Debian's headless Chromium.

    .venv/bin/python tools/screenshots.py [--out docs/img]

Starts `net-cds serve --dev` on a free loopback port (development mode, databases in a temporary folder),
opens the demo page at `/` as a newcomer would, and photographs: the chart-opening cards of one sample
(cards-panel.png), the order-sign alert on a drafted PPI with its override reasons open (order-sign.png), and,
when the SMART app's `/app/sample/<id>` route answers, that sample's timeline (timeline.png). Requests to any
other host than 127.0.0.1 are refused. Look at every PNG before committing it; each should stay under 150 KB.
Needs `scripts/bootstrap --test` (Playwright and chromium).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
CARDS_SAMPLE = "net-si-progressing-on-ssa"
ORDER_SAMPLE = "net-pnet-gastrinoma"
TIMELINE_SAMPLE = "net-si-after-prrt-durable"  # SSA bar, PRRT dose marks, Ki-67, SSTR imaging, progression
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_service(folder: Path) -> tuple[subprocess.Popen, str]:
    """`net-cds serve --dev` on a free loopback port, its state in `folder`; (process, base URL) once it answers."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NET_CDS_")}
    env.update(NET_CDS_ENV="development", NET_CDS_FEEDBACK_DB=str(folder / "feedback.sqlite3"),
               NET_CDS_JTI_DB="memory", NET_CDS_LOG_LEVEL="WARNING")
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "cds_service.cli", "serve", "--dev", "--host", "127.0.0.1",
                                "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base}/livez", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"screenshots: net-cds serve did not start; see {folder / 'serve.log'}")


def _loopback_only(route) -> None:  # noqa: ANN001 (playwright's Route)
    parts = urlsplit(route.request.url)
    if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort("blockedbyclient")


def _shoot(page, selectors: list[str], path: Path) -> None:  # noqa: ANN001
    """A screenshot of the smallest rectangle holding every element of `selectors` (8 px margin)."""
    boxes = [page.locator(s).first.bounding_box() for s in selectors]
    left, top = min(b["x"] for b in boxes) - 8, min(b["y"] for b in boxes) - 8
    right, bottom = max(b["x"] + b["width"] for b in boxes) + 8, max(b["y"] + b["height"] for b in boxes) + 8
    page.screenshot(path=str(path), full_page=True,
                    clip={"x": max(left, 0), "y": max(top, 0), "width": right - left, "height": bottom - top})
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def take(base: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if not executable:
        raise SystemExit("screenshots: Debian's chromium is missing (scripts/bootstrap --test installs it)")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", _loopback_only)
        page = context.new_page()

        page.goto(f"{base}/?sample={CARDS_SAMPLE}")
        _shoot(page, ['section[data-hook="patient-view"]'], out / "cards-panel.png")

        page.goto(f"{base}/?sample={ORDER_SAMPLE}&hook=order-sign")
        page.locator('section[data-hook="order-sign"] details.override > summary').first.click()
        _shoot(page, ["section.orders", 'section[data-hook="order-sign"]'], out / "order-sign.png")

        timeline = f"{base}/app/sample/{TIMELINE_SAMPLE}"
        if requests.get(timeline, timeout=60).status_code == 200:
            page.set_viewport_size({"width": 1280, "height": 800})
            page.goto(timeline)
            bottom = page.evaluate("Math.max(...[...document.body.children]"
                                   ".map(e => e.getBoundingClientRect().bottom))")
            page.screenshot(path=str(out / "timeline.png"), clip={"x": 0, "y": 0, "width": 1280,
                                                                   "height": min(bottom + 12, 800)})
            print(f"wrote {out / 'timeline.png'} ({(out / 'timeline.png').stat().st_size // 1024} KB)")
        else:
            print("no timeline.png: this service has no /app/sample/<id> page")
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="net-cds-screenshots-") as folder:
        process, base = _start_service(Path(folder))
        try:
            take(base, args.out)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

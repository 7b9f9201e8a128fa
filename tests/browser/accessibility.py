"""axe-core in the page under test: the accessibility check of the browser tests (tests/browser/install
puts axe-core in tests/browser/axe/node_modules from npm)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """What the browser tests need is missing: skip locally, fail loudly in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run; scripts/bootstrap --test installs it)",
                    pytrace=False)
    pytest.skip(f"{reason}; scripts/bootstrap --test installs it")


def axe_violations(page, impact: frozenset[str] | set[str] = frozenset({"serious", "critical"})) -> list[dict]:  # noqa: ANN001
    """axe-core's violations with one of these impacts on `page` as it is now: [{id, impact, help, targets}]."""
    if not AXE_JS.exists():
        unavailable(f"axe-core is not installed ({AXE_JS} is missing)")
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [node["target"] for node in v["nodes"]]}
            for v in result["violations"] if v["impact"] in impact]

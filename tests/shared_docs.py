"""Where the project's shared documents are: `../shared` beside the checkout (as in CI), else /work/shared."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()), REPO.parent / "shared")
SEEDS = SHARED / "seeds"

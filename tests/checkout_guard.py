"""Proof that a test run leaves the checkout as it found it: no feedback rows, jti entries, stray files.

The service keeps its state in `var/` of the data folder (the checkout by default), so a test that
forgets to point a database at a temporary folder would add rows to the user's own data. The suite
snapshots every file git does not track (where such state lands) before the run and compares after.
Tracked files are left out so that editing code while the suite runs is not reported; the tools' own
caches (bytecode, pytest's cache for --lf, ruff's) are left out as well.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# Folders the run may write or that the set-up owns: virtualenvs, the test FHIR servers, the tools' caches.
SKIPPED_DIRS = frozenset({".git", ".venv", ".fhir-servers", "node_modules", "__pycache__", ".pytest_cache",
                          ".ruff_cache"})

Snapshot = dict[str, tuple[int, int]]  # relative path -> (size, mtime in ns)


def _tracked(root: Path) -> set[str]:
    """The files git tracks under `root` (empty when it is not a git checkout)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True,
                              timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {name for name in done.stdout.decode("utf-8", "replace").split("\0") if name}


def snapshot(root: Path) -> Snapshot:
    """Size and modification time of every untracked file under `root`, outside the skipped folders."""
    tracked = _tracked(root)
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".venv")]
        for name in files:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if relative in tracked:
                continue
            try:
                info = path.lstat()
            except OSError:  # removed while we looked
                continue
            found[relative] = (info.st_size, info.st_mtime_ns)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What happened between two snapshots, one line per file: created, changed or removed."""
    lines = [f"created {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    lines += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    return lines

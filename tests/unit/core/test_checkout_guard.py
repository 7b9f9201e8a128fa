"""The guard that proves a test run leaves the checkout alone (tests/checkout_guard.py) sees what it must."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.checkout_guard import changes, snapshot


def _checkout(root: Path) -> Path:
    """A small git checkout: one tracked file, an existing var/ database, a venv and a bytecode cache."""
    (root / "cds_service").mkdir(parents=True)
    (root / "cds_service" / "app.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "cds_service/app.py"], check=True)
    (root / "var").mkdir()
    (root / "var" / "feedback.sqlite3").write_bytes(b"rows")
    for cache in (".venv/lib", "cds_service/__pycache__", ".pytest_cache"):
        (root / cache).mkdir(parents=True)
    return root


def test_a_row_added_to_the_checkouts_database_or_a_new_file_is_reported(tmp_path):
    root = _checkout(tmp_path / "checkout")
    before = snapshot(root)
    assert changes(before, snapshot(root)) == []
    database = root / "var" / "feedback.sqlite3"
    database.write_bytes(b"rows and one more")
    (root / "var" / "jti.sqlite3").write_bytes(b"")
    (root / ".hypothesis").mkdir()
    (root / ".hypothesis" / "examples").write_bytes(b"")
    assert changes(before, snapshot(root)) == ["created .hypothesis/examples", "created var/jti.sqlite3",
                                               "changed var/feedback.sqlite3"]


def test_same_size_rewrite_and_removal_are_reported(tmp_path):
    root = _checkout(tmp_path / "checkout")
    database = root / "var" / "feedback.sqlite3"
    before = snapshot(root)
    stat = database.stat()
    database.write_bytes(b"ROWS")
    os.utime(database, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert changes(before, snapshot(root)) == ["changed var/feedback.sqlite3"]
    database.unlink()
    assert changes(before, snapshot(root)) == ["removed var/feedback.sqlite3"]


def test_tracked_files_and_the_tools_caches_are_not_the_guards_business(tmp_path):
    root = _checkout(tmp_path / "checkout")
    before = snapshot(root)
    (root / "cds_service" / "app.py").write_text("x = 2  # edited while the suite runs\n")
    (root / "cds_service" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"")
    (root / ".venv" / "lib" / "site.py").write_text("")
    (root / ".pytest_cache" / "lastfailed").write_text("{}")
    assert changes(before, snapshot(root)) == []

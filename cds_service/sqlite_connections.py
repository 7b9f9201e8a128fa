"""Long-lived SQLite connections, one per thread and process, for the feedback store and jti cache.

Opening a connection per request costs a file open, schema checks and, on close, a sync of the WAL:
1-2 ms on a quiet disk and tens of ms on a busy one (BENCHMARKS.md). A connection is never shared
between threads (sqlite3's rule) nor across a fork (gunicorn workers), hence the pid check.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path


class SqliteConnections:
    """`get()` returns this thread's connection to `path`, opening it (WAL mode) on first use."""

    def __init__(self, path: Path, timeout: float = 10.0, isolation_level: str | None = "") -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._isolation_level = isolation_level
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is not None and self._local.pid == os.getpid():
            return db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=self._isolation_level,
                             check_same_thread=True)
        db.execute("PRAGMA journal_mode=WAL")
        self._local.db, self._local.pid = db, os.getpid()
        return db

"""`jti` replay caches: a token's (iss, jti) is accepted once, and remembered until the token expires.

`MemoryReplayCache` is per process: with several gunicorn workers a token replayed to another
worker is not detected. `SqliteReplayCache` (the default when authentication is on) shares one
SQLite file between the workers of a host; the primary key makes "first use wins" atomic.
Several hosts share `PostgresReplayCache` (replay_postgres.py). All are bounded (SQLite and
PostgreSQL check their size every `check_every` inserts per process): when full of unexpired entries
they refuse new tokens (fail closed) rather than forget one and let it be replayed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from cds_service.sqlite_connections import SqliteConnections

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 200_000


class ReplayCache(Protocol):
    def first_use(self, iss: str, jti: str, expires_at: float, retry_key: str | None = None) -> bool:
        """True (and remember it) if this (iss, jti) was not seen before; False for a replay or when full.

        `retry_key` (the trusted proxy's request id, or None) lets the shared PostgreSQL cache accept the
        same request retried by the proxy on another replica; the single-host caches ignore it.
        """


class MemoryReplayCache:
    """In-process, thread-safe, bounded."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, clock=time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def first_use(self, iss: str, jti: str, expires_at: float, retry_key: str | None = None) -> bool:
        key = (iss, jti)
        now = self._clock()
        with self._lock:
            previous = self._seen.get(key)
            if previous is not None and previous >= now:
                return False
            if len(self._seen) >= self._max:
                self._seen = {k: exp for k, exp in self._seen.items() if exp >= now}
                if len(self._seen) >= self._max:
                    log.warning("jti replay cache full; refusing new tokens until entries expire")
                    return False
            self._seen[key] = expires_at
            return True


class SqliteReplayCache:
    """Shared by every process that opens the same file."""

    def __init__(self, path: Path, max_entries: int = DEFAULT_MAX_ENTRIES, clock=time.time,
                 check_every: int = 256) -> None:
        self._path = Path(path)
        self._connections = SqliteConnections(self._path, timeout=5.0, isolation_level=None)
        self._check_every = check_every
        self._max = max_entries
        self._clock = clock
        self._inserts = 0
        self._full = False
        self._connect().execute("CREATE TABLE IF NOT EXISTS seen_jti (iss TEXT NOT NULL, jti TEXT NOT NULL, "
                                "expires_at REAL NOT NULL, PRIMARY KEY (iss, jti))")

    def _connect(self) -> sqlite3.Connection:
        db = self._connections.get()
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def first_use(self, iss: str, jti: str, expires_at: float, retry_key: str | None = None) -> bool:
        now = self._clock()
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            if self._inserts % self._check_every == 0:  # drop expired entries, re-check the bound
                db.execute("DELETE FROM seen_jti WHERE expires_at < ?", (now,))
                (count,) = db.execute("SELECT count(*) FROM seen_jti").fetchone()
                self._full = count >= self._max
            row = db.execute("SELECT expires_at FROM seen_jti WHERE iss = ? AND jti = ?", (iss, jti)).fetchone()
            if (row is not None and row[0] >= now) or (row is None and self._full):
                db.execute("ROLLBACK")
                if row is None:
                    log.warning("jti replay cache full; refusing new tokens until entries expire")
                return False
            db.execute("INSERT OR REPLACE INTO seen_jti (iss, jti, expires_at) VALUES (?, ?, ?)",
                       (iss, jti, expires_at))
            db.execute("COMMIT")
            self._inserts += 1
            return True
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def open_replay_cache(spec: str, host_path: Path | None = None, fallback: str = "local") -> ReplayCache:
    """"memory" for the in-process cache, a postgresql:// URL for the cache shared by replicas (with the
    host's SQLite file `host_path` as its outage fallback unless `fallback` is "refuse"), else a SQLite path."""
    if spec == "memory":
        return MemoryReplayCache()
    if spec.startswith(("postgresql://", "postgres://")):
        from cds_service.postgres import PostgresDatabase
        from cds_service.security.replay_postgres import PostgresReplayCache

        local = SqliteReplayCache(host_path) if host_path is not None and fallback == "local" else None
        return PostgresReplayCache(PostgresDatabase(spec, "NET_CDS_JTI_DB"), local)
    return SqliteReplayCache(Path(spec))

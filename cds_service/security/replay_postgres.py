"""The jti replay cache in PostgreSQL, shared by every replica: a token used on one is refused on the others.

One statement decides "first use": an INSERT that, on conflict, only takes over an expired entry (or,
behind a trusted proxy, the same request retried on another replica: see `retry_key`), RETURNING a row
when the token is accepted. The primary key makes it atomic across replicas.

When the database is down, hooks must keep answering. The cache then falls back to the host's own
cache (`fallback`, SQLite shared by this host's workers): a replay to the same host is still refused,
a replay to another host during the outage is not. Tokens accepted during the outage are written to
PostgreSQL when it answers again, so once it is back they are refused everywhere. With
NET_CDS_JTI_FALLBACK=refuse, an outage refuses every token instead (fail closed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cds_service.postgres import PostgresDatabase
from cds_service.security.replay import DEFAULT_MAX_ENTRIES, ReplayCache

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    ("CREATE TABLE IF NOT EXISTS net_cds_seen_jti (iss TEXT NOT NULL, jti TEXT NOT NULL, "
     "expires_at DOUBLE PRECISION NOT NULL, request_key TEXT, PRIMARY KEY (iss, jti))",
     "CREATE INDEX IF NOT EXISTS net_cds_seen_jti_expires ON net_cds_seen_jti (expires_at)"),
)
_CLAIM = ("INSERT INTO net_cds_seen_jti AS seen (iss, jti, expires_at, request_key) VALUES (%s, %s, %s, %s) "
          "ON CONFLICT (iss, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at, request_key = EXCLUDED.request_key "
          "WHERE seen.expires_at < %s OR (seen.request_key IS NOT NULL AND seen.request_key = EXCLUDED.request_key) "
          "RETURNING 1")
_REMEMBER = ("INSERT INTO net_cds_seen_jti (iss, jti, expires_at) VALUES (%s, %s, %s) "
             "ON CONFLICT (iss, jti) DO NOTHING")
MAX_PENDING = 10_000


class PostgresReplayCache:
    """`first_use` against PostgreSQL, with the host cache as the outage fallback (None: fail closed)."""

    def __init__(self, database: PostgresDatabase, fallback: ReplayCache | None,
                 max_entries: int = DEFAULT_MAX_ENTRIES, check_every: int = 256,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = database
        self._fallback = fallback
        self._max = max_entries
        self._check_every = check_every
        self._clock = clock
        self._inserts = 0
        self._full = False
        self._pending: list[tuple[str, str, float]] = []  # accepted by the fallback, not yet in PostgreSQL
        self._lock = threading.Lock()
        self.on_fallback: Callable[[], None] = lambda: None  # metrics hook
        database.migrate_at_start("jti", MIGRATIONS)

    @property
    def location(self) -> str:
        return self._db.location

    def first_use(self, iss: str, jti: str, expires_at: float, retry_key: str | None = None) -> bool:
        try:
            return self._first_use(iss, jti, expires_at, retry_key)
        except self._db.errors as exc:
            if self._fallback is None:
                raise ConnectionError(f"jti cache {self.location} unavailable") from exc
            self.on_fallback()
            accepted = self._fallback.first_use(iss, jti, expires_at)
            if accepted:
                with self._lock:
                    if len(self._pending) < MAX_PENDING:
                        self._pending.append((iss, jti, expires_at))
            return accepted

    def _first_use(self, iss: str, jti: str, expires_at: float, retry_key: str | None) -> bool:
        now = self._clock()
        self._db.migrate("jti", MIGRATIONS)
        with self._db.connection() as conn:
            self._flush_pending(conn)
            if self._inserts % self._check_every == 0:  # drop expired entries, re-check the bound
                conn.execute("DELETE FROM net_cds_seen_jti WHERE expires_at < %s", (now,))
                (count,) = conn.execute("SELECT count(*) FROM net_cds_seen_jti").fetchone()
                self._full = count >= self._max
            if self._full:
                row = conn.execute("SELECT 1 FROM net_cds_seen_jti WHERE iss = %s AND jti = %s",
                                   (iss, jti)).fetchone()
                if row is None:
                    log.warning("jti replay cache full; refusing new tokens until entries expire")
                    return False
            accepted = conn.execute(_CLAIM, (iss, jti, expires_at, retry_key, now)).fetchone() is not None
        if accepted:
            self._inserts += 1
        return accepted

    def _flush_pending(self, conn: object) -> None:
        """Write the tokens accepted during an outage, so they are refused on every replica from now on."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            with conn.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.executemany(_REMEMBER, pending)
            log.info("jti cache: %d tokens accepted during the database outage written back", len(pending))
        except BaseException:
            with self._lock:
                self._pending = (pending + self._pending)[:MAX_PENDING]
            raise

    def reachable(self) -> bool:
        return self._db.reachable()

"""PostgreSQL for the state replicas share (feedback, jti replay cache): connections, outages, schema.

Several replicas behind a proxy share one database. Connections come from a small per-process pool
(at most MAX_OPEN in use; also right under gevent workers, where psycopg >= 3.1.14 cooperates by
itself). Three rules keep a database problem from becoming a hook problem:
- every wait is bounded: connecting gives up after `connect_timeout` seconds and each statement
  after `statement_timeout_ms`;
- once the database has failed, callers skip it for `retry_after` seconds instead of each paying
  the timeout again (`is_down()`), then one call tries again;
- the schema is created and migrated by the service itself (`migrate()`), under an advisory lock so
  replicas starting together do not race; a database that is down at start is migrated on first use.

psycopg is imported lazily: SQLite deployments do not need it installed.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from cds_service.security.policy import StartupError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 2
STATEMENT_TIMEOUT_MS = 2000
RETRY_AFTER_S = 2.0
MAX_OPEN = 4  # connections in use at once per process and database
SCHEMA_TABLE = ("CREATE TABLE IF NOT EXISTS net_cds_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL, "
                "migrated_at TIMESTAMPTZ NOT NULL DEFAULT now())")


def is_postgres_url(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def safe_location(url: str) -> str:
    """The URL without user or password, for log lines and messages."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{parts.hostname or ''}{port}{parts.path}"


def import_psycopg(setting: str) -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise StartupError(f"{setting} is a PostgreSQL URL but psycopg is not installed "
                           "(pip install 'net-cds[postgres]' or 'psycopg[binary]').") from exc
    return psycopg


def _closed_by_server(conn: Any) -> bool:
    """An idle connection whose socket is readable was closed by the server (restart, idle timeout):
    reconnect instead of failing the next statement. One poll, no round trip."""
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class DatabaseDown(Exception):
    """The database failed recently; it is not tried again until its retry time."""


class PostgresDatabase:
    """One database URL: a small per-process pool of connections (re-opened after a fork, a server restart
    or an error) and outage tracking.

    A pool rather than one connection per thread: under gevent workers every request is its own
    greenlet, and a connection per greenlet would mean a new connection per request and, in a burst,
    more connections than the server allows. At most `max_open` connections are in use per process;
    a caller waits for one at most `connect_timeout` seconds.
    """

    def __init__(self, url: str, setting: str, connect_timeout: float = CONNECT_TIMEOUT_S,
                 statement_timeout_ms: int = STATEMENT_TIMEOUT_MS, retry_after: float = RETRY_AFTER_S,
                 max_open: int = MAX_OPEN) -> None:
        self._psycopg = import_psycopg(setting)
        self.url = url
        self.location = safe_location(url)
        self._connect_timeout = connect_timeout
        self._statement_timeout_ms = statement_timeout_ms
        self._retry_after = retry_after
        self._max_open = max_open
        self._idle: list[Any] = []
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_open)
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._migrated: set[str] = set()

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """What a database problem raises (connection refused, timeout, server restart, ...)."""
        return (self._psycopg.Error, DatabaseDown, OSError)

    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _checkout(self) -> Any:
        """An idle pooled connection still open on both ends, or a new one."""
        with self._pool_lock:
            if self._pool_pid != os.getpid():  # forked (gunicorn worker): the parent's connections are not ours
                self._idle, self._pool_pid = [], os.getpid()
                self._slots = threading.BoundedSemaphore(self._max_open)
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not _closed_by_server(conn):
                    return conn
                with suppress(Exception):
                    conn.close()
        return self._psycopg.connect(self.url, connect_timeout=max(2, round(self._connect_timeout)),
                                     autocommit=True,
                                     options=f"-c statement_timeout={self._statement_timeout_ms}")

    def _checkin(self, conn: Any) -> None:
        with self._pool_lock:
            if self._pool_pid == os.getpid() and not conn.closed and len(self._idle) < self._max_open:
                self._idle.append(conn)
                return
        with suppress(Exception):
            conn.close()

    @contextmanager
    def connection(self, respect_outage: bool = True) -> Iterator[Any]:
        """An autocommit connection; `conn.transaction()` for atomic work. DatabaseDown while in an outage.

        A connection-level failure marks the database down for `retry_after` seconds and closes that
        connection, so the next try starts clean.
        """
        if respect_outage and self.is_down():
            raise DatabaseDown(self.location)
        slots = self._slots
        if not slots.acquire(timeout=self._connect_timeout):
            raise DatabaseDown(f"{self.location}: all {self._max_open} connections busy")
        conn = None
        try:
            conn = self._checkout()
            yield conn
        except (self._psycopg.OperationalError, self._psycopg.InterfaceError):
            if conn is not None:
                with suppress(Exception):  # closing a broken connection may fail too
                    conn.close()
            self._mark_down()
            raise
        finally:
            if conn is not None:
                self._checkin(conn)
            slots.release()
        self._down_until = 0.0

    def _mark_down(self) -> None:
        if not self.is_down():
            log.warning("PostgreSQL %s unreachable; retrying in %.0f s", self.location, self._retry_after)
        self._down_until = time.monotonic() + self._retry_after

    def migrate(self, component: str, migrations: Sequence[Sequence[str]], respect_outage: bool = True) -> None:
        """Bring `component`'s tables to version len(migrations): migration i (its statements) runs once.

        Replicas starting together serialise on an advisory lock; each migration commits with its version.
        During an outage it raises DatabaseDown at once (except at start, which always tries).
        """
        if component in self._migrated:
            return
        with self._lock, self.connection(respect_outage=respect_outage) as conn:
            if component in self._migrated:
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('net_cds_schema'))")
                conn.execute(SCHEMA_TABLE)
                row = conn.execute("SELECT version FROM net_cds_schema WHERE component = %s", (component,)).fetchone()
                current = row[0] if row else 0
                for version in range(current + 1, len(migrations) + 1):
                    for statement in migrations[version - 1]:
                        conn.execute(statement)
                    log.info("PostgreSQL %s: %s schema migrated to version %d", self.location, component, version)
                if current < len(migrations):
                    conn.execute("INSERT INTO net_cds_schema (component, version) VALUES (%s, %s) ON CONFLICT "
                                 "(component) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()",
                                 (component, len(migrations)))
            self._migrated.add(component)

    def migrate_at_start(self, component: str, migrations: Sequence[Sequence[str]]) -> bool:
        """Migrate now if the database answers; if not, log it and leave it to the first use (never raise)."""
        try:
            self.migrate(component, migrations, respect_outage=False)
            return True
        except self.errors as exc:
            log.warning("PostgreSQL %s not reachable at start (%s): %s schema is checked on first use",
                        self.location, type(exc).__name__, component)
            return False

    def reachable(self) -> bool:
        """One `SELECT 1` (bounded by the timeouts), for the readiness endpoint."""
        try:
            with self.connection(respect_outage=False) as conn:
                conn.execute("SELECT 1")
            return True
        except self.errors:
            return False

"""PostgreSQL for the state replicas share (feedback, jti replay cache): connections, outages, schema.

Several replicas behind a proxy share one database. Three rules keep a database problem from
becoming a hook problem:
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
    """One database URL: per-thread connections (re-opened after a fork or an error) and outage tracking."""

    def __init__(self, url: str, setting: str, connect_timeout: float = CONNECT_TIMEOUT_S,
                 statement_timeout_ms: int = STATEMENT_TIMEOUT_MS, retry_after: float = RETRY_AFTER_S) -> None:
        self._psycopg = import_psycopg(setting)
        self.url = url
        self.location = safe_location(url)
        self._connect_timeout = connect_timeout
        self._statement_timeout_ms = statement_timeout_ms
        self._retry_after = retry_after
        self._local = threading.local()
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._migrated: set[str] = set()

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """What a database problem raises (connection refused, timeout, server restart, ...)."""
        return (self._psycopg.Error, DatabaseDown, OSError)

    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid() and not conn.closed:
            if not _closed_by_server(conn):
                return conn
            with suppress(Exception):
                conn.close()
        conn = self._psycopg.connect(self.url, connect_timeout=max(1, round(self._connect_timeout)),
                                     autocommit=True,
                                     options=f"-c statement_timeout={self._statement_timeout_ms}")
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def connection(self, respect_outage: bool = True) -> Iterator[Any]:
        """An autocommit connection; `conn.transaction()` for atomic work. DatabaseDown while in an outage.

        A failure marks the database down for `retry_after` seconds and drops this thread's connection,
        so the next try starts clean.
        """
        if respect_outage and self.is_down():
            raise DatabaseDown(self.location)
        try:
            conn = self._connect()
            yield conn
        except (self._psycopg.OperationalError, self._psycopg.InterfaceError):
            self._mark_down()
            raise
        self._down_until = 0.0

    def _mark_down(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with suppress(Exception):  # closing a broken connection may fail too
                conn.close()
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

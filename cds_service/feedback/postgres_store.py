"""The feedback store on PostgreSQL, shared by every replica (NET_CDS_FEEDBACK_DB=postgresql://...).

Same tables and SQL as SQLite (store.py), with what a shared database needs:
- the schema is created and migrated at start (`PostgresDatabase.migrate`, versioned, under a lock);
- feedback is written in one transaction; while the database is down the endpoint answers 503 at once
  (no wait per request past the first), and the EHR retries;
- the issued cards of a hook answer are handed to a background writer: a hook never waits for the
  database and never fails because of it. While the database is down the writer keeps up to
  MAX_QUEUED_ROWS rows and writes them when it answers again; past that, rows are dropped and counted
  (net_cds_issued_cards_not_recorded_total).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cds_service import metrics
from cds_service.feedback.store import _INSERT_ISSUED, _TABLES, FeedbackStore, IssuedCard, utc_now
from cds_service.postgres import PostgresDatabase

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # version 1: the tables as the service created them before versioning (IF NOT EXISTS keeps them)
    tuple(s.strip() for s in _TABLES.format(id_column="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
          .split(";") if s.strip()),
    ("CREATE INDEX IF NOT EXISTS issued_cards_topic ON issued_cards (topic_system, topic_code)",),
)
MAX_QUEUED_ROWS = 20_000


class PostgresFeedbackStore(FeedbackStore):
    placeholder = "%s"
    id_column = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str, retry_after: float = 2.0) -> None:
        super().__init__()
        self._db = PostgresDatabase(url, "NET_CDS_FEEDBACK_DB", retry_after=retry_after)
        self.url = url
        self._writer = _IssuedCardsWriter(self)
        self._db.migrate_at_start("feedback", MIGRATIONS)

    @property
    def location(self) -> str:
        return self._db.location

    def reachable(self) -> bool:
        return self._db.reachable()

    def _ensure_schema(self) -> None:
        self._db.migrate("feedback", MIGRATIONS)

    @contextmanager
    def _connection(self, durable: bool) -> Iterator[Any]:
        with self._db.connection() as conn, conn.transaction():
            yield conn

    def record_issued(self, service_id: str, hook_instance: str, cards: Sequence[IssuedCard]) -> None:
        """Queue the rows for the background writer; returns at once."""
        now = utc_now()
        self._writer.put([(c.card_uuid, service_id, hook_instance, c.topic_system, c.topic_code, c.topic_display,
                           c.indicator, now) for c in cards])

    def write_issued_rows(self, rows: list[tuple]) -> None:
        """The writer's insert (also used to flush synchronously in tests and at exit)."""
        self._ensure_schema()
        with self._connection(durable=False) as conn, conn.cursor() as cursor:
            cursor.executemany(self._sql(_INSERT_ISSUED), rows)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the queued issued cards are written (True) or `timeout` passes (False)."""
        return self._writer.wait_empty(timeout)


class _IssuedCardsWriter:
    """One daemon thread per process (restarted after a fork) that writes queued issued-card rows."""

    def __init__(self, store: PostgresFeedbackStore) -> None:
        self._store = store
        self._rows: deque[tuple] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._pid = -1

    def put(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with self._cond:
            self._start_if_needed()
            room = MAX_QUEUED_ROWS - len(self._rows)
            if room < len(rows):
                metrics.ISSUED_NOT_RECORDED.inc()
                log.error("issued cards not recorded in %s: queue full", self._store.location)
                rows = rows[:max(room, 0)]
            self._rows.extend(rows)
            self._cond.notify()

    def wait_empty(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._rows or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def _start_if_needed(self) -> None:
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        threading.Thread(target=self._run, name="net-cds-issued-cards", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._rows:
                    self._cond.wait()
                batch = [self._rows.popleft() for _ in range(min(len(self._rows), 500))]
                self._busy = True
            try:
                self._store.write_issued_rows(batch)
            except Exception as exc:  # database down: keep the rows (bounded) and try again later
                log.warning("issued cards not yet recorded in %s (%s); will retry", self._store.location,
                            type(exc).__name__)
                with self._cond:
                    self._rows.extendleft(reversed(batch[:max(MAX_QUEUED_ROWS - len(self._rows), 0)]))
                    self._busy = False
                    self._cond.notify_all()
                time.sleep(1.0)
                continue
            with self._cond:
                self._busy = False
                self._cond.notify_all()

"""Durable feedback storage: SQLite (stdlib, WAL) by default, PostgreSQL through a database URL
(postgres_store.py: shared by replicas).

Two tables: `issued_cards` (every card the service returned: uuid -> service, topic, hookInstance)
and `feedback` (one row per (card uuid, outcome timestamp); repeats are ignored, so an EHR that
retries never double-counts). Connections are opened per operation and the schema is created on
first use, so a hook call never waits on a database that is not needed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cds_service.sqlite_connections import SqliteConnections


@dataclass(frozen=True)
class IssuedCard:
    card_uuid: str
    service_id: str
    hook_instance: str
    topic_system: str | None
    topic_code: str | None
    topic_display: str | None
    indicator: str | None


@dataclass(frozen=True)
class FeedbackEntry:
    service_id: str
    card_uuid: str
    outcome: str
    outcome_timestamp: str  # canonical UTC, see canonical_timestamp()
    accepted_suggestions: tuple[str, ...] = ()
    reason_system: str | None = None
    reason_code: str | None = None
    reason_display: str | None = None
    user_comment: str | None = None
    client_iss: str | None = None


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


_TABLES = """
CREATE TABLE IF NOT EXISTS issued_cards (
    card_uuid TEXT PRIMARY KEY, service_id TEXT NOT NULL, hook_instance TEXT NOT NULL,
    topic_system TEXT, topic_code TEXT, topic_display TEXT, indicator TEXT, issued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id {id_column}, service_id TEXT NOT NULL, card_uuid TEXT NOT NULL, outcome TEXT NOT NULL,
    outcome_timestamp TEXT NOT NULL, accepted_suggestions TEXT, reason_system TEXT, reason_code TEXT,
    reason_display TEXT, user_comment TEXT, client_iss TEXT, received_at TEXT NOT NULL,
    UNIQUE (card_uuid, outcome_timestamp));
CREATE INDEX IF NOT EXISTS feedback_card ON feedback (card_uuid)
"""

_INSERT_ISSUED = ("INSERT INTO issued_cards (card_uuid, service_id, hook_instance, topic_system, topic_code, "
                  "topic_display, indicator, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (card_uuid) DO NOTHING")
_INSERT_FEEDBACK = ("INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, "
                    "reason_system, reason_code, reason_display, user_comment, client_iss, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid, outcome_timestamp) DO NOTHING")
_STORED_CONTENT = ("SELECT outcome, accepted_suggestions, reason_system, reason_code, user_comment FROM feedback "
                   "WHERE card_uuid = ? AND outcome_timestamp = ?")
_ISSUED_BY_TOPIC = ("SELECT topic_system, topic_code, MAX(topic_display), COUNT(*) FROM issued_cards "
                    "GROUP BY topic_system, topic_code")
_OUTCOMES_BY_TOPIC = ("SELECT i.topic_system, i.topic_code, MAX(i.topic_display), f.outcome, COUNT(*), "
                      "COUNT(DISTINCT f.card_uuid) FROM feedback f LEFT JOIN issued_cards i "
                      "ON i.card_uuid = f.card_uuid GROUP BY i.topic_system, i.topic_code, f.outcome")
_REASONS_BY_TOPIC = ("SELECT i.topic_system, i.topic_code, f.reason_system, f.reason_code, MAX(f.reason_display), "
                     "COUNT(*), SUM(CASE WHEN f.user_comment IS NULL THEN 0 ELSE 1 END) FROM feedback f "
                     "LEFT JOIN issued_cards i ON i.card_uuid = f.card_uuid WHERE f.outcome = 'overridden' "
                     "GROUP BY i.topic_system, i.topic_code, f.reason_system, f.reason_code")


class FeedbackConflict(Exception):
    """Feedback for a card and timestamp already stored with other content (entry `index` of the request)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class FeedbackStore(ABC):
    """The same SQL on both databases; subclasses supply connections and the placeholder style."""

    placeholder = "?"
    id_column = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self) -> None:
        self._ready = False
        self._lock = threading.Lock()

    @abstractmethod
    def _connection(self, durable: bool) -> Any:
        """A context manager yielding a DB-API connection that commits on success."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, for messages (never a password)."""

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.placeholder)

    def _ensure_schema(self) -> None:
        with self._lock:
            if self._ready:
                return
            with self._connection(durable=True) as db:
                for statement in _TABLES.format(id_column=self.id_column).split(";"):
                    db.execute(statement)
            self._ready = True

    def prepare(self) -> None:
        """Create the tables and open this thread's connection now (the worker warm-up calls it), so
        that the first hook call does not pay for it."""
        self._ensure_schema()

    def record_issued(self, service_id: str, hook_instance: str, cards: Sequence[IssuedCard]) -> None:
        """Remember the cards of one hook response (a uuid already known is kept as first issued)."""
        if not cards:
            return
        self._ensure_schema()
        now = utc_now()
        rows = [(c.card_uuid, service_id, hook_instance, c.topic_system, c.topic_code, c.topic_display,
                 c.indicator, now) for c in cards]
        with self._connection(durable=False) as db:
            cursor = db.cursor()
            cursor.executemany(self._sql(_INSERT_ISSUED), rows)

    def add_feedback(self, entries: Sequence[FeedbackEntry],
                     on_stored: Callable[[FeedbackEntry], None] | None = None) -> tuple[int, int]:
        """Store the entries; (stored, duplicates). A duplicate has the same card uuid and timestamp and the
        same content; the same card and timestamp with other content is a FeedbackConflict, and then none of
        the entries is stored (audit issue 13: it was silently counted as a duplicate). `on_stored` is
        called, after the commit, with each entry that was new."""
        self._ensure_schema()
        stored = 0
        new: list[FeedbackEntry] = []
        now = utc_now()
        with self._connection(durable=True) as db:
            for index, e in enumerate(entries):
                content = (e.outcome, json.dumps(list(e.accepted_suggestions)) if e.accepted_suggestions else None,
                           e.reason_system, e.reason_code, e.user_comment)
                cursor = db.execute(self._sql(_INSERT_FEEDBACK), (
                    e.service_id, e.card_uuid, e.outcome, e.outcome_timestamp, content[1],
                    e.reason_system, e.reason_code, e.reason_display, e.user_comment, e.client_iss, now))
                if cursor.rowcount > 0:
                    stored += 1
                    new.append(e)
                    continue
                kept = db.execute(self._sql(_STORED_CONTENT), (e.card_uuid, e.outcome_timestamp)).fetchone()
                if kept is not None and tuple(kept) != content:
                    raise FeedbackConflict(index)
        for e in new if on_stored else ():
            on_stored(e)
        return stored, len(entries) - stored

    def topics(self, card_uuids: Sequence[str]) -> dict[str, str | None]:
        """The topic code of each issued card among `card_uuids` (unknown cards are absent)."""
        if not card_uuids:
            return {}
        self._ensure_schema()
        marks = ", ".join("?" * len(card_uuids))
        with self._connection(durable=False) as db:
            rows = db.execute(self._sql(f"SELECT card_uuid, topic_code FROM issued_cards WHERE card_uuid IN ({marks})"),
                              tuple(card_uuids)).fetchall()
        return {uuid: code for uuid, code in rows}

    def summary(self) -> list[dict]:
        """Per topic: cards issued, feedback by outcome, override reasons (see feedback.report)."""
        self._ensure_schema()
        with self._connection(durable=False) as db:
            issued = db.execute(_ISSUED_BY_TOPIC).fetchall()
            outcomes = db.execute(_OUTCOMES_BY_TOPIC).fetchall()
            reasons = db.execute(_REASONS_BY_TOPIC).fetchall()
        topics: dict[tuple, dict] = {}

        def topic(system: str | None, code: str | None, display: str | None = None) -> dict:
            entry = topics.setdefault((system, code), {
                "system": system, "code": code, "display": display, "issued": 0, "accepted": 0,
                "overridden": 0, "cardsWithFeedback": 0, "overrideReasons": []})
            entry["display"] = entry["display"] or display
            return entry

        for system, code, display, count in issued:
            topic(system, code, display)["issued"] = count
        for system, code, display, outcome, count, cards in outcomes:
            entry = topic(system, code, display)
            entry[outcome] = entry.get(outcome, 0) + count
            entry["cardsWithFeedback"] += cards
        for t_system, t_code, r_system, r_code, r_display, count, comments in reasons:
            topic(t_system, t_code)["overrideReasons"].append({
                "system": r_system, "code": r_code, "display": r_display, "count": count,
                "withComment": int(comments or 0)})
        for entry in topics.values():
            entry["overrideReasons"].sort(key=lambda r: (-r["count"], r["code"] or ""))
        return sorted(topics.values(), key=lambda t: (t["code"] is None, t["system"] or "", t["code"] or ""))


QUICK_BUSY_TIMEOUT = 0.2  # seconds a hook call waits for a locked feedback database before skipping bookkeeping


class SqliteFeedbackStore(FeedbackStore):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._connections = SqliteConnections(self.path)
        # Issued-card bookkeeping happens inside hook calls: a locked database may cost it, never the answer's
        # time (audit issue 13: a locked database delayed hook answers by up to 10 s).
        self._quick = SqliteConnections(self.path, timeout=QUICK_BUSY_TIMEOUT)

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def _connection(self, durable: bool) -> Iterator[sqlite3.Connection]:
        db = (self._connections if durable else self._quick).get()
        # Feedback is synced to disk on commit; issued-card bookkeeping rides on the WAL (NORMAL).
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        with db:  # commits, or rolls back on an exception
            yield db


def open_feedback_store(spec: str, data_dir: Path) -> FeedbackStore:
    """NET_CDS_FEEDBACK_DB: "" (var/feedback.sqlite3 in the data dir), a path, sqlite:///path,
    or postgresql://user:password@host/db."""
    if spec.startswith(("postgresql://", "postgres://")):
        from cds_service.feedback.postgres_store import PostgresFeedbackStore

        return PostgresFeedbackStore(spec)
    if spec.startswith("sqlite:///"):
        return SqliteFeedbackStore(Path(spec.removeprefix("sqlite:///")))
    return SqliteFeedbackStore(Path(spec) if spec else data_dir / "var" / "feedback.sqlite3")

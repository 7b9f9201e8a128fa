"""The PostgreSQL feedback store, on a throwaway cluster (tests/postgres_cluster.py; skipped without
psycopg or PostgreSQL binaries).

Set NET_CDS_TEST_POSTGRES_URL to use an existing database instead (its tables are created if missing).
"""

from __future__ import annotations

import os
import uuid

import pytest

from cds_service import create_app
from cds_service.feedback.postgres_store import MIGRATIONS, PostgresFeedbackStore
from cds_service.feedback.recording import EXTENSION_KEY
from cds_service.feedback.store import FeedbackEntry, IssuedCard, open_feedback_store

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def postgres_url(postgres_cluster) -> str:
    return os.environ.get("NET_CDS_TEST_POSTGRES_URL") or postgres_cluster.url


def test_postgres_store_is_idempotent_and_durable(postgres_url, tmp_path):
    store = open_feedback_store(postgres_url, tmp_path)
    assert isinstance(store, PostgresFeedbackStore)
    topic = f"topic-{uuid.uuid4()}"
    card = str(uuid.uuid4())
    store.record_issued("net-patient-view", "h1", [IssuedCard(card, "net-patient-view", "h1", "sys", topic,
                                                              "A topic", "warning")])
    store.record_issued("net-patient-view", "h2", [IssuedCard(card, "net-patient-view", "h2", "sys", topic,
                                                              "A topic", "warning")])
    assert store.flush()  # issued cards are written by a background thread

    entry = FeedbackEntry("net-patient-view", card, "overridden", "2026-11-28T10:00:00.000000+00:00",
                          reason_system="r", reason_code="declined", reason_display="Declined", user_comment="c")
    assert store.add_feedback([entry, entry]) == (1, 1)
    restarted = open_feedback_store(postgres_url, tmp_path)  # a new process
    assert restarted.add_feedback([entry]) == (0, 1)
    [summary] = [t for t in restarted.summary() if t["code"] == topic]
    assert (summary["issued"], summary["overridden"], summary["accepted"]) == (1, 1, 0)
    assert summary["overrideReasons"] == [{"system": "r", "code": "declined", "display": "Declined", "count": 1,
                                           "withComment": 1}]
    assert "@" not in restarted.location


def test_feedback_endpoint_on_postgres(postgres_url, settings):
    app = create_app(settings.with_overrides(feedback_db=postgres_url))
    assert isinstance(app.extensions[EXTENSION_KEY], PostgresFeedbackStore)
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-11-28T10:00:00Z",
                          "acceptedSuggestions": [{"id": "s1"}]}]}
    client = app.test_client()
    assert client.post("/cds-services/net-patient-view/feedback", json=body).get_json() == {"stored": 1,
                                                                                             "duplicate": 0}
    assert client.post("/cds-services/net-patient-view/feedback", json=body).get_json() == {"stored": 0,
                                                                                             "duplicate": 1}


def test_schema_is_versioned_and_migrated_once(postgres_url, tmp_path):
    import psycopg

    open_feedback_store(postgres_url, tmp_path)
    open_feedback_store(postgres_url, tmp_path)  # a second replica starting: nothing to do, no error
    with psycopg.connect(postgres_url) as conn:
        (version,) = conn.execute("SELECT version FROM net_cds_schema WHERE component = 'feedback'").fetchone()
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'issued_cards'")}
    assert version == len(MIGRATIONS)
    assert "issued_cards_topic" in indexes


def test_database_down_at_start_and_during_use(tmp_path):
    """Nothing listens on the port: the store opens (start must not fail), recording issued cards returns
    at once without raising, feedback raises (the endpoint's 503), and readiness says unreachable."""
    from tests.postgres_cluster import free_port

    store = open_feedback_store(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", tmp_path)
    store.record_issued("net-patient-view", "h", [IssuedCard(str(uuid.uuid4()), "net-patient-view", "h", "s", "t",
                                                             "T", "info")])
    entry = FeedbackEntry("net-patient-view", str(uuid.uuid4()), "accepted", "2026-11-28T10:00:00.000000+00:00")
    with pytest.raises(Exception):  # noqa: B017 - whichever database error; the endpoint maps any to 503
        store.add_feedback([entry])
    assert store.reachable() is False
    assert store.flush(timeout=0.2) is False  # the row waits in the queue for the database

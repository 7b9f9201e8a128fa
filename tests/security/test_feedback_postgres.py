"""The PostgreSQL feedback store, on a throwaway cluster (skipped without psycopg or PostgreSQL binaries).

Set NET_CDS_TEST_POSTGRES_URL to use an existing database instead (its tables are created if missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.feedback.recording import EXTENSION_KEY
from cds_service.feedback.store import IssuedCard, PostgresFeedbackStore, open_feedback_store

psycopg = pytest.importorskip("psycopg")


def _run_as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if os.environ.get("NET_CDS_TEST_POSTGRES_URL"):
        yield os.environ["NET_CDS_TEST_POSTGRES_URL"]
        return
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl) or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip("PostgreSQL binaries not available")
    folder = Path(tempfile.mkdtemp(prefix="net-cds-pg-"))  # not under pytest's 0700 tmp: postgres must enter it
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    try:
        subprocess.run(_run_as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True, timeout=120)
        subprocess.run(_run_as_postgres([pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                                         f"-k {folder} -c listen_addresses=''", "start"]),
                       check=True, capture_output=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL: {exc}")
    try:
        yield f"postgresql://postgres@/postgres?host={folder}"
    finally:
        subprocess.run(_run_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_store_is_idempotent_and_durable(postgres_url, tmp_path):
    store = open_feedback_store(postgres_url, tmp_path)
    assert isinstance(store, PostgresFeedbackStore)
    topic = f"topic-{uuid.uuid4()}"
    card = str(uuid.uuid4())
    store.record_issued("net-patient-view", "h1", [IssuedCard(card, "net-patient-view", "h1", "sys", topic,
                                                              "A topic", "warning")])
    store.record_issued("net-patient-view", "h2", [IssuedCard(card, "net-patient-view", "h2", "sys", topic,
                                                              "A topic", "warning")])
    from cds_service.feedback.store import FeedbackEntry

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

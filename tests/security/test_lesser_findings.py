"""The lesser findings of the external audit (issue 13, finding 9) that the Flask app itself answers.

Feedback retried with different content was silently a "duplicate"; a locked feedback database delayed
hook answers (up to 10 s); answers lacked nosniff and no-store; an authenticated discovery was cached
`public`; the 401 was typed text/html; there was no `Vary: Origin`. (DNS rebinding: test_dns_rebinding.py;
early answers to large bodies, SCRIPT_NAME and the access log: test_deployment.py; `exp` as a string and
`sub`: test_auth_hardening.py.)
"""

from __future__ import annotations

import sqlite3
import threading
import uuid

from cds_service import create_app
from cds_service.feedback.recording import EXTENSION_KEY
from tests.security.conftest import bearer, mint
from tests.security.hook_bodies import hook_body

PV = "/cds-services/net-patient-view"
FB = PV + "/feedback"


def _feedback(card: str, outcome: str = "overridden", comment: str = "tumour board") -> dict:
    entry: dict = {"card": card, "outcome": outcome, "outcomeTimestamp": "2026-11-28T10:00:00Z"}
    if outcome == "accepted":
        entry["acceptedSuggestions"] = [{"id": "s-1"}]
    else:
        entry["overrideReason"] = {"userComment": comment}
    return {"feedback": [entry]}


def test_a_feedback_retry_with_the_same_content_is_a_duplicate(client):
    card = str(uuid.uuid4())
    assert client.post(FB, json=_feedback(card)).get_json() == {"stored": 1, "duplicate": 0}
    assert client.post(FB, json=_feedback(card)).get_json() == {"stored": 0, "duplicate": 1}


def test_a_feedback_retry_with_different_content_is_409(client):
    card = str(uuid.uuid4())
    assert client.post(FB, json=_feedback(card)).status_code == 200
    for changed in (_feedback(card, "accepted"), _feedback(card, comment="something else")):
        response = client.post(FB, json=changed)
        assert response.status_code == 409
        assert response.get_json()["issue"][0]["expression"] == ["feedback.0"]


def test_a_locked_feedback_database_does_not_hold_the_hook_answer(settings, tmp_path):
    """Another process holds the database's write lock for the whole call: the cards still come back, and
    the hook call ends while the lock is still held (it does not wait out SQLite's 10 s busy timeout)."""
    app = create_app(settings)
    client = app.test_client()
    assert client.post(PV, json=hook_body()).status_code == 200  # creates the schema
    locker = sqlite3.connect(settings.feedback_db, isolation_level=None, timeout=0)
    locker.execute("BEGIN IMMEDIATE")
    released = threading.Event()
    try:
        result: dict = {}

        def call() -> None:
            result["response"] = client.post(PV, json=hook_body())
            result["lock_still_held"] = not released.is_set()

        thread = threading.Thread(target=call)
        thread.start()
        thread.join(timeout=5)  # a bound for the test, far below the 10 s busy timeout it guards against
        finished = not thread.is_alive()
    finally:
        released.set()
        locker.execute("ROLLBACK")
        locker.close()
    thread.join(timeout=30)
    assert finished and result["lock_still_held"]
    assert result["response"].status_code == 200 and result["response"].get_json()["cards"]
    assert app.extensions[EXTENSION_KEY] is not None


def test_every_answer_says_nosniff_and_hook_answers_are_not_stored(client):
    hook = client.post(PV, json=hook_body())
    assert hook.headers["X-Content-Type-Options"] == "nosniff"
    assert hook.headers["Cache-Control"] == "no-store"
    assert "Origin" in hook.headers.get("Vary", "")
    error = client.post(PV, data=b"{", content_type="application/json")
    assert error.headers["X-Content-Type-Options"] == "nosniff" and error.headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


def test_an_open_discovery_may_be_cached_but_an_authenticated_one_is_not(client, auth_client, keys):
    assert "public" in client.get("/cds-services").headers["Cache-Control"]
    secured = auth_client.get("/cds-services", headers=bearer(mint(keys["es384"])))
    assert secured.status_code == 200
    assert "public" not in secured.headers["Cache-Control"] and "no-store" in secured.headers["Cache-Control"]
    assert "Origin" in secured.headers.get("Vary", "")


def test_the_401_is_json_and_not_cached(auth_client):
    response = auth_client.get("/cds-services")
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["resourceType"] == "OperationOutcome"

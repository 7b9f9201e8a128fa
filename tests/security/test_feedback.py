"""POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback): validation, durability, idempotency, report."""

from __future__ import annotations

import json
import sys
import uuid

import pytest

from cds_service import create_app
from cds_service.cli import main
from cds_service.feedback.recording import EXTENSION_KEY
from cds_service.feedback.schemas import canonical_timestamp
from cds_service.feedback.store import IssuedCard, open_feedback_store
from cds_service.security import StartupError
from tests.security.hook_bodies import hook_body

PV = "/cds-services/net-patient-view"
FB = PV + "/feedback"
REASON = {"system": "https://fhir.net-cds.org/CodeSystem/override-reason", "code": "patient-declined",
          "display": "Patient declined"}


def overridden(card: str, ts: str = "2026-11-28T10:00:00Z", **reason: object) -> dict:
    return {"card": card, "outcome": "overridden", "outcomeTimestamp": ts,
            "overrideReason": reason or {"reason": REASON, "userComment": "discussed at tumour board"}}


def accepted(card: str, ts: str = "2026-11-28T10:00:00Z", suggestion: str = "s-1") -> dict:
    return {"card": card, "outcome": "accepted", "outcomeTimestamp": ts, "acceptedSuggestions": [{"id": suggestion}]}


def post(client, *entries: dict, path: str = FB):
    return client.post(path, json={"feedback": list(entries)})


def topics_of(app) -> dict[str, dict]:
    return {t["code"]: t for t in app.extensions[EXTENSION_KEY].summary()}


# --- validation ---------------------------------------------------------------------------------

def test_valid_feedback_is_stored(client):
    response = post(client, overridden("card-1"), accepted("card-2"))
    assert response.status_code == 200
    assert response.get_json() == {"stored": 2, "duplicate": 0}


@pytest.mark.parametrize(("body", "field"), [
    ({}, "feedback"),
    ({"feedback": []}, "feedback"),
    ({"feedback": "x"}, "feedback"),
    ({"feedback": [{"outcome": "overridden", "outcomeTimestamp": "2026-11-28T10:00:00Z"}]}, "feedback.0.card"),
    ({"feedback": [{"card": "c", "outcome": "ignored", "outcomeTimestamp": "2026-11-28T10:00:00Z"}]},
     "feedback.0.outcome"),  # cds-fb-1
    ({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-28T10:00:00Z"}]},
     "feedback.0.acceptedSuggestions"),  # cds-fb-2
    ({"feedback": [{**overridden("c"), "overrideReason": {}}]}, "feedback.0.overrideReason"),  # cds-fb-3
    ({"feedback": [overridden("c", reason={"code": "x"})]}, "feedback.0.overrideReason.reason.system"),
    ({"feedback": [{"card": "c", "outcome": "overridden"}]}, "feedback.0.outcomeTimestamp"),
    ({"feedback": [overridden("c", ts="2026-11-28T10:00:00")]}, "feedback.0.outcomeTimestamp"),  # no zone
    ({"feedback": [overridden("c", ts="yesterday")]}, "feedback.0.outcomeTimestamp"),
    ({"feedback": [overridden("c", ts="2026-02-30T10:00:00Z")]}, "feedback.0.outcomeTimestamp"),
    ({"feedback": [overridden("c"), {**accepted("d"), "acceptedSuggestions": [{}]}]},
     "feedback.1.acceptedSuggestions.0.id"),
    ({"feedback": [overridden(f"c{i}") for i in range(101)]}, "feedback"),
])
def test_invalid_feedback_is_400_naming_the_field(client, body, field):
    response = client.post(FB, json=body)
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert issue["expression"] == [field], issue


def test_unknown_service_is_404(client):
    assert post(client, overridden("c"), path="/cds-services/nope/feedback").status_code == 404


def test_non_json_is_rejected(client):
    assert client.post(FB, data="card=1", content_type="application/x-www-form-urlencoded").status_code == 415
    assert client.post(FB, data="{", content_type="application/json").status_code == 400


def test_unknown_fields_are_ignored(client):
    assert post(client, {**overridden("c"), "extension": {"x": 1}}).status_code == 200


def test_timestamps_are_compared_as_instants():
    assert canonical_timestamp("2026-11-28T10:00:00Z") == canonical_timestamp("2026-11-28T11:00:00.000+01:00")
    assert canonical_timestamp("2026-11-28T10:00:00.1234567z") == "2026-11-28T10:00:00.123456+00:00"


# --- idempotency and durability -----------------------------------------------------------------

def test_duplicates_are_not_double_counted(client, app):
    assert post(client, overridden("card-1")).get_json() == {"stored": 1, "duplicate": 0}
    assert post(client, overridden("card-1")).get_json() == {"stored": 0, "duplicate": 1}
    same_instant = overridden("card-1", ts="2026-11-28T11:00:00.000+01:00")
    assert post(client, same_instant).get_json() == {"stored": 0, "duplicate": 1}
    later = accepted("card-1", ts="2026-11-28T10:05:00Z")  # the same card may get feedback again
    assert post(client, later).get_json() == {"stored": 1, "duplicate": 0}
    unknown = topics_of(app)[None]
    assert (unknown["overridden"], unknown["accepted"], unknown["cardsWithFeedback"]) == (1, 1, 2)


def test_feedback_survives_a_restart(settings):
    first = create_app(settings)
    assert post(first.test_client(), overridden("card-1"), accepted("card-2")).status_code == 200
    del first
    second = create_app(settings)  # a new process on the same database file
    assert post(second.test_client(), overridden("card-1")).get_json() == {"stored": 0, "duplicate": 1}
    unknown = topics_of(second)[None]
    assert (unknown["overridden"], unknown["accepted"]) == (1, 1)


def test_feedback_is_linked_to_the_topic_of_the_issued_card(settings):
    app = create_app(settings)
    client = app.test_client()
    cards = client.post(PV, json=hook_body()).get_json()["cards"]
    assert cards, "the sample request should produce cards"
    card = cards[0]
    topic = card["source"]["topic"]["code"]
    assert post(client, overridden(card["uuid"])).status_code == 200
    restarted = create_app(settings)
    summary = topics_of(restarted)[topic]
    assert summary["issued"] == 1 and summary["overridden"] == 1
    assert summary["overrideReasons"] == [{**REASON, "count": 1, "withComment": 1}]
    assert None not in topics_of(restarted)


def test_store_records_each_card_once(tmp_path):
    store = open_feedback_store(str(tmp_path / "fb.sqlite3"), tmp_path)
    card = IssuedCard("u1", "net-patient-view", "h1", "sys", "topic-a", "Topic A", "warning")
    store.record_issued("net-patient-view", "h1", [card])
    store.record_issued("net-patient-view", "h2", [card])
    assert [t["issued"] for t in store.summary()] == [1]


def test_unwritable_store_does_not_cost_the_cards(settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app = create_app(settings.with_overrides(feedback_db=str(blocker / "fb.sqlite3")))
    client = app.test_client()
    assert client.post(PV, json=hook_body()).status_code == 200
    response = post(client, overridden("c"))
    assert response.status_code == 503
    assert response.get_json()["resourceType"] == "OperationOutcome"


# --- report -------------------------------------------------------------------------------------

def test_report_command(settings, capsys):
    app = create_app(settings)
    client = app.test_client()
    cards = client.post(PV, json=hook_body()).get_json()["cards"]
    post(client, overridden(cards[0]["uuid"]), overridden(cards[0]["uuid"]),
         overridden(cards[-1]["uuid"], userComment="not now"), overridden("card-from-elsewhere"))
    if len(cards) > 1:
        post(client, accepted(cards[1]["uuid"]))
    assert main(["feedback", "report", "--db", settings.feedback_db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_code = {t["code"]: t for t in report["topics"]}
    first = by_code[cards[0]["source"]["topic"]["code"]]
    assert first["overridden"] >= 1 and first["overrideReasons"][0]["code"] == "patient-declined"
    assert by_code[None]["overridden"] == 1
    assert sum(t["issued"] for t in report["topics"]) == len(cards)
    assert main(["feedback", "report", "--db", settings.feedback_db]) == 0
    text = capsys.readouterr().out
    assert "Patient declined: 1" in text and cards[0]["source"]["topic"]["code"] in text


def test_report_on_an_empty_or_missing_database(tmp_path, capsys):
    missing = tmp_path / "missing.sqlite3"
    assert main(["feedback", "report", "--db", str(missing)]) == 0
    assert "No feedback database" in capsys.readouterr().out and not missing.exists()
    open_feedback_store(str(tmp_path / "empty.sqlite3"), tmp_path).summary()
    assert main(["feedback", "report", "--db", str(tmp_path / "empty.sqlite3")]) == 0
    assert "No cards issued" in capsys.readouterr().out


def test_postgres_url_without_driver_fails_clearly(settings, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    assert main(["feedback", "report", "--db", "postgresql://u:secret@db.example/cds"]) == 2
    err = capsys.readouterr().err
    assert "psycopg" in err and "secret" not in err
    with pytest.raises(StartupError, match="psycopg"):
        create_app(settings.with_overrides(feedback_db="postgresql://u:secret@db.example/cds"))


def test_feedback_ids_are_free_text_up_to_a_bound(client):
    assert post(client, overridden(str(uuid.uuid4()))).status_code == 200
    assert post(client, overridden("x" * 201)).status_code == 400

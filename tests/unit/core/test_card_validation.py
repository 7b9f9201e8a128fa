"""CDS Hooks 2.0 card rules (cds_service.web.card_validation) and their enforcement on responses."""

from __future__ import annotations

import copy
import uuid

import pytest

import cds_service.profile
from cds_service.profile.model import PatientProfile
from cds_service.web.card_validation import validate_card
from tests.unit.core.fhir_builders import condition, patient, searchset


def good_card() -> dict:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": "Consider SSTR-PET before starting a somatostatin analog",
        "detail": "**Why**: no SSTR imaging on record.",
        "indicator": "warning",
        "source": {"label": "NANETS 2020 pNET guideline", "url": "https://doi.org/10.1097/MPA.0000000000001597",
                   "topic": {"system": "https://fhir.net-cds.org/CodeSystem/topic", "code": "sstr-imaging-needed",
                             "display": "SSTR imaging needed"}},
        "suggestions": [{"label": "Order Ga-68 DOTATATE PET/CT", "uuid": str(uuid.uuid4()), "isRecommended": True,
                         "actions": [{"type": "create", "description": "Create the order",
                                      "resource": {"resourceType": "ServiceRequest", "status": "draft",
                                                   "intent": "proposal", "subject": {"reference": "Patient/p1"}}}]}],
        "selectionBehavior": "at-most-one",
        "overrideReasons": [{"system": "https://fhir.net-cds.org/CodeSystem/override-reason", "code": "done-elsewhere",
                             "display": "Done elsewhere"}],
        "links": [{"label": "Guideline", "url": "https://doi.org/10.1097/MPA.0000000000001597", "type": "absolute"}],
    }


def test_good_card_passes():
    assert validate_card(good_card()) == []


def broken(mutate) -> list[str]:
    card = copy.deepcopy(good_card())
    mutate(card)
    return validate_card(card)


@pytest.mark.parametrize(("name", "mutate", "expected"), [
    ("no uuid", lambda c: c.pop("uuid"), "card.uuid"),
    ("summary of 140", lambda c: c.update(summary="x" * 140), "under 140"),
    ("no summary", lambda c: c.pop("summary"), "card.summary"),
    ("bad indicator", lambda c: c.update(indicator="hard-stop"), "indicator"),
    ("no source label", lambda c: c["source"].pop("label"), "source.label"),
    ("null value", lambda c: c.update(detail=None), "null or empty"),
    ("empty list", lambda c: c.update(links=[]), "null or empty"),
    ("suggestion without uuid", lambda c: c["suggestions"][0].pop("uuid"), "suggestions[0].uuid"),
    ("suggestions without selectionBehavior", lambda c: c.pop("selectionBehavior"), "selectionBehavior"),
    ("override reason without display", lambda c: c["overrideReasons"][0].pop("display"), "display"),
    ("link type", lambda c: c["links"][0].update(type="relative"), "absolute or smart"),
    ("appContext on absolute link", lambda c: c["links"][0].update(appContext="x"), "appContext"),
    ("delete with resource", lambda c: c["suggestions"][0]["actions"].append(
        {"type": "delete", "description": "remove", "resource": {"resourceType": "MedicationRequest"}}), "resourceId"),
    ("create without resource", lambda c: c["suggestions"][0]["actions"][0].pop("resource"), "resource is required"),
    ("two recommended at-most-one", lambda c: c["suggestions"].append(
        dict(c["suggestions"][0], uuid=str(uuid.uuid4()))), "more than one recommended"),
])
def test_each_rule_violation_is_caught(name, mutate, expected):
    errors = broken(mutate)
    assert any(expected in e for e in errors), (name, errors)


def test_invalid_card_is_dropped_and_logged_valid_card_is_sent(client, monkeypatch, caplog):
    bad = good_card()
    bad["summary"] = "y" * 200
    good = good_card()
    monkeypatch.setattr(cds_service.profile, "build_profile", lambda record, today=None: PatientProfile(
        patient_id=record.patient_id), raising=False)
    prefetch = {"patient": patient(), "conditions": searchset(condition("c1", "C25.4")), "pathology": None}
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1"}, "prefetch": prefetch}
    import cds_service.services.answer as answer

    monkeypatch.setattr(answer, "handler_for", lambda service_id: lambda profile, options: [bad, good])
    with caplog.at_level("ERROR", logger="cds_service.web.hooks"):
        response = client.post("/cds-services/net-patient-view", json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert [c["uuid"] for c in cards] == [good["uuid"]]
    assert any("dropped invalid card" in r.message and "under 140" in r.message for r in caplog.records)

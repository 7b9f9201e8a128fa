"""Hostile JSON that used to cost a 500 (audit issue 13, finding 3): deep nesting, huge integers.

Each case is sent as the auditor sent it (in the request body, in the prefetch, or in a FHIR server's
answer) and must get a 4xx or a 200 whose other cards are unaffected, with a data-quality note.
"""

from __future__ import annotations

import copy
import json
import re

import responses

from cds_service.json_codec import loads
from tests.conftest import FHIR_BASE
from tests.security.hook_bodies import full_prefetch, hook_body
from tests.unit.core.fhir_builders import PATIENT_ID, searchset

PV = "/cds-services/net-patient-view"
TOKEN = {"access_token": "ehr-secret-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
         "subject": "net-cds"}
HUGE = int("9" * 401)


DEEP = "@@DEEP@@"


def with_deep(body: dict, depth: int) -> str:
    """The JSON of `body` with its DEEP marker string replaced by objects nested `depth` levels (json.dumps
    itself cannot write that deep)."""
    return json.dumps(body).replace(f'"{DEEP}"', '{"a":' * depth + '"x"' + "}" * depth)


def deep_body(depth: int) -> bytes:
    return b'{"hook":' + b"[" * depth + b"]" * depth + b"}"


def cga(oid: str, value: object, comparator: str | None = None) -> dict:
    quantity: dict = {"value": value, "unit": "ng/mL"}
    if comparator:
        quantity["comparator"] = comparator
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "9811-1"}]},
            "effectiveDateTime": "2026-10-02", "valueQuantity": quantity}


def summaries(response) -> list[str]:
    return sorted(card["summary"] for card in response.get_json()["cards"])


def notes(response) -> list[str]:
    return [n["message"] for n in (response.get_json().get("extension") or {}).get("org.net-cds.data-quality", [])]


def test_json_nested_deeper_than_the_parsers_allow_is_400(client):
    for depth in (1_100, 5_000, 100_000):
        raw = deep_body(depth)
        response = client.post(PV, data=raw, content_type="application/json")
        assert response.status_code == 400, depth
        assert response.get_json()["issue"][0]["expression"] == ["body"]


def test_the_codec_refuses_deep_json_as_a_value_error():
    for depth in (1_100, 100_000):
        try:
            loads(b"[" * depth + b"]" * depth)
        except ValueError:
            continue
        raise AssertionError(f"depth {depth} parsed")


def test_deep_json_on_the_feedback_endpoint_is_400(client):
    raw = b'{"feedback":' + b"[" * 2_000 + b"]" * 2_000 + b"}"
    assert client.post(PV + "/feedback", data=raw, content_type="application/json").status_code == 400


def test_a_used_resource_nested_1000_deep_is_a_note_not_a_500(client):
    """The Ki-67 Observation behind the grade carries an extension nested ~1,000 levels deep."""
    plain = client.post(PV, json=hook_body())
    prefetch = full_prefetch()
    observation = prefetch["pathology"]["entry"][0]["resource"]
    observation["extension"] = [{"url": "http://example.org/deep", "valueString": "x", "_x": DEEP}]
    body = with_deep(hook_body(prefetch=prefetch), 1_000)
    response = client.post(PV, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert summaries(response) == summaries(plain)
    assert any("Observation/k1" in n and "not valid FHIR R4" in n for n in notes(response))


def _with_lab(value: object, comparator: str | None = None) -> dict:
    prefetch = full_prefetch()
    prefetch["labs"] = searchset(cga("cga1", value, comparator))
    return prefetch


def test_a_401_digit_lab_value_is_unreadable_with_a_note_and_other_cards_stay(client):
    plain = client.post(PV, json=hook_body())
    for comparator in (None, "<", ">="):
        body = json.dumps(hook_body(prefetch=_with_lab(HUGE, comparator)))
        response = client.post(PV, data=body, content_type="application/json")
        assert response.status_code == 200, (comparator, response.get_data(as_text=True)[:300])
        assert summaries(response) == summaries(plain)
        assert any("Observation/cga1" in n for n in notes(response)), notes(response)


def test_a_huge_integer_as_valueInteger_or_ki67_is_unreadable(client):
    prefetch = full_prefetch()
    observation = prefetch["pathology"]["entry"][0]["resource"]
    observation["valueQuantity"]["value"] = HUGE
    response = client.post(PV, data=json.dumps(hook_body(prefetch=prefetch)), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert any("Ki-67" in n or "Observation/k1" in n for n in notes(response))
    lab = cga("cga1", 1)
    del lab["valueQuantity"]
    lab["valueInteger"] = -HUGE
    prefetch = full_prefetch()
    prefetch["labs"] = searchset(lab)
    response = client.post(PV, data=json.dumps(hook_body(prefetch=prefetch)), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_a_huge_integer_from_the_fhir_server_costs_only_that_value(client):
    """The same Observation in the FHIR server's answer: the other data still makes its cards."""
    plain = client.post(PV, json=hook_body())
    prefetch = full_prefetch()
    del prefetch["labs"]
    answer = json.dumps(searchset(cga("cga1", HUGE, "<"))).encode()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/Observation.*"), body=answer,
                 content_type="application/fhir+json")
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert summaries(response) == summaries(plain)
    assert any("Observation/cga1" in n for n in notes(response)), notes(response)


def test_a_deep_resource_from_the_fhir_server_is_a_note(client):
    prefetch = full_prefetch()
    del prefetch["pathology"]
    observation = copy.deepcopy(full_prefetch()["pathology"]["entry"][0]["resource"])
    observation["extension"] = [{"url": "http://example.org/deep", "_x": DEEP}]
    answer = with_deep(searchset(observation), 1_000).encode()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), body=answer,
                 content_type="application/fhir+json")
        response = client.post(PV, json=hook_body(prefetch=prefetch, fhirServer=FHIR_BASE, fhirAuthorization=TOKEN))
    assert response.status_code in (200, 412), response.get_data(as_text=True)[:300]

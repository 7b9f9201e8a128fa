"""Every bad request gets a clear 4xx with an OperationOutcome naming the field; never a 500."""

from __future__ import annotations

import uuid

import pytest

PV = "/cds-services/net-patient-view"
OS = "/cds-services/net-order-sign"


def valid_body(hook: str = "patient-view") -> dict:
    context = {"userId": "Practitioner/1", "patientId": "p1"}
    if hook == "order-sign":
        context["draftOrders"] = {"resourceType": "Bundle", "entry": []}
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}


def diagnostics(response) -> str:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


def expression(response) -> str:
    return response.get_json()["issue"][0]["expression"][0]


def test_unknown_service_is_404(client):
    response = client.post("/cds-services/nope", json=valid_body())
    assert response.status_code == 404
    assert "nope" in diagnostics(response)


def test_get_on_a_service_is_405_with_operation_outcome(client):
    response = client.get(PV)
    assert response.status_code == 405
    assert diagnostics(response)


def test_malformed_json_is_400(client):
    response = client.post(PV, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in diagnostics(response)


def test_json_array_is_400(client):
    response = client.post(PV, json=[valid_body()])
    assert response.status_code == 400
    assert "JSON object" in diagnostics(response)


def test_non_json_content_type_is_415(client):
    response = client.post(PV, data="hook=patient-view", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_ten_megabyte_body_is_413(client):
    body = b'{"hook": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = client.post(PV, data=body, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in diagnostics(response)


@pytest.mark.parametrize(("field", "mutate"), [
    ("hook", lambda b: b.pop("hook")),
    ("hookInstance", lambda b: b.pop("hookInstance")),
    ("hookInstance", lambda b: b.update(hookInstance="not-a-uuid")),
    ("context", lambda b: b.pop("context")),
    ("context", lambda b: b.update(context="patient p1")),
    ("context.patientId", lambda b: b["context"].pop("patientId")),
    ("context.patientId", lambda b: b["context"].update(patientId=42)),
    ("context.userId", lambda b: b["context"].pop("userId")),
    ("fhirServer", lambda b: b.update(fhirAuthorization={
        "access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
        "subject": "net-cds"})),
    ("fhirServer", lambda b: b.update(fhirServer="not a url")),
    ("fhirAuthorization.token_type", lambda b: b.update(fhirServer="https://ehr.example.org/fhir", fhirAuthorization={
        "access_token": "t", "token_type": "MAC", "expires_in": 300, "scope": "s", "subject": "x"})),
    ("prefetch", lambda b: b.update(prefetch=["Patient"])),
])
def test_invalid_field_is_400_naming_it(client, field, mutate):
    body = valid_body()
    mutate(body)
    response = client.post(PV, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert expression(response) == field
    assert field in diagnostics(response)


def test_hook_mismatch_is_400(client):
    response = client.post(PV, json=valid_body("order-sign"))
    assert response.status_code == 400
    assert expression(response) == "hook"
    assert "patient-view" in diagnostics(response)


def test_order_sign_requires_draft_orders_bundle(client):
    body = valid_body("order-sign")
    body["context"]["draftOrders"] = {"resourceType": "Patient"}
    response = client.post(OS, json=body)
    assert response.status_code == 400
    assert expression(response) == "context.draftOrders.resourceType"
    del body["context"]["draftOrders"]
    response = client.post(OS, json=body)
    assert expression(response) == "context.draftOrders"


def test_unknown_context_and_extension_keys_are_ignored_not_rejected(client):
    body = valid_body()
    body["context"]["com.example.new-field"] = {"anything": True}
    body["extension"] = {"com.example.ext": 1}
    response = client.post(PV, json=body)  # no prefetch and no fhirServer: the data is missing
    assert response.status_code == 412


def test_no_prefetch_and_no_fhir_server_is_412_with_operation_outcome(client):
    response = client.post(PV, json=valid_body())
    assert response.status_code == 412
    assert "could not be obtained" in diagnostics(response)


def test_prefetch_key_with_a_bare_string_is_400_naming_the_key(client):
    body = valid_body()
    body["prefetch"] = {"conditions": "Condition?patient=p1"}
    response = client.post(PV, json=body)
    assert response.status_code == 400
    assert expression(response) == "prefetch.conditions"


@pytest.mark.parametrize("patient_id", ["../../admin", "p1&_include=*", "p 1", "x" * 65, "", "p1\n"])
def test_patient_id_must_be_a_fhir_id(client, patient_id):
    """The patient id goes into fallback query paths: only a FHIR id is accepted."""
    body = valid_body()
    body["context"]["patientId"] = patient_id
    response = client.post(PV, json=body)
    assert response.status_code == 400
    assert expression(response) == "context.patientId"

"""Tiny FHIR R4 builders for the core tests (the clinical fixtures live in samples/ and tests/vignettes/)."""

from __future__ import annotations

PATIENT_ID = "p1"


def patient(pid: str = PATIENT_ID) -> dict:
    return {"resourceType": "Patient", "id": pid, "birthDate": "1961-04-02", "gender": "female"}


def condition(cid: str, code: str, system: str = "http://hl7.org/fhir/sid/icd-10-cm", pid: str = PATIENT_ID,
              display: str = "") -> dict:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": system, "code": code, "display": display or code}]},
            "recordedDate": "2026-06-01"}


def ki67(oid: str, value: float, pid: str = PATIENT_ID) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "29593-1"}]},
            "effectiveDateTime": "2026-10-01",
            "valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}


def med_request(mid: str, text: str = "", med_ref: str | None = None, pid: str = PATIENT_ID,
                status: str = "active") -> dict:
    resource = {"resourceType": "MedicationRequest", "id": mid, "status": status, "intent": "order",
                "subject": {"reference": f"Patient/{pid}"}, "authoredOn": "2026-09-01"}
    if med_ref:
        resource["medicationReference"] = {"reference": med_ref}
    else:
        resource["medicationCodeableConcept"] = {"text": text}
    return resource


def searchset(*resources: dict, next_url: str | None = None) -> dict:
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def operation_outcome(message: str = "query failed") -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception",
                                                           "diagnostics": message}]}

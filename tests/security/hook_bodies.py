"""Valid CDS Hooks requests with a complete prefetch (no FHIR server needed)."""

from __future__ import annotations

import uuid

from cds_service.services.registry import load_services
from tests.unit.core.fhir_builders import PATIENT_ID, condition, ki67, patient, searchset


def full_prefetch(service_id: str = "net-patient-view") -> dict:
    prefetch: dict = {q.key: None for q in load_services()[service_id].queries}
    prefetch["patient"] = patient()
    prefetch["conditions"] = searchset(condition("c1", "C7A.010", display="Malignant carcinoid tumor of duodenum"))
    prefetch["pathology"] = searchset(ki67("k1", 12))
    return prefetch


def hook_body(service_id: str = "net-patient-view", prefetch: dict | None = None, **extra: object) -> dict:
    hook = load_services()[service_id].hook
    context: dict = {"userId": "Practitioner/1", "patientId": PATIENT_ID}
    if hook == "order-sign":
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": []}
    body = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
            "prefetch": full_prefetch(service_id) if prefetch is None else prefetch}
    body.update(extra)
    return body

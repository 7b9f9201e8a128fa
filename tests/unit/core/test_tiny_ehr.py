"""The tiny EHR answers the discovery prefetch templates from a Bundle as a FHIR server would."""

from __future__ import annotations

import pytest

from cds_service.samples import list_samples
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, patient_id_of, prefetch_from_bundle
from tests.unit.core.fhir_builders import condition, ki67, patient

SERVICE = load_services()["net-patient-view"]
SAMPLES = list_samples()


def refs(prefetch: dict) -> set[str]:
    found = set()
    for value in prefetch.values():
        if value is None:
            continue
        resources = [e["resource"] for e in value["entry"]] if value["resourceType"] == "Bundle" else [value]
        found |= {f"{r['resourceType']}/{r['id']}" for r in resources}
    return found


def test_prefetch_keys_get_only_matching_resources_and_null_when_empty():
    vitals = {"resourceType": "Observation", "id": "bp", "status": "final", "subject": {"reference": "Patient/p1"},
              "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": r} for r in (patient(), condition("c1", "C25.4"), ki67("k1", 5), vitals)]}
    prefetch = prefetch_from_bundle(SERVICE, bundle, "p1")
    assert prefetch["patient"]["id"] == "p1"
    assert [e["resource"]["id"] for e in prefetch["conditions"]["entry"]] == ["c1"]
    assert [e["resource"]["id"] for e in prefetch["pathology"]["entry"]] == ["k1"]
    assert prefetch["labs"] is None  # no data -> null, as CDS Hooks 2.0 requires
    assert "Observation/bp" not in refs(prefetch)  # vitals are not requested


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_prefetch_templates_reach_every_resource_of_each_sample(sample):
    """What the samples encode is what the discovery templates fetch: no data is left behind."""
    bundle = sample.bundle()
    prefetch = prefetch_from_bundle(SERVICE, bundle, patient_id_of(bundle))
    everything = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    assert everything - refs(prefetch) == set()


def test_hook_request_for_order_sign_carries_draft_orders():
    service = load_services()["net-order-sign"]
    draft = {"resourceType": "Bundle", "entry": []}
    body = hook_request(service, "p1", prefetch={}, draft_orders=draft)
    assert body["hook"] == "order-sign"
    assert body["context"]["draftOrders"] is draft
    assert body["context"]["patientId"] == "p1"

"""net-order-select: the order-sign rules on context.selections (CDS Hooks order-select hook)."""

from __future__ import annotations

import copy
import uuid

import pytest

from cds_service.samples import list_samples
from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, patient_id_of, prefetch_from_bundle, selections_of

SAMPLES_WITH_DRAFTS = [s for s in list_samples() if s.draft]


def _comparable(cards: list[dict]) -> list[dict]:
    """Cards without their per-call uuids."""
    out = []
    for card in copy.deepcopy(cards):
        card.pop("uuid")
        for s in card.get("suggestions") or ():
            s.pop("uuid")
        out.append(card)
    return out


def _call(client, service_id: str, bundle: dict, drafts: dict, selections: list[str] | None = None):
    service = load_services()[service_id]
    patient = patient_id_of(bundle)
    body = hook_request(service, patient, prefetch=prefetch_from_bundle(service, bundle, patient), draft_orders=drafts)
    if selections is not None:
        body["context"]["selections"] = selections
    return client.post(f"/cds-services/{service_id}", json=body)


def test_there_are_sample_drafts_to_compare() -> None:
    assert len(SAMPLES_WITH_DRAFTS) >= 5


@pytest.mark.parametrize("sample", SAMPLES_WITH_DRAFTS, ids=lambda s: s.id)
def test_order_select_answers_the_sample_drafts_exactly_as_order_sign(client, sample) -> None:
    bundle, drafts = sample.bundle(), sample.draft_orders()
    signed = _call(client, "net-order-sign", bundle, drafts)
    selected = _call(client, "net-order-select", bundle, drafts)
    assert signed.status_code == selected.status_code == 200
    assert _comparable(selected.get_json()["cards"]) == _comparable(signed.get_json()["cards"])


def test_only_the_selected_drafts_are_checked(client) -> None:
    sample = next(s for s in SAMPLES_WITH_DRAFTS if len(selections_of(s.draft_orders())) >= 2)
    bundle, drafts = sample.bundle(), sample.draft_orders()
    everything = _call(client, "net-order-select", bundle, drafts).get_json()["cards"]
    orders = {c["extension"]["org.net-cds.card"].get("draftOrder") for c in everything}
    assert len(orders) >= 2, "the sample should alert on two drafts"
    first = sorted(o for o in orders if o)[0]
    one = _call(client, "net-order-select", bundle, drafts, [first]).get_json()["cards"]
    assert one and {c["extension"]["org.net-cds.card"]["draftOrder"] for c in one} == {first}


@pytest.mark.parametrize(("selections", "field"), [
    (None, "context.selections"), ([], "context.selections"), (["not a reference"], "context.selections.0"),
    (["MedicationRequest/not-in-the-bundle"], "context.selections[0]"),
])
def test_bad_selections_are_a_400_naming_the_field(client, selections, field) -> None:
    sample = SAMPLES_WITH_DRAFTS[0]
    service = load_services()["net-order-select"]
    bundle = sample.bundle()
    patient = patient_id_of(bundle)
    body = hook_request(service, patient, prefetch=prefetch_from_bundle(service, bundle, patient),
                        draft_orders=sample.draft_orders())
    body["hookInstance"] = str(uuid.uuid4())
    if selections is None:
        body["context"].pop("selections")
    else:
        body["context"]["selections"] = selections
    response = client.post("/cds-services/net-order-select", json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [field]

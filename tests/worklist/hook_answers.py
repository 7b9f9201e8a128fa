"""What the patient-view hook answers for one patient, called through the Flask app as an EHR calls it:
the reference the worklist rows are compared with (never computed by the worklist's own code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask.testing import FlaskClient

from cds_service.services.registry import load_services
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle

SERVICE = load_services()["net-patient-view"]


@dataclass(frozen=True)
class HookAnswer:
    rules: tuple[str, ...]
    topics: tuple[str, ...]
    indicators: dict[str, int]
    conditional: bool


def hook_answer(client: FlaskClient, resources: list[dict], patient_id: str, as_of: date) -> HookAnswer:
    """POST the patient-view hook with the prefetch an EHR holding `resources` would send, as of `as_of`."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    body = hook_request(SERVICE, patient_id, prefetch_from_bundle(SERVICE, bundle, patient_id), as_of=as_of)
    response = client.post(f"/cds-services/{SERVICE.id}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    cards = response.get_json()["cards"]
    rules: list[str] = []
    for card in cards:
        rules += [r for r in card["extension"]["org.net-cds.card"]["rules"] if r not in rules]
    return HookAnswer(
        rules=tuple(rules),
        topics=tuple(c["source"]["topic"]["code"] for c in cards),
        indicators={k: sum(c["indicator"] == k for c in cards) for k in ("critical", "warning", "info")},
        conditional=any(c["extension"]["org.net-cds.card"].get("conditional") for c in cards),
    )


def row_answer(row) -> HookAnswer:  # noqa: ANN001 - a WorklistRow
    return HookAnswer(rules=row.rules, topics=row.topics, conditional=row.conditional,
                      indicators={"critical": row.cards_critical, "warning": row.cards_warning,
                                  "info": row.cards_info})

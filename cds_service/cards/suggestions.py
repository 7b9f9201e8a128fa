"""Suggestions with real FHIR R4 resources, validated with fhir.resources (R4B models).

Codes and labels come from cards/suggestions.yaml. A suggestion whose resource does not validate is
dropped (and logged) rather than sent: the card still carries its alert.
"""

from __future__ import annotations

import copy
import logging
import re
import uuid
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.cards.data import CardData
from cds_service.profile.model import DraftOrder, PatientProfile
from cds_service.rules.findings import Finding, SuggestionSpec

log = logging.getLogger(__name__)

RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


def prune(value: Any) -> Any:
    """Drop None, "", [] and {} recursively (CDS Hooks: no null or empty JSON values)."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        out_list = [prune(v) for v in value]
        return [v for v in out_list if v not in (None, "", [], {})]
    return value


def build_suggestions(finding: Finding, profile: PatientProfile, data: CardData) -> list[dict]:
    out = []
    for spec in finding.suggestions:
        try:
            s = _suggestion(spec, finding, profile, data)
        except Exception:  # a bad suggestion must not break the card
            log.exception("suggestion %s for %s failed", spec.kind, finding.rule_id)
            s = None
        if s is not None:
            out.append(s)
    return out


def _suggestion(spec: SuggestionSpec, finding: Finding, profile: PatientProfile, data: CardData) -> dict | None:
    text = data.suggestions[spec.kind]
    if spec.kind.startswith("order-"):
        action = {"type": "create", "description": text["description"],
                  "resource": service_request(spec.kind, profile, data)}
    elif spec.kind == "update-ppi-bid":
        order = _draft(profile, spec.order_ref)
        resource = twice_daily(order, data) if order else None
        if resource is None:
            return None
        action = {"type": "update", "description": text["description"], "resource": resource}
    elif spec.kind == "delete-draft":
        if not spec.order_ref or not RELATIVE_REFERENCE.match(spec.order_ref):
            log.warning("cannot delete draft %r: not a relative reference", spec.order_ref)
            return None
        action = {"type": "delete", "description": text["description"], "resourceId": spec.order_ref}
    else:
        raise KeyError(spec.kind)
    suggestion: dict[str, Any] = {"label": text["label"], "uuid": str(uuid.uuid4())}
    if spec.recommended and not finding.conditional:
        suggestion["isRecommended"] = True
    suggestion["actions"] = [action]
    return suggestion


def _draft(profile: PatientProfile, ref: str | None) -> DraftOrder | None:
    return next((o for o in profile.draft_orders if o.reference == ref), None)


def service_request(kind: str, profile: PatientProfile, data: CardData) -> dict:
    """A draft ServiceRequest (test, imaging) for the patient, validated as FHIR R4."""
    text = data.suggestions[kind]
    resource = prune({
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "category": [{"coding": [dict(text["category"])]}],
        "code": {"coding": [dict(c) for c in text["coding"]], "text": text["text"]},
        "subject": {"reference": f"Patient/{profile.patient_id}"},
        "reasonCode": [{"text": text["reason"]}],
        "patientInstruction": text.get("patient_instruction"),
    })
    ServiceRequest.model_validate(resource)
    return resource


def twice_daily(order: DraftOrder, data: CardData) -> dict | None:
    """The drafted MedicationRequest changed to twice-daily dosing; everything else as drafted."""
    text = data.suggestions["update-ppi-bid"]
    resource = copy.deepcopy(order.resource)
    if resource.get("resourceType") != "MedicationRequest":
        return None
    dosages = resource.get("dosageInstruction")
    if isinstance(dosages, dict):  # tolerated input: a single object where an array belongs
        dosages = [dosages]
    if not isinstance(dosages, list) or not dosages:
        dosages = [{}]
    changed = []
    for dosage in dosages:
        if not isinstance(dosage, dict):
            continue
        d = dict(dosage)
        timing = dict(d.get("timing") or {})
        repeat = {k: v for k, v in dict(timing.get("repeat") or {}).items()
                  if k not in ("frequency", "frequencyMax", "period", "periodMax", "periodUnit", "when",
                               "timeOfDay", "dayOfWeek", "offset")}
        repeat.update({"frequency": 2, "period": 1, "periodUnit": "d"})
        timing = {k: v for k, v in timing.items() if k not in ("event", "code")}
        timing["repeat"] = repeat
        timing["code"] = {"coding": [dict(text["timing_code"])], "text": "BID"}
        d["timing"] = timing
        d["text"] = _dose_text(d, text["text_suffix"])
        changed.append(d)
    resource["dosageInstruction"] = changed
    resource = prune(resource)
    try:
        MedicationRequest.model_validate(resource)
    except Exception as exc:  # the draft itself is not valid FHIR: no update suggestion
        log.warning("BID update of %s does not validate: %s", order.reference, str(exc)[:300])
        return None
    return resource


def _dose_text(dosage: dict, suffix: str) -> str:
    for dr in dosage.get("doseAndRate") or ():
        q = dr.get("doseQuantity") if isinstance(dr, dict) else None
        if isinstance(q, dict) and q.get("value") is not None:
            unit = q.get("unit") or q.get("code") or ""
            return f"{q['value']:g} {unit} {suffix}".replace("  ", " ") if isinstance(q["value"], float) \
                else f"{q['value']} {unit} {suffix}".replace("  ", " ")
    return suffix.capitalize()

"""Suggestions with real FHIR R4 resources, validated with fhir.resources (R4B models).

Codes and labels come from cards/suggestions.yaml. A draft that is not strictly R4 is changed from a
normalized copy (cds_service/cards/fhir_normalize.py); a suggestion that still cannot be built is not
sent, and the card says why (`SuggestionNote`), never silently.
"""

from __future__ import annotations

import copy
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.cards.data import CardData
from cds_service.cards.fhir_normalize import normalized
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


@dataclass(frozen=True)
class SuggestionNote:
    """What the card must say about a suggestion: built from a normalized draft, or not built and why.

    `kind` indexes `notes` in cards/suggestions.yaml; `fields` are the draft's fields concerned (from
    the request: escaped when shown)."""

    kind: str  # "normalized" | "not-built"
    suggestion: str
    fields: tuple[str, ...] = ()


def build_suggestions(finding: Finding, profile: PatientProfile,
                      data: CardData) -> tuple[list[dict], list[SuggestionNote]]:
    out: list[dict] = []
    notes: list[SuggestionNote] = []
    for spec in finding.suggestions:
        try:
            s = _suggestion(spec, finding, profile, data, notes)
        except Exception:  # a bad suggestion must not break the card; the card says it is missing
            log.exception("suggestion %s for %s failed", spec.kind, finding.rule_id)
            notes.append(SuggestionNote("not-built", spec.kind))
            s = None
        if s is not None:
            out.append(s)
    return out, notes


def _suggestion(spec: SuggestionSpec, finding: Finding, profile: PatientProfile, data: CardData,
                notes: list[SuggestionNote]) -> dict | None:
    text = data.suggestions[spec.kind]
    if spec.kind.startswith("order-"):
        action = {"type": "create", "description": text["description"],
                  "resource": service_request(spec.kind, profile, data)}
    elif spec.kind == "update-ppi-bid":
        order = _draft(profile, spec.order_ref)
        if order is None:
            notes.append(SuggestionNote("not-built", spec.kind))
            return None
        resource, note = twice_daily_update(order, data)
        if note is not None:
            notes.append(note)
        if resource is None:
            return None
        action = {"type": "update", "description": text["description"], "resource": resource}
    elif spec.kind == "delete-draft":
        if not spec.order_ref or not RELATIVE_REFERENCE.match(spec.order_ref):
            log.warning("cannot delete draft %r: not a relative reference", spec.order_ref)
            notes.append(SuggestionNote("not-built", spec.kind, ("id",)))
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


def twice_daily_update(order: DraftOrder, data: CardData) -> tuple[dict | None, SuggestionNote | None]:
    """The twice-daily update of a drafted MedicationRequest, built from a normalized copy when the draft
    is not strictly R4; with the note the card shows (normalized, or not built and which fields)."""
    if order.resource.get("resourceType") != "MedicationRequest":
        return None, SuggestionNote("not-built", "update-ppi-bid", ("resourceType",))
    draft, changed = normalized(copy.deepcopy(order.resource))
    resource = twice_daily(draft, data)
    try:
        MedicationRequest.model_validate(resource)
    except Exception as exc:  # the draft is not valid FHIR even after normalizing: no update, say why
        log.warning("BID update of %s does not validate: %s", order.reference, str(exc)[:300])
        return None, SuggestionNote("not-built", "update-ppi-bid", _error_fields(exc))
    if changed:
        return resource, SuggestionNote("normalized", "update-ppi-bid", tuple(changed))
    return resource, None


def _error_fields(exc: Exception) -> tuple[str, ...]:
    """The draft's fields named in a validation error (pydantic), at most three."""
    errors = getattr(exc, "errors", None)
    fields: list[str] = []
    if callable(errors):
        for err in errors():
            loc = ".".join(str(part) for part in err.get("loc", ()) if not isinstance(part, int))
            if loc and loc not in fields:
                fields.append(loc)
    return tuple(fields[:3])


def twice_daily(resource: dict, data: CardData) -> dict:
    """The MedicationRequest changed to twice-daily dosing; everything else as drafted (not validated)."""
    text = data.suggestions["update-ppi-bid"]
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
    return prune(resource)


def _dose_text(dosage: dict, suffix: str) -> str:
    for dr in dosage.get("doseAndRate") or ():
        q = dr.get("doseQuantity") if isinstance(dr, dict) else None
        if isinstance(q, dict) and q.get("value") is not None:
            unit = q.get("unit") or q.get("code") or ""
            return f"{q['value']:g} {unit} {suffix}".replace("  ", " ") if isinstance(q["value"], float) \
                else f"{q['value']} {unit} {suffix}".replace("  ", " ")
    return suffix.capitalize()

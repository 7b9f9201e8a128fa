"""One patient of the worklist: exactly what the patient-view hook answers for them, as a row.

The only place the worklist interprets a patient. It builds the same `PatientRecord` a hook call builds
(the patient's resources, plus the shared resources outside the Patient compartment they reference, such as
the Medication behind a `medicationReference`), then runs the hook's own steps: profile, strict checks of the
resources used, the patient-view service's handler, the CDS Hooks card checks. The row is read off the profile
and the cards that answer gives, so the worklist cannot drift from what a clinician sees on opening the chart.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from datetime import date

from cds_service.fhir.record import PatientRecord
from cds_service.profile.model import PatientProfile
from cds_service.worklist.rows import Finding, WorklistRow

SERVICE_ID = "net-patient-view"
CARD_EXTENSION = "org.net-cds.card"


def evaluate_patient(patient_id: str, resources: Iterable[dict], shared: Mapping[str, dict],
                     as_of: date) -> WorklistRow:
    """The patient's row as of `as_of`; any failure gives a row with `error` set, never an exception."""
    try:
        record = patient_record(patient_id, resources, shared, as_of)
        profile, cards = hook_answer(record)
        return row_of(profile, cards)
    except Exception as exc:  # noqa: BLE001 - one broken patient is a row, not a crashed run
        return WorklistRow(patient_id=patient_id, error=describe_error(exc))


def patient_record(patient_id: str, resources: Iterable[dict], shared: Mapping[str, dict],
                   as_of: date) -> PatientRecord:
    """The record a hook call would hold: the patient's resources and the shared ones they reference."""
    record = PatientRecord(patient_id=patient_id, as_of=as_of)
    wanted: list[str] = []
    for resource in resources:
        if not isinstance(resource, dict):
            raise TypeError(f"a resource is a {type(resource).__name__}, not a JSON object")
        record.add(resource)
        if shared:
            wanted.extend(_references(resource))
    for reference in wanted:
        target = shared.get(reference)
        if target is not None:
            record.add(target)
    return record


def hook_answer(record: PatientRecord) -> tuple[PatientProfile, list[dict]]:
    """The profile and the cards of the patient-view hook for this record (web/hooks.py's steps)."""
    from cds_service.fhir.validation import validate_used
    from cds_service.profile import build_profile
    from cds_service.profile.references import fact_references
    from cds_service.services.card_options import CardOptions
    from cds_service.services.registry import handler_for
    from cds_service.web.card_validation import valid_cards

    profile = build_profile(record)
    profile.notes.extend(validate_used(record, fact_references(profile)))
    cards, _rejected = valid_cards(handler_for(SERVICE_ID)(profile, CardOptions()))
    return profile, cards


def row_of(profile: PatientProfile, cards: list[dict]) -> WorklistRow:
    """The row: the profile's headline facts and the answer's cards (rules, topics, indicators)."""
    from cds_service.rules.common import select_pathway

    rules: dict[str, None] = {}
    findings: dict[Finding, None] = {}
    topics: list[str] = []
    counts = {"critical": 0, "warning": 0, "info": 0}
    conditional = False
    for card in cards:
        indicator = str(card.get("indicator"))
        counts[indicator] = counts.get(indicator, 0) + 1
        topic = str(((card.get("source") or {}).get("topic") or {}).get("code") or "")
        topics.append(topic)
        extension = (card.get("extension") or {}).get(CARD_EXTENSION) or {}
        conditional = conditional or bool(extension.get("conditional"))
        for rule_id in extension.get("rules") or ():
            rules[rule_id] = None
            findings[Finding(rule_id, topic, indicator)] = None
    return WorklistRow(
        patient_id=profile.patient_id,
        in_scope=profile.in_scope,
        nen_status=profile.nen_status,
        pathway=select_pathway(profile)[0],
        site_group=profile.site_group,
        primary_site=_text(profile.primary_site.value),
        differentiation=_text(profile.differentiation.value),
        who_grade=_text(profile.who_grade.value),
        ki67_percent=_number(profile.ki67_percent.value),
        sstr_status=str(profile.sstr_status.value or "unknown"),
        therapy_line=_text(profile.line_of_therapy.value),
        rules=tuple(rules),
        topics=tuple(topics),
        cards_critical=counts["critical"],
        cards_warning=counts["warning"],
        cards_info=counts["info"],
        conditional=conditional,
        notes=tuple(n.message + (f" ({n.reference})" if n.reference and n.reference not in n.message else "")
                    for n in profile.notes),
        findings=tuple(findings),
    )


def describe_error(exc: BaseException) -> str:
    """The exception's type and where it was raised (file:line in function): no message, which may quote
    patient data."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        path = last.filename.replace("\\", "/")
        path = path[path.rfind("cds_service/"):] if "cds_service/" in path else path.rsplit("/", 1)[-1]
        where = f" at {path}:{last.lineno} in {last.name}"
    return f"{type(exc).__name__}{where}"


def _references(resource: dict) -> Iterable[str]:
    """Relative references in the resource's top-level fields (`medicationReference`, `basedOn`, ...)."""
    for value in resource.values():
        if isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str):
                yield ref
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    ref = item.get("reference")
                    if isinstance(ref, str):
                        yield ref


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

"""One patient of a Bulk Data export → one worklist row, by the hooks' own path.

The row is read off what the patient-view service answers (`services.answer`: profile → rules → cards)
for the patient's resources, as of the export's date; nothing here interprets FHIR or decides anything
clinical. A patient whose evaluation fails becomes a row with the error's type, never a crashed run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from cds_service.fhir.record import PatientRecord
from cds_service.profile.model import PatientProfile
from cds_service.rules.common import select_pathway
from cds_service.services.answer import cards_of, profile_of
from cds_service.services.card_options import CardOptions
from cds_service.worklist.rows import Finding, WorklistRow

SERVICE_ID = "net-patient-view"
CARD_EXTENSION = "org.net-cds.card"
REFERENCE_KEYS = ("medicationReference",)  # where a patient's resources point outside the compartment


def record_of(patient_id: str, resources: Iterable[dict], shared: Mapping[str, dict], as_of: date) -> PatientRecord:
    """The patient's record: their resources plus the shared (non-compartment) ones they reference."""
    record = PatientRecord(patient_id=patient_id, as_of=as_of)
    record.extend(resources)
    for resource in list(record.resources):
        for key in REFERENCE_KEYS:
            value = resource.get(key)
            reference = value.get("reference") if isinstance(value, dict) else None
            if isinstance(reference, str) and reference in shared:
                record.add(shared[reference])
    return record


def evaluate_patient(patient_id: str, resources: Iterable[dict], shared: Mapping[str, dict],
                     as_of: date) -> WorklistRow:
    """The worklist row of one patient: what the patient-view hook answers, as of `as_of`."""
    try:
        profile = profile_of(record_of(patient_id, resources, shared, as_of))
        cards, rejected = cards_of(SERVICE_ID, profile, CardOptions())
    except Exception as exc:  # one broken patient is a row, never a crashed run; no patient data in it
        return WorklistRow(patient_id=patient_id, error=f"{type(exc).__name__} while evaluating the patient")
    row = row_of(profile, cards)
    if rejected:
        return replace(row, error=f"{len(rejected)} card(s) failed the CDS Hooks checks")
    return row


def row_of(profile: PatientProfile, cards: list[dict]) -> WorklistRow:
    """The row's columns from the profile and the answer's cards."""
    findings: list[Finding] = []
    topics: list[str] = []
    conditional = False
    overdue: list[str] = []
    for card in cards:
        topic = ((card.get("source") or {}).get("topic") or {}).get("code") or ""
        extension = (card.get("extension") or {}).get(CARD_EXTENSION) or {}
        topics.append(topic)
        conditional = conditional or bool(extension.get("conditional"))
        overdue.extend(extension.get("overdue") or ())
        findings.extend(Finding(rule_id, topic, card["indicator"]) for rule_id in extension.get("rules") or ())
    indicators = Counter(card["indicator"] for card in cards)
    return WorklistRow(
        patient_id=profile.patient_id,
        in_scope=profile.in_scope,
        nen_status=profile.nen_status,
        pathway=select_pathway(profile)[0],
        site_group=profile.site_group,
        primary_site=profile.primary_site.value,
        differentiation=profile.differentiation.value,
        who_grade=profile.who_grade.value,
        ki67_percent=profile.ki67_percent.value,
        sstr_status=profile.sstr_status.value or "unknown",
        therapy_line=profile.line_of_therapy.value,
        rules=tuple(dict.fromkeys(f.rule_id for f in findings)),
        topics=tuple(topics),
        cards_critical=indicators["critical"],
        cards_warning=indicators["warning"],
        cards_info=indicators["info"],
        conditional=conditional,
        overdue=tuple(overdue),
        notes=tuple(n.message + (f" ({n.reference})" if n.reference else "") for n in profile.notes),
        findings=tuple(findings),
    )

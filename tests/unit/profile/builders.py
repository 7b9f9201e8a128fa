"""FHIR fixture builders for the profile tests: small resources named for what they are."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.systems import (
    FINDINGS,
    HCPCS,
    ICD10,
    ICDO3,
    INTERP,
    LOINC,
    MCODE_HISTOLOGY,
    RXNORM,
    SCT,
)
from cds_service.profile import build_profile
from cds_service.profile.model import PatientProfile

TODAY = date(2026, 11, 28)
PID = "p1"
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def cc(system: str | None, code: str | None, text: str | None = None, display: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code is not None:
        coding = {"system": system, "code": code}
        if display:
            coding["display"] = display
        concept["coding"] = [coding]
    if text:
        concept["text"] = text
    return concept


def condition(code: str | None = None, system: str = ICD10, *, text: str | None = None, clinical: str | None = "active",
              verification: str | None = "confirmed", onset: str | None = "2025-01-10", morphology: str | None = None,
              body_site: dict[str, Any] | None = None, rid: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Condition", "id": rid or _id("cond"), "code": cc(system, code, text),
                         "subject": {"reference": f"Patient/{PID}"}}
    if clinical:
        r["clinicalStatus"] = cc("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical)
    if verification:
        r["verificationStatus"] = cc("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)
    if onset:
        r["onsetDateTime"] = onset
    if morphology:
        r["extension"] = [{"url": MCODE_HISTOLOGY, "valueCodeableConcept": cc(ICDO3, morphology)}]
    if body_site:
        r["bodySite"] = [body_site]
    return r


def observation(code: str | None, system: str = LOINC, *, text: str | None = None, when: str | None = "2026-10-01",
                status: str = "final", rid: str | None = None, **value: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Observation", "id": rid or _id("obs"), "status": status,
                         "code": cc(system, code, text), "subject": {"reference": f"Patient/{PID}"}}
    if when:
        r["effectiveDateTime"] = when
    r.update(value)
    return r


def ki67(value: Any = None, unit: str | None = "%", *, when: str | None = "2026-10-01", status: str = "final",
         **value_x: Any) -> dict[str, Any]:
    """A Ki-67 observation (LOINC 29593-1): a number -> valueQuantity, or any value[x] given as keyword."""
    if value is not None:
        q: dict[str, Any] = {"value": value}
        if unit is not None:
            q["unit"] = unit
        value_x["valueQuantity"] = q
    return observation("29593-1", text="Ki-67", when=when, status=status, **value_x)


def mitoses(value: Any, unit: str | None = "/2mm2", *, when: str | None = "2026-10-01", code: str = "mitotic-count",
            system: str = FINDINGS) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit is not None:
        q["unit"] = unit
    return observation(code, system, text="Mitotic count", when=when, valueQuantity=q)


def lab(code: str, value: Any, unit: str | None, *, when: str | None = "2026-11-01", low: float | None = None,
        high: float | None = None, interpretation: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit is not None:
        q["unit"] = unit
    r = observation(code, when=when, valueQuantity=q)
    if low is not None or high is not None:
        rr: dict[str, Any] = {}
        if low is not None:
            rr["low"] = {"value": low, "unit": unit}
        if high is not None:
            rr["high"] = {"value": high, "unit": unit}
        r["referenceRange"] = [rr]
    if interpretation:
        r["interpretation"] = [cc(INTERP, interpretation)]
    return r


def finding(code: str, *, when: str = "2026-11-01", **value: Any) -> dict[str, Any]:
    return observation(code, FINDINGS, when=when, **value)


def sstr_report(text: str, result: str | None = "10828004", *, when: str = "2026-10-15", status: str = "final",
                conclusion: str | None = None, rid: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "DiagnosticReport", "id": rid or _id("dr"), "status": status,
                         "code": {"text": text}, "effectiveDateTime": when, "subject": {"reference": f"Patient/{PID}"}}
    if result:
        r["conclusionCode"] = [cc(SCT, result)]
    if conclusion:
        r["conclusion"] = conclusion
    return r


def medication(kind: str = "MedicationStatement", *, text: str | None = None, code: str | None = None,
               system: str = RXNORM, status: str = "active", start: str | None = "2025-02-01",
               end: str | None = None, when: str | None = None, **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": kind, "id": _id(kind.lower()), "status": status,
                         "subject": {"reference": f"Patient/{PID}"}}
    if text is not None or code is not None:
        r["medicationCodeableConcept"] = cc(system, code, text)
    if kind == "MedicationRequest":
        r["intent"] = extra.pop("intent", "order")
        if start:
            r["authoredOn"] = start
    elif kind == "MedicationAdministration":
        r["effectiveDateTime"] = when or start
    else:
        period: dict[str, Any] = {}
        if start:
            period["start"] = start
        if end:
            period["end"] = end
        if period:
            r["effectivePeriod"] = period
    r.update(extra)
    return r


def procedure(text: str, *, code: str | None = None, system: str = HCPCS, when: str = "2024-03-01",
              status: str = "completed") -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": _id("proc"), "status": status, "code": cc(system, code, text),
            "performedDateTime": when, "subject": {"reference": f"Patient/{PID}"}}


def patient(birth: str | None = "1960-06-15") -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Patient", "id": PID}
    if birth:
        r["birthDate"] = birth
    return r


def record(*resources: dict[str, Any], drafts: list[Any] | None = None) -> PatientRecord:
    rec = PatientRecord(patient_id=PID)
    rec.add(patient())
    for r in resources:
        rec.add(r)
    rec.draft_orders.extend(drafts or [])
    return rec


def profile(*resources: dict[str, Any], drafts: list[Any] | None = None, today: date = TODAY) -> PatientProfile:
    """The profile of a record holding a Patient and these resources, built on TODAY."""
    return build_profile(record(*resources, drafts=drafts), today)


def pnet(**kw: Any) -> dict[str, Any]:
    """An active pancreatic NEN (C25.4)."""
    return condition("C25.4", **kw)


def ileal_net(**kw: Any) -> dict[str, Any]:
    """An active ileal NET (C7A.012)."""
    return condition("C7A.012", **kw)

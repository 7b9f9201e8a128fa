"""Factories for PatientProfile objects in rule and card tests (no FHIR involved).

`profile(...)` builds an active, in-scope NEN with sensible provenance on every fact, so that the
only thing a test states is the clinical situation it is about. Keyword arguments override fields.
"""

from __future__ import annotations

from typing import Any

from cds_service.profile.model import (
    Criterion,
    DraftOrder,
    Fact,
    LabResult,
    PatientProfile,
    PrrtEligibility,
    Source,
    TherapyExposure,
)

AS_OF = "2026-11-01"


def src(ref: str, date: str = "2026-09-01", label: str = "") -> tuple[Source, ...]:
    return (Source(ref, date, label),)


def fact(value: Any, ref: str | None = None, date: str = "2026-09-01", unit: str | None = None) -> Fact:
    ref = ref or f"Observation/{abs(hash((value, date))) % 10_000}"
    return Fact(value, unit, date, src(ref, date))


def cond(value: Any, ref: str = "Condition/nen-1", date: str = "2026-01-15") -> Fact:
    return Fact(value, None, date, src(ref, date))


def therapy(kind: str, active: bool = True, start: str = "2025-06-01", end: str | None = None,
            administrations: int = 0, last: str | None = None, planned: tuple[str, ...] = (),
            ref: str | None = None) -> TherapyExposure:
    ref = ref or f"MedicationStatement/{kind}-1"
    return TherapyExposure(kind, active, start, end, src(ref, start), administrations, last, planned)  # type: ignore[arg-type]


def lab(name: str, value: float, date: str = "2026-09-01", unit: str | None = None,
        ref: str | None = None) -> LabResult:
    return LabResult(name, value, unit, date, Source(ref or f"Observation/{name}-1", date))


def eligibility(crcl: str = "pass", kps: str = "pass", plt: str = "pass", sstr: str = "pass") -> PrrtEligibility:
    def c(name: str, label: str, result: str, value: str) -> Criterion:
        return Criterion(name, label, result, value if result != "unknown" else None,  # type: ignore[arg-type]
                         "2026-09-01" if result != "unknown" else None,
                         src(f"Observation/{name}") if result != "unknown" else ())
    return PrrtEligibility((
        c("sstr-positive", "SSTR imaging positive", sstr, "positive"),
        c("crcl-gt-50", "CrCl > 50 mL/min", crcl, "72 mL/min" if crcl == "pass" else "41 mL/min"),
        c("kps-gt-50", "Karnofsky > 50", kps, "80" if kps == "pass" else "40"),
        c("platelets-ge-75", "Platelets >= 75 x10^9/L", plt, "210 x10^9/L" if plt == "pass" else "60 x10^9/L"),
    ))


def profile(
    *,
    site: str = "ileum",
    group: str = "gastrointestinal",
    diff: str | None = "NET",
    ki67: float | None = 2.0,
    grade: str | None = None,
    band: str | None = None,
    sstr: str = "positive",
    modality: str | None = "sstr-pet",
    functional: str = "nonfunctional",
    stage: str = "metastatic",
    liver: bool | None = True,
    hepatic: bool | None = None,
    burden: str | None = None,
    symptomatic: bool | None = None,
    resectable: bool | None = False,
    status: str | None = None,
    line: str | None = None,
    therapies: tuple[TherapyExposure, ...] = (),
    **overrides: Any,
) -> PatientProfile:
    """An active, in-scope NEN profile; grade and Ki-67 band are derived from ki67 unless given."""
    if grade is None and ki67 is not None:
        grade = "G1" if ki67 < 3 else "G2" if ki67 <= 20 else "G3"
    if band is None and ki67 is not None:
        band = "G1" if ki67 < 3 else "low-G2" if ki67 < 10 else "high-G2" if ki67 <= 20 else "G3"
    if line is None:
        line = "naive" if not any(t.therapy not in ("ppi", "telotristat") for t in therapies) else "after-ssa"
    p = PatientProfile(
        patient_id="pt-1",
        nen_status="active",
        in_scope=True,
        primary_site=cond(site),
        site_group=group,  # type: ignore[arg-type]
        differentiation=cond(diff, "Condition/nen-1") if diff else Fact(),
        ki67_percent=fact(ki67, "Observation/ki67-1", "2026-02-01", "%") if ki67 is not None else Fact(),
        who_grade=fact(grade, "Observation/ki67-1", "2026-02-01") if grade else Fact(),
        ki67_band=fact(band, "Observation/ki67-1", "2026-02-01") if band else Fact(),
        sstr_status=fact(sstr, "DiagnosticReport/sstr-pet-1", "2026-03-01") if sstr != "unknown" else Fact("unknown"),
        sstr_modality=modality if sstr != "unknown" else None,  # type: ignore[arg-type]
        functional_syndrome=cond(functional, "Condition/syndrome-1") if functional != "nonfunctional"
        else cond("nonfunctional", "Condition/nen-1"),
        metastatic=cond(stage == "metastatic", "Condition/met-1"),
        liver_metastases=cond(liver, "Condition/met-1") if liver is not None else Fact(),
        hepatic_predominant=fact(hepatic, "Observation/hep-1") if hepatic is not None else Fact(),
        metastatic_sites=("liver",) if liver else (),
        stage=cond(stage, "Condition/met-1" if stage == "metastatic" else "Procedure/resection-1"),
        disease_status=fact(status, "Observation/status-1", "2026-10-01") if status else Fact(),
        tumor_burden=fact(burden, "Observation/burden-1") if burden else Fact(),
        symptomatic=fact(symptomatic, "Observation/symptoms-1") if symptomatic is not None else Fact(),
        resectable=fact(resectable, "Observation/resectable-1") if resectable is not None else Fact(),
        therapies=therapies,
        line_of_therapy=fact(line, therapies[0].sources[0].reference if therapies else "Condition/nen-1"),
        prrt_eligibility=eligibility(),
        as_of=AS_OF,
    )
    for key, value in overrides.items():
        setattr(p, key, value)
    return p


def draft(therapy_class: str | None, text: str, *, ref: str = "MedicationRequest/draft-1",
          doses_per_day: float | None = 1, long_acting: bool | None = None, date: str | None = None,
          resource: dict | None = None) -> DraftOrder:
    rtype, rid = ref.split("/", 1)
    res = resource or {
        "resourceType": rtype, "id": rid, "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/pt-1"},
        "medicationCodeableConcept": {"text": text},
        "dosageInstruction": [{"text": f"{text} once daily",
                               "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                               "doseAndRate": [{"doseQuantity": {"value": 40, "unit": "mg"}}]}],
    }
    return DraftOrder(ref, rtype, therapy_class, text, long_acting, doses_per_day, res, date=date)  # type: ignore[arg-type]

"""PRRT eligibility and durability (net-decision-model.md section 3; seed 004; Lutathera label).

Eligible: SSTR positive (imaging) AND CrCl >50 mL/min AND Karnofsky >50 AND platelets >=75 x10^9/L.
Each criterion carries its value, date and pass/fail/unknown; unknown is never turned into pass.
PRRT response durable: the last PRRT >=12 months before documented progression.
"""

from __future__ import annotations

from datetime import date, timedelta

from cds_service.profile.fhirread import parse_date
from cds_service.profile.labs import RECENT_DAYS, platelets_10e9
from cds_service.profile.model import (
    Criterion,
    Fact,
    LabResult,
    PrrtEligibility,
    SstrModality,
    SstrStatus,
    TherapyExposure,
)

CRCL_MIN = 50.0  # > 50 mL/min
KPS_MIN = 50.0  # > 50
PLATELETS_MIN = 75.0  # >= 75 x10^9/L
DURABLE_DAYS = 365


def _sstr(status: Fact[SstrStatus], modality: SstrModality | None) -> Criterion:
    label = "SSTR imaging positive"
    value = f"{status.value} ({modality})" if modality else str(status.value)
    if status.value == "positive" and modality in ("sstr-pet", "srs"):
        result = "pass"
    elif status.value == "negative":
        result = "fail"
    else:
        result = "unknown"
    notes = status.notes
    if status.value == "positive" and modality == "ihc":
        notes = (*notes, "SSTR2A IHC is not imaging: SSTR imaging needed before PRRT")
    return Criterion("sstr-positive", label, result, value, status.date, status.sources, notes)  # type: ignore[arg-type]


def _crcl(renal: Fact[float]) -> Criterion:
    label = "CrCl > 50 mL/min"
    if renal.value is None:
        return Criterion("crcl-gt-50", label, "unknown", None, renal.date, renal.sources, renal.notes)
    result = "pass" if renal.value > CRCL_MIN else "fail"
    return Criterion("crcl-gt-50", label, result, f"{renal.value:g} {renal.unit or 'mL/min'}", renal.date,
                     renal.sources, renal.notes)


def _kps(kps: Fact[float], ecog: Fact[int]) -> Criterion:
    label = "Karnofsky > 50"
    if kps.value is None:
        return Criterion("kps-gt-50", label, "unknown", None, kps.date, kps.sources, kps.notes)
    if ecog.value is not None:
        value = f"ECOG {ecog.value}"
        if ecog.value == 2:
            return Criterion("kps-gt-50", label, "unknown", value, kps.date, kps.sources,
                             (*kps.notes, "ECOG 2 corresponds to KPS 50-60: cannot tell if >50"))
        result = "pass" if ecog.value <= 1 else "fail"
        return Criterion("kps-gt-50", label, result, value, kps.date, kps.sources, kps.notes)  # type: ignore[arg-type]
    result = "pass" if kps.value > KPS_MIN else "fail"
    return Criterion("kps-gt-50", label, result, f"KPS {kps.value:g}", kps.date, kps.sources, kps.notes)


def _platelets(results: tuple[LabResult, ...], today: date) -> Criterion:
    label = "Platelets >= 75 x10^9/L"
    cutoff = today - timedelta(days=RECENT_DAYS)
    numeric = [r for r in results if r.value is not None]
    if not numeric:
        return Criterion("platelets-ge-75", label, "unknown", None, None, (), ("no platelet count on record",))
    latest = numeric[0]
    day = parse_date(latest.date)
    if day is None or day < cutoff:
        return Criterion("platelets-ge-75", label, "unknown", f"{latest.value:g} {latest.unit or ''}".strip(),
                         latest.date, (latest.source,), ("latest platelet count is older than 90 days",))
    value, note = platelets_10e9(latest)
    notes = (note,) if note else ()
    if value is None:
        return Criterion("platelets-ge-75", label, "unknown", f"{latest.value:g} {latest.unit or ''}".strip(),
                         latest.date, (latest.source,), notes)
    result = "pass" if value >= PLATELETS_MIN else "fail"
    return Criterion("platelets-ge-75", label, result, f"{value:g} x10^9/L", latest.date, (latest.source,), notes)


def prrt_eligibility(sstr_status: Fact[SstrStatus], sstr_modality: SstrModality | None, renal: Fact[float],
                     kps: Fact[float], ecog: Fact[int], platelets: tuple[LabResult, ...],
                     today: date) -> PrrtEligibility:
    """The four criteria of section 3, each with value, date and pass/fail/unknown."""
    return PrrtEligibility((_sstr(sstr_status, sstr_modality), _crcl(renal), _kps(kps, ecog),
                            _platelets(platelets, today)))


def prrt_durable(prrt: TherapyExposure | None, disease_status: Fact[str]) -> Fact[bool]:
    """True when the last PRRT was >=12 months before documented progression; unknown otherwise."""
    if prrt is None or not prrt.given:
        return Fact(None)
    last = parse_date(prrt.last_administration or prrt.end or prrt.start)
    if disease_status.value != "progressing":
        return Fact(None, notes=("no documented progression after PRRT",))
    progression = parse_date(disease_status.date)
    if last is None or progression is None:
        return Fact(None, None, disease_status.date, prrt.sources + disease_status.sources,
                    ("PRRT or progression date unknown",))
    months = (progression - last).days
    durable = months >= DURABLE_DAYS
    return Fact(durable, None, disease_status.date, prrt.sources + disease_status.sources,
                (f"{months} days from the last PRRT ({last.isoformat()}) to progression ({progression.isoformat()})",))

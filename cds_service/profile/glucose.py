"""Low glucose -> lowest_recent_glucose and glucose_low (net-decision-model.md section 2 row glucose_low).

Insulinoma rules (P-7's indicator, the SSA option) need to know whether the patient has had clinically
significant hypoglycaemia: a value < 54 mg/dL (3.0 mmol/L, ADA level 2) within 30 days. EHRs send glucose
in mg/dL (serum, blood, point-of-care meters) or mmol/L; both are read and shown in mg/dL, a conversion is
noted. Choice where the model says "latest value": the LOWEST value of the 30 days is used, because
insulinoma hypoglycaemia is episodic and a normal value after a level-2 episode does not make it safe.
"""

from __future__ import annotations

from datetime import date, timedelta

from cds_service.profile.fhirread import parse_date
from cds_service.profile.model import Fact, LabResult

WINDOW_DAYS = 30
LOW_MG_DL = 54.0  # ADA level 2 (3.0 mmol/L)
MG_DL_PER_MMOL_L = 18.016  # glucose, 180.16 g/mol
_MG_DL = frozenset({"mg/dl", "mg/100ml", "mg%"})
_MMOL_L = frozenset({"mmol/l", "mmol/liter", "mmol/litre"})


def to_mg_dl(result: LabResult) -> tuple[float | None, str | None]:
    """(value in mg/dL, note) for one glucose result; (None, why) when the unit cannot be read."""
    if result.value is None:
        return None, f"glucose value not numeric ('{result.text or ''}')"
    unit = (result.unit or "").strip().lower().replace(" ", "")
    if unit in _MG_DL:
        return result.value, None
    if unit in _MMOL_L:
        value = round(result.value * MG_DL_PER_MMOL_L, 1)
        return value, f"{result.value:g} mmol/L converted to {value:g} mg/dL"
    return None, f"glucose unit '{result.unit or 'none'}' not understood: value not used"


def glucose_facts(results: tuple[LabResult, ...], today: date) -> tuple[Fact[float], Fact[bool], list[tuple[str, str]]]:
    """(lowest glucose within 30 days in mg/dL, glucose_low, data-quality notes as (message, reference))."""
    cutoff = today - timedelta(days=WINDOW_DAYS)
    notes: list[tuple[str, str]] = []
    recent: list[tuple[float, LabResult, str | None]] = []
    for r in results:
        day = parse_date(r.date)
        if day is None or day < cutoff or day > today:
            continue
        value, note = to_mg_dl(r)
        if value is None:
            notes.append((note or "glucose not readable", r.source.reference))
            continue
        recent.append((value, r, note))
    if not recent:
        why = "no readable glucose within 30 days" if results else "no glucose on record"
        return Fact(None, "mg/dL", notes=(why,)), Fact(None, notes=(why,)), notes
    value, lowest, note = min(recent, key=lambda t: t[0])
    shown_notes = (note,) if note else ()
    if len(recent) > 1:
        shown_notes += (f"lowest of {len(recent)} glucose values within 30 days",)
    low = Fact(value, "mg/dL", lowest.date, (lowest.source,), shown_notes)
    is_low = value < LOW_MG_DL
    flag_note = (f"{value:g} mg/dL < 54 mg/dL (3.0 mmol/L): clinically significant hypoglycaemia" if is_low
                 else f"lowest glucose within 30 days {value:g} mg/dL (not < 54 mg/dL)")
    return low, Fact(is_low, None, lowest.date, (lowest.source,), (flag_note,)), notes

"""Labs, renal function and performance status (net-decision-model.md section 2 rows labs,
renal_function, performance).

Labs keep their value, unit, date and reference range as sent (CgA in ng/mL, ug/L, nmol/L or U/L is
never converted). Renal function: Cockcroft-Gault/measured CrCl preferred, eGFR used in its place and
flagged; latest within 90 days. Performance: Karnofsky, or ECOG mapped (0-1 ~ KPS >=70, 2 ~ 50-60,
3-4 ~ <=40) and flagged; latest within 90 days.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cds_service.profile.codes import Entry, codings
from cds_service.profile.fhirread import (
    as_dict,
    as_list,
    as_str,
    parse_date,
    resource_date,
    source_of,
    status_code,
    to_float,
)
from cds_service.profile.model import Fact, LabResult
from cds_service.profile.quantities import plain_quantity, read_number

RECENT_DAYS = 90
# ECOG -> approximate Karnofsky (section 2): 0-1 ~ >=70, 2 ~ 50-60, 3-4 ~ <=40. The value kept is the
# conservative end of each range; ECOG 2 straddles the PRRT threshold (KPS >50) and is judged unknown there.
ECOG_TO_KPS = {0: 70.0, 1: 70.0, 2: 50.0, 3: 40.0, 4: 40.0}
_PLATELET_PER_UL = frozenset({"/ul", "/mm3", "/µl", "/μl", "cells/ul", "{cells}/ul", "/cumm"})
_PLATELET_10_9 = frozenset({"10*9/l", "10^9/l", "x10e9/l", "10*3/ul", "10^3/ul", "k/ul", "x10e3/ul", "thou/ul",
                            "10*3/mm3", "g/l", "10e9/l", "x10^9/l", "x10*9/l", "10x9/l", "10x3/ul", "k/mm3",
                            "1000/ul", "10^3/µl", "10*3/µl"})


def read_lab(resource: dict[str, Any], name: str, when: str | None = None) -> LabResult:
    """One lab Observation as a LabResult (value as sent, with unit, date and reference range).

    `when` is the resource's date when the caller has it already (`resource_date`), else it is read."""
    plain = plain_quantity(resource)  # the common numeric value, read without a Reading (performance)
    problem = None
    if plain is not None:
        value, unit, shown = plain
    else:
        reading = read_number(resource)
        value, unit, shown = reading.value, reading.unit, reading.shown
        if reading.rejected:
            problem = reading.notes[-1] if reading.notes else "value could not be read"
    interpretation = None
    for cc in as_list(resource.get("interpretation")):
        c = codings(cc)
        interpretation = c[0][1] if c else as_str(as_dict(cc).get("text"))
        if interpretation:
            break
    label = f"{name} {shown}".strip()
    text = shown if value is None and shown else None
    source = source_of(resource, label, when)
    # _reference_range reads no range when the field is absent, the common case (performance: one call less)
    reference_range, low, high = _reference_range(resource) if "referenceRange" in resource else (None, None, None)
    return LabResult(name, value, unit, source.date, source, reference_range, interpretation, text, problem,
                     low, high)


def _reference_range(resource: dict[str, Any]) -> tuple[str | None, float | None, float | None]:
    """(the range as text, its low bound, its high bound); bounds None when not sent as numbers."""
    rr = as_dict(resource.get("referenceRange"))
    if not rr:
        return None, None, None
    text = as_str(rr.get("text"))
    low, _ = to_float(as_dict(rr.get("low")).get("value"))
    high, _ = to_float(as_dict(rr.get("high")).get("value"))
    unit = as_str(as_dict(rr.get("high")).get("unit")) or as_str(as_dict(rr.get("low")).get("unit")) or ""
    if low is not None and high is not None:
        return f"{low:g}-{high:g} {unit}".strip(), low, high
    if high is not None:
        return f"<={high:g} {unit}".strip(), None, high
    if low is not None:
        return f">={low:g} {unit}".strip(), low, None
    return text, None, None


KEEP_PER_LAB = 24  # newest results read per lab; rules use the latest values and a year of CgA at most
FULL_HISTORY_LABS = frozenset({"calcium"})  # any high calcium ever is an MEN1 feature


def read_newest(resources: list[dict[str, Any]], name: str) -> list[LabResult]:
    """The newest KEEP_PER_LAB Observations of a lab as LabResults (all of them for FULL_HISTORY_LABS).

    Years of routine labs make up most of a large record; reading only the newest keeps the profile
    build proportional to what the rules can use (BENCHMARKS.md)."""
    if len(resources) > KEEP_PER_LAB and name not in FULL_HISTORY_LABS:
        # Each date is read once and handed to read_lab (same order and ties as nlargest over the resources).
        dates = [resource_date(r) for r in resources]
        keep = heapq.nlargest(KEEP_PER_LAB, range(len(resources)), key=lambda i: dates[i] or "")
        return [read_lab(resources[i], name, dates[i]) for i in keep]
    return [read_lab(resource, name) for resource in resources]


def newest_first(results: list[LabResult]) -> tuple[LabResult, ...]:
    return tuple(sorted(results, key=lambda r: parse_date(r.date) or date.min, reverse=True))


def _recent(results: tuple[LabResult, ...], today: date) -> tuple[LabResult | None, LabResult | None]:
    """(latest usable within 90 days, latest usable at all)."""
    usable = [r for r in results if r.value is not None]
    latest = usable[0] if usable else None
    cutoff = today - timedelta(days=RECENT_DAYS)
    for r in usable:
        day = parse_date(r.date)
        if day is not None and day >= cutoff:
            return r, latest
    return None, latest


def renal_fact(crcl: tuple[LabResult, ...], egfr: tuple[LabResult, ...], today: date) -> Fact[float]:
    """CrCl in mL/min, latest within 90 days; eGFR used in its place and flagged."""
    recent, latest = _recent(crcl, today)
    notes: list[str] = []
    if recent is None:
        e_recent, e_latest = _recent(egfr, today)
        if e_recent is not None:
            return Fact(e_recent.value, e_recent.unit or "mL/min/1.73m2", e_recent.date, (e_recent.source,),
                        ("eGFR used in place of CrCl",))
        latest = latest or e_latest
    else:
        return Fact(recent.value, recent.unit or "mL/min", recent.date, (recent.source,))
    if latest is not None:
        shown = f"{latest.value:g} {latest.unit or ''}".strip()
        notes.append(f"latest renal function {shown} on {latest.date} is older than 90 days")
        return Fact(None, latest.unit, latest.date, (latest.source,), tuple(notes))
    return Fact(None, notes=("no CrCl or eGFR on record",))


@dataclass(frozen=True)
class PerformanceReading:
    scale: str  # "kps" | "ecog"
    value: float | None
    source_date: str | None
    resource: dict[str, Any]
    note: str | None = None


def read_performance(resource: dict[str, Any], entry: Entry) -> PerformanceReading:
    scale = str(entry.get("scale"))
    raw = resource.get("valueInteger")
    if raw is None:
        raw = as_dict(resource.get("valueQuantity")).get("value")
    value, _ = to_float(raw)
    if value is None:
        # LOINC answer lists (LA codes) carry the score in the display or text, e.g. "1 - Restricted ..."
        cc = as_dict(resource.get("valueCodeableConcept"))
        for text in [as_str(cc.get("text")), *(c[2] for c in codings(cc))]:
            if text and text[:3].strip().rstrip("-").strip().isdigit():
                value = float(text[:3].strip().rstrip("-").strip())
                break
    limit = 100 if scale == "kps" else 5
    note = None
    if value is not None and not (0 <= value <= limit):
        note = f"{scale.upper()} {value:g} rejected: outside 0-{limit}"
        value = None
    elif value is None:
        note = f"{scale.upper()} value could not be read"
    return PerformanceReading(scale, value, source_of(resource).date, resource, note)


def performance_facts(readings: list[PerformanceReading], today: date) -> tuple[Fact[float], Fact[int]]:
    """(Karnofsky fact, ECOG fact): latest usable reading within 90 days; ECOG mapped to KPS and flagged."""
    usable = sorted((r for r in readings if r.value is not None), key=lambda r: parse_date(r.source_date) or date.min,
                    reverse=True)
    if not usable:
        return Fact(None, notes=("no Karnofsky or ECOG on record",)), Fact(None)
    latest = usable[0]
    source = source_of(latest.resource, f"{latest.scale.upper()} {latest.value:g}")
    day = parse_date(latest.source_date)
    if day is None or day < today - timedelta(days=RECENT_DAYS):
        shown = f"{latest.scale.upper()} {latest.value:g}"
        note = f"latest performance status ({shown}, {latest.source_date}) is older than 90 days"
        return Fact(None, None, latest.source_date, (source,), (note,)), Fact(None)
    if latest.scale == "kps":
        return Fact(latest.value, None, latest.source_date, (source,)), Fact(None)
    ecog = int(latest.value)  # type: ignore[arg-type]
    kps = ECOG_TO_KPS.get(ecog)
    approx = {0: ">=70", 1: ">=70", 2: "50-60", 3: "<=40", 4: "<=40"}.get(ecog, "n/a")
    kps_fact = Fact(kps, None, latest.source_date, (source,), (f"approximated from ECOG {ecog} (KPS {approx})",))
    return kps_fact, Fact(ecog, None, latest.source_date, (source,))


def platelets_10e9(result: LabResult) -> tuple[float | None, str | None]:
    """Platelets in 10^9/L (same number as 10^3/uL); per-uL counts divided by 1000; else (None, note)."""
    if result.value is None:
        return None, "platelet count not numeric"
    unit = (result.unit or "").strip().lower().replace(" ", "")
    if unit in _PLATELET_10_9:
        return result.value, None
    if unit in _PLATELET_PER_UL:
        return result.value / 1000, f"{result.value:g} {result.unit} converted to {result.value / 1000:g} x10^9/L"
    if not unit:
        if result.value >= 1000:
            return result.value / 1000, f"no unit: {result.value:g} read as per uL"
        return result.value, f"no unit: {result.value:g} read as x10^9/L"
    return None, f"platelet unit '{result.unit}' not understood"


def is_preliminary(resource: dict[str, Any]) -> bool:
    return status_code(resource.get("status")) == "preliminary"

"""Ki-67, mitotic count, morphology -> grade and differentiation (net-decision-model.md sections 2 and 3).

grade_specimens: use the Ki-67 and mitotic-count observations within 90 days of the most recent one
(primary and metastasis assessed together) and take the highest of each. WHO 2019 grade: discordant ->
the higher grade; NEC is always high grade with no G number. Differentiation: a NEC code anywhere wins
over NET codes; carcinoid codes, NET morphology and functioning-syndrome tumours imply NET; with nothing
said, Ki-67 <=20 % (and mitoses <=20) implies NET, above that it stays unknown (pathology-review).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cds_service.profile.codes import codings, index
from cds_service.profile.fhirread import parse_date, source_of, status_code
from cds_service.profile.grading import grade_by_ki67, grade_by_mitoses, higher_grade, ki67_band
from cds_service.profile.model import Differentiation, Fact, Ki67Band, Source, WhoGrade
from cds_service.profile.quantities import Reading, read_ki67, read_mitoses

GRADE_WINDOW_DAYS = 90


@dataclass(frozen=True)
class SpecimenValue:
    """One Ki-67 or mitotic-count observation, read."""

    kind: str  # "ki67" | "mitoses"
    reading: Reading
    source: Source
    day: date | None
    preliminary: bool = False


@dataclass(frozen=True)
class Evidence:
    """One piece of differentiation evidence (NET or NEC) with where it came from."""

    differentiation: Differentiation
    why: str
    source: Source


def read_specimen(resource: dict[str, Any], kind: str) -> SpecimenValue:
    reading = read_ki67(resource) if kind == "ki67" else read_mitoses(resource)
    name = "Ki-67" if kind == "ki67" else "Mitotic count"
    source = source_of(resource, f"{name} {reading.shown}".strip())
    preliminary = status_code(resource.get("status")) == "preliminary"
    return SpecimenValue(kind, reading, source, parse_date(source.date), preliminary)


def read_morphology_observation(resource: dict[str, Any]) -> tuple[Evidence, str | None] | None:
    """Observation LOINC 31206-6 with an ICD-O-3 value: (differentiation evidence, syndrome or None)."""
    e = index("morphology").first(codings(resource.get("valueCodeableConcept")))
    if e is None:
        return None
    ev = Evidence(e.get("differentiation"), f"morphology {e.code} {e.display}", source_of(resource, e.display))
    return ev, e.get("syndrome")


@dataclass(frozen=True)
class Grading:
    ki67: Fact[float]
    mitoses: Fact[float]
    grade: WhoGrade | None  # numeric WHO grade from the measures (before NEC is considered)
    grade_sources: tuple[Source, ...]
    grade_notes: tuple[str, ...]
    notes: tuple[tuple[str, str], ...]  # (message, reference) data-quality notes


def grade_specimens(values: list[SpecimenValue]) -> Grading:
    """The highest Ki-67 and mitotic count within 90 days of the most recent specimen, and their grade."""
    notes: list[tuple[str, str]] = []
    for v in values:
        for n in v.reading.notes:
            notes.append((n, v.source.reference))
    dated = [v for v in values if v.day is not None]
    window_notes: list[str] = []
    if dated:
        anchor = max(v.day for v in dated)  # type: ignore[type-var]
        start = anchor - timedelta(days=GRADE_WINDOW_DAYS)
        in_window = [v for v in dated if v.day >= start]  # type: ignore[operator]
        older = len(dated) - len(in_window)
        if older:
            window_notes.append(f"{older} older specimen value(s) outside 90 days of {anchor.isoformat()} not used")
        undated = [v for v in values if v.day is None]
        for v in undated:
            notes.append(("undated pathology value not used (dated values exist)", v.source.reference))
    else:
        in_window = list(values)
        if values:
            window_notes.append("no specimen dates: all values used")
    ki67 = _highest(in_window, "ki67", "%", window_notes)
    mitoses = _highest(in_window, "mitoses", "/2 mm2", window_notes)
    by_ki = grade_by_ki67(ki67.value) if ki67.value is not None else None
    by_mit = grade_by_mitoses(mitoses.value) if mitoses.value is not None else None
    grade = higher_grade(by_ki, by_mit)
    grade_notes = list(window_notes)
    if by_ki and by_mit and by_ki != by_mit:
        grade_notes.append(f"discordant: Ki-67 -> {by_ki}, mitoses -> {by_mit}; the higher grade {grade} is used")
    rejected = [v for v in in_window if v.reading.rejected]
    if rejected:
        grade_notes.append(f"{len(rejected)} unreadable value(s) in the grading window: "
                           "the grade may be underestimated")
    if any(v.preliminary for v in in_window):
        grade_notes.append("based on a preliminary result")
    if mitoses.value is not None and any(v.reading.approximate for v in in_window if v.kind == "mitoses"):
        grade_notes.append("mitotic count per 10 HPF: approximate")
    sources = ki67.sources + mitoses.sources
    return Grading(ki67, mitoses, grade, sources, tuple(grade_notes), tuple(notes))


def history(values: list[SpecimenValue], kind: str) -> tuple[Fact[float], ...]:
    """Every readable value of one kind, oldest first (undated last), each with its source (the timeline)."""
    usable = [v for v in values if v.kind == kind and v.reading.value is not None]
    usable.sort(key=lambda v: (v.day is None, v.day or date.min))
    unit = "%" if kind == "ki67" else None
    return tuple(Fact(v.reading.value, unit or v.reading.unit, v.source.date, (v.source,),
                      tuple(v.reading.notes) + (("preliminary result",) if v.preliminary else ()))
                 for v in usable)


def _highest(values: list[SpecimenValue], kind: str, unit: str, window_notes: list[str]) -> Fact[float]:
    usable = [v for v in values if v.kind == kind and v.reading.value is not None]
    rejected = [v for v in values if v.kind == kind and v.reading.rejected]
    if not usable:
        notes = tuple(n for v in rejected for n in v.reading.notes)
        return Fact(None, unit, None, tuple(v.source for v in rejected), notes)
    best = max(usable, key=lambda v: v.reading.value)  # type: ignore[arg-type,return-value]
    notes = list(best.reading.notes)
    if len(usable) > 1:
        notes.append(f"highest of {len(usable)} values within the grading window")
    if best.preliminary:
        notes.append("preliminary result")
    unit_shown = best.reading.unit if kind == "mitoses" else unit
    return Fact(best.reading.value, unit_shown, best.source.date, (best.source,), tuple(notes))


def differentiation_fact(evidence: list[Evidence], grading: Grading, nen_present: bool) -> Fact[Differentiation]:
    """NEC anywhere wins; else NET evidence; else Ki-67/mitoses <=20 implies NET; else unknown."""
    nec = [e for e in evidence if e.differentiation == "NEC"]
    net = [e for e in evidence if e.differentiation == "NET"]
    if nec:
        notes = [f"NEC: {e.why}" for e in nec]
        if net:
            notes.append("NEC evidence wins over NET evidence (" + "; ".join(e.why for e in net) + ")")
        return Fact("NEC", None, _latest(nec), tuple(e.source for e in nec), tuple(notes))
    if net:
        return Fact("NET", None, _latest(net), tuple(e.source for e in net), tuple(f"NET: {e.why}" for e in net))
    if not nen_present or grading.grade is None:
        return Fact(None, notes=("no morphology, NEC/NET code or grade on record",) if nen_present else ())
    if grading.grade in ("G1", "G2"):
        return Fact("NET", None, grading.ki67.date or grading.mitoses.date, grading.grade_sources,
                    ("implied by Ki-67/mitoses <=20 (NEC is high grade by definition)",))
    return Fact(None, None, None, grading.grade_sources,
                ("Ki-67/mitoses >20: G3 NET and NEC cannot be told apart by grade; pathology review needed",))


def _latest(evidence: list[Evidence]) -> str | None:
    dated = [e.source.date for e in evidence if parse_date(e.source.date)]
    return max(dated, key=lambda d: parse_date(d)) if dated else None  # type: ignore[arg-type,return-value]


def who_grade_fact(differentiation: Fact[Differentiation], grading: Grading) -> Fact[WhoGrade]:
    """WHO 2019 grade; NEC -> high-grade-nec (no G number); a Ki-67 >20 % never makes a NET a NEC."""
    if differentiation.value == "NEC":
        return Fact("high-grade-nec", None, differentiation.date, differentiation.sources,
                    ("NEC is high grade by definition",))
    if grading.grade is None:
        return Fact(None, None, None, grading.ki67.sources + grading.mitoses.sources,
                    grading.grade_notes + ("no readable Ki-67 or mitotic count",))
    when = max(filter(None, (grading.ki67.date, grading.mitoses.date)), key=lambda d: parse_date(d) or date.min,
               default=None)
    return Fact(grading.grade, None, when, grading.grade_sources, grading.grade_notes)


def ki67_band_fact(ki67: Fact[float]) -> Fact[Ki67Band]:
    if ki67.value is None:
        return Fact(None)
    return Fact(ki67_band(ki67.value), None, ki67.date, ki67.sources)


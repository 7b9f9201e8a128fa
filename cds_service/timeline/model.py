"""The timeline of one patient: the profile's history laid out over time, with the rules' verdicts.

A NET specialist decides from a history (issue 17): Ki-67 between biopsies, when the SSA started, how
many PRRT doses, where CgA went and whether a PPI ran when it was drawn, when progression was recorded.
`build_timeline` reads only the PatientProfile (built by the same code as the hooks) and the rules'
explain output; it never reads FHIR JSON or codes, and it decides nothing clinical: whether a marker was
drawn on a PPI is the X-5 rule's own function, the next step is the next-step card the hooks give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cds_service.cards.data import card_data
from cds_service.cards.render import render_card
from cds_service.fhir.record import PatientRecord
from cds_service.profile.fhirread import parse_date
from cds_service.profile.model import Fact, LabResult, PatientProfile, TherapyExposure
from cds_service.rules import get_rule
from cds_service.rules.common import therapy_label
from cds_service.rules.findings import Finding, RuleEvaluation
from cds_service.rules.gaps import CGA_KEYS, ppi_active_before

# The tumour markers the page charts (profile lab names), with their display label key (cards/labels.yaml).
MARKERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (CGA_KEYS, "Chromogranin A"),
    (("5-hiaa",), "5-HIAA"),
    (("gastrin",), "Gastrin"),
)
# Marker drawn on a PPI: CgA and gastrin rise on acid suppression; 5-HIAA does not.
PPI_CONFOUNDED = frozenset({"Chromogranin A", "Gastrin"})
# Therapy rows, in the order a clinician reads a NET history (SSA, PRRT, targeted, chemotherapy, control).
THERAPY_ORDER = ("ssa", "prrt", "everolimus", "sunitinib", "cabozantinib", "captem", "capecitabine",
                 "temozolomide", "streptozocin", "platinum-etoposide", "telotristat", "diazoxide", "ppi")
THERAPY_GROUP = {"ssa": "SSA", "prrt": "PRRT", "everolimus": "targeted", "sunitinib": "targeted",
                 "cabozantinib": "targeted", "captem": "chemotherapy", "capecitabine": "chemotherapy",
                 "temozolomide": "chemotherapy", "streptozocin": "chemotherapy",
                 "platinum-etoposide": "chemotherapy", "telotristat": "syndrome control",
                 "diazoxide": "syndrome control", "ppi": "acid suppression"}


@dataclass(frozen=True)
class Point:
    """One dated value (Ki-67, mitotic count, a marker) with its source reference."""

    date: str | None
    value: float
    unit: str | None
    reference: str
    notes: tuple[str, ...] = ()
    on_ppi: bool | None = None  # markers: drawn within 14 days of a PPI (X-5's test); None: dates do not say


@dataclass(frozen=True)
class Shown:
    """One profile value as the page shows it: text, date, the references behind it, notes."""

    label: str
    value: str | None  # None: unknown
    date: str | None = None
    references: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    facts: tuple[Shown, ...]  # site, differentiation, grade, syndrome, stage, sites, SSTR status, ...
    ki67: tuple[Point, ...]  # every Ki-67 read, oldest first
    mitoses: tuple[Point, ...]  # every mitotic count read, oldest first


@dataclass(frozen=True)
class SstrEntry:
    date: str | None
    modality: str  # display label (SSTR-PET, octreotide scan, SSTR2A IHC)
    result: str | None  # positive | negative | None: on record, result not readable
    reference: str
    krenning: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TherapyBar:
    """One therapy class: its periods as bars, PRRT doses as marks, planned doses."""

    therapy: str  # profile therapy class
    label: str
    group: str  # SSA, PRRT, targeted, chemotherapy, syndrome control, acid suppression
    active: bool
    periods: tuple[tuple[str | None, str | None], ...]  # (start, end); end None while active
    doses: tuple[str, ...] = ()  # PRRT: the dates of the doses counted by the profile
    planned: tuple[str, ...] = ()  # planned doses (ServiceRequests)
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class MarkerSeries:
    label: str  # Chromogranin A, 5-HIAA, Gastrin
    unit: str | None
    points: tuple[Point, ...]  # oldest first
    reference_low: float | None = None
    reference_high: float | None = None
    reference_text: str | None = None
    ppi_confounded: bool = False  # the marker rises on a PPI (CgA, gastrin)


@dataclass(frozen=True)
class StatusEvent:
    date: str | None
    status: str  # progressing, stable, improved, remission, ...
    reference: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NextStep:
    """The next-step card the hooks give: its rule, topic, summary, options and open branches."""

    rule_id: str
    topic: str
    summary: str
    conditional: bool
    options: tuple[str, ...]  # short option names, preferred first
    branches: tuple[str, ...] = ()  # conditional card: the topic of each branch
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleRow:
    rule_id: str
    kind: str
    topic: str
    status: str  # fired, not-fired, unknown, suppressed, superseded, error
    reason: str
    missing: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Timeline:
    patient_id: str
    as_of: str | None
    age: str | None
    in_scope: bool
    diagnosis: Diagnosis
    sstr: tuple[SstrEntry, ...]  # oldest first
    therapies: tuple[TherapyBar, ...]
    markers: tuple[MarkerSeries, ...]  # only markers with at least one value
    ppi_periods: tuple[tuple[str | None, str | None], ...]  # every PPI period on record (end None: ongoing)
    status_events: tuple[StatusEvent, ...]  # oldest first
    next_step: NextStep | None
    rules: tuple[RuleRow, ...]
    data_source: str  # prefetch, fetched or mixed (PatientRecord.data_source)
    notes: tuple[str, ...]  # data-quality notes

    @property
    def dates(self) -> list[date]:
        """Every date on the timeline (for its time axis)."""
        found: list[str | None] = [self.as_of]
        found += [p.date for p in (*self.diagnosis.ki67, *self.diagnosis.mitoses)]
        found += [s.date for s in self.sstr] + [e.date for e in self.status_events]
        found += [d for t in self.therapies for period in t.periods for d in period] + \
            [d for t in self.therapies for d in (*t.doses, *t.planned)]
        found += [p.date for m in self.markers for p in m.points]
        found += [f.date for f in self.diagnosis.facts]
        return sorted({d for d in (parse_date(x) for x in found) if d is not None})


def build_timeline(record: PatientRecord, profile: PatientProfile, evaluations: list[RuleEvaluation]) -> Timeline:
    """The timeline of `profile` (built from `record`), with every patient-view rule of `evaluations`
    (rules.explain). Of the record only how its data was obtained is read (prefetch or fetched)."""
    data = card_data()
    label = lambda key: str(data.label(key, escape=False))  # noqa: E731 - display text, never markup
    return Timeline(
        patient_id=profile.patient_id,
        as_of=profile.as_of,
        age=f"{profile.age.value}" if profile.age.known else None,
        in_scope=profile.in_scope,
        diagnosis=Diagnosis(_diagnosis_facts(profile, label), _points(profile.ki67_history),
                            _points(profile.mitotic_history)),
        sstr=tuple(SstrEntry(s.date, label(s.modality), s.result, s.source.reference, s.krenning, s.notes)
                   for s in sorted(profile.sstr_studies, key=lambda s: _day(s.date))),
        therapies=tuple(_bar(t, label) for t in sorted(profile.therapies, key=lambda t: THERAPY_ORDER.index(t.therapy))
                        if t.given or t.planned),
        markers=_markers(profile),
        ppi_periods=tuple(period for t in profile.therapies if t.therapy == "ppi" and t.given
                          for period in _periods(t)),
        status_events=tuple(StatusEvent(f.date, str(f.value), f.sources[0].reference if f.sources else "", f.notes)
                            for f in profile.disease_status_history),
        next_step=_next_step(profile, evaluations, label),
        rules=tuple(_row(e, label) for e in evaluations),
        data_source=record.data_source,
        notes=tuple(n.message + (f" ({n.reference})" if n.reference and n.reference not in n.message else "")
                    for n in profile.notes),
    )


def _day(value: str | None) -> date:
    return parse_date(value) or date.min


def _points(history: tuple[Fact[float], ...]) -> tuple[Point, ...]:
    return tuple(Point(f.date, float(f.value), f.unit, f.sources[0].reference if f.sources else "", f.notes)
                 for f in history if f.value is not None)


def _shown(name: str, fact: Fact, text: str | None = None) -> Shown:
    value = text if text is not None else (None if fact.value is None else str(fact.value))
    return Shown(name, value, fact.date, tuple(s.reference for s in fact.sources), fact.notes)


def _diagnosis_facts(p: PatientProfile, label) -> tuple[Shown, ...]:  # noqa: ANN001 - label is a small callable
    grade = p.who_grade
    grade_text = {"high-grade-nec": "high grade (NEC)"}.get(str(grade.value), grade.value) if grade.known else None
    sstr = _shown("SSTR status", p.sstr_status)
    if p.sstr_modality:
        sstr = Shown(sstr.label, f"{sstr.value} ({label(p.sstr_modality)})", sstr.date, sstr.references, sstr.notes)
    sites = ", ".join(p.metastatic_sites) if p.metastatic_sites else None
    facts = [
        _shown("Primary site", p.primary_site),
        _shown("Differentiation", p.differentiation),
        _shown("WHO grade", grade, grade_text),
        _shown("Functional status", p.functional_syndrome),
        _shown("Stage", p.stage),
        Shown("Metastatic sites", sites, p.metastatic.date, tuple(s.reference for s in p.metastatic.sources)),
        sstr,
        _shown("Disease status", p.disease_status),
        _shown("Line of therapy", p.line_of_therapy),
        _shown("MEN1", p.men1_status),
    ]
    return tuple(facts)


def _periods(t: TherapyExposure) -> tuple[tuple[str | None, str | None], ...]:
    """The exposure's periods; an active exposure's open period runs to the present (end None)."""
    periods = tuple(dict.fromkeys(t.periods)) or ((t.start, t.end),)
    if t.therapy == "prrt" and t.administration_dates:
        return ()  # PRRT shows as dose marks, not as a bar
    return periods


def _bar(t: TherapyExposure, label) -> TherapyBar:  # noqa: ANN001
    return TherapyBar(t.therapy, label(therapy_label(t)), THERAPY_GROUP.get(t.therapy, "other"), t.active,
                      _periods(t) if t.given else (), t.administration_dates, t.planned,
                      tuple(s.reference for s in t.sources))


def _markers(p: PatientProfile) -> tuple[MarkerSeries, ...]:
    out = []
    for keys, name in MARKERS:
        results: list[LabResult] = [r for key in keys for r in p.labs.get(key, ()) if r.value is not None]
        if not results:
            continue
        results.sort(key=lambda r: _day(r.date))
        unit = results[-1].unit
        ranged = next((r for r in reversed(results) if r.reference_range and r.unit == unit), None)
        confounded = name in PPI_CONFOUNDED
        points = tuple(Point(r.date, float(r.value), r.unit, r.source.reference,  # type: ignore[arg-type]
                             (r.interpretation,) if r.interpretation else (),
                             ppi_active_before(p, r.date) if confounded else None) for r in results)
        out.append(MarkerSeries(name, unit, points, ranged.reference_low if ranged else None,
                                ranged.reference_high if ranged else None,
                                ranged.reference_range if ranged else None, confounded))
    return tuple(out)


def _next_step(p: PatientProfile, evaluations: list[RuleEvaluation], label) -> NextStep | None:  # noqa: ANN001
    """The next-step card of the answer (fired, or conditional on unknown branches), as the hooks render it."""
    finding: Finding | None = next((e.finding for e in evaluations if e.kind == "next-step" and e.finding
                                    is not None and e.status in ("fired", "unknown")), None)
    if finding is None:
        return None
    data = card_data()
    card = render_card(finding, p, data)
    options = sorted(finding.options, key=lambda o: not o.preferred)
    topics = data.topics.get("codes", {})
    return NextStep(finding.rule_id, str(topics.get(finding.topic, finding.topic)), str(card["summary"]),
                    finding.conditional, tuple(str(data.option_name(o.key)) for o in options),
                    tuple(str(topics.get(b.topic, b.topic)) for b in finding.branches),
                    tuple(label(m) for m in finding.missing))


def _row(e: RuleEvaluation, label) -> RuleRow:  # noqa: ANN001
    return RuleRow(e.rule_id, e.kind, e.topic, e.status, e.reason, tuple(label(m) for m in e.missing),
                   get_rule(e.rule_id).source)

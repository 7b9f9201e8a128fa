"""What a rule produces: a Finding (rendered into one card) and the tri-state checks behind it.

A Finding holds decisions and facts, never prose: the text lives in `cards/` (templates and YAML).
Checks are tri-state (True, False, None = unknown) so that an unknown input never silently becomes
a "no" or a "yes": a rule whose condition is unknown is reported as such, and the pathway turns it
into a branch of a conditional card (decision model, safety invariant 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from cds_service.profile.model import Criterion, Fact, LabResult, Source, TherapyExposure

Indicator = Literal["info", "warning", "critical"]
Kind = Literal["scope", "profile", "next-step", "syndrome", "gap", "safety", "follow-up", "order", "addendum"]
Status = Literal["fired", "not-fired", "unknown", "suppressed", "superseded", "error"]

INDICATOR_RANK: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}


# --------------------------------------------------------------------------------------------------
# Tri-state checks
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """The result of one condition: `ok` True/False/None, why, and which inputs were missing."""

    ok: bool | None
    reason: str
    missing: tuple[str, ...] = ()

    def __bool__(self) -> bool:  # pragma: no cover - guard against accidental truthiness
        raise TypeError("Check is tri-state; test .ok explicitly")


def check(label: str, value: bool | None, missing: str | None = None) -> Check:
    """A leaf check. `label` reads as a statement ("SSTR imaging positive")."""
    if value is None:
        return Check(None, f"unknown: {label}", (missing or label,))
    return Check(value, label if value else f"false: {label}")


def all_of(*checks: Check) -> Check:
    """AND: False wins over unknown, unknown wins over True."""
    falses = [c for c in checks if c.ok is False]
    if falses:
        return Check(False, falses[0].reason)
    unknown = [c for c in checks if c.ok is None]
    if unknown:
        return Check(None, "; ".join(c.reason for c in unknown), _merge(c.missing for c in unknown))
    return Check(True, "; ".join(c.reason for c in checks))


def any_of(*checks: Check) -> Check:
    """OR: True wins over unknown, unknown wins over False."""
    trues = [c for c in checks if c.ok is True]
    if trues:
        return Check(True, trues[0].reason)
    unknown = [c for c in checks if c.ok is None]
    if unknown:
        return Check(None, " or ".join(c.reason for c in unknown), _merge(c.missing for c in unknown))
    return Check(False, " and ".join(c.reason for c in checks))


def negate(c: Check, label: str | None = None) -> Check:
    if c.ok is None:
        return c
    return Check(not c.ok, label or (f"not ({c.reason})"), c.missing)


def _merge(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    for group in groups:
        for item in group:
            if item not in out:
                out.append(item)
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# What a card shows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownFact:
    """One fact for the card's "Why" section: value, unit, date and FHIR reference(s)."""

    label: str
    value: str
    unit: str | None
    date: str
    references: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """One therapy option of a card; `key` indexes cards/options.yaml."""

    key: str
    preferred: bool = False


@dataclass(frozen=True)
class Branch:
    """One branch of a conditional card: the rule that would apply and its options."""

    rule_id: str
    topic: str
    missing: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class SuggestionSpec:
    """A suggestion to build: `kind` indexes cards/suggestions.yaml; `order_ref` for draft edits."""

    kind: str  # "order-sstr-pet", "order-gastrin", "order-ki67", "order-cbc", "order-creatinine",
    #            "update-ppi-bid", "delete-draft"
    recommended: bool = False
    order_ref: str | None = None


@dataclass
class Finding:
    """One rule's output, rendered into one card (or into a section of another card)."""

    rule_id: str
    topic: str
    indicator: Indicator
    kind: Kind
    template: str  # relative to cards/, without ".md.j2", e.g. "therapy/GI-3"
    guidelines: tuple[str, ...] = ()  # keys of cards/sources.yaml, first is source.label/url
    params: dict[str, Any] = field(default_factory=dict)  # template parameters (plain data)
    facts: list[ShownFact] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what is missing, human-readable keys
    options: list[Option] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)  # conditional card when non-empty
    prechecks: list[Branch] = field(default_factory=list)  # "first check" rules whose input is unknown
    addenda: list[Finding] = field(default_factory=list)  # P-5, GI-9, GI-11, X-7 inside a card
    suggestions: list[SuggestionSpec] = field(default_factory=list)
    order_ref: str | None = None  # order-sign: the draft order this card is about
    conditional: bool = False

    @property
    def recommended_options(self) -> list[str]:
        """Option keys offered as recommendations (preferred or alternatives), not branch-only ones."""
        return [] if self.conditional else [o.key for o in self.options]

    @property
    def preferred_option(self) -> str | None:
        if self.conditional:
            return None
        return next((o.key for o in self.options if o.preferred), None)

    def all_options(self) -> list[str]:
        """Every option key shown anywhere on the card, including branches and addenda."""
        keys = [o.key for o in self.options]
        for b in self.branches + self.prechecks:
            keys += [o.key for o in b.options]
        for a in self.addenda:
            keys += a.all_options()
        return keys

    def add_facts(self, *facts: ShownFact | None) -> None:
        for f in facts:
            if f is not None and f not in self.facts:
                self.facts.append(f)

    def add_missing(self, *items: str) -> None:
        for item in items:
            if item and item not in self.missing:
                self.missing.append(item)


@dataclass
class RuleEvaluation:
    """One rule evaluated on one profile: fired or not, and why (for `explain` and the tests)."""

    rule_id: str
    hook: str
    kind: str
    topic: str
    status: Status
    reason: str
    missing: tuple[str, ...] = ()
    order_ref: str | None = None
    finding: Finding | None = None

    @property
    def fired(self) -> bool:
        return self.status == "fired"


# --------------------------------------------------------------------------------------------------
# Fact helpers: turn profile values into shown facts, or into missing-data entries
# --------------------------------------------------------------------------------------------------


def _date_of(date: str | None, sources: tuple[Source, ...]) -> str | None:
    if date:
        return date
    return next((s.date for s in sources if s.date), None)


def fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def shown(label: str, fact: Fact, value: str | None = None) -> ShownFact | None:
    """A shown fact, or None when the fact is unknown or lacks a date or a source (invariant 6)."""
    if not fact.known:
        return None
    date = _date_of(fact.date, fact.sources)
    refs = tuple(s.reference for s in fact.sources if s.reference)
    if not date or not refs:
        return None
    return ShownFact(label, value if value is not None else fmt_value(fact.value), fact.unit, date[:10],
                     refs, fact.notes)


def shown_or_missing(finding: Finding, label: str, fact: Fact, missing: str | None = None,
                     value: str | None = None) -> None:
    """Show the fact on the finding, or record it as missing (unknown, undated or unsourced)."""
    s = shown(label, fact, value)
    if s is not None:
        finding.add_facts(s)
    elif not fact.known:
        finding.add_missing(missing or label)
    else:
        finding.add_missing(f"{{arg}}: recorded without a date or source reference|{missing or label}")


def shown_lab(label: str, lab: LabResult | None) -> ShownFact | None:
    if lab is None or not lab.date or not lab.source.reference:
        return None
    value = fmt_value(lab.value) if lab.value is not None else (lab.text or "")
    if not value:
        return None
    notes = (f"reference range {{arg}}|{lab.reference_range}",) if lab.reference_range else ()
    return ShownFact(label, value, lab.unit, lab.date[:10], (lab.source.reference,), notes)


def shown_therapy(label: str, t: TherapyExposure) -> ShownFact | None:
    date = t.start or t.last_administration or _date_of(None, t.sources)
    refs = tuple(s.reference for s in t.sources if s.reference)
    if not date or not refs:
        return None
    if t.therapy == "prrt" and t.administrations:
        value = f"{{arg}} administration(s)|{t.administrations}"
        if t.last_administration:
            value = f"{{0}} administration(s), last {{1}}|{t.administrations}|{t.last_administration[:10]}"
    elif not getattr(t, "given", True) or (t.planned and not t.administrations and not t.active):
        value = f"planned {{arg}}|{', '.join(d[:10] for d in t.planned)}" if t.planned else "planned"
    else:
        value = "active" if t.active else (f"stopped {{arg}}|{t.end[:10]}" if t.end else "stopped")
    return ShownFact(label, value, None, date[:10], refs)


def shown_criterion(c: Criterion) -> ShownFact | None:
    date = _date_of(c.date, c.sources)
    refs = tuple(s.reference for s in c.sources if s.reference)
    if not c.value or not date or not refs:
        return None
    return ShownFact(c.label, f"{{arg}} ({c.result})|{c.value}", None, date[:10], refs, c.notes)

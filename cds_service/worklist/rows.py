"""The worklist's row: one patient, what the patient-view hook answers for them, flat enough for a table.

The row holds what a clinic filters on (scope, pathway, grade, SSTR status, line of therapy), what the hook
answered (the rule ids and topics of its cards, counts by indicator) and what went wrong (data-quality notes,
an error). The long form (`findings`) has one line per rule on a card: patient, rule, topic, indicator.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple


class Finding(NamedTuple):
    """One rule behind one card of the answer (the long form): addenda and branches share their card's
    topic and indicator."""

    rule_id: str
    topic: str
    indicator: str


@dataclass(frozen=True)
class WorklistRow:
    """One patient of the worklist (docs/worklist.md)."""

    patient_id: str
    in_scope: bool = False
    nen_status: str = "none"
    pathway: str | None = None
    site_group: str = "unknown"
    primary_site: str | None = None
    differentiation: str | None = None
    who_grade: str | None = None
    ki67_percent: float | None = None
    sstr_status: str = "unknown"
    therapy_line: str | None = None
    rules: tuple[str, ...] = ()  # every rule id on the answer's cards, in answer order, once each
    topics: tuple[str, ...] = ()  # the cards' topics, in answer order
    cards_critical: int = 0
    cards_warning: int = 0
    cards_info: int = 0
    conditional: bool = False  # a card shows branches because an input is unknown (invariant 5)
    overdue: tuple[str, ...] = ()  # follow-up checks past their interval (F-3: "cbc", "renal")
    notes: tuple[str, ...] = ()  # data-quality notes ("message (Type/id)")
    error: str | None = None  # the patient could not be evaluated: exception type and where, no data
    findings: tuple[Finding, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The row's columns (ROW_COLUMNS) with their values; tuples stay tuples (writers join them)."""
        return {name: getattr(self, name) for name in ROW_COLUMNS}

    def finding_dicts(self) -> list[dict[str, Any]]:
        """The long form of this row: one dict per finding (FINDING_COLUMNS)."""
        return [{"patient_id": self.patient_id, "rule_id": f.rule_id, "topic": f.topic, "indicator": f.indicator}
                for f in self.findings]


ROW_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(WorklistRow) if f.name != "findings")
FINDING_COLUMNS: tuple[str, ...] = ("patient_id", "rule_id", "topic", "indicator")

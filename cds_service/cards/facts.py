"""The facts a card shows: label, value, date and a short human source ("pathology 2024-02-05").

A rule's shown facts carry FHIR references; those go only into the card's extension (render.py), the
text names the kind of record instead (cards/fact_sources.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.cards.data import CardData
from cds_service.cards.escape import Markdown
from cds_service.rules.findings import ShownFact


@dataclass(frozen=True)
class FactLine:
    """One fact as a card line (markdown parts) and as audit data (plain parts and references)."""

    label_key: str  # the label's msgid, e.g. "SSTR status ({arg})"
    label: Markdown
    value: Markdown
    unit: Markdown | None
    date: str
    source: str
    references: tuple[str, ...]
    plain_label: str
    plain_value: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of the fact within one answer: the same value of the same thing on the same date."""
        return self.plain_label, self.plain_value, self.date


def human_source(label_key: str, references: tuple[str, ...], data: CardData) -> str:
    """'pathology', 'lab', 'diagnosis', ...: what kind of record a fact came from, in a clinician's words."""
    sources = data.fact_sources
    if label_key in (sources.get("by_label") or {}):
        return sources["by_label"][label_key]
    if label_key in (sources.get("by_lab") or ()):
        return "lab"
    kind = references[0].split("/", 1)[0] if references else ""
    return (sources.get("by_resource") or {}).get(kind, "record")


def _value(value: str, data: CardData, escape: bool = True) -> Markdown:
    """A value's display text; a unit at its end printed as labels.yaml says ("198 x10^9/L" -> "198 ×10⁹/L")."""
    text = data.label(value, escape)
    head, sep, unit = text.rpartition(" ")
    if sep and unit in data.labels and data.labels[unit] != unit:
        return Markdown(f"{head} {data.labels[unit]}")
    return text


def fact_lines(facts: list[ShownFact], data: CardData) -> list[FactLine]:
    out = []
    for x in facts:
        label_key = x.label.split("|", 1)[0]
        unit = f" {x.unit}" if x.unit else ""
        out.append(FactLine(
            label_key=label_key, label=data.label(x.label), value=_value(x.value, data),
            unit=data.label(x.unit) if x.unit else None,
            date=x.date, source=human_source(label_key, x.references, data), references=x.references,
            plain_label=data.label(x.label, escape=False), plain_value=_value(x.value, data, escape=False) + unit,
        ))
    return out

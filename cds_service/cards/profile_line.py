"""The one-line profile that opens the next-step card (decision model section 7).

Site, differentiation and grade, Ki-67 (or mitoses) with its date, stage, SSTR status with modality and
date, current antitumour therapy: the context a clinician needs to read the recommendation, in one line.
Formatting only: the values are the profile's, words come from cards/labels.yaml, values from the
record are escaped.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.cards.data import CardData
from cds_service.cards.escape import Markdown, md_escape
from cds_service.profile.model import Fact, PatientProfile
from cds_service.rules.common import therapy_label as therapy_fact_label

ANTITUMOUR = ("ssa", "prrt", "everolimus", "sunitinib", "cabozantinib", "captem", "capecitabine", "temozolomide",
              "streptozocin", "platinum-etoposide")
SEPARATOR = " · "


@dataclass(frozen=True)
class ProfileLine:
    text: Markdown
    covers: frozenset[tuple[str, str | None]]  # (fact label msgid, date) this line states: no "Based on" line


def _date(fact: Fact) -> str | None:
    date = fact.date or next((s.date for s in fact.sources if s.date), None)
    return date[:10] if date else None


def profile_line(p: PatientProfile, data: CardData) -> ProfileLine | None:
    """The line, or None when the profile holds nothing to say (no site, no differentiation)."""
    word = data.label
    covers: set[tuple[str, str | None]] = set()
    head = []
    if p.primary_site.known:
        head.append(str(word(str(p.primary_site.value))).capitalize() if str(p.primary_site.value).islower()
                    else word(str(p.primary_site.value)))
        covers.add(("Primary site", _date(p.primary_site)))
    grade = p.who_grade.value if p.who_grade.value in ("G1", "G2", "G3") else None
    if p.differentiation.known or grade:
        head.append(" ".join(md_escape(x) for x in (p.differentiation.value or "NET", grade) if x))
        covers.update((("Differentiation", _date(p.differentiation)), ("WHO grade", _date(p.who_grade))))
    parts = [f"**{' '.join(head)}**"] if head else []
    if p.ki67_percent.known:
        parts.append(f"Ki-67 {p.ki67_percent.value:g} %{_when('pathology', _date(p.ki67_percent))}")
        covers.add(("Ki-67", _date(p.ki67_percent)))
    elif p.mitotic_count.known:
        parts.append(f"mitoses {p.mitotic_count.value:g}/2 mm²{_when('pathology', _date(p.mitotic_count))}")
        covers.add(("Mitotic count", _date(p.mitotic_count)))
    if p.stage.value in ("metastatic", "resected"):
        stage = word(p.stage.value)
        if p.stage.value == "metastatic" and p.metastatic_sites:
            stage = f"{stage} ({', '.join(word(s) for s in p.metastatic_sites)})"
        parts.append(stage)
        covers.update((("Stage", _date(p.stage)), ("Metastatic", _date(p.metastatic)),
                       ("Metastatic sites", _date(p.metastatic))))
    if p.sstr_status.value not in (None, "unknown"):
        modality = word(p.sstr_modality) if p.sstr_modality else "SSTR"
        parts.append(f"{modality} {word(p.sstr_status.value)}{_when('', _date(p.sstr_status))}")
        sstr_date = _date(p.sstr_status)
        covers.update((("SSTR status", sstr_date), ("SSTR status ({arg})", sstr_date),
                       ("SSTR imaging positive", sstr_date)))  # the PRRT criterion reads the same study
    on = [t for t in p.therapies if t.active and t.therapy in ANTITUMOUR]
    if on:
        names = [f"{data.therapies.get(t.therapy, md_escape(t.therapy))}"
                 + (f" since {md_escape(t.start[:10])}" if t.start else "") for t in on]
        parts.append("on " + ", ".join(names))
        covers.update((therapy_fact_label(t), t.start[:10] if t.start else None) for t in on)
    if not parts:
        return None
    return ProfileLine(Markdown(SEPARATOR.join(str(x) for x in parts)), frozenset(covers))


def _when(source: str, date: str | None) -> str:
    if not date:
        return ""
    return f" ({source} {md_escape(date)})" if source else f" ({md_escape(date)})"

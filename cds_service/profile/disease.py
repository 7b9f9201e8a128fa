"""Disease status, clinical findings and stage (net-decision-model.md section 2 rows disease_status,
tumor_burden/symptomatic/resectable; section 4.6 stage).

Clinical findings use the project CodeSystem https://fhir.net-cds.org/CodeSystem/clinical-findings
(mappings/README.md): latest wins. Disease status (LOINC 97509-4): latest wins; "in remission"
(SNOMED 550991000124107) makes the stage `resected`. Stage: metastatic when a metastatic site is coded
(not before a later resection); resected when a resection is recorded with no metastatic site after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cds_service.profile.codes import codings, index
from cds_service.profile.fhirread import as_dict, as_str, parse_date, source_of, status_code, text_of
from cds_service.profile.model import Fact, Source, Stage

_BOOL_WORDS = {"true": True, "yes": True, "y": True, "false": False, "no": False, "n": False}


@dataclass(frozen=True)
class Finding:
    name: str  # tumor_burden | symptomatic | resectable | hepatic_predominant | disease_status
    value: Any  # None when unreadable
    source: Source
    day: date | None
    note: str | None = None


def read_finding(resource: dict[str, Any], name: str) -> Finding:
    """A project clinical finding: tumor-burden high/low, or a boolean finding."""
    source = source_of(resource, name.replace("_", " "))
    day = parse_date(source.date)
    if name == "tumor_burden":
        entry = index("observations").first(codings(resource.get("valueCodeableConcept")), "finding_value")
        value = str(entry.get("value")) if entry else None
        if value is None:
            coded_text = as_str(as_dict(resource.get("valueCodeableConcept")).get("text"))
            word = (as_str(resource.get("valueString")) or coded_text or "").lower()
            value = word if word in ("high", "low") else None
        note = None if value else "tumor burden value not high/low"
        return Finding(name, value, Source(source.reference, source.date, f"tumor burden {value}"), day, note)
    raw = resource.get("valueBoolean")
    if not isinstance(raw, bool):
        raw = _BOOL_WORDS.get((as_str(resource.get("valueString")) or as_str(raw) or "").lower())
    note = None if isinstance(raw, bool) else f"{name} value is not true/false"
    return Finding(name, raw, Source(source.reference, source.date, f"{name.replace('_', ' ')} {raw}"), day, note)


def read_disease_status(resource: dict[str, Any]) -> Finding:
    entry = index("observations").first(codings(resource.get("valueCodeableConcept")), "disease_status_value")
    value = str(entry.get("status_value")) if entry else None
    source = source_of(resource, f"disease status {value or 'unreadable'}")
    note = None if value else "disease status value not recognised"
    if status_code(resource.get("status")) == "preliminary":
        note = "preliminary result"
    return Finding("disease_status", value, source, parse_date(source.date), note)


def latest_fact(findings: list[Finding]) -> Fact[Any]:
    """The latest readable finding wins (section 2); earlier conflicting values are noted."""
    usable = sorted((f for f in findings if f.value is not None), key=lambda f: f.day or date.min, reverse=True)
    if not usable:
        notes = tuple(f.note for f in findings if f.note)
        return Fact(None, None, None, tuple(f.source for f in findings), notes)
    chosen = usable[0]
    notes = [chosen.note] if chosen.note else []
    others = {str(f.value) for f in usable[1:]} - {str(chosen.value)}
    if others:
        notes.append(f"earlier value(s) {', '.join(sorted(others))}: the latest wins")
    return Fact(chosen.value, None, chosen.source.date, (chosen.source,), tuple(notes))


def history(findings: list[Finding]) -> tuple[Fact[Any], ...]:
    """Every readable finding, oldest first (undated last), each with its source (the timeline)."""
    usable = sorted((f for f in findings if f.value is not None), key=lambda f: (f.day is None, f.day or date.min))
    return tuple(Fact(f.value, None, f.source.date, (f.source,), (f.note,) if f.note else ()) for f in usable)


def read_resection(resource: dict[str, Any]) -> Source | None:
    """A completed resection Procedure (section 4.6), or None."""
    if status_code(resource.get("status")) in ("entered-in-error", "not-done", "preparation", "cancelled"):
        return None
    procedures = index("procedures")
    entry = procedures.first_of(resource.get("code"), "resection")
    kind = entry.get("resection") if entry else None
    if kind is None:
        rule = procedures.text("resection", text_of(resource.get("code")))
        kind = rule.get("resection") if rule else None
    if kind is None:
        return None
    return source_of(resource, str(kind))


def resection_counts(resection: Source, primary_site: str | None) -> bool:
    """A local or endoscopic excision counts only for the sites mappings/procedures.yaml names (4.6)."""
    sites = (index("procedures").extra.get("site_restricted") or {}).get(resection.label)
    return sites is None or (primary_site or "").lower() in sites


def stage_fact(metastasis_sources: list[Source], resections: list[Source], remission: Fact[Any]) -> Fact[Stage]:
    """metastatic / resected / unknown, with the resources that decided it."""
    last_resection = max(resections, key=lambda s: parse_date(s.date) or date.min, default=None)
    res_day = parse_date(last_resection.date) if last_resection else None
    if metastasis_sources:
        after = [m for m in metastasis_sources if res_day is None or (parse_date(m.date) or date.max) >= res_day]
        if after or last_resection is None:
            mets = after or metastasis_sources
            return Fact("metastatic", None, mets[0].date, tuple(mets))
        notes = ("metastatic site(s) recorded only before the resection",)
        return Fact("resected", None, last_resection.date, (last_resection, *metastasis_sources), notes)
    if last_resection is not None:
        return Fact("resected", None, last_resection.date, (last_resection,),
                    (f"resection recorded ({last_resection.label}), no metastatic site",))
    if remission.value == "remission":
        return Fact("resected", None, remission.date, remission.sources, ("disease status: in remission",))
    return Fact("unknown", notes=("no metastatic site and no resection recorded",))

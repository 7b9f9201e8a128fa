"""Conditions -> NEN presence, site, differentiation evidence, syndromes, metastases, comorbidities, MEN1.

net-decision-model.md section 2 (rows nen_present/primary_site, differentiation, functional_syndrome,
metastatic, comorbidities, men1) and section 1 (scope). Refuted and entered-in-error conditions are
ignored; active, recurrence and relapse are current disease; remission, inactive and resolved are history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.profile.codes import Entry, codings, index
from cds_service.profile.fhirread import as_dict, as_list, display_of, parse_date, source_of, status_code, text_of
from cds_service.profile.model import Fact, Source

CURRENT = frozenset({"active", "recurrence", "relapse"})
HISTORY = frozenset({"remission", "inactive", "resolved"})
IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
# Section 2: provisional, differential and unconfirmed diagnoses are suspected. They are read (so the rules
# can name them) but never set nen_present, NEC, a functional syndrome, MEN1, a metastasis or a comorbidity.
SUSPECTED_VERIFICATION = frozenset({"provisional", "differential", "unconfirmed"})
_MULTIFOCAL_RE = re.compile(r"multifocal|multiple (tumou?rs|lesions|p?nets?|neuroendocrine)")
COMORBIDITIES = ("diabetes", "lung-disease", "hypertension", "cardiovascular", "bleeding-disorder", "ckd",
                 "atrophic-gastritis")


@dataclass
class ConditionHit:
    """What one Condition says, as far as the model cares."""

    source: Source
    day: date | None
    current: bool
    text: str
    nen: bool = False
    primary: bool = False  # a primary NEN code or text (C7B.* alone is secondary: never scope or site)
    suspected: str | None = None  # provisional / differential / unconfirmed (section 2)
    site: str | None = None  # specific site, or None when unknown
    site_from_code: bool = False
    out_of_scope: bool = False
    differentiation: list[tuple[str, str]] = field(default_factory=list)  # (NET|NEC, why)
    syndromes: list[tuple[str, str | None, str]] = field(default_factory=list)  # (syndrome, requires, why)
    metastases: list[str] = field(default_factory=list)
    comorbidities: list[str] = field(default_factory=list)
    men1: bool = False
    features: list[str] = field(default_factory=list)
    multifocal: bool = False
    notes: list[str] = field(default_factory=list)


def read_condition(resource: dict[str, Any]) -> ConditionHit | None:
    """One Condition read tolerantly; None when it is refuted/entered-in-error or says nothing we use."""
    verification = status_code(resource.get("verificationStatus"))
    if verification in IGNORED_VERIFICATION:
        return None
    clinical = status_code(resource.get("clinicalStatus"))
    notes: list[str] = []
    if clinical in CURRENT:
        current = True
    elif clinical in HISTORY:
        current = False
    elif clinical is None and (resource.get("abatementDateTime") or resource.get("abatementPeriod")):
        current = False
        notes.append("no clinicalStatus but an abatement date: read as history")
    else:
        current = True
        if clinical is not None:
            notes.append(f"unknown clinicalStatus '{clinical}': read as current")
    suspected = verification if verification in SUSPECTED_VERIFICATION else None

    conditions = index("conditions")
    code = resource.get("code")
    codes = codings(code)
    entries = conditions.match(codes)
    text = text_of(code)
    label = display_of(code) or (codes[0][1] if codes else "")
    hit = ConditionHit(source_of(resource, label[:80]), None, current, text, notes=notes, suspected=suspected)
    hit.day = parse_date(hit.source.date)

    _read_nen(hit, entries, text, resource)
    _read_syndromes(hit, entries, text)
    hit.metastases = [str(e.get("metastasis")) for e in entries if e.concept == "metastasis"]
    if current:
        hit.comorbidities = sorted({str(e.get("comorbidity")) for e in entries if e.concept == "comorbidity"})
    hit.men1 = any(e.concept == "men1" for e in entries) or conditions.text("men1", text) is not None
    hit.features = [str(e.get("feature")) for e in entries if e.concept == "men1_feature"]
    if not hit.features:
        rule = conditions.text("men1_feature", text)
        if rule is not None:
            hit.features = [str(rule.get("feature"))]
    used = hit.nen or hit.syndromes or hit.metastases or hit.comorbidities or hit.men1 or hit.features
    return hit if used else None


def _read_nen(hit: ConditionHit, entries: list[Entry], text: str, resource: dict[str, Any]) -> None:
    conditions = index("conditions")
    nen = [e for e in entries if e.concept == "nen"]
    secondary = any(e.concept == "secondary_nen" for e in entries)
    # Text is a fallback for conditions no code of ours recognises (section 2: text only where allowed).
    rule = None if entries else conditions.text("nen", text)
    if not (nen or secondary or rule):
        return
    hit.nen = True
    hit.primary = bool(nen or rule)
    for e in nen:
        site = e.get("site")
        if site and site != "unknown":
            hit.site, hit.site_from_code = str(site), True
        if e.get("differentiation"):
            hit.differentiation.append((str(e.get("differentiation")), f"{e.display} ({e.code})"))
    if rule is not None:
        hit.notes.append(f"NEN recognised by text '{rule.display}' (no known code)")
        if rule.get("differentiation"):
            hit.differentiation.append((str(rule.get("differentiation")), f"text '{rule.display}'"))
        if rule.get("site") and rule.get("site") != "unknown":
            hit.site = str(rule.get("site"))
    body = resource.get("bodySite")
    body_entry = conditions.first([c for cc in as_list(body) for c in codings(cc)], "body_site")
    body_site = str(body_entry.get("site")) if body_entry else None
    if body_site is None:
        site_rule = conditions.text("site_text", text_of(body))
        body_site = str(site_rule.get("site")) if site_rule else None
    if body_site:
        if hit.site and hit.site_from_code and body_site != hit.site:
            hit.notes.append(f"bodySite says {body_site}, the code says {hit.site}: the code is used")
        else:
            hit.site = body_site
    if hit.site is None:
        site_rule = conditions.text("site_text", text)
        if site_rule is not None:
            hit.site = str(site_rule.get("site"))
    oos = conditions.text("nen_out_of_scope_text", text)
    if oos is not None:
        hit.site = str(oos.get("site"))
    group = conditions.extra["site_groups"].get(hit.site or "unknown", "unknown")
    hit.out_of_scope = group == "out-of-scope"
    # Differentiation from text: NEC words, unless the text says well differentiated (section 2).
    if conditions.text("well_differentiated_text", text):
        hit.differentiation.append(("NET", "text 'well differentiated'"))
    else:
        nec = conditions.text("nec_text", text)
        if nec is not None:
            hit.differentiation.append(("NEC", f"text '{nec.display}'"))
    # ICD-O-3 morphology in any extension (mCODE histology-morphology-behavior), section 2.
    morph = index("morphology")
    for ext in as_list(resource.get("extension")):
        ext = as_dict(ext)
        e = morph.first(codings(ext.get("valueCodeableConcept")))
        if e is not None:
            hit.differentiation.append((str(e.get("differentiation")), f"morphology {e.code} {e.display}"))
            if e.get("syndrome"):
                hit.syndromes.append((str(e.get("syndrome")), None, f"morphology {e.code}"))
            if e.get("site") and hit.site is None:
                hit.site = str(e.get("site"))
    if _MULTIFOCAL_RE.search(text):
        hit.multifocal = True


def _read_syndromes(hit: ConditionHit, entries: list[Entry], text: str) -> None:
    for e in entries:
        if e.concept == "syndrome":
            hit.syndromes.append((str(e.get("syndrome")), e.get("requires"), f"{e.display} ({e.code})"))
    if not any(e.concept == "syndrome" for e in entries):
        for rule in index("conditions").texts("syndrome", text):
            hit.syndromes.append((str(rule.get("syndrome")), None, f"text '{rule.display}'"))


def site_group(site: str | None) -> str:
    """pancreas, gastrointestinal, unknown or out-of-scope for a site name (mappings/conditions.yaml)."""
    return str(index("conditions").extra["site_groups"].get(site or "unknown", "unknown"))


def comorbidity_facts(hits: list[ConditionHit]) -> dict[str, Fact[bool]]:
    """One Fact per comorbidity key: True with its sources when coded, else unknown (never False)."""
    out: dict[str, Fact[bool]] = {}
    for key in COMORBIDITIES:
        sources = tuple(h.source for h in hits if key in h.comorbidities)
        if sources:
            out[key] = Fact(True, date=_latest_date(sources), sources=sources)
        else:
            out[key] = Fact(None, notes=("no coded condition",))
    return out


def _latest_date(sources: tuple[Source, ...]) -> str | None:
    dated = [s for s in sources if parse_date(s.date)]
    return max(dated, key=lambda s: parse_date(s.date)).date if dated else None  # type: ignore[arg-type,return-value]

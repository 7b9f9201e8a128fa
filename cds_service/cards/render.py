"""Findings -> CDS Hooks 2.0 card JSON (decision model section 7).

Text comes from the templates and YAML in `cards/`; this module only assembles: summary (< 140
characters), indicator, markdown detail (recommendation, alternatives or branches, addenda, Why,
Missing data, Source), source with topic Coding, absolute links, suggestions with FHIR resources,
selectionBehavior and overrideReasons (on warning and critical cards). Nothing null or empty.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from typing import Any

from cds_service.cards.data import CardData, card_data
from cds_service.cards.suggestions import build_suggestions, prune
from cds_service.profile.model import PatientProfile
from cds_service.rules.findings import Finding

log = logging.getLogger(__name__)

SUMMARY_MAX = 139  # CDS Hooks: strictly fewer than 140 characters


def render_cards(findings: list[Finding], profile: PatientProfile) -> list[dict]:
    """One CDS Hooks card per finding, in the findings' order."""
    data = card_data()
    cards = []
    for f in findings:
        try:
            cards.append(render_card(f, profile, data))
        except Exception:  # a template bug must not take the other cards down; logged as an error
            log.exception("rendering the card of rule %s failed", f.rule_id)
    return cards


def label_text(key: str) -> str:
    """The display text of a fact label or missing-data key (cards/labels.yaml)."""
    return card_data().label(key)


def render_card(finding: Finding, profile: PatientProfile, data: CardData | None = None) -> dict:
    data = data or card_data()
    ctx = _context(finding, data)
    detail = data.env.get_template(f"{finding.template}.md.j2").render(**ctx)
    source = _citation(finding.guidelines[0], data) if finding.guidelines else _citation("esmo-2020", data)
    topic_system = data.topics["system"]
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(finding, ctx, data),
        "indicator": finding.indicator,
        "detail": _tidy(detail),
        "source": {
            "label": source["label"],
            "url": source["url"],
            "topic": {"system": topic_system, "code": finding.topic, "display": data.topics["codes"][finding.topic]},
        },
    }
    suggestions = build_suggestions(finding, profile, data)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any" if len(suggestions) > 1 else "at-most-one"
    if finding.indicator in ("warning", "critical"):
        reasons = data.override_reasons
        card["overrideReasons"] = [{"system": reasons["system"], "code": r["code"], "display": r["display"]}
                                   for r in reasons["reasons"]]
    card["links"] = [{"label": c["label"], "url": c["url"], "type": "absolute"} for c in ctx["citations"]]
    return prune(card)


def _citation(key: str, data: CardData) -> dict[str, str]:
    entry = data.sources[key]
    return {"label": entry["label"], "url": entry["url"]}


def _option_text(key: str, data: CardData) -> str:
    return data.options[key]


def _context(f: Finding, data: CardData) -> dict[str, Any]:
    keys = list(dict.fromkeys(f.guidelines))
    for a in f.addenda:
        keys += [k for k in a.guidelines if k not in keys]
    branches = [{"rule_id": b.rule_id, "when": data.rules[b.rule_id]["when"],
                 "options": [_option_text(o.key, data) for o in b.options]} for b in f.branches]
    prechecks = [{"rule_id": b.rule_id, "when": data.rules[b.rule_id]["when"],
                  "missing": [data.label(m) for m in b.missing],
                  "options": [_option_text(o.key, data) for o in b.options if o.key != "ssa"]}
                 for b in f.prechecks]
    deciders = [data.label(m) for m in dict.fromkeys(m for b in f.branches for m in b.missing)] or \
        [data.label(m) for m in f.missing]
    addenda = [_tidy(data.env.get_template(f"{a.template}.md.j2").render(p=a.params, f=a)) for a in f.addenda]
    return {
        "f": f,
        "p": f.params,
        "preferred": [{"key": o.key, "text": _option_text(o.key, data)} for o in f.options if o.preferred],
        "alternatives": [{"key": o.key, "text": _option_text(o.key, data)} for o in f.options if not o.preferred],
        "option_keys": [o.key for o in f.options],
        "branches": branches,
        "prechecks": prechecks,
        "deciders": ", ".join(deciders) or "see Missing data",
        "addenda": addenda,
        "facts": [dataclasses.replace(x, label=data.label(x.label), value=data.label(x.value),
                                      notes=tuple(data.label(n) for n in x.notes)) for x in f.facts],
        "missing": [data.label(m) for m in f.missing],
        "citations": [_citation(k, data) for k in keys],
    }


def _summary(f: Finding, ctx: dict[str, Any], data: CardData) -> str:
    key = f.rule_id
    if f.branches or (f.conditional and f.kind == "next-step"):  # names the missing data first (section 7)
        key = "_conditional_syndrome" if f.kind == "syndrome" else "_conditional"
    text = data.summary_template(key).render(**ctx)
    text = " ".join(text.split())
    if len(text) > SUMMARY_MAX:
        text = text[: SUMMARY_MAX - 1].rstrip(" ,;:") + "…"
    return text


def _tidy(markdown: str) -> str:
    """Collapse runs of blank lines left by template conditionals."""
    markdown = re.sub(r"([^\n])\n(#### )", r"\1\n\n\2", markdown)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"

"""Findings -> CDS Hooks 2.0 card JSON (decision model section 7).

Text comes from the templates and YAML in `cards/`; this module only assembles: summary (< 140
characters, plain), indicator, markdown detail (the one-line profile on the next-step card, the
recommendation, "Based on" facts with value, date and a short human source, one "Missing" line),
source with topic Coding, guideline links (only in `links`), suggestions, selectionBehavior,
overrideReasons (warning and critical cards) and the card extension (rule ids, knowledge-base version,
each fact's FHIR references: for audit, never in the text). Values from the record are escaped for
markdown and HTML by the template environment (cards/escape.py, cards/data.py). Nothing null or empty.

`render_cards` renders one answer: a fact already shown on an earlier card of the answer is not
shown again (the one-line profile aside).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from cds_service.cards.data import CardData, card_data
from cds_service.cards.escape import Markdown, md_escape
from cds_service.cards.facts import FactLine, fact_lines
from cds_service.cards.profile_line import profile_line
from cds_service.cards.suggestions import SuggestionNote, build_suggestions, prune
from cds_service.profile.model import PatientProfile
from cds_service.rules.findings import Finding

log = logging.getLogger(__name__)

SUMMARY_MAX = 139  # CDS Hooks: strictly fewer than 140 characters
CARD_EXTENSION = "org.net-cds.card"


def render_cards(findings: list[Finding], profile: PatientProfile) -> list[dict]:
    """One CDS Hooks card per finding, in the findings' order, with no fact repeated across them."""
    data = card_data()
    cards = []
    seen: set[tuple] = set()
    for f in findings:
        try:
            cards.append(render_card(f, profile, data, seen))
        except Exception:  # a template bug must not take the other cards down; logged as an error
            log.exception("rendering the card of rule %s failed", f.rule_id)
    return cards


def label_text(key: str) -> str:
    """The display text of a fact label or missing-data key (cards/labels.yaml)."""
    return card_data().label(key)


def render_card(finding: Finding, profile: PatientProfile, data: CardData | None = None,
                seen: set[tuple] | None = None) -> dict:
    """One card. `seen` (facts already shown by earlier cards of the answer) is updated."""
    data = data or card_data()
    seen = set() if seen is None else seen
    suggestions, notes = build_suggestions(finding, profile, data)
    ctx = _context(finding, profile, data, seen, notes)
    detail = data.env.get_template(f"{finding.template}.md.j2").render(**ctx)
    source = _citation(finding.guidelines[0], data) if finding.guidelines else _citation("esmo-2020", data)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(finding, ctx, data),
        "indicator": finding.indicator,
        "detail": _tidy(detail),
        "source": {
            "label": source["label"],
            "url": source["url"],
            "topic": {"system": data.topics["system"], "code": finding.topic,
                      "display": data.topics["codes"][finding.topic]},
        },
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any" if len(suggestions) > 1 else "at-most-one"
    if finding.indicator in ("warning", "critical"):
        card["overrideReasons"] = override_reasons(data)
    card["links"] = [{"label": c["label"], "url": c["url"], "type": "absolute"} for c in ctx["citations"]]
    card["extension"] = {CARD_EXTENSION: card_extension(finding, ctx["all_facts"], data)}
    return prune(card)


def override_reasons(data: CardData) -> list[dict]:
    """HL7 non-adherence reason codes (CDS Hooks 3.0 ballot), project codes only where none fits."""
    reasons = data.override_reasons
    return [{"system": r.get("system", reasons["system"]), "code": r["code"], "display": r["display"]}
            for r in reasons["reasons"]]


def card_extension(f: Finding, facts: list[FactLine], data: CardData) -> dict:
    """What an informatics team audits: rules, knowledge-base version, and the FHIR data behind each fact."""
    kb = data.knowledge_base
    rules = [f.rule_id] + [a.rule_id for a in f.addenda] + [b.rule_id for b in f.prechecks + f.branches]
    return {
        "rules": list(dict.fromkeys(rules)),
        "kind": f.kind,
        "knowledgeBase": {"version": str(kb["version"]), "lastClinicalReview": str(kb["last_clinical_review"])},
        "conditional": f.conditional or None,
        "draftOrder": f.order_ref,
        "facts": [{"label": x.plain_label, "value": x.plain_value, "date": x.date, "source": x.source,
                   "references": list(x.references)} for x in facts],
        "missing": [data.label(m, escape=False) for m in f.missing],
        "overdue": list(f.params.get("overdue") or ()) or None,  # F-3: checks past their interval (cbc, renal)
    }


def _citation(key: str, data: CardData) -> dict[str, str]:
    entry = data.sources[key]
    return {"label": entry["label"], "url": entry["url"]}


def _context(f: Finding, profile: PatientProfile, data: CardData, seen: set[tuple],
             notes: list[SuggestionNote]) -> dict[str, Any]:
    keys = list(dict.fromkeys(f.guidelines))
    for a in f.addenda:
        keys += [k for k in a.guidelines if k not in keys]
    branches = [{"rule_id": b.rule_id, "when": data.rules[b.rule_id]["when"],
                 "options": list(dict.fromkeys(data.option_name(o.key) for o in b.options))} for b in f.branches]
    prechecks = [{"rule_id": b.rule_id, "when": data.rules[b.rule_id]["when"],
                  "missing": [data.label(m) for m in b.missing],
                  "options": [data.option_name(o.key) for o in b.options if o.key != "ssa"]}
                 for b in f.prechecks]
    deciders = [data.label(m) for m in dict.fromkeys(m for b in f.branches for m in b.missing)] or \
        [data.label(m) for m in f.missing]
    addenda = [Markdown(_tidy(data.env.get_template(f"{a.template}.md.j2").render(p=a.params, f=a)))
               for a in f.addenda]
    line = profile_line(profile, data) if f.kind in ("next-step", "profile") else None
    all_facts = fact_lines(f.facts, data)
    if line is not None:  # the line's facts are not repeated below it, nor on later cards
        seen.update(line.covers)
    restates = set(data.fact_sources.get("restates") or ())
    shown = []
    for x in all_facts:
        if x.key in seen or (x.label_key, x.date) in seen:
            continue
        if x.label_key in restates and any(("record", r, x.date) in seen for r in x.references):
            continue  # the same record's value is already on the answer
        if ("same", x.references, x.plain_value, x.date) in seen:
            continue  # the same value of the same record under another name ("Functional status/syndrome")
        shown.append(x)
        seen.add(x.key)
        seen.add(("same", x.references, x.plain_value, x.date))
        seen.update(("record", r, x.date) for r in x.references)
    missing = [data.label(m) for m in f.missing]
    return {
        "f": f,
        "p": f.params,
        # a conditional card (e.g. an unconfirmed diagnosis, SUSPECT-1) prefers nothing: its options are listed
        "preferred": [{"key": o.key, "text": data.options[o.key]} for o in f.options
                      if o.preferred and not f.conditional],
        "alternatives": [{"key": o.key, "text": data.options[o.key]} for o in f.options
                         if not o.preferred or f.conditional],
        "option_keys": [o.key for o in f.options],
        "branches": branches,
        "prechecks": prechecks,
        "deciders": Markdown(", ".join(deciders)) if deciders else Markdown("see Missing"),
        "addenda": addenda,
        "profile_line": line.text if line is not None else None,
        "facts": shown,
        "all_facts": all_facts,
        "missing": missing,
        "missing_line": Markdown("; ".join(missing)),
        "suggestion_notes": [_note_text(n, data) for n in notes],
        "citations": [_citation(k, data) for k in keys],
    }


def _note_text(note: SuggestionNote, data: CardData) -> Markdown:
    texts = data.suggestions["notes"]
    label = md_escape(data.suggestions[note.suggestion]["label"])
    fields = ", ".join(md_escape(x) for x in note.fields)
    if note.kind == "normalized":
        return Markdown(texts["normalized"].replace("{fields}", fields or "a field"))
    extra = texts["not-built-fields"].replace("{fields}", fields) if fields else ""
    return Markdown(texts["not-built"].replace("{suggestion}", label).replace("{fields}", extra))


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

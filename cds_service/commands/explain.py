"""`net-cds explain FILE [--hook patient-view|order-sign] [--draft FILE] [--json] [--as-of DATE]`

Reads a FHIR Bundle (and, for order-sign, a Bundle of draft orders), builds the patient profile and
prints it with every rule of the hook: fired or not, and why. The logic lives in `explain_bundle`
and `record_from_bundles` so tests and other tools can call it without the CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from cds_service.commands.as_of import add_as_of_option, chosen_as_of
from cds_service.fhir.record import PatientRecord
from cds_service.profile.model import Fact, PatientProfile
from cds_service.rules import explain, get_rule
from cds_service.rules.common import select_pathway
from cds_service.rules.findings import RuleEvaluation


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain", help="show a patient's NET profile and every rule, fired or not, and why",
        description="Read a FHIR Bundle, build the NET profile and evaluate every rule of the hook.")
    parser.add_argument("file", metavar="FILE", help="FHIR Bundle (JSON) with the patient's resources")
    parser.add_argument("--hook", choices=("patient-view", "order-sign"), default=None,
                        help="hook to evaluate (default: order-sign with --draft, else patient-view)")
    parser.add_argument("--draft", metavar="FILE", help="Bundle of draft orders (order-sign draftOrders)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_as_of_option(parser, "--today")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        bundle = _read_json(args.file)
        draft = _read_json(args.draft) if args.draft else None
        today = chosen_as_of(args.as_of, args.file)
    except (OSError, ValueError) as exc:
        print(f"explain: {exc}", file=sys.stderr)
        return 2
    hook = args.hook or ("order-sign" if draft is not None else "patient-view")
    try:
        result = explain_bundle(bundle, hook=hook, draft_bundle=draft, today=today)
    except ValueError as exc:
        print(f"explain: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(format_text(result))
    return 0


def _read_json(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------


def _entries(bundle: Any) -> list[tuple[dict, str | None]]:
    """(resource, fullUrl) pairs of a Bundle, read tolerantly (a lone entry object counts as a list)."""
    if not isinstance(bundle, dict):
        return []
    if bundle.get("resourceType") != "Bundle" and isinstance(bundle.get("resourceType"), str):
        return [(bundle, None)]  # a single resource
    entries = bundle.get("entry") or ()
    if isinstance(entries, dict):
        entries = [entries]
    out = []
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            full_url = entry.get("fullUrl")
            out.append((resource, full_url if isinstance(full_url, str) else None))
    return out


def record_from_bundles(bundle: Any, draft_bundle: Any = None) -> PatientRecord:
    """A PatientRecord with every entry of `bundle` (patient = first Patient) and the draft orders."""
    entries = _entries(bundle)
    patient = next((r for r, _ in entries if r.get("resourceType") == "Patient"), None)
    if patient is None:
        raise ValueError("the bundle has no Patient resource")
    record = PatientRecord(patient_id=str(patient.get("id") or "unknown"))
    for resource, full_url in entries:
        record.add(resource, full_url)
    for resource, full_url in _entries(draft_bundle) if draft_bundle is not None else ():
        if resource.get("resourceType") == "Medication":
            record.add(resource, full_url)
            continue
        record.draft_orders.append(resource)
        if full_url:
            record.add_alias(full_url, resource)
    return record


def profile_from_bundles(bundle: Any, draft_bundle: Any = None, today: date | None = None) -> PatientProfile:
    from cds_service.profile import build_profile

    profile = build_profile(record_from_bundles(bundle, draft_bundle), today)
    if profile.as_of is None and today is not None:
        profile.as_of = today.isoformat()
    return profile


def explain_bundle(bundle: Any, hook: str = "patient-view", draft_bundle: Any = None,
                   today: date | None = None) -> dict[str, Any]:
    """The profile and every rule evaluation for `hook`, as plain data."""
    profile = profile_from_bundles(bundle, draft_bundle, today)
    evaluations = explain(profile, hook)
    return {"hook": hook, "knowledgeBase": _knowledge_base(), "profile": profile_summary(profile),
            "rules": [_evaluation(e) for e in evaluations]}


def _knowledge_base() -> dict[str, str]:
    """The knowledge-base version and last clinical review every card names (cards/knowledge_base.yaml)."""
    from cds_service.cards.data import card_data

    kb = card_data().knowledge_base
    return {"version": str(kb["version"]), "lastClinicalReview": str(kb["last_clinical_review"])}


def _card_facts(finding: Any) -> list[dict[str, Any]]:
    """The facts behind a card, each with the FHIR references the card's text leaves out (as in its extension)."""
    from cds_service.cards.data import card_data
    from cds_service.cards.facts import fact_lines

    return [{"label": x.plain_label, "value": x.plain_value, "date": x.date, "source": x.source,
             "references": list(x.references)} for x in fact_lines(finding.facts, card_data())]


def _evaluation(e: RuleEvaluation) -> dict[str, Any]:
    rule = get_rule(e.rule_id)
    out: dict[str, Any] = {"id": e.rule_id, "kind": e.kind, "topic": e.topic, "status": e.status,
                           "reason": e.reason, "source": rule.source}
    if e.missing:
        out["missing"] = [_label(m) for m in e.missing]
    if e.order_ref:
        out["order"] = e.order_ref
    if e.finding is not None and e.status == "fired":
        out["card"] = {"rule": e.finding.rule_id, "indicator": e.finding.indicator, "topic": e.finding.topic,
                       "conditional": e.finding.conditional,
                       "options": [o.key for o in e.finding.options],
                       "rules": [e.finding.rule_id, *(a.rule_id for a in e.finding.addenda)],
                       "facts": _card_facts(e.finding)}
    return out


def _label(key: str) -> str:
    """Display text of a missing-data key (cards/labels.yaml), or the key when the cards are absent."""
    try:
        from cds_service.cards.data import card_data

        return card_data().label(key)
    except (OSError, KeyError, ValueError):
        return key


def _fact(f: Fact) -> Any:
    if not f.known:
        return None
    out: dict[str, Any] = {"value": f.value}
    if f.unit:
        out["unit"] = f.unit
    if f.date:
        out["date"] = f.date
    if f.sources:
        out["sources"] = [s.reference for s in f.sources]
    if f.notes:
        out["notes"] = list(f.notes)
    return out


def profile_summary(p: PatientProfile) -> dict[str, Any]:
    """The profile as plain data: facts with provenance, therapies, drafts, notes."""
    out: dict[str, Any] = {"patient_id": p.patient_id, "as_of": p.as_of, "nen_status": p.nen_status,
                           "in_scope": p.in_scope, "site_group": p.site_group,
                           "pathway": select_pathway(p)[1], "sstr_modality": p.sstr_modality}
    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        if isinstance(value, Fact):
            out[f.name] = _fact(value)
    out["metastatic_sites"] = list(p.metastatic_sites)
    out["men1_features"] = list(p.men1_features)
    out["comorbidities"] = {k: _fact(v) for k, v in p.comorbidities.items()}
    out["therapies"] = [{"therapy": t.therapy, "active": t.active, "start": t.start, "end": t.end,
                         "administrations": t.administrations, "last": t.last_administration,
                         "planned": list(t.planned), "sources": [s.reference for s in t.sources]}
                        for t in p.therapies]
    out["labs"] = {k: [{"value": r.value if r.value is not None else r.text, "unit": r.unit, "date": r.date,
                        "source": r.source.reference} for r in v] for k, v in p.labs.items()}
    out["prrt_eligibility"] = [{"criterion": c.label, "result": c.result, "value": c.value, "date": c.date}
                               for c in p.prrt_eligibility.criteria]
    out["draft_orders"] = [{"reference": o.reference, "therapy": o.therapy, "text": o.medication_text,
                            "long_acting": o.long_acting, "doses_per_day": o.doses_per_day}
                           for o in p.draft_orders]
    out["notes"] = [n.message + (f" ({n.reference})" if n.reference else "") for n in p.notes]
    return out


STATUS_MARK = {"fired": "FIRED", "not-fired": "-", "unknown": "?", "suppressed": "SUPPRESSED",
               "superseded": "superseded", "error": "ERROR"}


def format_text(result: dict[str, Any]) -> str:
    kb = result.get("knowledgeBase") or {}
    lines = [f"NET profile ({result['hook']}; knowledge base version {kb.get('version')}, "
             f"reviewed {kb.get('lastClinicalReview')})", "=" * 40]
    for key, value in result["profile"].items():
        if value in (None, [], {}, ""):
            continue
        if isinstance(value, dict) and "value" in value:
            extra = " ".join(x for x in (value.get("unit") or "", f"[{value.get('date')}]" if value.get("date")
                                         else "", ", ".join(value.get("sources", []))) if x)
            lines.append(f"  {key}: {value['value']} {extra}".rstrip())
            for note in value.get("notes", []):
                lines.append(f"      note: {note}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"  {key}:")
            lines += [f"    - {json.dumps(v, default=str)}" for v in value]
        elif isinstance(value, list) and key == "notes":
            lines.append("  data-quality notes:")
            lines += [f"    - {v}" for v in value]
        else:
            lines.append(f"  {key}: {json.dumps(value, default=str)}")
    lines += ["", "Rules", "=" * 40]
    for r in result["rules"]:
        order = f" [{r['order']}]" if r.get("order") else ""
        lines.append(f"  {STATUS_MARK.get(r['status'], r['status']):>10}  {r['id']:<9} {r['topic']}{order}")
        lines.append(f"              why: {r['reason']}")
        if r.get("missing"):
            lines.append(f"              missing: {', '.join(r['missing'])}")
        if r.get("card"):
            c = r["card"]
            lines.append(f"              card: {c['indicator']} {c['topic']} options={c['options']}"
                         + (" (conditional)" if c["conditional"] else ""))
            for fact in c.get("facts", []):
                refs = ", ".join(fact["references"])
                lines.append(f"                fact: {fact['label']} = {fact['value']} "
                             f"({fact['source']} {fact['date']}; {refs})")
    return "\n".join(lines)

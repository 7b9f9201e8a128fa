"""The profile as JSON-ready data and as readable text with provenance (for `net-cds profile`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from cds_service.profile.model import Criterion, Fact, LabResult, PatientProfile, Source, SstrStudy, TherapyExposure


def profile_to_dict(profile: PatientProfile) -> dict[str, Any]:
    """Plain dicts/lists (JSON-serialisable); draft orders without the raw resource; eligibility summarised."""
    data = _plain(profile)
    for order in data.get("draft_orders", []):
        order.pop("resource", None)
    data["prrt_eligibility"]["eligible"] = profile.prrt_eligibility.eligible
    data["has_sstr_imaging"] = profile.has_sstr_imaging
    return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _sources(sources: tuple[Source, ...]) -> str:
    return ", ".join(f"{s.reference}" + (f" ({s.date})" if s.date else "") for s in sources)


def _fact_line(name: str, fact: Fact[Any]) -> list[str]:
    value = "unknown" if fact.value is None else f"{fact.value:g}" if isinstance(fact.value, float) else str(fact.value)
    head = f"  {name}: {value}"
    if fact.value is not None and fact.unit:
        head += f" {fact.unit}"
    if fact.date:
        head += f"  [{fact.date}]"
    lines = [head]
    if fact.sources:
        lines.append(f"      from: {_sources(fact.sources)}")
    lines += [f"      note: {n}" for n in fact.notes]
    return lines


def _therapy_lines(t: TherapyExposure) -> list[str]:
    state = "active" if t.active else ("planned only" if not t.given else "past")
    line = f"  {t.therapy}: {state}, start {t.start or '?'}, end {t.end or ('-' if t.active else '?')}"
    if t.therapy == "prrt":
        line += f", {t.administrations} administration(s), last {t.last_administration or '-'}"
    if t.planned:
        line += f", planned {', '.join(t.planned)}"
    return [line, f"      from: {_sources(t.sources)}"]


def _lab_line(r: LabResult) -> str:
    value = f"{r.value:g}" if r.value is not None else (r.text or "?")
    extra = f" (ref {r.reference_range})" if r.reference_range else ""
    flag = f" {r.interpretation}" if r.interpretation else ""
    return f"  {r.name}: {value} {r.unit or ''}{flag}{extra}  [{r.date}]  {r.source.reference}".replace("  [", "  [", 1)


def _criterion_line(c: Criterion) -> list[str]:
    lines = [f"  {c.label}: {c.result.upper()} ({c.value or 'no value'}{', ' + c.date if c.date else ''})"]
    if c.sources:
        lines.append(f"      from: {_sources(c.sources)}")
    lines += [f"      note: {n}" for n in c.notes]
    return lines


def _study_line(s: SstrStudy) -> str:
    k = f", Krenning {s.krenning}" if s.krenning is not None else ""
    return f"  {s.modality}: {s.result or 'no readable result'}{k}  [{s.date}]  {s.source.reference}"


def render_text(profile: PatientProfile) -> str:
    """The profile as text: each fact with value, unit, date, references and notes."""
    p = profile
    out = [f"Patient {p.patient_id}: NEN {p.nen_status}, {'in scope' if p.in_scope else 'not in scope'}, "
           f"site group {p.site_group}"]
    out.append("Disease")
    for name in ("age", "primary_site", "differentiation", "functional_syndrome", "multifocal", "metastatic",
                 "liver_metastases", "stage", "disease_status", "tumor_burden", "symptomatic", "resectable",
                 "hepatic_predominant", "men1", "men1_family_history"):
        out += _fact_line(name, getattr(p, name))
    if p.metastatic_sites:
        out.append(f"  metastatic sites: {', '.join(p.metastatic_sites)}")
    if p.functional_syndromes:
        out.append(f"  functional syndromes: {', '.join(p.functional_syndromes)}")
    if p.men1_features:
        out.append(f"  MEN1-associated features: {', '.join(p.men1_features)}")
    out.append("Grade")
    for name in ("ki67_percent", "mitotic_count", "who_grade", "ki67_band"):
        out += _fact_line(name, getattr(p, name))
    out.append(f"SSTR (modality {p.sstr_modality or 'none'})")
    out += _fact_line("sstr_status", p.sstr_status)
    out += [_study_line(s) for s in p.sstr_studies]
    out.append("Therapies")
    out += _fact_line("line_of_therapy", p.line_of_therapy)
    for t in p.therapies:
        out += _therapy_lines(t)
    out.append("Function and labs")
    for name in ("renal_function", "performance_kps", "performance_ecog"):
        out += _fact_line(name, getattr(p, name))
    for results in p.labs.values():
        out += [_lab_line(r) for r in results[:3]]
    out.append("Comorbidities")
    for key, fact in p.comorbidities.items():
        if fact.value is not None:
            out += _fact_line(key, fact)
    out.append(f"PRRT eligibility: {'eligible' if p.prrt_eligibility.eligible else 'not eligible or unknown'}")
    for c in p.prrt_eligibility.criteria:
        out += _criterion_line(c)
    out += _fact_line("prrt_response_durable", p.prrt_response_durable)
    if p.draft_orders:
        out.append("Draft orders")
        for o in p.draft_orders:
            out.append(f"  {o.reference}: {o.therapy or 'unclassified'} '{o.medication_text}', long-acting "
                       f"{o.long_acting}, doses/day {o.doses_per_day}")
            out += [f"      note: {n}" for n in o.notes]
    if p.notes:
        out.append("Data-quality notes")
        out += [f"  - {n.message}" + (f" ({n.reference})" if n.reference else "") for n in p.notes]
    return "\n".join(out) + "\n"

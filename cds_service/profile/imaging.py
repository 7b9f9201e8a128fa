"""SSTR imaging -> sstr_status (net-decision-model.md section 2 row sstr_status; section 3).

SSTR imaging arrives as Observation (often category imaging with only code.text), DiagnosticReport
(code.text, conclusion, conclusionCode), Procedure or ImagingStudy. Modality from codes and text
(mappings/imaging.yaml). Result from interpretation (POS/NEG, H/N), valueCodeableConcept (SNOMED
10828004 / 260385009), conclusionCode, Procedure.outcome, or a Krenning score (>=2 positive).
The latest SSTR-PET wins over any SRS; SRS counts only without SSTR-PET; a negative SRS without
SSTR-PET is `indeterminate`; SSTR2A IHC positive counts only with no imaging (status positive,
modality ihc: rules must not treat it as imaging, invariant 2).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from cds_service.fhir.record import PatientRecord
from cds_service.profile.codes import codings, index
from cds_service.profile.fhirread import as_dict, as_list, as_str, parse_date, source_of, status_code, text_of, to_float
from cds_service.profile.model import Fact, SstrModality, SstrStatus, SstrStudy

IGNORED_STATUS = frozenset({"entered-in-error", "cancelled", "not-done"})
KRENNING_POSITIVE = 2
_RESULT_WORDS = {"positive": "positive", "negative": "negative", "pos": "positive", "neg": "negative"}
_CONCLUSION_MODALITY_HINT = re.compile(r"\bpet\b|scintigra|spect|nuclear|scan", re.IGNORECASE)


def modality_of(text: str, codes: list[tuple[str | None, str, str | None]]) -> str | None:
    """sstr-pet, srs, ihc, unknown (SSTR, tracer not named), not-imaging (PRRT), or None (not SSTR).

    A record whose text names PRRT is still diagnostic imaging when it names a diagnostic tracer or PET
    ("Ga-68 DOTATATE PET for PRRT eligibility"), or a scan and is not a therapy record (section 2, v2)."""
    imaging = index("imaging")
    entry = imaging.first(codes, "sstr_modality")
    if entry is not None:
        return str(entry.get("modality"))
    rules = imaging.texts("sstr_modality", text)
    if not rules:
        return None
    first = str(rules[0].get("modality"))
    if first == "not-imaging" and is_diagnostic_imaging(text):
        imaging_rules = [str(r.get("modality")) for r in rules if r.get("modality") != "not-imaging"]
        return imaging_rules[0] if imaging_rules else "unknown"
    return first


def is_diagnostic_imaging(text: str) -> bool:
    """Diagnostic SSTR imaging by its words, even when PRRT is named: a tracer or PET word always; a
    scan word unless the record is a therapy record (post-therapy SPECT, a Lutathera dose)."""
    if not text:
        return False
    imaging = index("imaging")
    strengths = {str(r.get("strength")) for r in imaging.texts("sstr_diagnostic_text", text)}
    if "strong" in strengths:
        return True
    return "weak" in strengths and imaging.text("sstr_therapy_record_text", text) is None


def _result_from_concepts(values: Any) -> str | None:
    obs = index("observations")
    for cc in as_list(values):
        e = obs.first(codings(cc), "sstr_result_value") or obs.first(codings(cc), "interpretation")
        if e is not None:
            return str(e.get("result"))
        word = (as_str(as_dict(cc).get("text")) or "").lower()
        if word in _RESULT_WORDS:
            return _RESULT_WORDS[word]
    return None


def _krenning(resource: dict[str, Any]) -> tuple[int | None, str | None]:
    """(score, note) from valueInteger / valueQuantity 0-4."""
    raw = resource.get("valueInteger")
    if raw is None:
        raw = as_dict(resource.get("valueQuantity")).get("value")
    value, _ = to_float(raw)
    if value is None:
        return None, "Krenning score could not be read"
    if value < 0 or value > 4 or value != int(value):
        return None, f"Krenning score {value:g} rejected: not 0-4"
    return int(value), None


def read_sstr(resource: dict[str, Any], record: PatientRecord, kind: str | None = None) -> SstrStudy | None:
    """One SSTR study from an Observation, DiagnosticReport, Procedure or ImagingStudy; None if not SSTR."""
    rtype = resource.get("resourceType")
    status = status_code(resource.get("status"))
    if status in IGNORED_STATUS:
        return None
    notes: list[str] = []
    if rtype == "ImagingStudy":
        code_fields = [*as_list(resource.get("procedureCode")), *as_list(resource.get("reasonCode"))]
        text = text_of(resource.get("procedureCode"), as_str(resource.get("description")) or "")
    elif rtype == "Procedure":
        code_fields = [resource.get("code")]
        text = text_of(resource.get("code"))
    else:
        code_fields = [resource.get("code")]
        text = text_of(resource.get("code"), resource.get("method"))
    codes = [c for cc in code_fields for c in codings(cc)]
    modality = modality_of(text, codes)
    if modality is None and rtype == "DiagnosticReport":
        conclusion = as_str(resource.get("conclusion")) or ""
        if not text or _names_a_scan(text):
            modality = modality_of(conclusion.lower(), [])
    if modality in (None, "unknown") and rtype == "Observation":
        modality = _modality_of_parent(resource, record) or modality
    if modality is None and kind == "sstr":
        modality = "unknown"  # project code sstr-status / krenning-score without a named tracer
    if modality is None or modality == "not-imaging":
        return None
    if modality == "unknown":
        notes.append("SSTR imaging whose tracer is not named: treated as SRS (the weaker modality)")
        modality = "srs"
    result, krenning = _read_result(resource, record, kind, notes)
    if status == "preliminary":
        notes.append("preliminary result")
    elif status == "registered":
        result = None
        notes.append("registered: no result yet")
    label = f"{_MODALITY_LABEL[modality]} {result or 'result not readable'}"
    source = source_of(resource, label)
    if result is None:
        notes.append("SSTR study on record but no result could be read")
    return SstrStudy(modality, result, source.date, source, krenning, tuple(notes))  # type: ignore[arg-type]


def _names_a_scan(text: str) -> bool:
    """Whether a report's code text hints at a scan (cached by text when short: report names repeat)."""
    return _names_a_scan_cached(text) if len(text) <= 256 else _CONCLUSION_MODALITY_HINT.search(text) is not None


@lru_cache(maxsize=4096)
def _names_a_scan_cached(text: str) -> bool:
    return _CONCLUSION_MODALITY_HINT.search(text) is not None


def _modality_of_parent(resource: dict[str, Any], record: PatientRecord) -> str | None:
    """The modality of the study an Observation was derived from or is part of (e.g. a Krenning score)."""
    for ref in [*as_list(resource.get("derivedFrom")), *as_list(resource.get("partOf"))]:
        target = as_str(as_dict(ref).get("reference"))
        parent = record.get(target) if target else None
        if isinstance(parent, dict):
            text = text_of(parent.get("code"), parent.get("procedureCode"), as_str(parent.get("description")) or "")
            modality = modality_of(text, codings(parent.get("code")))
            if modality not in (None, "unknown", "not-imaging"):
                return modality
    return None


_MODALITY_LABEL = {"sstr-pet": "SSTR-PET", "srs": "SRS", "ihc": "SSTR2A IHC"}


def _read_result(resource: dict[str, Any], record: PatientRecord, kind: str | None,
                 notes: list[str]) -> tuple[str | None, int | None]:
    rtype = resource.get("resourceType")
    code_keys = {c[1] for c in codings(resource.get("code"))}
    krenning: int | None = None
    if "krenning-score" in code_keys:
        krenning, note = _krenning(resource)
        if note:
            notes.append(note)
    result = _result_from_concepts(resource.get("interpretation"))
    if result is None:
        result = _result_from_concepts(resource.get("valueCodeableConcept"))
    if result is None and isinstance(resource.get("valueBoolean"), bool):
        result = "positive" if resource["valueBoolean"] else "negative"
    if result is None:
        word = (as_str(resource.get("valueString")) or "").lower()
        result = _RESULT_WORDS.get(word)
    if result is None and rtype == "DiagnosticReport":
        result = _result_from_concepts(resource.get("conclusionCode"))
    if result is None and rtype == "Procedure":
        result = _result_from_concepts(resource.get("outcome"))
    if krenning is None and rtype == "DiagnosticReport":
        rule = index("imaging").text_rules["krenning_text"][0]
        assert rule.pattern is not None
        m = rule.pattern.search(as_str(resource.get("conclusion")) or "")
        if m:
            krenning = int(m.group(1))
            notes.append(f"Krenning score {krenning} read from the conclusion text")
    if result is None and rtype == "DiagnosticReport":
        for ref in as_list(resource.get("result")):
            target = as_str(as_dict(ref).get("reference"))
            obs = record.get(target) if target else None
            if isinstance(obs, dict):
                result = _result_from_concepts(obs.get("interpretation")) or _result_from_concepts(
                    obs.get("valueCodeableConcept"))
                if result is None and {c[1] for c in codings(obs.get("code"))} & {"krenning-score"}:
                    krenning, _ = _krenning(obs)
                if result is not None:
                    notes.append(f"result from {target}")
                    break
    if result is None and krenning is not None:
        result = "positive" if krenning >= KRENNING_POSITIVE else "negative"
        notes.append(f"Krenning score {krenning}: {result} (>=2 is positive)")
    return result, krenning


def _day(study: SstrStudy) -> date:
    return parse_date(study.date) or date.min


def sstr_status(studies: list[SstrStudy]) -> tuple[Fact[SstrStatus], SstrModality | None, tuple[SstrStudy, ...]]:
    """(status, modality, studies newest first): latest SSTR-PET wins; SRS only without PET; IHC last."""
    ordered = tuple(sorted(studies, key=_day, reverse=True))
    for modality in ("sstr-pet", "srs", "ihc"):
        of_kind = [s for s in ordered if s.modality == modality]
        if not of_kind:
            continue
        with_result = [s for s in of_kind if s.result is not None]
        notes: list[str] = []
        if not with_result:
            latest = of_kind[0]
            return (Fact("unknown", None, latest.date, (latest.source,),
                         (f"{_MODALITY_LABEL[modality]} on record without a readable result", *latest.notes)),
                    modality, ordered)  # type: ignore[return-value]
        chosen = with_result[0]
        latest = of_kind[0]
        if latest is not chosen and _day(latest) > _day(chosen):
            # X-2b: the latest study's result cannot be read, so the current status is unknown; the
            # earlier result is kept in the notes, never presented as current (invariant 5).
            return (Fact("unknown", None, latest.date, (latest.source,),
                         (f"{_MODALITY_LABEL[modality]} on record without a readable result",
                          f"an earlier {_MODALITY_LABEL[modality]} ({chosen.date}) was {chosen.result}",
                          *latest.notes)), modality, ordered)  # type: ignore[return-value]
        if latest is not chosen:
            notes.append(f"another {_MODALITY_LABEL[modality]} of the same date has no readable result")
        if modality == "sstr-pet" and any(s.modality == "srs" for s in ordered):
            notes.append("SSTR-PET wins over SRS")
        status: SstrStatus = "positive" if chosen.result == "positive" else "negative"
        if modality == "srs" and status == "negative":
            status = "indeterminate"
            notes.append("negative SRS without SSTR-PET: indeterminate (confirm with SSTR-PET)")
        if modality == "ihc":
            if status == "negative":
                status = "unknown"
                notes.append("negative SSTR2A IHC without imaging: SSTR status unknown")
            else:
                notes.append("SSTR2A IHC positive, no SSTR imaging: weaker evidence, not imaging")
        return (Fact(status, None, chosen.date, (chosen.source,), (*notes, *chosen.notes)), modality,  # type: ignore[return-value]
                ordered)
    return Fact("unknown", notes=("no SSTR imaging on record",)), None, ordered


"""MEN1 status from Conditions, family history and germline tests (net-decision-model.md section 2 row
men1; X-6).

`diagnosed`: a confirmed MEN1 Condition, or a germline test with a pathogenic MEN1 variant.
`tested-negative`: a germline MEN1 test without a pathogenic variant (X-6 then goes away).
`family-history`: a first-degree relative (parent, sibling, child) with MEN1 (003: one manifestation plus
an affected relative is clinical MEN1, so X-6 asks for testing).
`unknown`: none of these. A diagnosed Condition wins over a negative test (10-25 % of clinical MEN1 has no
detectable variant); a negative test wins over family history (the relative's variant was looked for).
A variant of uncertain significance is neither positive nor negative: status stays as the rest says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cds_service.profile.codes import codings, index
from cds_service.profile.fhirread import as_dict, as_list, as_str, reference_of, source_of, status_code, text_of
from cds_service.profile.model import Fact, Men1Status, Source

# v3 RoleCode first-degree relatives (and their text); the model counts parent, sibling, child.
FIRST_DEGREE_CODES = frozenset({
    "MTH", "FTH", "NMTH", "NFTH", "PRN", "NPRN", "SIB", "NSIB", "BRO", "SIS", "NBRO", "NSIS", "TWIN", "TWINBRO",
    "TWINSIS", "FTWIN", "ITWIN", "FTWINBRO", "FTWINSIS", "ITWINBRO", "ITWINSIS", "CHILD", "NCHILD", "SON", "DAU",
    "SONC", "DAUC", "CHLDADOPT", "HSIB", "HBRO", "HSIS",
})
_FIRST_DEGREE_TEXT = re.compile(r"\b(mother|father|parent|brother|sister|sibling|twin|son|daughter|child)\b", re.I)
_NOT_FIRST_DEGREE_TEXT = re.compile(r"\b(grand|great|aunt|uncle|cousin|niece|nephew|in-law|step)", re.I)
IGNORED_STATUS = frozenset({"entered-in-error", "cancelled"})


@dataclass(frozen=True)
class GermlineResult:
    """One MEN1 germline test read: positive (pathogenic variant), negative, or uncertain/unreadable (None)."""

    result: str | None
    source: Source


def first_degree(relationship: Any) -> bool | None:
    """True for parent/sibling/child, False for other relatives, None when the relationship is not stated."""
    codes = {c[1].upper() for c in codings(relationship)}
    if codes & FIRST_DEGREE_CODES:
        return True
    text = text_of(relationship)
    if not codes and not text:
        return None
    if _NOT_FIRST_DEGREE_TEXT.search(text):
        return False
    return bool(_FIRST_DEGREE_TEXT.search(text))


def read_family_history(resource: dict[str, Any]) -> tuple[Source, bool | None] | None:
    """(source, first-degree?) when a FamilyMemberHistory records MEN1 in a relative; else None."""
    if status_code(resource.get("status")) == "entered-in-error":
        return None
    conditions = index("conditions")
    for item in as_list(resource.get("condition")):
        code = as_dict(item).get("code")
        if conditions.first(codings(code), "men1") or conditions.text("men1", text_of(code)):
            relationship = resource.get("relationship")
            relation = text_of(relationship) or "relative"
            when = as_str(resource.get("date"))
            return Source(reference_of(resource), when, f"MEN1 in {relation}"), first_degree(relationship)
    return None


def names_men1(resource: dict[str, Any]) -> bool:
    """Whether a genetic test names the MEN1 gene (code, a 'gene studied' component, method or conclusion)."""
    obs = index("observations")
    concepts = [resource.get("code"), resource.get("method")]
    for comp in as_list(resource.get("component")):
        concepts += [as_dict(comp).get("code"), as_dict(comp).get("valueCodeableConcept")]
    if any(e.get("gene") == "men1" for cc in concepts for e in obs.match(codings(cc), "germline_gene_text")):
        return True
    text = " ".join(filter(None, [text_of(*concepts), as_str(resource.get("conclusion")),
                                  as_str(resource.get("valueString"))]))
    return obs.text("germline_gene_text", text) is not None


def read_germline(resource: dict[str, Any]) -> GermlineResult | None:
    """A MEN1 germline test (Observation or DiagnosticReport) and its result; None when it is not one."""
    if status_code(resource.get("status")) in IGNORED_STATUS or not names_men1(resource):
        return None
    obs = index("observations")
    values = [resource.get("valueCodeableConcept"), *as_list(resource.get("interpretation")),
              *as_list(resource.get("conclusionCode"))]
    for comp in as_list(resource.get("component")):
        values.append(as_dict(comp).get("valueCodeableConcept"))
    result = None
    for cc in values:
        e = obs.first(codings(cc), "germline_result_text")
        if e is not None:
            result = str(e.get("result"))
            break
    if result is None:
        text = " ".join(filter(None, [as_str(resource.get("valueString")), as_str(resource.get("conclusion")),
                                      text_of(*values)]))
        rule = obs.text("germline_result_text", text)
        result = str(rule.get("result")) if rule is not None else None
    if status_code(resource.get("status")) in ("registered", "partial"):
        result = None
    label = {"positive": "MEN1 germline test: pathogenic variant", "negative": "MEN1 germline test: no pathogenic "
             "variant"}.get(result or "", "MEN1 germline test: result not readable")
    return GermlineResult(result if result in ("positive", "negative") else None, source_of(resource, label))


def men1_status(conditions: tuple[Source, ...], family: list[tuple[Source, bool | None]],
                tests: list[GermlineResult]) -> Fact[Men1Status]:
    """diagnosed > tested-negative > family-history > unknown, each with its sources and notes."""
    positive = [t.source for t in tests if t.result == "positive"]
    negative = [t.source for t in tests if t.result == "negative"]
    unreadable = [t.source for t in tests if t.result is None]
    notes: list[str] = [f"MEN1 germline test without a readable result ({s.reference})" for s in unreadable]
    if conditions or positive:
        sources = (*conditions, *positive)
        if negative:
            notes.append("a negative germline test is on record too: the diagnosis is kept")
        return Fact("diagnosed", None, sources[0].date, sources, tuple(notes))
    if negative:
        latest = max(negative, key=lambda s: s.date or "")
        if family:
            notes.append("MEN1 in a relative, but the patient's germline test found no pathogenic variant")
        return Fact("tested-negative", None, latest.date, tuple(negative), tuple(notes))
    close = [s for s, degree in family if degree is not False]
    if close:
        unstated = [s for s, degree in family if degree is None]
        if unstated:
            notes.append("relationship not stated: counted as a first-degree relative")
        return Fact("family-history", None, close[0].date, tuple(close), tuple(notes))
    if family:
        notes.append("MEN1 only in relatives beyond the first degree")
    return Fact("unknown", None, None, tuple(unreadable), (*notes, "no MEN1 diagnosis, family history or test"))

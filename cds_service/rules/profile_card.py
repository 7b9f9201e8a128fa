"""X-9, the NET profile card shown for every in-scope NEN patient, and SCOPE-1 for out-of-scope NEN.

The profile card states what the service read (site, differentiation, grade with Ki-67/mitoses,
SSTR status, functional status, metastatic sites, stage, line of therapy, PRRT eligibility) with the
date and FHIR reference of each value, and the data-quality notes a reader should know about.
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    add_core_facts,
    add_fact,
    add_suspected_facts,
    is_minor,
    new_finding,
    select_pathway,
    suspected,
    suspected_missing,
)
from cds_service.rules.findings import Check, Finding, all_of, check, shown, shown_criterion
from cds_service.rules.registry import rule

MAX_NOTES = 8


def _build_x_9(p: PatientProfile, c: Check) -> Finding:
    group, why = select_pathway(p)
    f = new_finding("X-9", params={
        "headline": headline(p),
        "nen_status": p.nen_status, "pathway": why,
        "prrt_eligible": p.prrt_eligibility.eligible if p.prrt_eligibility.criteria else None,
    })
    add_core_facts(f, p, "sstr", "functional", "stage", "metastatic", "status", "line")
    if p.liver_metastases.known:
        add_fact(f, p, "hepatic")
    if p.metastatic_sites:  # the sites carry the provenance of the metastatic finding
        f.add_facts(shown("Metastatic sites", p.metastatic, ", ".join(p.metastatic_sites)))
    f.add_facts(shown("Tumour burden", p.tumor_burden), shown("Symptomatic", p.symptomatic),
                shown("MEN1", p.men1))
    for crit in p.prrt_eligibility.criteria:
        f.add_facts(shown_criterion(crit))
    notes = []
    # notes about a profile field the rules use come first (converted, approximate, rejected values)
    for n in sorted(p.notes, key=lambda n: n.field is None):
        text = n.message  # the resource concerned is in the answer's data-quality extension, not the text
        if text not in notes:
            notes.append(text)
    f.params["notes"] = notes[:MAX_NOTES]
    f.params["more_notes"] = max(0, len(notes) - MAX_NOTES)
    return f


def headline(p: PatientProfile) -> str:
    """A short description for the summary: site, differentiation and grade, stage, SSTR."""
    parts = [p.primary_site.value or p.site_group]
    diff = p.differentiation.value or "NEN"
    grade = p.who_grade.value if p.who_grade.value and p.who_grade.value != "high-grade-nec" else ""
    parts.append(f"{diff} {grade}".strip())
    if p.nen_status == "history":
        parts.append("history")
    elif p.stage.value and p.stage.value != "unknown":
        parts.append(p.stage.value)
    if p.functional_syndrome.value not in (None, "unknown", "nonfunctional"):
        parts.append(str(p.functional_syndrome.value).replace("-", " "))
    if p.sstr_status.value not in (None, "unknown"):
        parts.append(f"SSTR {p.sstr_status.value}")
    return ", ".join(str(x) for x in parts if x)


@rule("X-9", hook="patient-view", kind="profile", topic="net-profile", group="profile",
      seeds=("003", "004"), guidelines=("who-2019", "esmo-2020"), build=_build_x_9)
def x_9(p: PatientProfile) -> Check:
    """Every patient with an in-scope NEN (active or history) gets the profile card."""
    return all_of(check("NEN present", p.nen_status != "none"), check("in scope (GEP-NEN)", p.in_scope))


def _build_scope_1(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("SCOPE-1")
    f.add_facts(shown("Primary site", p.primary_site), shown("Differentiation", p.differentiation))
    return f


@rule("SCOPE-1", hook="patient-view", kind="scope", topic="net-profile", group="profile", seeds=(),
      guidelines=("esmo-2020",), build=_build_scope_1)
def scope_1(p: PatientProfile) -> Check:
    """A NEN outside the service's scope (lung/thymic NET, pheochromocytoma/paraganglioma, Merkel
    cell) gets only this info card saying so, never therapy advice (model section 1)."""
    return all_of(check("NEN present", p.nen_status != "none"), check("out of scope", not p.in_scope))


def _build_scope_2(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("SCOPE-2")
    f.add_facts(shown("Age", p.age), shown("Primary site", p.primary_site))
    return f


@rule("SCOPE-2", hook="patient-view", kind="scope", topic="net-profile", group="profile", seeds=(),
      guidelines=("esmo-2020",), build=_build_scope_2, exclusive=True)
def scope_2(p: PatientProfile) -> Check:
    """A patient under 18 (Patient.birthDate) with a NEN: the seeds are adult guidelines and paediatric
    NET care is specialised, so this info card is the only patient-view card; on order-sign only the
    warning and critical safety cards apply (model section 1). Unknown age is read as adult."""
    return all_of(check("NEN present", p.nen_status != "none"), check("under 18", is_minor(p)))


def _build_scope_3(p: PatientProfile, c: Check) -> Finding:
    found = suspected(p, "nen")
    f = new_finding("SCOPE-3", params={"verification": [s.verification for s in found]})
    add_suspected_facts(f, found)
    f.add_missing(*suspected_missing(found))
    return f


@rule("SCOPE-3", hook="patient-view", kind="scope", topic="net-profile", group="profile", seeds=(),
      guidelines=("who-2019",), build=_build_scope_3)
def scope_3(p: PatientProfile) -> Check:
    """A neuroendocrine neoplasm recorded only as provisional, differential or unconfirmed, and no
    confirmed one: not a NEN patient (section 2), so no NET advice; this info card names the unconfirmed
    diagnosis and what confirms it (pathology with Ki-67). Choice where the model is silent: one info
    card rather than silence, since the suspicion is exactly when a NET workup is being decided."""
    return all_of(check("no confirmed NEN", p.nen_status == "none"),
                  check("a NEN is suspected", bool(suspected(p, "nen"))))

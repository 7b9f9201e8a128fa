"""Syndrome control (at most one card): P-8 gastrinoma, P-7 insulinoma, P-9 VIPoma/glucagonoma,
GI-10 carcinoid syndrome (seeds 003, 004, 000).

These apply to active NEN of any site with the syndrome. SSA-based syndrome advice is withheld in
NEC (invariant 1); gastrinoma acid control never suggests stopping a PPI (invariant 3).
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    FUNCTIONAL,
    active,
    add_fact,
    add_suspected_facts,
    add_therapy_fact,
    new_finding,
    not_nec_check,
    ssa_option,
    suspected,
    syndrome_check,
)
from cds_service.rules.findings import Check, Finding, Option, all_of, check, shown, shown_lab
from cds_service.rules.registry import rule


def _active_nen(p: PatientProfile) -> Check:
    return check("active in-scope NEN", p.nen_status == "active" and p.in_scope)


def _not_nec(p: PatientProfile) -> Check:
    """Unknown for a suspected NEC: the card turns conditional and names it (section 2, invariant 8)."""
    return not_nec_check(p)


def _syndrome(p: PatientProfile, *names: str) -> Check:
    """Unknown for a suspected syndrome (provisional ZES, ...): a conditional card naming it."""
    return syndrome_check(p, *names)


def _finding(rule_id: str, p: PatientProfile, options: list[Option], **params) -> Finding:
    f = new_finding(rule_id, options=options, params=params)
    add_fact(f, p, "functional")
    add_suspected_facts(f, suspected(p, *FUNCTIONAL, "nec"))  # a conditional card names the suspicion
    return f


# ------------------------------------------------------------------------------------------ P-8


def _build_p_8(p: PatientProfile, c: Check) -> Finding:
    f = _finding("P-8", p, [Option("ppi-bid", True)], men1_known=p.men1.value is True)
    for t in active(p, "ppi"):
        add_therapy_fact(f, t)
    f.add_facts(shown_lab("Gastrin", p.latest_lab("gastrin")))
    add_fact(f, p, "men1")
    return f


@rule("P-8", hook="patient-view", kind="syndrome", topic="gastrinoma-acid-control", group="syndrome",
      seeds=("003",), guidelines=("enets-2023-f-pnet", "nanets-2020"), build=_build_p_8)
def p_8(p: PatientProfile) -> Check:
    """Gastrinoma / Zollinger-Ellison syndrome: acid control with a twice-daily PPI, never withdrawn
    abruptly; MEN1 evaluation (003)."""
    return all_of(_active_nen(p), _syndrome(p, "gastrinoma"))


# ------------------------------------------------------------------------------------------ P-7


def _build_p_7(p: PatientProfile, c: Check) -> Finding:
    options = [Option("debulking", True), Option("diazoxide", True), Option("everolimus-insulinoma")]
    ssa = ssa_option(p)  # short-acting trial, only with positive SSTR status
    if ssa is not None:
        options.append(ssa)
    low = p.glucose_low.value
    f = _finding("P-7", p, options, sstr=p.sstr_status.value or "unknown", glucose_low=low is True)
    f.indicator = "warning" if low is True else "info"
    add_fact(f, p, "sstr")
    add_fact(f, p, "stage")
    if p.lowest_recent_glucose.known:
        f.add_facts(shown("Lowest glucose (30 days)", p.lowest_recent_glucose))
    else:
        f.add_facts(shown_lab("Glucose", p.latest_lab("glucose")))
        if low is None:
            f.add_missing("recent glucose (last 30 days)")
    return f


@rule("P-7", hook="patient-view", kind="syndrome", topic="insulinoma-control", group="syndrome",
      seeds=("003", "000"), guidelines=("enets-2023-f-pnet", "nanets-2020"), build=_build_p_7)
def p_7(p: PatientProfile) -> Check:
    """Advanced (not resected) insulinoma: debulking (resection, liver-directed, chemotherapy, PRRT),
    diazoxide, everolimus (also controls hypoglycaemia); an SSA only with positive SSTR status, short-acting
    first under glucose monitoring, never when SSTR negative. Indicator warning when a glucose below
    54 mg/dL (3.0 mmol/L) was recorded in the last 30 days, else info (model v2; 003, 000)."""
    return all_of(_active_nen(p), _not_nec(p), _syndrome(p, "insulinoma"),
                  check("advanced (not resected)", p.stage.value != "resected"))


# ------------------------------------------------------------------------------------------ P-9


def _build_p_9(p: PatientProfile, c: Check) -> Finding:
    f = _finding("P-9", p, [Option("ssa-syndrome", True)])
    add_fact(f, p, "sstr")
    return f


@rule("P-9", hook="patient-view", kind="syndrome", topic="ssa-syndrome-control", group="syndrome",
      seeds=("003",), guidelines=("enets-2023-f-pnet", "nanets-2020"), build=_build_p_9)
def p_9(p: PatientProfile) -> Check:
    """VIPoma or glucagonoma: an SSA is essential for syndrome control (003)."""
    return all_of(_active_nen(p), _not_nec(p), _syndrome(p, "vipoma", "glucagonoma"))


# ----------------------------------------------------------------------------------------- GI-10


def documented_symptoms(p: PatientProfile) -> bool | None:
    """Symptoms documented by an observation, not merely implied by the syndrome diagnosis (GI-10).

    Uses `PatientProfile.symptoms_observed` (added for this rule) when the builder fills it; until then
    falls back to the symptom Observation among `symptomatic`'s sources, whose label the builder writes
    as "symptomatic True/False".
    """
    observed = getattr(p, "symptoms_observed", None)
    if observed is not None and observed.known:
        return observed.value
    if not p.symptomatic.known:
        return None
    observations = [s for s in p.symptomatic.sources if s.reference.startswith("Observation/")]
    if not observations:
        return None
    if p.functional_syndrome.value in ("nonfunctional", "unknown", None):
        return p.symptomatic.value
    latest = max(observations, key=lambda s: s.date or "")
    label = latest.label.lower().split()
    if label[-1:] in (["true"], ["yes"]):
        return True
    if label[-1:] in (["false"], ["no"]):
        return False
    return None


def _build_gi_10(p: PatientProfile, c: Check) -> Finding:
    f = _finding("GI-10", p, [Option("ssa-escalation", True), Option("telotristat")])
    for t in active(p, "ssa", "telotristat"):
        add_therapy_fact(f, t)
    if documented_symptoms(p) is not None:
        add_fact(f, p, "symptoms")
    f.add_facts(shown_lab("5-HIAA", p.latest_lab("5-hiaa") or p.latest_lab("hiaa")))
    return f


@rule("GI-10", hook="patient-view", kind="syndrome", topic="hormone-control", group="syndrome",
      seeds=("004", "000", "002"), guidelines=("enets-2024-si", "enets-2022-carcinoid"), build=_build_gi_10)
def gi_10(p: PatientProfile) -> Check:
    """Carcinoid syndrome with symptoms persisting on an SSA: escalate the SSA (dose or frequency);
    add telotristat 250 mg three times daily for refractory diarrhoea (004, 002)."""
    return all_of(_active_nen(p), _not_nec(p), _syndrome(p, "carcinoid-syndrome"),
                  check("on an SSA", bool(active(p, "ssa"))),
                  check("symptoms persisting on the SSA", documented_symptoms(p),
                        "symptom control on the SSA (e.g. bowel movements, flushing)"))


# ------------------------------------------------------------------------------------- P-8-PPI


def _build_p_8_ppi(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    ppi = p.therapy("ppi")
    return new_finding("P-8-PPI", params={"doses_per_day": ppi.doses_per_day if ppi else None})


@rule("P-8-PPI", hook="patient-view", kind="addendum", topic="ppi-gastrinoma-dosing", group="addendum",
      host="syndrome", seeds=("003",), guidelines=("enets-2023-f-pnet", "nanets-2020"), build=_build_p_8_ppi)
def p_8_ppi(p: PatientProfile, host: Finding | None) -> Check:
    """Gastrinoma on an active PPI whose recorded dosing is once daily or less: a section of the P-8 card
    saying that acid control needs it twice daily (P-8; O-PPI-3 says the same of a drafted PPI). Only a
    structured dosing timing counts; a free-text sig leaves it unknown and the P-8 card says twice daily
    anyway. Project addition so that a worklist can find these patients by rule id."""
    ppi = p.therapy("ppi")
    n = ppi.doses_per_day if ppi is not None and ppi.active else None
    return all_of(check("the P-8 card", host is not None and host.rule_id == "P-8"),
                  check("on a PPI", ppi is not None and ppi.active),
                  check("PPI once daily or less", None if n is None else n <= 1, "dosing frequency of the PPI"))

"""Addenda: rules whose output is a section of the next-step card, not a card of its own.

X-7 (failed or unknown PRRT criteria), P-5 (everolimus vs sunitinib by comorbidity), GI-9
(liver-directed option), GI-11 (SSA continuation) and STAGE-1 (stage unknown: resectable disease
goes to a NET surgeon or tumour board first). Each condition takes the profile and the host card.
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    add_fact,
    add_therapy_fact,
    exposed,
    favoured_agents,
    new_finding,
    progressing,
    sstr_imaging_positive,
    targeted_pair,
)
from cds_service.rules.findings import Check, Finding, Option, all_of, any_of, check, shown_criterion
from cds_service.rules.registry import rule

PRRT_OPTIONS = ("prrt-ssa", "prrt-retreatment-ssa", "prrt-ssa-netter-2")
GI_SWITCH_RULES = ("GI-6", "GI-7", "GI-8")


def _host(host: Finding | None) -> Check:
    return check("a next-step card to attach to", host is not None)


# ------------------------------------------------------------------------------------------


def _build_x_7(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    f = new_finding("X-7", params={"assessed": bool(p.prrt_eligibility.criteria)})
    for crit in p.prrt_eligibility.criteria:
        s = shown_criterion(crit)
        if crit.result == "pass" and s is None:
            continue
        if s is not None:
            f.add_facts(s)
        if crit.result != "pass":
            f.params.setdefault("criteria", []).append({"label": crit.label, "result": crit.result})
            if crit.result == "unknown":
                f.add_missing(crit.label)
    if not p.prrt_eligibility.criteria:
        f.add_missing("PRRT eligibility (renal function, Karnofsky, platelets)")
    return f


@rule("X-7", hook="patient-view", kind="addendum", topic="prrt-eligibility", group="addendum",
      seeds=("004",), guidelines=("lutathera-label",), build=_build_x_7)
def x_7(p: PatientProfile, host: Finding | None) -> Check:
    """The next-step card offers PRRT (or is GI-8 because PRRT is not eligible) while an eligibility
    criterion (SSTR positive, CrCl > 50 mL/min, Karnofsky > 50, platelets >= 75 x 10^9/L) failed or is
    unknown: list them in that card (004)."""
    offers = host is not None and any(k in PRRT_OPTIONS for k in host.all_options())
    # GI-8 chosen because PRRT is ineligible: the patient was a PRRT candidate (SSTR-positive imaging).
    ineligible_candidate = (host is not None and host.rule_id == "GI-8" and sstr_imaging_positive(p)
                            and any(c.result == "fail" for c in p.prrt_eligibility.criteria))
    return all_of(_host(host), any_of(check("the card offers PRRT", offers),
                                      check("GI-8 chosen because PRRT is not eligible", ineligible_candidate)),
                  check("PRRT eligibility not confirmed", not p.prrt_eligibility.eligible))


# ------------------------------------------------------------------------------------------ P-5


def _build_p_5(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    favoured = favoured_agents(p)
    _, other = targeted_pair(p)
    f = new_finding("P-5", params={"other": other, "favour_other": favoured[other],
                                   "favour_everolimus": favoured["everolimus"]})
    add_fact(f, p, "comorbidities")
    return f


@rule("P-5", hook="patient-view", kind="addendum", topic="targeted-choice", group="addendum",
      seeds=("003",), guidelines=("nanets-2020",), build=_build_p_5)
def p_5(p: PatientProfile, host: Finding | None) -> Check:
    """When a pNET card offers everolimus and sunitinib: diabetes or lung disease favour sunitinib;
    cardiovascular disease, hypertension or a bleeding diathesis favour everolimus (003). The sunitinib
    choice is pancreatic only: for a GI NET card offering everolimus and cabozantinib, diabetes or lung
    disease weigh against everolimus and hypertension, cardiovascular disease or bleeding against
    cabozantinib; sunitinib is never named for a GI NET (model v2; 004)."""
    pair = targeted_pair(p)
    offers = host is not None and set(pair) <= set(host.all_options())
    favoured = favoured_agents(p)
    return all_of(_host(host), check(f"the card offers {' and '.join(pair)}", offers),
                  check("a comorbidity that favours one agent", any(bool(v) for v in favoured.values())))


# ----------------------------------------------------------------------------------------- GI-9


def _build_gi_9(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    f = new_finding("GI-9", options=[Option("liver-directed")])
    add_fact(f, p, "hepatic")
    add_fact(f, p, "status")
    return f


@rule("GI-9", hook="patient-view", kind="addendum", topic="liver-directed", group="addendum",
      seeds=("004", "000"), guidelines=("enets-2024-si", "esmo-2020"), build=_build_gi_9)
def gi_9(p: PatientProfile, host: Finding | None) -> Check:
    """Progressing hepatic-predominant GI NET: liver-directed therapy (embolization,
    chemoembolization, radioembolization; debulking in selected patients) is an added option (004)."""
    gi = host is not None and host.rule_id.startswith("GI-")
    return all_of(check("GI NET next step", gi), check("progressing", progressing(p)),
                  check("hepatic-predominant disease", p.hepatic_predominant.value, "hepatic-predominant disease"))


# ---------------------------------------------------------------------------------------- GI-11


def _build_gi_11(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    fs = p.functional_syndrome.value
    functional = None if fs in (None, "unknown") else fs != "nonfunctional"
    prrt_offered = host is not None and not host.conditional and any(o.key in PRRT_OPTIONS for o in host.options)
    f = new_finding("GI-11", params={"functional": functional, "prrt_offered": prrt_offered})
    add_fact(f, p, "functional")
    for t in exposed(p, "ssa"):
        add_therapy_fact(f, t)
    if functional is None:
        f.add_missing("functional status (hormone-related symptoms)")
    return f


@rule("GI-11", hook="patient-view", kind="addendum", topic="ssa-continuation", group="addendum",
      seeds=("004",), guidelines=("enets-2024-si", "netter-1"), build=_build_gi_11)
def gi_11(p: PatientProfile, host: Finding | None) -> Check:
    """Moving on from an SSA: a functional tumour keeps its SSA (also during and after PRRT). A
    nonfunctional tumour that progressed on an SSA: with PRRT the SSA was continued in NETTER-1 and the
    label gives octreotide LAR after each dose, but continuing it beyond PRRT has no proven benefit; when
    switching to a targeted agent, ending the SSA is reasonable. The word "stop" never stands next to a
    PRRT recommendation (004 "Should the SSA be continued?"; model GI-11, version 2)."""
    switching = host is not None and (host.rule_id in GI_SWITCH_RULES or
                                      any(b.rule_id in GI_SWITCH_RULES for b in host.branches))
    return all_of(check("a GI next step after SSA", switching), check("SSA given", bool(exposed(p, "ssa"))))


# ------------------------------------------------------------------------------------- P-7-SSA

SSA_OPTIONS = ("ssa", "ssa-hormone-only", "ssa-indolent", "ssa-dose-escalation", "prrt-ssa", "liver-directed-ssa",
               "prrt-retreatment-ssa", "prrt-ssa-netter-2")


def _build_p_7_ssa(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    f = new_finding("P-7-SSA", params={"sstr": p.sstr_status.value or "unknown"})
    add_fact(f, p, "functional")
    add_fact(f, p, "sstr")
    return f


@rule("P-7-SSA", hook="patient-view", kind="addendum", topic="ssa-insulinoma", group="addendum",
      seeds=("000", "003"), guidelines=("enets-2023-f-pnet", "somatuline-label"), build=_build_p_7_ssa)
def p_7_ssa(p: PatientProfile, host: Finding | None) -> Check:
    """Insulinoma and the next-step card offers an SSA: warn inside that card that an SSA can worsen
    hypoglycaemia; start short-acting with close glucose monitoring, only with positive SSTR imaging
    (P-7 and O-SSA-2 applied to the patient-view card; 000, 003)."""
    offers = host is not None and any(k in SSA_OPTIONS for k in host.all_options())
    return all_of(check("insulinoma", p.functional_syndrome.value == "insulinoma"),
                  check("the card offers an SSA", offers))


# -------------------------------------------------------------------------------------- STAGE-1


def _build_stage_1(p: PatientProfile, c: Check, host: Finding | None) -> Finding:
    f = new_finding("STAGE-1")
    f.add_missing("stage (metastatic or resected)")
    return f


@rule("STAGE-1", hook="patient-view", kind="addendum", topic="resection-evaluation", group="addendum",
      seeds=("000",), guidelines=("esmo-2020",), build=_build_stage_1)
def stage_1(p: PatientProfile, host: Finding | None) -> Check:
    """Stage unknown (no metastatic site, no resection recorded): the card follows the advanced
    pathway and says that resectable disease goes to a NET surgeon or tumour board first (000:
    resection is the mainstay for resectable disease; model section 4.6)."""
    return all_of(_host(host), check("stage unknown", p.stage.value in (None, "unknown")),
                  check("not already a resection referral (R-1)", host is None or host.rule_id != "R-1"))

"""Section 4.6: follow-up and monitoring (003 "Surveillance"; 004 "Toxicity and risks").

At most one follow-up card: declared in priority order F-3, F-4, F-2, F-1 and the first that fires
wins. These apply to active disease and to a history of NEN (remission/resolved).
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    CHEMO,
    TARGETED,
    active,
    add_fact,
    add_therapy_fact,
    days_between,
    exposed,
    new_finding,
    progressing,
    today,
)
from cds_service.rules.findings import Check, Finding, SuggestionSpec, all_of, check, shown, shown_lab
from cds_service.rules.gaps import CREATININE_KEYS, PLATELET_KEYS, lab
from cds_service.rules.registry import rule

CBC_INTERVAL_DAYS = 183
RENAL_INTERVAL_FIRST_YEAR_DAYS = 92
RENAL_INTERVAL_LATER_DAYS = 183


def _nen(p: PatientProfile) -> Check:
    return check("NEN present (in scope)", p.nen_status != "none" and p.in_scope)


# ------------------------------------------------------------------------------------------ F-3


def _build_f_3(p: PatientProfile, c: Check) -> Finding:
    ref = today(p)
    prrt = exposed(p, "prrt")
    last = max((t.last_administration or t.start or "" for t in prrt), default="") or None
    since_last = days_between(last, ref)
    renal_interval = (RENAL_INTERVAL_FIRST_YEAR_DAYS if since_last is None or since_last <= 365
                      else RENAL_INTERVAL_LATER_DAYS)
    f = new_finding("F-3")
    for t in prrt:
        add_therapy_fact(f, t)
    cbc = lab(p, *PLATELET_KEYS)
    overdue: list[str] = []
    age = days_between(cbc.date, ref) if cbc else None
    if cbc is None or age is None or age > CBC_INTERVAL_DAYS:
        overdue.append("cbc")
        f.suggestions.append(SuggestionSpec("order-cbc"))
    f.add_facts(shown_lab("Platelets", cbc))
    renal_fact = shown("Renal function (CrCl)", p.renal_function)
    renal_date = renal_fact.date if renal_fact else None
    renal_lab = lab(p, *CREATININE_KEYS)
    if renal_lab and (renal_date is None or (renal_lab.date or "") > renal_date):
        renal_date = renal_lab.date
        f.add_facts(shown_lab("Creatinine", renal_lab))
    f.add_facts(renal_fact)
    renal_age = days_between(renal_date, ref)
    if renal_age is None or renal_age > renal_interval:
        overdue.append("renal")
        f.suggestions.append(SuggestionSpec("order-creatinine"))
    if cbc is None:
        f.add_missing("blood count (CBC with differential)")
    if renal_date is None:
        f.add_missing("kidney function (creatinine / CrCl)")
    f.params.update({"overdue": overdue, "renal_interval_months": 3 if renal_interval < 100 else 6,
                     "last_prrt": last[:10] if last else None})
    return f


@rule("F-3", hook="patient-view", kind="follow-up", topic="post-prrt-monitoring", group="follow-up",
      seeds=("003", "004"), guidelines=("lutathera-label", "nanets-2020"), build=_build_f_3)
def f_3(p: PatientProfile) -> Check:
    """PRRT given: imaging within 3 months of the last dose, then at 6 and 12 months; CBC with
    differential at least every 6 months (haematology referral if abnormal); kidney function every 3
    months in the first year, then every 6 months. Lists the latest values and which are overdue."""
    given = any(t.administrations > 0 or t.last_administration for t in exposed(p, "prrt"))
    return all_of(_nen(p), check("PRRT administration recorded", given))


# ------------------------------------------------------------------------------------------ F-4


def _build_f_4(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("F-4", params={"pancreas": p.site_group == "pancreas",
                                   "functional": p.functional_syndrome.value not in ("nonfunctional", "unknown")})
    add_fact(f, p, "stage")
    f.add_facts(shown("Primary site", p.primary_site))
    if p.ki67_percent.known:
        f.add_facts(shown("Ki-67", p.ki67_percent))
    else:
        f.add_missing("Ki-67 index")
    add_fact(f, p, "functional")
    return f


@rule("F-4", hook="patient-view", kind="follow-up", topic="post-resection-surveillance", group="follow-up",
      seeds=("003",), guidelines=("nanets-2020", "enets-2023-nf-pnet"), build=_build_f_4)
def f_4(p: PatientProfile) -> Check:
    """Resected, no metastatic site: surveillance imaging by risk (size, nodes, Ki-67 > 5 %) to at
    least 10 years; multiphasic CT preferred, no routine chest imaging, SSTR-PET only when progression
    is suspected; CgA not used for nonfunctional pNET surveillance (003)."""
    return all_of(_nen(p), check("resected", p.stage.value == "resected"),
                  check("no metastatic site", p.metastatic.value is not True))


# ------------------------------------------------------------------------------------------ F-2


def _build_f_2(p: PatientProfile, c: Check) -> Finding:
    on = active(p, *TARGETED, *CHEMO)
    f = new_finding("F-2", params={"agents": sorted({t.therapy for t in on})})
    for t in on:
        add_therapy_fact(f, t)
    f.add_facts(shown_lab("Glucose", lab(p, "glucose")), shown_lab("HbA1c", lab(p, "hba1c")))
    return f


@rule("F-2", hook="patient-view", kind="follow-up", topic="follow-up-schedule", group="follow-up",
      seeds=("004", "003"), guidelines=("esmo-2020", "radiant-4"), build=_build_f_2)
def f_2(p: PatientProfile) -> Check:
    """On everolimus, sunitinib, cabozantinib or chemotherapy: about monthly visits and labs for
    toxicity (everolimus: glucose, lipids; sunitinib/cabozantinib: blood pressure); imaging every
    2-3 months (004)."""
    return all_of(_nen(p), check("on a targeted agent or chemotherapy", bool(active(p, *TARGETED, *CHEMO))))


# ------------------------------------------------------------------------------------------ F-1


def _build_f_1(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("F-1")
    for t in active(p, "ssa"):
        add_therapy_fact(f, t)
    add_fact(f, p, "metastatic")
    add_fact(f, p, "status")
    f.add_facts(shown_lab("Glucose", lab(p, "glucose")))
    return f


@rule("F-1", hook="patient-view", kind="follow-up", topic="follow-up-schedule", group="follow-up",
      seeds=("003", "004", "000"), guidelines=("esmo-2020", "clarinet"), build=_build_f_1)
def f_1(p: PatientProfile) -> Check:
    """Metastatic, on an SSA, not progressing: visit and imaging every 3-6 months (less often when
    stable over time), the same modality each time; watch for gallstones and glucose on the SSA."""
    return all_of(_nen(p), check("metastatic", p.metastatic.value is True or p.stage.value == "metastatic"),
                  check("on an SSA", bool(active(p, "ssa"))),
                  check("no documented progression", not progressing(p)))

"""Section 4.1: advanced well-differentiated G1/G2 gastrointestinal (non-pancreatic) NET (seed 004).

Rules are declared in priority order: inside the pathway the first rule whose condition holds wins
(GI-1 resection, GI-2 surveillance, GI-5 SSTR-negative, GI-4 PRRT first line, GI-3 SSA; then the
progression rules GI-6, GI-7, GI-8). Chemotherapy and interferon are never options here (004;
invariant 4). GI-9 and GI-11 are addenda of the next-step card (see addenda.py).
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    CHEMO,
    add_core_facts,
    check_naive_or_progressing,
    check_progressing_after,
    exposed,
    high_burden,
    new_finding,
    pathway_check,
    progressing,
    prrt_criterion_failed,
    prrt_option,
    ssa_option,
    sstr_imaging_positive,
    sstr_negative,
    sstr_positive,
    surveillance_checks,
    symptomatic,
)
from cds_service.rules.findings import Check, Finding, Option, all_of, any_of, check, negate
from cds_service.rules.registry import rule

GI_GUIDES = ("enets-2024-si", "esmo-2020")


def hepatic_predominant(p: PatientProfile) -> bool | None:
    """Hepatic-predominant disease; unknown when liver metastases exist but predominance is not coded."""
    if p.hepatic_predominant.known:
        return p.hepatic_predominant.value
    if p.liver_metastases.value is True:
        return None
    return False


def prrt_imaging_check(p: PatientProfile) -> Check:
    """SSTR imaging positive (a positive IHC alone is not enough for PRRT: invariant 2)."""
    if sstr_imaging_positive(p):
        return Check(True, "SSTR imaging positive")
    if p.sstr_status.value == "positive":  # IHC only
        return Check(None, "SSTR positive by IHC only", ("SSTR imaging (SSTR-PET)",))
    return check("SSTR imaging positive", sstr_positive(p), "SSTR imaging (SSTR-PET)")


def _eligibility_not_failed(p: PatientProfile) -> Check:
    failed = [c.label for c in p.prrt_eligibility.criteria if c.result == "fail"]
    if failed:
        return Check(False, "PRRT eligibility criterion failed: " + ", ".join(failed))
    return Check(True, "no PRRT eligibility criterion failed")


def _eligibility_failed(p: PatientProfile) -> Check:
    c = _eligibility_not_failed(p)
    return Check(not c.ok, c.reason)


def _gi(p: PatientProfile) -> Check:
    return pathway_check(p, "gi")


def _finding(rule_id: str, p: PatientProfile, options: list[Option], *facts: str, **params) -> Finding:
    f = new_finding(rule_id, options=options, params={"site_unknown": p.site_group == "unknown", **params})
    add_core_facts(f, p, *facts)
    return f


# ----------------------------------------------------------------------------------------- GI-1


def _build_gi_1(p: PatientProfile, c: Check) -> Finding:
    options = [Option("resection", True), ssa_option(p)]
    return _finding("GI-1", p, [o for o in options if o], "resectable", "hepatic", "sstr")


@rule("GI-1", hook="patient-view", kind="next-step", topic="resection-evaluation", group="gi",
      seeds=("004", "000"), guidelines=GI_GUIDES, build=_build_gi_1, precheck=True)
def gi_1(p: PatientProfile) -> Check:
    """Potentially resectable, hepatic-predominant metastatic GI NET: surgical evaluation for
    metastasectomy comes before systemic therapy (004 "Potentially resectable disease"). When
    resectability is unknown and another rule fires, that card says to check resectability first."""
    return all_of(_gi(p), any_of(check_naive_or_progressing(p), check("progressing", progressing(p))),
                  check("hepatic-predominant disease", hepatic_predominant(p), "hepatic-predominant disease"),
                  check("potentially resectable", p.resectable.value, "resectability (surgical assessment)"))


# ----------------------------------------------------------------------------------------- GI-2


def _build_gi_2(p: PatientProfile, c: Check) -> Finding:
    return _finding("GI-2", p, [Option("surveillance-gi", True)], "symptoms", "burden", "sstr")


@rule("GI-2", hook="patient-view", kind="next-step", topic="surveillance", group="gi", seeds=("004",),
      guidelines=GI_GUIDES, build=_build_gi_2)
def gi_2(p: PatientProfile) -> Check:
    """Unresectable, asymptomatic, low tumour burden, no prior therapy, no documented growth:
    surveillance imaging at 3 and 6 months, then paced by the disease (004 "Asymptomatic disease with
    low tumor burden")."""
    return all_of(_gi(p), *surveillance_checks(p, "low tumour burden"))


# ----------------------------------------------------------------------------------------- GI-5


def _build_gi_5(p: PatientProfile, c: Check) -> Finding:
    options = [Option("everolimus", True), Option("cabozantinib", True)]
    ssa = ssa_option(p, "ssa-hormone-only")  # None in insulinoma (SSTR negative here)
    if ssa is not None:
        options.append(ssa)
    if hepatic_predominant(p):
        options.append(Option("liver-directed"))
    return _finding("GI-5", p, options, "sstr", "symptoms", "burden", "hepatic")


@rule("GI-5", hook="patient-view", kind="next-step", topic="targeted-first-line", group="gi",
      seeds=("004",), guidelines=("enets-2024-si", "radiant-4", "cabinet"), build=_build_gi_5)
def gi_5(p: PatientProfile) -> Check:
    """SSTR-negative GI NET needing therapy: everolimus or cabozantinib, not SSA or PRRT; an SSA only
    for hormone symptoms; liver-directed therapy when hepatic-predominant (004)."""
    return all_of(_gi(p), check_naive_or_progressing(p),
                  check("SSTR negative", sstr_negative(p), "SSTR imaging (SSTR-PET)"))


# ----------------------------------------------------------------------------------------- GI-4


def _build_gi_4(p: PatientProfile, c: Check) -> Finding:
    failed = prrt_criterion_failed(p)  # PRRT stays listed (X-7 names the failed criterion), not preferred
    options = [prrt_option(p)]
    if hepatic_predominant(p) is not False:
        options.append(Option("liver-directed-ssa", failed and bool(hepatic_predominant(p))))
    ssa = ssa_option(p, preferred=failed and not hepatic_predominant(p))
    if ssa is not None:
        options.append(ssa)
    return _finding("GI-4", p, options, "sstr", "burden", "symptoms", "hepatic", prrt_failed=failed)


@rule("GI-4", hook="patient-view", kind="next-step", topic="prrt-first-line", group="gi", seeds=("004",),
      guidelines=("netter-2", "enets-2024-si"), build=_build_gi_4)
def gi_4(p: PatientProfile) -> Check:
    """SSTR-positive higher-G2 (Ki-67 10-20 %) GI NET with extensive or bulky disease: Lu-177
    dotatate with an SSA first line (NETTER-2); liver-directed therapy with an SSA as the alternative
    for hepatic-predominant disease (004)."""
    band = p.ki67_band.value
    return all_of(_gi(p), check_naive_or_progressing(p), prrt_imaging_check(p),
                  check("Ki-67 10-20 % (higher G2)", None if band is None else band == "high-G2", "Ki-67 index"),
                  check("extensive or bulky disease (high burden)", high_burden(p),
                        "tumour burden (low vs high/bulky)"))


# ----------------------------------------------------------------------------------------- GI-3


def _build_gi_3(p: PatientProfile, c: Check) -> Finding:
    ssa = ssa_option(p, preferred=True)
    options = [ssa] if ssa else []
    if high_burden(p) and hepatic_predominant(p):
        options.append(Option("hepatic-embolization"))
    return _finding("GI-3", p, options, "sstr", "symptoms", "burden", "hepatic")


def _band_g1_low_g2(p: PatientProfile) -> Check:
    band = p.ki67_band.value
    if band is None and p.who_grade.value == "G1":
        band = "G1"
    if band in ("G1", "low-G2"):
        return Check(True, f"Ki-67 band {band}")
    if band == "high-G2":  # not bulky: SSA still first (GI-4 covers the bulky case)
        return all_of(Check(True, "Ki-67 band high-G2"),
                      negate(check("high burden", high_burden(p), "tumour burden (low vs high/bulky)"),
                             "not bulky"))
    return Check(None, "Ki-67 band unknown", ("Ki-67 index",))


@rule("GI-3", hook="patient-view", kind="next-step", topic="ssa-first-line", group="gi",
      seeds=("004", "000"), guidelines=("enets-2024-si", "clarinet", "promid"), build=_build_gi_3)
def gi_3(p: PatientProfile) -> Check:
    """Symptomatic or high-burden SSTR-positive G1/low-G2 GI NET: long-acting SSA (octreotide LAR
    or lanreotide); add hepatic arterial embolization for bulky hepatic-predominant disease (004)."""
    sym = symptomatic(p)
    return all_of(_gi(p), check_naive_or_progressing(p),
                  any_of(check("symptomatic", sym, "symptoms (tumour- or hormone-related)"),
                         check("high tumour burden", high_burden(p), "tumour burden (low vs high/bulky)")),
                  check("SSTR positive", sstr_positive(p), "SSTR imaging (SSTR-PET)"), _band_g1_low_g2(p))


# ----------------------------------------------------------------------------------------- GI-6


def _build_gi_6(p: PatientProfile, c: Check) -> Finding:
    used = sorted(t.therapy for t in exposed(p, "everolimus", "cabozantinib", "sunitinib"))
    left = [k for k in ("cabozantinib", "everolimus") if k not in used]
    options = [prrt_option(p)] + [Option(k) for k in left]
    if not used:
        options.append(Option("ssa-dose-escalation"))
    return _finding("GI-6", p, options, "sstr", "status", "therapies", after_targeted=bool(used),
                    targeted_used=used, targeted_left=left)


def _prrt_naive_after_ssa(p: PatientProfile) -> Check:
    """Progressing after an SSA (alone, or followed by a targeted agent), PRRT never given (GI-6)."""
    line = p.line_of_therapy.value
    if not progressing(p):
        return Check(False, "no documented progression")
    if any(t.given for t in exposed(p, "prrt")):
        return Check(False, "PRRT already given")
    if line == "after-ssa":
        return Check(True, "progressing after an SSA alone, PRRT never given")
    if line == "after-targeted" and exposed(p, "ssa") and not exposed(p, *CHEMO):
        return Check(True, "progressing after an SSA and a targeted agent, PRRT never given")
    return Check(False, f"line of therapy is {line or 'unknown'}, not after an SSA (alone or with a targeted agent)")


@rule("GI-6", hook="patient-view", kind="next-step", topic="prrt-after-ssa", group="gi", seeds=("004",),
      guidelines=("netter-1", "enets-2024-si"), build=_build_gi_6)
def gi_6(p: PatientProfile) -> Check:
    """Progression after an SSA, alone or followed by a targeted agent (everolimus, cabozantinib), in a
    PRRT-naive patient with SSTR-positive imaging and no failed PRRT criterion: add Lu-177 dotatate to the
    SSA (NETTER-1), preferred over SSA dose escalation and over a targeted agent; the targeted agent not
    yet used if PRRT is not possible or not favoured (e.g. low-volume progression) (004 "Prior SSA only").
    Model-silent choice: a prior chemotherapy line takes the patient to GI-8 instead (004 does not rank
    PRRT after chemotherapy for GI NETs)."""
    return all_of(_gi(p), _prrt_naive_after_ssa(p), prrt_imaging_check(p), _eligibility_not_failed(p))


# ----------------------------------------------------------------------------------------- GI-7


def _build_gi_7(p: PatientProfile, c: Check) -> Finding:
    options = [Option("everolimus", True), Option("cabozantinib", True)]
    if sstr_imaging_positive(p):
        options.append(prrt_option(p, "prrt-retreatment-ssa"))
    f = _finding("GI-7", p, options, "sstr", "status", "therapies", "durable")
    if not sstr_imaging_positive(p):
        f.params["prrt_needs_imaging"] = True
    return f


@rule("GI-7", hook="patient-view", kind="next-step", topic="after-prrt", group="gi", seeds=("004",),
      guidelines=("enets-2024-si", "netter-1"), build=_build_gi_7)
def gi_7(p: PatientProfile) -> Check:
    """Progression after SSA and PRRT with a durable PRRT response (>= 12 months): everolimus or
    cabozantinib, or PRRT retreatment with an SSA (only with positive SSTR imaging) (004)."""
    return all_of(_gi(p), check_progressing_after(p, "after-ssa-prrt"),
                  check("PRRT response durable (>= 12 months)", p.prrt_response_durable.value,
                        "PRRT response duration (date of progression vs last PRRT)"))


# ----------------------------------------------------------------------------------------- GI-8


def _build_gi_8(p: PatientProfile, c: Check) -> Finding:
    used = {t.therapy for t in exposed(p, "everolimus", "cabozantinib")}
    options: list[Option] = []
    if used == {"everolimus"}:
        options = [Option("cabozantinib", True)]
    elif used == {"cabozantinib"}:
        options = [Option("everolimus", True)]
    elif not used:
        options = [Option("everolimus", True), Option("cabozantinib", True)]
    else:  # both agents used: PRRT again after a durable response, liver-directed therapy, a trial
        if sstr_imaging_positive(p) and exposed(p, "prrt") and p.prrt_response_durable.value:
            options.append(prrt_option(p, "prrt-retreatment-ssa"))
        if hepatic_predominant(p):
            options.append(Option("liver-directed", True))
    options.append(Option("clinical-trial", not any(o.preferred for o in options)))
    return _finding("GI-8", p, options, "sstr", "status", "therapies", "durable", used=sorted(used))


@rule("GI-8", hook="patient-view", kind="next-step", topic="targeted-later-line", group="gi",
      seeds=("004",), guidelines=("enets-2024-si", "cabinet", "radiant-4"), build=_build_gi_8)
def gi_8(p: PatientProfile) -> Check:
    """Progression within 12 months of PRRT, or PRRT ineligible, or SSTR negative after an SSA, or
    after a targeted agent: everolimus or cabozantinib; if one was used, the other (004). When both
    were used: PRRT retreatment after a durable response (positive SSTR imaging only), liver-directed
    therapy for liver-predominant disease, or a clinical trial; never chemotherapy (invariant 4)."""
    line = p.line_of_therapy.value
    durable = p.prrt_response_durable.value
    return all_of(_gi(p), check("progressing", progressing(p)), any_of(
        all_of(check("after SSA and PRRT", line == "after-ssa-prrt"),
               check("PRRT response not durable (< 12 months)", None if durable is None else not durable,
                     "PRRT response duration (date of progression vs last PRRT)")),
        all_of(check("after SSA", line == "after-ssa"), _eligibility_failed(p)),
        all_of(check("after SSA", line == "after-ssa"),
               check("SSTR negative", sstr_negative(p), "SSTR imaging (SSTR-PET)")),
        check("after a targeted agent or chemotherapy", line in ("after-targeted", "after-chemo")),
    ))



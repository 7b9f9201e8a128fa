"""Section 4.2: advanced well-differentiated G1/G2 pancreatic NET (seed 003, NANETS 2020).

Priority inside the pathway: P-1 surveillance, P-6 SSTR-negative, P-3 cytoreduction, P-2 SSA first
line, then P-4 after progression. P-5 (everolimus vs sunitinib) is an addendum of the card that
offers them; P-7, P-8, P-9 are syndrome-control rules (syndrome.py).
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    add_core_facts,
    check_naive_or_progressing,
    exposed,
    high_burden,
    low_burden,
    new_finding,
    pathway_check,
    progressing,
    prrt_option,
    ssa_option,
    sstr_imaging_positive,
    sstr_negative,
    sstr_positive,
    surveillance_checks,
)
from cds_service.rules.findings import Check, Finding, Option, all_of, any_of, check
from cds_service.rules.registry import rule

PNET_GUIDES = ("nanets-2020", "enets-2023-nf-pnet")


def _pnet(p: PatientProfile) -> Check:
    return pathway_check(p, "pnet")


def _finding(rule_id: str, p: PatientProfile, options: list[Option], *facts: str, **params) -> Finding:
    f = new_finding(rule_id, options=options, params=params)
    add_core_facts(f, p, *facts)
    return f


def _build_p_1(p: PatientProfile, c: Check) -> Finding:
    return _finding("P-1", p, [Option("surveillance-pnet", True)], "symptoms", "burden", "sstr")


@rule("P-1", hook="patient-view", kind="next-step", topic="surveillance", group="pnet", seeds=("003",),
      guidelines=PNET_GUIDES, build=_build_p_1)
def p_1(p: PatientProfile) -> Check:
    """Asymptomatic, low-volume pNET without prior therapy and without documented growth:
    cross-sectional imaging every 3-4 months before any systemic therapy (003)."""
    return all_of(_pnet(p), *surveillance_checks(p, "low tumour volume"))


def _build_p_6(p: PatientProfile, c: Check) -> Finding:
    options = [Option("chemotherapy-pnet", True), Option("liver-directed", True), Option("everolimus", True),
               Option("sunitinib", True)]
    ssa = ssa_option(p, "ssa-indolent")  # never in insulinoma (003: SSA only for SSTR-positive insulinoma)
    if ssa is not None:
        options.append(ssa)
    return _finding("P-6", p, options, "sstr", "burden", "status", "therapies",
                    insulinoma=p.functional_syndrome.value == "insulinoma")


@rule("P-6", hook="patient-view", kind="next-step", topic="sstr-negative-pnet", group="pnet",
      seeds=("003",), guidelines=PNET_GUIDES, build=_build_p_6)
def p_6(p: PatientProfile) -> Check:
    """SSTR-negative (by SSTR-PET) G1/G2 pNET: chemotherapy, liver-directed therapy, everolimus or
    sunitinib; an SSA only for indolent low-volume disease, and never in insulinoma; no PRRT (003)."""
    neg = sstr_negative(p)
    if neg and p.sstr_modality != "sstr-pet":
        neg = None  # a negative SRS is indeterminate
    return all_of(_pnet(p), any_of(check_naive_or_progressing(p), check("progressing", progressing(p))),
                  check("SSTR-PET negative", neg, "SSTR imaging (SSTR-PET)"))


def _build_p_3(p: PatientProfile, c: Check) -> Finding:
    options = [Option("captem", True), Option("liver-directed")]
    if sstr_imaging_positive(p):
        options.append(prrt_option(p, preferred=False))
    return _finding("P-3", p, options, "burden", "symptoms", "sstr", "hepatic")


@rule("P-3", hook="patient-view", kind="next-step", topic="cytoreduction-first-line", group="pnet",
      seeds=("003",), guidelines=("nanets-2020", "e2211-captem"), build=_build_p_3)
def p_3(p: PatientProfile) -> Check:
    """Large-volume or symptomatic nonfunctional pNET where tumour shrinkage matters: CAPTEM;
    liver-directed therapy for liver-dominant bulky disease with intact liver function; PRRT when
    SSTR imaging is positive (003). Never for insulinoma, gastrinoma or another functioning syndrome:
    their own rules (P-7, P-8, P-9) come first (model v2)."""
    fs = p.functional_syndrome.value
    nonfunctional = None if fs in (None, "unknown") else fs == "nonfunctional"
    return all_of(_pnet(p), check_naive_or_progressing(p),
                  check("nonfunctional (no hormone syndrome)", nonfunctional, "functional status"),
                  any_of(check("large tumour volume", high_burden(p), "tumour burden (low vs high/bulky)"),
                         check("symptomatic", p.symptomatic.value, "symptoms (tumour- or hormone-related)")))


def _build_p_2(p: PatientProfile, c: Check) -> Finding:
    ssa = ssa_option(p, preferred=True)
    return _finding("P-2", p, [ssa] if ssa else [], "sstr", "burden", "symptoms",
                    insulinoma=p.functional_syndrome.value == "insulinoma")


@rule("P-2", hook="patient-view", kind="next-step", topic="ssa-first-line", group="pnet",
      seeds=("003", "000"), guidelines=("nanets-2020", "clarinet"), build=_build_p_2)
def p_2(p: PatientProfile) -> Check:
    """SSTR-positive, non-bulky pNET that is not clinically aggressive: lanreotide or octreotide
    (a class effect), before targeted agents (003; CLARINET). In insulinoma the SSA option is a
    short-acting octreotide trial under glucose monitoring, never a long-acting SSA first (P-7 leads)."""
    return all_of(_pnet(p), check_naive_or_progressing(p),
                  check("SSTR positive", sstr_positive(p), "SSTR imaging (SSTR-PET)"),
                  check("non-bulky (low tumour volume)", low_burden(p), "tumour burden (low vs high/bulky)"))


def _build_p_4(p: PatientProfile, c: Check) -> Finding:
    used = {t.therapy for t in exposed(p, "everolimus", "sunitinib", "captem", "temozolomide", "prrt")}
    options = [Option(k, True) for k in ("everolimus", "sunitinib") if k not in used]
    if sstr_imaging_positive(p):
        if "prrt" not in used:
            options.append(prrt_option(p))
        elif p.prrt_response_durable.value:
            options.append(prrt_option(p, "prrt-retreatment-ssa"))
    if not used & {"captem", "temozolomide"}:
        options.append(Option("captem", True))
    if not options:
        options.append(Option("clinical-trial", True))
    return _finding("P-4", p, options, "sstr", "status", "therapies", used=sorted(used),
                    prrt_needs_imaging=not sstr_imaging_positive(p))


@rule("P-4", hook="patient-view", kind="next-step", topic="after-ssa-pnet", group="pnet", seeds=("003",),
      guidelines=("nanets-2020", "radiant-3", "sunitinib-pnet", "netter-1"), build=_build_p_4)
def p_4(p: PatientProfile) -> Check:
    """Progression after an SSA (or later lines): everolimus, sunitinib, PRRT (SSTR-positive imaging
    only), CAPTEM, with no preferred sequence; agents already used are left out (003)."""
    line = p.line_of_therapy.value
    return all_of(_pnet(p), check("progressing", progressing(p)),
                  check("prior antitumor therapy", None if line is None else line != "naive", "treatment history"))

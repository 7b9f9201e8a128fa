"""Sections 4.3 and 4.4: well-differentiated NET G3 (any GEP site) and poorly differentiated NEC (003).

When Ki-67 (or mitoses) is above 20 % and differentiation is unknown, G3 NET and NEC cannot be told
apart by Ki-67: these rules are then unknown and the card shows both branches (and X-4 asks for a
pathology review). A NEC is never offered SSA, everolimus, sunitinib or PRRT (invariant 1).
"""

from __future__ import annotations

from cds_service.profile.model import PatientProfile
from cds_service.rules.common import (
    add_core_facts,
    check_naive_or_progressing,
    high_burden,
    low_burden,
    new_finding,
    pathway_check,
    progressing,
    prrt_option,
    sstr_imaging_positive,
    sstr_positive,
)
from cds_service.rules.findings import Check, Finding, Option, all_of, any_of, check
from cds_service.rules.registry import rule


def _active_line(p: PatientProfile) -> Check:
    return any_of(check_naive_or_progressing(p), check("progressing", progressing(p)))


def _build_g3_1(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("G3-1", options=[Option("captem", True), Option("platinum-etoposide")])
    add_core_facts(f, p, "sstr", "burden", "status")
    return f


@rule("G3-1", hook="patient-view", kind="next-step", topic="g3-net-first-line", group="g3", seeds=("003",),
      guidelines=("nanets-2020", "esmo-2020"), build=_build_g3_1)
def g3_1(p: PatientProfile) -> Check:
    """Clinically aggressive well-differentiated G3 NET (high burden, or SSTR not positive): CAPTEM;
    platinum-etoposide when the burden is high or FDG avidity exceeds SSTR avidity (003)."""
    status = p.sstr_status.value
    not_positive = None if status in (None, "unknown") else status != "positive"
    return all_of(pathway_check(p, "g3"), _active_line(p), any_of(
        check("high tumour burden", high_burden(p), "tumour burden (low vs high/bulky)"),
        check("SSTR not positive", not_positive, "SSTR imaging (SSTR-PET)")))


def _build_g3_2(p: PatientProfile, c: Check) -> Finding:
    after_ssa = progressing(p) and p.line_of_therapy.value == "after-ssa"
    if after_ssa and sstr_imaging_positive(p):
        options = [prrt_option(p), Option("captem")]
    else:
        options = [Option("ssa", True), Option("captem")]
    f = new_finding("G3-2", options=options, params={"after_ssa": after_ssa})
    add_core_facts(f, p, "sstr", "burden", "status", "therapies")
    return f


@rule("G3-2", hook="patient-view", kind="next-step", topic="g3-net-first-line", group="g3", seeds=("003",),
      guidelines=("nanets-2020", "esmo-2020"), build=_build_g3_2)
def g3_2(p: PatientProfile) -> Check:
    """G3 NET with strong SSTR expression, slow growth and low volume: an SSA may be used; PRRT only
    after an SSA in SSTR-positive slow progressors, never first line (003)."""
    return all_of(pathway_check(p, "g3"), _active_line(p),
                  check("SSTR positive", sstr_positive(p), "SSTR imaging (SSTR-PET)"),
                  check("low tumour volume", low_burden(p), "tumour burden (low vs high/bulky)"))


def _build_nec_1(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("NEC-1", options=[Option("platinum-etoposide", True), Option("platinum-irinotecan"),
                                      Option("immunotherapy-trial")])
    add_core_facts(f, p, "stage", "therapies")
    return f


@rule("NEC-1", hook="patient-view", kind="next-step", topic="nec-first-line", group="nec", seeds=("003",),
      guidelines=("enets-2023-nec", "nanets-2020"), build=_build_nec_1)
def nec_1(p: PatientProfile) -> Check:
    """Any advanced NEC: platinum (cisplatin or carboplatin) with etoposide, or irinotecan in place of
    etoposide; SSA, everolimus and sunitinib are not recommended; immunotherapy only in a trial (003)."""
    return pathway_check(p, "nec")

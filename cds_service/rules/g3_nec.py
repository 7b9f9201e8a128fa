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
    exposed,
    high_burden,
    low_burden,
    naive,
    new_finding,
    pathway_check,
    progressing,
    prrt_option,
    ssa_option,
    sstr_imaging_positive,
    sstr_positive,
)
from cds_service.rules.findings import Check, Finding, Option, all_of, any_of, check
from cds_service.rules.registry import rule


def _active_line(p: PatientProfile) -> Check:
    return any_of(check_naive_or_progressing(p), check("progressing", progressing(p)))


NETTER2_KI67_MAX = 55  # NETTER-2 enrolled SSTR-positive G2 (Ki-67 >= 10 %) and G3 with Ki-67 <= 55 %


def _used(p: PatientProfile, *classes: str) -> bool:
    return any(t.given for t in exposed(p, *classes))


def _netter2_option(p: PatientProfile, f: Finding, preferred: bool = False) -> Option | None:
    """Lu-177 dotatate + SSA as a first-line option (NETTER-2): newly treated (naive), positive SSTR
    imaging, Ki-67 <= 55 %. Ki-67 not recorded (grade from mitoses): not offered, named as missing."""
    if not (naive(p) and sstr_imaging_positive(p)):
        return None
    ki67 = p.ki67_percent.value
    if ki67 is None:
        f.add_missing("Ki-67 index (NETTER-2 included Ki-67 up to 55 %)")
        return None
    if ki67 > NETTER2_KI67_MAX:
        return None
    return prrt_option(p, "prrt-ssa-netter-2", preferred)


def _build_g3_1(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("G3-1", params={})
    options = [Option(k, True) for k in ("captem",) if not _used(p, "captem", "temozolomide")]
    if not _used(p, "platinum-etoposide"):  # never platinum-etoposide again after it (NEC-2 class)
        options.append(Option("platinum-etoposide", not options))
    netter2 = _netter2_option(p, f)
    if netter2 is not None:
        options.append(netter2)
    if not any(o.preferred for o in options):
        options.append(Option("clinical-trial", True))
    f.options = options
    f.params.update(netter2=netter2 is not None, pe_used=_used(p, "platinum-etoposide"))
    add_core_facts(f, p, "sstr", "burden", "status", "therapies")
    return f


@rule("G3-1", hook="patient-view", kind="next-step", topic="g3-net-first-line", group="g3", seeds=("003", "004"),
      guidelines=("nanets-2020", "netter-2", "esmo-2020"), build=_build_g3_1)
def g3_1(p: PatientProfile) -> Check:
    """Clinically aggressive well-differentiated G3 NET (high burden, or SSTR not positive): CAPTEM;
    platinum-etoposide when the burden is high or FDG avidity exceeds SSTR avidity (003); with positive
    SSTR imaging and Ki-67 <= 55 % in a newly treated patient, Lu-177 dotatate + SSA is a first-line option
    (NETTER-2; model v2, 4.3). Agents already given are left out, so platinum-etoposide is never offered
    again after it (model-silent choice: a clinical trial when both were used)."""
    status = p.sstr_status.value
    not_positive = None if status in (None, "unknown") else status != "positive"
    return all_of(pathway_check(p, "g3"), _active_line(p), any_of(
        check("high tumour burden", high_burden(p), "tumour burden (low vs high/bulky)"),
        check("SSTR not positive", not_positive, "SSTR imaging (SSTR-PET)")))


def _build_g3_2(p: PatientProfile, c: Check) -> Finding:
    after_ssa = progressing(p) and p.line_of_therapy.value == "after-ssa"
    f = new_finding("G3-2", params={"after_ssa": after_ssa})
    options: list[Option] = []
    if after_ssa and sstr_imaging_positive(p):
        options = [prrt_option(p), Option("captem")]
    else:
        ssa = ssa_option(p, preferred=True)
        options = [ssa] if ssa else []
        netter2 = _netter2_option(p, f)
        if netter2 is not None:
            options.append(netter2)
        options.append(Option("captem", not options))
    f.options = options
    f.params["netter2"] = any(o.key == "prrt-ssa-netter-2" for o in options)
    add_core_facts(f, p, "sstr", "burden", "status", "therapies")
    return f


@rule("G3-2", hook="patient-view", kind="next-step", topic="g3-net-first-line", group="g3", seeds=("003", "004"),
      guidelines=("nanets-2020", "netter-2", "esmo-2020"), build=_build_g3_2)
def g3_2(p: PatientProfile) -> Check:
    """G3 NET with strong SSTR expression, slow growth and low volume: an SSA may be used; Lu-177 dotatate
    + SSA first line (NETTER-2, Ki-67 <= 55 %, newly treated) or PRRT after progression on an SSA; the card
    says that 003 (2020) predates NETTER-2 (model v2, 4.3)."""
    return all_of(pathway_check(p, "g3"), _active_line(p),
                  check("SSTR positive", sstr_positive(p), "SSTR imaging (SSTR-PET)"),
                  check("low tumour volume", low_burden(p), "tumour burden (low vs high/bulky)"))


def _platinum(p: PatientProfile) -> bool:
    return _used(p, "platinum-etoposide")


def _build_nec_1(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("NEC-1", options=[Option("platinum-etoposide", True), Option("platinum-irinotecan"),
                                      Option("immunotherapy-trial")])
    add_core_facts(f, p, "stage", "therapies", grade_needed=False)
    return f


@rule("NEC-1", hook="patient-view", kind="next-step", topic="nec-first-line", group="nec", seeds=("003",),
      guidelines=("enets-2023-nec", "nanets-2020"), build=_build_nec_1)
def nec_1(p: PatientProfile) -> Check:
    """Advanced NEC with no platinum-etoposide (or platinum-irinotecan) on record: platinum (cisplatin or
    carboplatin) with etoposide, or irinotecan in place of etoposide; SSA, everolimus and sunitinib are
    not recommended; immunotherapy only in a trial (003)."""
    return all_of(pathway_check(p, "nec"), check("no platinum-based chemotherapy on record", not _platinum(p)))


def _build_nec_2(p: PatientProfile, c: Check) -> Finding:
    options = [Option("clinical-trial", True), Option("nec-folfiri-folfox")]
    if p.site_group == "pancreas":
        options.append(Option("nec-temozolomide"))
    f = new_finding("NEC-2", options=options, params={"pancreas": p.site_group == "pancreas"})
    add_core_facts(f, p, "status", "therapies", grade_needed=False)
    return f


@rule("NEC-2", hook="patient-view", kind="next-step", topic="nec-second-line", group="nec", seeds=("003",),
      guidelines=("enets-2023-nec", "nanets-2020"), build=_build_nec_2)
def nec_2(p: PatientProfile) -> Check:
    """NEC progressing after platinum-based chemotherapy: there is no standard second line (003); a
    clinical trial is preferred; FOLFIRI or FOLFOX, temozolomide-based for a pancreatic NEC; never
    platinum-etoposide again as the recommendation (model v2, 4.4). Model-silent choice: a NEC on or after
    platinum without documented progression gets no next-step card (section 4.6)."""
    return all_of(pathway_check(p, "nec"), check("platinum-based chemotherapy on record", _platinum(p)),
                  check("progressing", progressing(p)))

"""Section 4.5: data-gap and safety rules X-1 to X-6 and X-8 (X-7 is an addendum, X-9 the profile card).

Missing or unparseable data produces one of these cards rather than a confident recommendation
(invariant 5). X-5 is suppressed in gastrinoma: a gastrinoma patient is never told to stop a PPI
(invariant 3).
"""

from __future__ import annotations

from datetime import timedelta

from cds_service.profile.model import LabResult, PatientProfile
from cds_service.rules.common import (
    add_core_facts,
    add_fact,
    add_therapy_fact,
    exposed,
    new_finding,
    parse_date,
    select_pathway,
    suspected,
)
from cds_service.rules.findings import (
    Check,
    Finding,
    ShownFact,
    SuggestionSpec,
    all_of,
    any_of,
    check,
    shown,
    shown_lab,
)
from cds_service.rules.registry import rule
from cds_service.rules.resection import localized_resectable


def lab(p: PatientProfile, *names: str) -> LabResult | None:
    """The latest lab under any of the given keys (the builder's key names are matched loosely)."""
    found = [r for n in names for r in p.labs.get(n, ()) if r is not None]
    dated = sorted((r for r in found if r.date), key=lambda r: r.date or "", reverse=True)
    return dated[0] if dated else (found[0] if found else None)


CGA_KEYS = ("cga", "chromogranin-a", "chromogranin_a", "chromogranin")
GASTRIN_KEYS = ("gastrin",)
PLATELET_KEYS = ("platelets", "platelet", "plt")
CREATININE_KEYS = ("creatinine", "crcl", "egfr")


def _nen(p: PatientProfile) -> Check:
    return check("NEN present (in scope)", p.nen_status != "none" and p.in_scope)


def _active_nen(p: PatientProfile) -> Check:
    return check("active in-scope NEN", p.nen_status == "active" and p.in_scope)


def is_net(p: PatientProfile) -> bool:
    """Well differentiated, stated or implied (Ki-67/mitoses <= 20 % imply NET: section 2)."""
    if p.differentiation.value == "NET":
        return True
    return p.differentiation.value is None and p.who_grade.value in ("G1", "G2")


def _field_notes(p: PatientProfile, *fields: str) -> list[str]:
    return [n.message + (f" ({n.reference})" if n.reference else "") for n in p.notes if n.field in fields]


# ------------------------------------------------------------------------------------------


def _build_x_1(p: PatientProfile, c: Check) -> Finding:
    nec = p.differentiation.value == "NEC"
    # A NEC needs no grade and its pathway (NEC-1/NEC-2) goes on without one: the card only says why
    # Ki-67 still matters there (platinum response, 003), so it informs rather than warns.
    f = new_finding("X-1", suggestions=[SuggestionSpec("order-ki67", recommended=not nec)],
                    params={"nec": nec}, indicator="info" if nec else "warning")
    add_fact(f, p, "stage")
    f.add_facts(shown("Primary site", p.primary_site), shown("Differentiation", p.differentiation))
    f.add_missing("Ki-67 index", "mitotic count")
    for note in _field_notes(p, "ki67_percent", "mitotic_count") + list(p.ki67_percent.notes):
        f.add_missing(f"not usable: {{arg}}|{note}")
    return f


@rule("X-1", hook="patient-view", kind="gap", topic="grade-unknown", group="gap", seeds=("003",),
      guidelines=("who-2019", "nanets-2020"), build=_build_x_1, indicator="warning")
def x_1(p: PatientProfile) -> Check:
    """Active NEN, NEC included (model v2), with no usable Ki-67 and no mitotic count: for a NET the
    grade, and so the pathway, is unknown; ask for Ki-67 on tissue (at least 500 cells in hot spots)
    (003, WHO 2019). For a NEC the grade is not needed, but Ki-67 below or above 55 % predicts the
    response to platinum (003, NORDIC-NEC), so the card says why it is still worth asking."""
    return all_of(_active_nen(p),
                  check("no Ki-67 and no mitotic count", not p.ki67_percent.known and not p.mitotic_count.known))


# ------------------------------------------------------------------------------------------


def _no_sstr_imaging(p: PatientProfile) -> bool:
    return p.sstr_modality not in ("sstr-pet", "srs")


def _build_x_2(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("X-2", suggestions=[SuggestionSpec("order-sstr-pet", recommended=True)],
                    params={"sstr_ihc": p.sstr_modality == "ihc"})
    add_core_facts(f, p, "stage", "metastatic")
    if p.sstr_modality == "ihc":
        add_fact(f, p, "sstr")
    f.add_missing("SSTR imaging (SSTR-PET)")
    return f


@rule("X-2", hook="patient-view", kind="gap", topic="sstr-imaging-needed", group="gap", seeds=("003", "004"),
      guidelines=("nanets-2020", "esmo-2020"), build=_build_x_2)
def x_2(p: PatientProfile) -> Check:
    """NET that is metastatic or of unknown stage with no SSTR imaging: SSTR-PET (Ga-68 DOTATATE or
    DOTATOC, Cu-64 DOTATATE) is preferred over an octreotide scan; it decides SSA and PRRT (003). Not
    for a localized GI NET recorded as resectable (R-1 refers it for removal; model v2)."""
    return all_of(_active_nen(p), check("NET (well differentiated)", is_net(p)),
                  check("metastatic or stage unknown", p.stage.value != "resected"),
                  check("not a localized GI NET recorded as resectable",
                        not (p.site_group == "gastrointestinal" and localized_resectable(p))),
                  check("no SSTR imaging on record", _no_sstr_imaging(p)))


# ----------------------------------------------------------------------------------------- X-2b


def _build_x_2b(p: PatientProfile, c: Check) -> Finding:
    study = p.sstr_unreadable
    f = new_finding("X-2b", params={"modality": study.modality if study else None,
                                    "date": (study.date or "")[:10] if study else None})
    if study is not None and study.date:
        f.add_facts(ShownFact("SSTR study without a readable result", study.source.label or study.modality, None,
                              study.date[:10], (study.source.reference,)))
    add_fact(f, p, "sstr")
    return f


@rule("X-2b", hook="patient-view", kind="gap", topic="sstr-imaging-needed", group="gap", seeds=("003", "004"),
      guidelines=("nanets-2020", "esmo-2020"), build=_build_x_2b)
def x_2b(p: PatientProfile) -> Check:
    """An SSTR imaging study is on record but its result cannot be read (free-text conclusion, no
    coded result, or no result yet): name the study and its date and ask for the result as coded data;
    no new scan is suggested (model section 2, X-2b). SSA and PRRT decisions stay conditional until then."""
    return all_of(_active_nen(p), check("not a NEC", p.differentiation.value != "NEC"),
                  check("SSTR study on record without a readable result", p.sstr_unreadable is not None))


# ------------------------------------------------------------------------------------------


def _build_x_3(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("X-3", suggestions=[SuggestionSpec("order-sstr-pet", recommended=True)])
    add_fact(f, p, "sstr")
    return f


@rule("X-3", hook="patient-view", kind="gap", topic="sstr-pet-confirm", group="gap", seeds=("003",),
      guidelines=("nanets-2020",), build=_build_x_3)
def x_3(p: PatientProfile) -> Check:
    """Negative octreotide scan (SRS) and no SSTR-PET: SRS misses small lesions; confirm with SSTR-PET
    before calling the tumour SSTR negative (003)."""
    srs_negative = p.sstr_modality == "srs" and p.sstr_status.value in ("negative", "indeterminate")
    return all_of(_active_nen(p), check("negative SRS without SSTR-PET", srs_negative))


# ------------------------------------------------------------------------------------------


def _build_x_4(p: PatientProfile, c: Check) -> Finding:
    group, _ = select_pathway(p)
    f = new_finding("X-4", params={"g3_or_nec": group == "g3-or-nec", "nec_low_ki67": _nec_low_grade(p)})
    add_core_facts(f, p, "sstr")
    if group == "g3-or-nec":
        f.add_missing("differentiation (well vs poorly differentiated), by pathology review")
    return f


@rule("X-4", hook="patient-view", kind="gap", topic="pathology-review", group="gap", seeds=("003",),
      guidelines=("who-2019", "nanets-2020"), build=_build_x_4, indicator="warning")
def x_4(p: PatientProfile) -> Check:
    """Negative SSTR-PET in a G1/G2 NET (rule out G3 NET or NEC), or Ki-67 above 20 % with unknown
    differentiation (G3 NET and NEC cannot be told apart by Ki-67): pathology review (003, WHO 2019)."""
    g12 = is_net(p) and p.who_grade.value in ("G1", "G2")
    pet_negative = p.sstr_modality == "sstr-pet" and p.sstr_status.value == "negative"
    group, _ = select_pathway(p)
    return all_of(_active_nen(p), any_of(
        check("negative SSTR-PET in a G1/G2 NET", g12 and pet_negative),
        check("Ki-67 > 20 % with differentiation unknown", group == "g3-or-nec"),
        check("a NEC code with Ki-67 (or mitoses) <= 20", _nec_low_grade(p))))


def _nec_low_grade(p: PatientProfile) -> bool:
    """Section 2: a confirmed NEC with Ki-67 <= 20 % (or mitoses <= 20) stays NEC (safety first), but NEC is
    high grade by definition, so the diagnosis is confirmed by pathology review (X-4)."""
    if p.differentiation.value != "NEC":
        return False
    measures = [v for v in (p.ki67_percent.value, p.mitotic_count.value) if v is not None]
    return bool(measures) and all(v <= 20 for v in measures)


# ------------------------------------------------------------------------------------------


def gastrinoma_suppression(p: PatientProfile, *_: object) -> str | None:
    """Invariant 3: in gastrinoma, no card may suggest stopping or holding a PPI. A suspected ZES counts
    too (choice where the model is silent): stopping a PPI in a possible gastrinoma risks ulcer
    complications, and the gastrin workup that needs it off belongs to a specialist (O-PPI-1)."""
    if p.functional_syndrome.value == "gastrinoma":
        return "suppressed: gastrinoma (a PPI must not be stopped or held; invariant 3)"
    if suspected(p, "gastrinoma"):
        return "suppressed: suspected gastrinoma (a PPI must not be stopped or held; invariant 3)"
    return None


def ppi_active_before(p: PatientProfile, specimen_date: str | None, days: int = 14) -> bool | None:
    """Was a PPI taken within `days` before the specimen? None when the dates do not say."""
    when = parse_date(specimen_date)
    if when is None:
        return None
    answer: bool | None = False
    for t in exposed(p, "ppi"):
        start, end = parse_date(t.start), parse_date(t.end)
        if start and start > when:
            continue  # started after the specimen
        if end and end < when - timedelta(days=days):
            continue  # stopped long enough before the specimen
        if start is None and end is None:
            answer = None  # no dates: cannot tell
            continue
        if start is None and not t.active:
            answer = None
            continue
        return True
    return answer


def _build_x_5(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("X-5")
    f.add_facts(shown_lab("Chromogranin A", lab(p, *CGA_KEYS)))
    for t in exposed(p, "ppi"):
        add_therapy_fact(f, t)
    return f


@rule("X-5", hook="patient-view", kind="safety", topic="cga-ppi-confounded", group="gap", seeds=("000",),
      guidelines=("korse-2011", "nanets-2020"), build=_build_x_5, indicator="warning",
      suppress=gastrinoma_suppression)
def x_5(p: PatientProfile) -> Check:
    """The latest CgA was drawn while a PPI was taken (within 14 days before): it may be falsely high;
    repeat it off the PPI for at least 14 days. Suppressed in gastrinoma, where a PPI must not be
    stopped (invariant 3; Korse 2011)."""
    cga = lab(p, *CGA_KEYS)
    return all_of(_nen(p), check("CgA on record", cga is not None),
                  check("PPI within 14 days before the CgA specimen",
                        ppi_active_before(p, cga.date if cga else None),
                        "PPI dates around the CgA specimen"))


# ------------------------------------------------------------------------------------------


def _build_x_6(p: PatientProfile, c: Check) -> Finding:
    family = p.men1_status.value == "family-history"
    f = new_finding("X-6", params={"features": list(p.men1_features), "family_history": family})
    add_fact(f, p, "functional")
    f.add_facts(shown("Primary site", p.primary_site), shown("Multifocal pNET", p.multifocal))
    if family:
        f.add_facts(shown("MEN1 in a first-degree relative", p.men1_status, "yes"))
    f.add_facts(shown_lab("Calcium", lab(p, "calcium")), shown_lab("PTH", lab(p, "pth")))
    return f


@rule("X-6", hook="patient-view", kind="gap", topic="men1-evaluation", group="gap", seeds=("003", "000"),
      guidelines=("nanets-2020", "enets-2023-f-pnet"), build=_build_x_6)
def x_6(p: PatientProfile) -> Check:
    """Gastrinoma, multifocal pNET, pNET with hyperparathyroidism/hypercalcaemia, pituitary adenoma,
    bronchial/thymic NET or adrenal nodule, or a pancreatic/duodenal NET with a first-degree relative
    with MEN1 (003: one manifestation plus an affected relative is clinical MEN1), while MEN1 is neither
    diagnosed nor excluded by a negative germline test: MEN1 germline testing or a genetics referral."""
    pnet = p.site_group == "pancreas"
    duodenal = "duoden" in (p.primary_site.value or "").lower()
    status = p.men1_status.value
    return all_of(_nen(p), check("MEN1 neither diagnosed nor tested negative",
                                 status not in ("diagnosed", "tested-negative") and p.men1.value is not True),
                  any_of(check("gastrinoma", p.functional_syndrome.value == "gastrinoma"),
                         check("multifocal pNET", pnet and p.multifocal.value is True),
                         check("pNET with MEN1-associated features", pnet and bool(p.men1_features)),
                         check("pancreatic or duodenal NET with MEN1 in a first-degree relative",
                               (pnet or duodenal) and status == "family-history")))


# ------------------------------------------------------------------------------------------


def _build_x_8(p: PatientProfile, c: Check) -> Finding:
    f = new_finding("X-8")
    for t in exposed(p, "prrt"):
        add_therapy_fact(f, t)
    return f


@rule("X-8", hook="patient-view", kind="safety", topic="prrt-cumulative", group="gap", seeds=("004",),
      guidelines=("lutathera-label",), build=_build_x_8, indicator="warning")
def x_8(p: PatientProfile) -> Check:
    """More than 4 PRRT administrations: beyond the labelled course (4 x 7.4 GBq = 29.6 GBq);
    retreatment is off-label (Lutathera label)."""
    prrt = exposed(p, "prrt")
    n = max((t.administrations for t in prrt), default=0)
    return all_of(_nen(p), check(f"more than 4 PRRT administrations ({n} recorded)", n > 4))

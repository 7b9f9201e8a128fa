"""Section 5: order-sign rules. Each looks at one drafted order and the profile; every card is about
a drafted order (its `order_ref`), never about the patient in general.

An unknown input (e.g. the dosing frequency or formulation of the draft) gives a conditional card
that says what is missing, never a silent pass (invariant 5).
"""

from __future__ import annotations

from datetime import timedelta

from cds_service.profile.model import DraftOrder, PatientProfile
from cds_service.rules.common import (
    ANTITUMOR,
    active,
    add_fact,
    add_suspected_facts,
    add_therapy_fact,
    comorbid,
    exposed,
    favoured_agents,
    nec_check,
    new_finding,
    parse_date,
    sstr_imaging_positive,
    suspected,
    syndrome_check,
    targeted_pair,
    today,
)
from cds_service.rules.findings import (
    Check,
    Finding,
    ShownFact,
    SuggestionSpec,
    all_of,
    any_of,
    check,
    negate,
    shown,
    shown_criterion,
    shown_lab,
)
from cds_service.rules.gaps import CGA_KEYS, GASTRIN_KEYS, gastrinoma_suppression, is_net, lab
from cds_service.rules.registry import rule

PRRT_CYCLE_DAYS = 56  # Lu-177 dotatate every 8 weeks
WASHOUT_DAYS = 28


def _order_finding(rule_id: str, p: PatientProfile, order: DraftOrder, **kwargs) -> Finding:
    params = {"medication": order.medication_text or order.reference, "order_ref": order.reference,
              **kwargs.pop("params", {})}
    f = new_finding(rule_id, order_ref=order.reference, params=params, **kwargs)
    f.add_facts(drafted_fact(p, order))
    return f


def drafted_fact(p: PatientProfile, order: DraftOrder) -> ShownFact:
    """The drafted order itself, dated by its planned date or the day it is being signed."""
    value = order.medication_text or order.therapy or "order"
    n = order.doses_per_day
    if n is not None and n >= 1:
        value += f", {n:g} dose(s) per day"
    elif n:
        value += f", one dose every {round(1 / n)} days"
    when = order.date or today(p).isoformat()
    return ShownFact("Drafted order", value, None, when[:10], (order.reference,))


def add_grade_facts(f: Finding, p: PatientProfile) -> None:
    """Ki-67 (or mitoses) and grade: what makes a tumour of unknown differentiation possibly a NEC."""
    f.add_facts(shown("Ki-67", p.ki67_percent), shown("Mitotic count", p.mitotic_count),
                shown("WHO grade", p.who_grade))


def _nen(p: PatientProfile) -> Check:
    """A GEP-NEN (active or history); an out-of-scope NEN gets no order advice (model section 1)."""
    return check("GEP-NEN present (in scope)", p.nen_status != "none" and p.in_scope)


def _gastrinoma(p: PatientProfile) -> bool:
    return p.functional_syndrome.value == "gastrinoma"


# --------------------------------------------------------------------------------------- O-PPI-1


def _not_a_renewal(p: PatientProfile) -> Check:
    """The draft is not a renewal: no PPI is active on record (model v2, O-PPI-1 and O-PPI-2)."""
    return check("not a renewal (no PPI active on record)", not active(p, "ppi"))


def _build_o_ppi_1(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    f = _order_finding("O-PPI-1", p, order, suggestions=[SuggestionSpec("order-gastrin", recommended=True)])
    f.add_facts(shown("Primary site", p.primary_site))
    add_fact(f, p, "men1")
    f.add_missing("fasting serum gastrin")
    return f


@rule("O-PPI-1", hook="order-sign", kind="order", topic="ppi-zes-workup", group="order-ppi", seeds=("003",),
      guidelines=("enets-2023-f-pnet", "nanets-2020"), build=_build_o_ppi_1, indicator="warning",
      drafted=("ppi",))
def o_ppi_1(p: PatientProfile, order: DraftOrder) -> Check:
    """PPI drafted for a pNET, duodenal NET or MEN1 patient with no ZES diagnosis and no gastrin on
    record: a PPI confounds the ZES workup; get a fasting serum gastrin before maintenance PPI (003). Not
    for a renewal (a PPI already active): gastrin on a PPI cannot be read and stopping it is risky, so
    that workup belongs to a specialist (model v2)."""
    nen = p.nen_status != "none"
    site = (p.primary_site.value or "").lower()
    at_risk = any_of(check("pancreatic NET", nen and p.site_group == "pancreas"),
                     check("duodenal NET", nen and "duoden" in site),
                     check("MEN1", p.men1.value is True),
                     check("suspected (unconfirmed) ZES or MEN1", bool(suspected(p, "gastrinoma", "men1"))))
    return all_of(at_risk, check("no ZES diagnosis", not _gastrinoma(p)),
                  check("no gastrin on record", lab(p, *GASTRIN_KEYS) is None), _not_a_renewal(p))


# --------------------------------------------------------------------------------------- O-PPI-2


def _build_o_ppi_2(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    f = _order_finding("O-PPI-2", p, order)
    f.add_facts(shown_lab("Chromogranin A", lab(p, *CGA_KEYS)))
    return f


def _cga_within_12_months(p: PatientProfile) -> bool:
    cga = lab(p, *CGA_KEYS)
    when = parse_date(cga.date) if cga else None
    return when is not None and when >= today(p) - timedelta(days=365)


@rule("O-PPI-2", hook="order-sign", kind="order", topic="ppi-cga-confound", group="order-ppi",
      seeds=("000",), guidelines=("korse-2011",), build=_build_o_ppi_2, drafted=("ppi",),
      suppress=gastrinoma_suppression)
def o_ppi_2(p: PatientProfile, order: DraftOrder) -> Check:
    """PPI drafted for a NEN patient followed with CgA (measured in the last 12 months), not a
    gastrinoma, not a renewal of an active PPI (CgA is already read on it), no atrophic gastritis (CgA
    already uninterpretable, the setting of a type 1 gastric NET): a PPI raises CgA; note it when reading
    CgA (Korse 2011). Suppressed in gastrinoma."""
    return all_of(_nen(p), check("CgA measured in the last 12 months", _cga_within_12_months(p)),
                  _not_a_renewal(p),
                  check("no atrophic gastritis (CgA already uninterpretable, as in a type 1 gastric NET)",
                        not comorbid(p, "atrophic-gastritis")))


# --------------------------------------------------------------------------------------- O-PPI-3


def _build_o_ppi_3(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    known = order.doses_per_day is not None
    f = _order_finding("O-PPI-3", p, order, suggestions=[SuggestionSpec("update-ppi-bid", recommended=known,
                                                                     order_ref=order.reference)],
                       params={"doses_per_day": order.doses_per_day}, conditional=not known)
    add_fact(f, p, "functional")
    if not known:
        f.add_missing("dosing frequency of the drafted PPI")
    return f


@rule("O-PPI-3", hook="order-sign", kind="order", topic="ppi-gastrinoma-dosing", group="order-ppi",
      seeds=("003",), guidelines=("enets-2023-f-pnet", "nanets-2020"), build=_build_o_ppi_3,
      indicator="warning", drafted=("ppi",))
def o_ppi_3(p: PatientProfile, order: DraftOrder) -> Check:
    """PPI drafted once daily (or less) for a gastrinoma/ZES patient: acid control needs a
    twice-daily PPI; the suggestion updates the draft to twice daily (003)."""
    n = order.doses_per_day
    return all_of(check("gastrinoma / ZES", _gastrinoma(p)),
                  check("once daily or less", None if n is None else n <= 1, "dosing frequency of the drafted PPI"))


# --------------------------------------------------------------------------------------- O-SSA-1


def _build_o_ssa_1(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    confirmed = c.ok is True
    f = _order_finding("O-SSA-1", p, order, indicator="critical" if confirmed else "warning",
                       params={"confirmed": confirmed, "suspected": bool(suspected(p, "nec"))},
                       suggestions=[SuggestionSpec("delete-draft", recommended=confirmed, order_ref=order.reference)])
    add_suspected_facts(f, suspected(p, "nec"))
    f.add_facts(shown("Differentiation", p.differentiation))
    add_grade_facts(f, p)
    return f


@rule("O-SSA-1", hook="order-sign", kind="order", topic="ssa-nec", group="order-ssa", seeds=("003",),
      guidelines=("enets-2023-nec", "nanets-2020"), build=_build_o_ssa_1, indicator="critical",
      drafted=("ssa",))
def o_ssa_1(p: PatientProfile, order: DraftOrder) -> Check:
    """SSA drafted for a NEC: not recommended (no antiproliferative role in NEC); the suggestion
    removes the draft; override reasons are offered (003). A high-grade tumour (Ki-67 or mitoses > 20) of
    unknown differentiation, or a NEC that is only suspected (provisional, differential), gets the card as a
    conditional warning asking for pathology review or confirmation (model sections 2 and 5); the removal is
    then offered but not recommended."""
    return all_of(_nen(p), nec_check(p))


# --------------------------------------------------------------------------------------- O-SSA-2


def _build_o_ssa_2(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    negative = p.sstr_status.value == "negative"
    f = _order_finding("O-SSA-2", p, order, indicator="critical" if negative else "warning",
                       params={"sstr": p.sstr_status.value or "unknown", "glucose_low": p.glucose_low.value is True,
                               "long_acting": order.long_acting})
    add_fact(f, p, "functional")
    add_fact(f, p, "sstr")
    if p.lowest_recent_glucose.known:
        f.add_facts(shown("Lowest glucose (30 days)", p.lowest_recent_glucose))
    else:
        f.add_facts(shown_lab("Glucose", lab(p, "glucose")))
    return f


@rule("O-SSA-2", hook="order-sign", kind="order", topic="ssa-insulinoma", group="order-ssa",
      seeds=("000", "003"), guidelines=("enets-2023-f-pnet", "somatuline-label"), build=_build_o_ssa_2,
      indicator="warning",
      drafted=("ssa",))
def o_ssa_2(p: PatientProfile, order: DraftOrder) -> Check:
    """SSA drafted for an insulinoma: it can deepen hypoglycaemia; only with positive SSTR imaging,
    starting short-acting with glucose monitoring. Critical when SSTR imaging is negative (000, 003)."""
    return all_of(_nen(p), syndrome_check(p, "insulinoma"))


# --------------------------------------------------------------------------------------- O-SSA-3


def _build_o_ssa_3(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    unreadable = p.sstr_unreadable  # X-2b: a study is on record; ask for its result, suggest no new scan
    f = _order_finding("O-SSA-3", p, order,
                       suggestions=[] if unreadable else [SuggestionSpec("order-sstr-pet", recommended=True)],
                       params={"sstr": p.sstr_status.value or "unknown", "unreadable": unreadable is not None})
    add_fact(f, p, "sstr")
    return f


@rule("O-SSA-3", hook="order-sign", kind="order", topic="sstr-imaging-needed", group="order-ssa",
      seeds=("003",), guidelines=("nanets-2020",), build=_build_o_ssa_3, drafted=("ssa",))
def o_ssa_3(p: PatientProfile, order: DraftOrder) -> Check:
    """SSA drafted for a NET whose SSTR status is unknown or indeterminate: suggest SSTR-PET (003)."""
    return all_of(_nen(p), check("NET (not NEC)", is_net(p) or p.differentiation.value is None),
                  check("not a NEC", p.differentiation.value != "NEC"),
                  check("SSTR unknown or indeterminate", p.sstr_status.value in (None, "unknown", "indeterminate")))


# --------------------------------------------------------------------------------------- O-SSA-4


def _build_o_ssa_4(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    f = _order_finding("O-SSA-4", p, order)
    add_fact(f, p, "sstr")
    add_fact(f, p, "functional")
    return f


@rule("O-SSA-4", hook="order-sign", kind="order", topic="ssa-sstr-negative", group="order-ssa",
      seeds=("004", "003"), guidelines=("enets-2024-si", "nanets-2020"), build=_build_o_ssa_4,
      indicator="warning", drafted=("ssa",))
def o_ssa_4(p: PatientProfile, order: DraftOrder) -> Check:
    """SSA drafted for an SSTR-negative tumour without a functional syndrome: antiproliferative
    benefit is unlikely (004)."""
    return all_of(_nen(p), check("not a NEC", p.differentiation.value != "NEC"),
                  check("SSTR negative", p.sstr_status.value == "negative"),
                  check("no functional syndrome", p.functional_syndrome.value == "nonfunctional"))


# --------------------------------------------------------------------------------------- O-SSA-5


def prrt_dates_ahead(p: PatientProfile, order: DraftOrder) -> tuple[list[str], bool]:
    """PRRT doses expected on or after the reference date: planned ones, the next cycle of a course
    in progress, and PRRT drafted in the same session. The flag says a PRRT draft has no date."""
    ref = today(p)
    dates: list[str] = []
    undated_draft = False
    for t in exposed(p, "prrt"):
        dates += [d for d in t.planned if (parse_date(d) or ref) >= ref]
        last = parse_date(t.last_administration)
        if last and 0 < t.administrations < 4 and (ref - last).days <= PRRT_CYCLE_DAYS + 14:
            dates.append((last + timedelta(days=PRRT_CYCLE_DAYS)).isoformat())
    for other in p.draft_orders:
        if other.therapy == "prrt" and other.reference != order.reference:
            if other.date:
                dates.append(other.date)
            else:
                undated_draft = True
    return sorted(set(dates)), undated_draft


def _prrt_within_window(p: PatientProfile, order: DraftOrder) -> bool | None:
    ref = today(p)
    start = parse_date(order.date) or ref
    dates, undated = prrt_dates_ahead(p, order)
    for d in dates:
        when = parse_date(d)
        if when and start - timedelta(days=1) <= when <= start + timedelta(days=WASHOUT_DAYS):
            return True
    return None if undated else False


def _build_o_ssa_5(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    dates, undated = prrt_dates_ahead(p, order)
    f = _order_finding("O-SSA-5", p, order, conditional=c.ok is None,
                       params={"prrt_dates": [d[:10] for d in dates], "long_acting": order.long_acting})
    for t in exposed(p, "prrt"):
        add_therapy_fact(f, t)
    if order.long_acting is None:
        f.add_missing("formulation of the drafted SSA (long-acting or short-acting)")
    if undated:
        f.add_missing("date of the drafted PRRT dose")
    return f


@rule("O-SSA-5", hook="order-sign", kind="order", topic="ssa-prrt-washout", group="order-ssa",
      seeds=("004",), guidelines=("lutathera-label",), build=_build_o_ssa_5, indicator="warning",
      drafted=("ssa",))
def o_ssa_5(p: PatientProfile, order: DraftOrder) -> Check:
    """Long-acting SSA drafted within 28 days before a planned Lu-177 dotatate dose: no long-acting
    SSA in the 4 weeks before each dose (short-acting: hold 24 h); octreotide LAR 4-24 h after each dose
    is the label's schedule (Lutathera label; 004)."""
    return all_of(_nen(p), check("long-acting SSA", order.long_acting,
                        "formulation of the drafted SSA (long-acting or short-acting)"),
                  check("a PRRT dose within the next 28 days", _prrt_within_window(p, order),
                        "date of the drafted PRRT dose"))


# -------------------------------------------------------------------------------------- O-PRRT-1


def _build_o_prrt_1(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    nec = p.differentiation.value == "NEC"
    negative = p.sstr_status.value == "negative"
    f = _order_finding("O-PRRT-1", p, order, indicator="critical" if nec or negative else "warning",
                       params={"nec": nec, "sstr": p.sstr_status.value or "unknown",
                               "nec_possible": nec_check(p).ok is None,
                               "imaging_positive": sstr_imaging_positive(p)})
    f.add_facts(shown("Differentiation", p.differentiation))
    add_fact(f, p, "sstr")
    criteria = []
    for crit in p.prrt_eligibility.criteria:
        f.add_facts(shown_criterion(crit))
        criteria.append({"label": crit.label, "result": crit.result})
        if crit.result == "unknown":
            f.add_missing(crit.label)
    f.params["criteria"] = criteria
    if not p.prrt_eligibility.criteria:
        f.add_missing("PRRT eligibility (renal function, Karnofsky, platelets)")
    if not sstr_imaging_positive(p) and p.sstr_status.value in (None, "unknown", "indeterminate") \
            and p.sstr_unreadable is None:  # X-2b: an unreadable study needs its result, not a new scan
        f.suggestions.append(SuggestionSpec("order-sstr-pet", recommended=True))
    return f


@rule("O-PRRT-1", hook="order-sign", kind="order", topic="prrt-eligibility", group="order-prrt",
      seeds=("004", "003"), guidelines=("lutathera-label", "netter-1"), build=_build_o_prrt_1,
      indicator="warning", drafted=("prrt",))
def o_prrt_1(p: PatientProfile, order: DraftOrder) -> Check:
    """Lu-177 dotatate drafted while an eligibility criterion failed or is unknown, or for a NEC, or
    without positive SSTR imaging: lists each criterion with value and date. Critical for NEC or
    SSTR-negative disease (Lutathera label; 004)."""
    return all_of(_nen(p), any_of(check("NEC", p.differentiation.value == "NEC"),
                                  check("high grade with differentiation unknown", nec_check(p).ok is None),
                                  check("SSTR imaging not positive", not sstr_imaging_positive(p)),
                                  check("an eligibility criterion failed or unknown", not p.prrt_eligibility.eligible)))


# --------------------------------------------------------------------------------------- O-TKI-1


def _build_o_tki_1(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    favoured = favoured_agents(p)
    drafted = order.therapy or ""
    other = next(a for a in targeted_pair(p) if a != drafted)
    f = _order_finding("O-TKI-1", p, order, params={"drafted": drafted, "other": other,
                                                 "reasons": favoured[other], "counter": favoured.get(drafted, [])})
    add_fact(f, p, "comorbidities")
    return f


@rule("O-TKI-1", hook="order-sign", kind="order", topic="targeted-choice", group="order-tki", seeds=("003", "004"),
      guidelines=("nanets-2020", "enets-2024-si"), build=_build_o_tki_1,
      drafted=("everolimus", "sunitinib", "cabozantinib"))
def o_tki_1(p: PatientProfile, order: DraftOrder) -> Check:
    """Everolimus or sunitinib drafted for a pancreatic NET, everolimus or cabozantinib for a GI NET (an
    unknown primary counts as GI), with a comorbidity that favours the other agent of the pair: diabetes
    or lung disease weigh against everolimus; hypertension, cardiovascular disease or bleeding against
    sunitinib or cabozantinib (P-5; 003, 004). Sunitinib is never the suggested alternative for a GI NET."""
    pair = targeted_pair(p)
    drafted = order.therapy or ""
    if drafted not in pair:
        return Check(False, f"{drafted} is not weighed by P-5 for this site (pair: {' / '.join(pair)})")
    other = next(a for a in pair if a != drafted)
    return all_of(_nen(p), negate(nec_check(p), "not a NEC (O-TKI-2 applies)"),
                  check(f"a comorbidity favouring {other}", bool(favoured_agents(p)[other])))


# --------------------------------------------------------------------------------------- O-TKI-2


def _build_o_tki_2(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    f = _order_finding("O-TKI-2", p, order, params={"drafted": order.therapy, "confirmed": c.ok is True,
                                                 "suspected": bool(suspected(p, "nec"))}, indicator="warning")
    add_suspected_facts(f, suspected(p, "nec"))
    f.add_facts(shown("Differentiation", p.differentiation))
    add_grade_facts(f, p)
    return f


@rule("O-TKI-2", hook="order-sign", kind="order", topic="targeted-nec", group="order-tki", seeds=("003",),
      guidelines=("enets-2023-nec", "nanets-2020"), build=_build_o_tki_2, indicator="warning",
      drafted=("everolimus", "sunitinib", "cabozantinib"))
def o_tki_2(p: PatientProfile, order: DraftOrder) -> Check:
    """Everolimus, sunitinib or cabozantinib drafted for a NEC: not beneficial in NEC (003). A high-grade
    tumour of unknown differentiation, or a suspected NEC, gets the card as a conditional warning."""
    return all_of(_nen(p), nec_check(p))


# --------------------------------------------------------------------------------------- O-TKI-3


def _build_o_tki_3(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    f = _order_finding("O-TKI-3", p, order, params={"site_known": c.ok is True})
    f.add_facts(shown("Primary site", p.primary_site))
    if c.ok is None:
        f.add_missing("primary site")
    return f


@rule("O-TKI-3", hook="order-sign", kind="order", topic="targeted-choice", group="order-tki", seeds=("004",),
      guidelines=("enets-2024-si", "sunitinib-pnet", "cabinet"), build=_build_o_tki_3, indicator="warning",
      drafted=("sunitinib",))
def o_tki_3(p: PatientProfile, order: DraftOrder) -> Check:
    """Sunitinib drafted for a non-pancreatic (GI) NET: its phase III evidence is in pancreatic NET;
    everolimus or cabozantinib are the GI NET agents (004). Primary site not recorded: conditional card.
    Not for a NEC (O-TKI-2 applies)."""
    site = {"gastrointestinal": True, "pancreas": False}.get(p.site_group)
    return all_of(_nen(p), negate(nec_check(p), "not a NEC (O-TKI-2 applies)"),
                  check("non-pancreatic (GI) NET", site, "primary site"))


# -------------------------------------------------------------------------------------- O-CABO-1


def _build_o_cabo_1(p: PatientProfile, c: Check, order: DraftOrder) -> Finding:
    f = _order_finding("O-CABO-1", p, order, params={
        "pancreas": p.site_group == "pancreas", "sstr": p.sstr_status.value or "unknown",
        "band": p.ki67_band.value, "grade": p.who_grade.value})
    add_fact(f, p, "line")
    add_fact(f, p, "sstr")
    return f


@rule("O-CABO-1", hook="order-sign", kind="order", topic="targeted-choice", group="order-tki",
      seeds=("004",), guidelines=("cabinet", "cabometyx-label", "enets-2024-si"), build=_build_o_cabo_1,
      drafted=("cabozantinib",))
def o_cabo_1(p: PatientProfile, order: DraftOrder) -> Check:
    """Cabozantinib drafted with no prior systemic antitumour therapy on record (an SSA counts): the
    label and CABINET are for previously treated NET; the card names the usual first steps for the
    profile (SSA when SSTR positive; everolimus or cabozantinib first only when SSTR negative) (004).
    Not for a NEC (O-TKI-2 applies)."""
    prior = [t for t in p.therapies if t.therapy in ANTITUMOR and t.given]
    return all_of(_nen(p), negate(nec_check(p), "not a NEC (O-TKI-2 applies)"),
                  check("no prior systemic antitumour therapy on record", not prior))

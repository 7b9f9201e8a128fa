"""Profile predicates shared by the rules (tri-state where the input can be unknown).

Every predicate reads only the PatientProfile. Names follow the decision model (sections 2-4).
"""

from __future__ import annotations

from datetime import date, timedelta

from cds_service.profile.model import PatientProfile, Source, SuspectedDiagnosis, TherapyExposure
from cds_service.rules.findings import (
    Check,
    Finding,
    Option,
    ShownFact,
    check,
    shown,
    shown_or_missing,
    shown_therapy,
)

ANTITUMOR = ("ssa", "prrt", "everolimus", "sunitinib", "cabozantinib", "captem", "capecitabine",
             "temozolomide", "streptozocin", "platinum-etoposide")
TARGETED = ("everolimus", "sunitinib", "cabozantinib")
CHEMO = ("captem", "capecitabine", "temozolomide", "streptozocin", "platinum-etoposide")
FUNCTIONAL = ("carcinoid-syndrome", "gastrinoma", "insulinoma", "glucagonoma", "vipoma", "somatostatinoma")


# ------------------------------------------------------------------------------------------ dates


def today(p: PatientProfile) -> date:
    """The profile's reference date (as_of), else the current date."""
    parsed = parse_date(p.as_of)
    return parsed or date.today()


def parse_date(value: str | None) -> date | None:
    if not value or len(value) < 10:
        if value and len(value) == 7:  # YYYY-MM
            try:
                return date(int(value[:4]), int(value[5:7]), 1)
            except ValueError:
                return None
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def days_between(earlier: str | date | None, later: str | date | None) -> int | None:
    a = earlier if isinstance(earlier, date) else parse_date(earlier)
    b = later if isinstance(later, date) else parse_date(later)
    if a is None or b is None:
        return None
    return (b - a).days


# ------------------------------------------------------------------- age and suspected diagnoses

ADULT_AGE = 18


def is_minor(p: PatientProfile) -> bool:
    """Under 18 by Patient.birthDate (section 1). An unknown age is read as adult: the EHR sends the
    Patient with every call, and the profile card notes a missing birthDate."""
    return p.age.value is not None and p.age.value < ADULT_AGE


def suspected(p: PatientProfile, *diagnoses: str) -> list[SuspectedDiagnosis]:
    """The suspected (provisional, differential, unconfirmed) diagnoses among `diagnoses` (section 2),
    leaving out those another, confirmed record already establishes."""
    return [s for s in p.suspected if s.diagnosis in diagnoses and not _confirmed_elsewhere(p, s.diagnosis)]


def _confirmed_elsewhere(p: PatientProfile, diagnosis: str) -> bool:
    if diagnosis == "nen":
        return p.nen_status != "none"
    if diagnosis == "nec":
        return p.differentiation.value == "NEC"
    if diagnosis == "men1":
        return p.men1_status.value == "diagnosed"
    if diagnosis == "metastasis":
        return p.metastatic.value is True
    return diagnosis in p.functional_syndromes


def suspected_missing(found: list[SuspectedDiagnosis]) -> tuple[str, ...]:
    """Missing-data lines naming each unconfirmed diagnosis, with its status and date (invariant 8)."""
    key = "confirmation of the suspected {0} ({1}, recorded {2})"
    return tuple(f"{key}|suspected:{s.diagnosis}|{s.verification}|{s.source.date or 'undated'}" for s in found)


def add_suspected_facts(f: Finding, found: list[SuspectedDiagnosis]) -> None:
    """Each unconfirmed diagnosis as a fact (its Condition, status and date) on the card that names it."""
    for s in found:
        if s.source.date:
            f.add_facts(ShownFact("Unconfirmed diagnosis", f"{s.source.label or s.diagnosis} ({s.verification})",
                                  None, s.source.date[:10], (s.source.reference,)))


def syndrome_check(p: PatientProfile, *names: str) -> Check:
    """The functional syndrome is one of `names`: true when confirmed, unknown when only suspected."""
    if p.functional_syndrome.value in names:
        return Check(True, " or ".join(names))
    found = suspected(p, *names)
    if found:
        return Check(None, f"{' or '.join(names)} suspected, not confirmed", suspected_missing(found))
    return Check(False, f"not {' or '.join(names)}")


def not_nec_check(p: PatientProfile) -> Check:
    """Not a NEC: false for NEC, unknown when a NEC is only suspected (section 2, invariant 8)."""
    if p.differentiation.value == "NEC":
        return Check(False, "NEC")
    found = suspected(p, "nec")
    if found:
        return Check(None, "NEC suspected, not confirmed", suspected_missing(found))
    return Check(True, "not a NEC")


# ----------------------------------------------------------------------------------- pathways


def select_pathway(p: PatientProfile) -> tuple[str | None, str]:
    """Which therapy pathway (decision model section 4) applies: gi, pnet, g3, nec, g3-or-nec or None.

    The gate is deterministic so that unknown clinical inputs only create branches *inside* a
    pathway. Stage unknown follows the advanced pathway (section 4.6); resected disease goes to
    follow-up. Without a grade for a NET (no Ki-67, no mitoses) there is no pathway: X-1 asks for it.
    """
    if p.nen_status != "active":
        return None, "no active NEN (none, or history only: follow-up rules apply)"
    if not p.in_scope:
        return None, "NEN out of scope (not gastroenteropancreatic)"
    if p.stage.value == "resected":
        return None, "resected without metastatic site: follow-up, no systemic next step"
    diff = p.differentiation.value
    grade = p.who_grade.value
    if diff == "NEC" or grade == "high-grade-nec":
        return "nec", "poorly differentiated NEC"
    high = grade == "G3" or _gt(p.ki67_percent.value, 20) or _gt(p.mitotic_count.value, 20)
    if diff == "NET" or (diff is None and grade in ("G1", "G2")):
        if grade == "G3":
            return "g3", "well-differentiated NET G3"
        if grade in ("G1", "G2"):
            if p.site_group == "pancreas":
                return "pnet", f"pancreatic NET {grade}"
            return "gi", f"gastrointestinal NET {grade}" + (
                " (primary site unknown: GI pathway)" if p.site_group == "unknown" else "")
        return None, "NET without a grade (no Ki-67 or mitotic count): X-1"
    if diff is None and high:
        return "g3-or-nec", "high grade (Ki-67 or mitoses > 20) with differentiation unknown"
    return None, "differentiation and grade unknown: X-1"


def _gt(value: float | None, limit: float) -> bool:
    return value is not None and value > limit


def pathway_check(p: PatientProfile, *groups: str) -> Check:
    """True when the profile's pathway is one of `groups`; unknown for the G3-NET-or-NEC case."""
    group, why = select_pathway(p)
    if group in groups:
        return Check(True, f"pathway: {why}")
    if group == "g3-or-nec" and ({"g3", "nec"} & set(groups)):
        return Check(None, "well-differentiated G3 NET or NEC cannot be told apart by Ki-67",
                     ("differentiation (well vs poorly differentiated), by pathology review",))
    return Check(False, f"pathway does not apply ({why})")


# ------------------------------------------------------------------------------- tri-state inputs


def symptomatic(p: PatientProfile) -> bool | None:
    """Symptomatic: documented symptoms, and any functional syndrome counts (section 2)."""
    if p.functional_syndrome.value in FUNCTIONAL:
        return True
    return p.symptomatic.value


def high_burden(p: PatientProfile) -> bool | None:
    v = p.tumor_burden.value
    return None if v is None else v == "high"


def low_burden(p: PatientProfile) -> bool | None:
    v = p.tumor_burden.value
    return None if v is None else v == "low"


def sstr_positive(p: PatientProfile) -> bool | None:
    """SSTR positive by any modality (imaging or IHC); unknown when status unknown/indeterminate."""
    s = p.sstr_status.value
    if s == "positive":
        return True
    if s == "negative":
        return False
    return None


def sstr_imaging_positive(p: PatientProfile) -> bool:
    """Positive SSTR *imaging* (SSTR-PET or SRS): the only basis for a PRRT option (invariant 2)."""
    return p.sstr_status.value == "positive" and p.sstr_modality in ("sstr-pet", "srs")


def sstr_negative(p: PatientProfile) -> bool | None:
    s = p.sstr_status.value
    if s == "negative":
        return True
    if s == "positive":
        return False
    return None


def progressing(p: PatientProfile) -> bool:
    """Documented progression (disease status 'worsened'); no documentation means no progression."""
    return p.disease_status.value == "progressing"


def naive(p: PatientProfile) -> bool:
    line = p.line_of_therapy.value
    if line is not None:
        return line == "naive"
    return not any(t.therapy in ANTITUMOR for t in p.therapies)


def active(p: PatientProfile, *classes: str) -> list[TherapyExposure]:
    return [t for t in p.therapies if t.therapy in classes and t.active]


def exposed(p: PatientProfile, *classes: str) -> list[TherapyExposure]:
    return [t for t in p.therapies if t.therapy in classes]


def on_antitumor_therapy(p: PatientProfile) -> bool:
    return bool(active(p, *ANTITUMOR))


def comorbid(p: PatientProfile, name: str) -> bool:
    f = p.comorbidities.get(name)
    return bool(f and f.value)


def check_naive_or_progressing(p: PatientProfile) -> Check:
    """First-line rules: naive. A patient on therapy and not progressing gets no next step (4.6)."""
    if naive(p):
        return Check(True, "no prior antitumor therapy (naive)")
    return Check(False, "prior antitumor therapy (not first line)")


def check_progressing_after(p: PatientProfile, *lines: str) -> Check:
    line = p.line_of_therapy.value
    if not progressing(p):
        return Check(False, "no documented progression")
    if line not in lines:
        return Check(False, f"line of therapy is {line or 'unknown'}, not {' / '.join(lines)}")
    return Check(True, f"progressing, line of therapy {line}")


# ---------------------------------------------------------------------------------- shown facts


def add_core_facts(f: Finding, p: PatientProfile, *extra: str, grade_needed: bool = True) -> None:
    """The facts most therapy cards cite, plus named extras; unknown ones go to Missing data.

    `grade_needed=False` (NEC cards): a NEC needs no grade, so an unknown Ki-67 is shown when known
    but not listed as missing there; X-1 says once why Ki-67 still matters for a NEC.
    """
    shown_or_missing(f, "Primary site", p.primary_site, "primary site")
    shown_or_missing(f, "Differentiation", p.differentiation, "differentiation")
    if p.ki67_percent.known or (grade_needed and not p.mitotic_count.known):
        shown_or_missing(f, "Ki-67", p.ki67_percent, "Ki-67 index")
    if p.mitotic_count.known:
        shown_or_missing(f, "Mitotic count", p.mitotic_count, "mitotic count")
    shown_or_missing(f, "WHO grade", p.who_grade, "WHO grade")
    for name in extra:
        add_fact(f, p, name)


def add_fact(f: Finding, p: PatientProfile, name: str) -> None:
    """Add one named profile fact (or its absence) to a finding."""
    if name == "sstr":
        label = f"SSTR status ({{arg}})|{p.sstr_modality}" if p.sstr_modality else "SSTR status"
        unreadable = p.sstr_unreadable
        if unreadable is not None:  # X-2b: ask for the result, not for a new scan
            f.add_missing(f"result of the {{0}} of {{1}} (not readable as coded data)|{unreadable.modality}|"
                          f"{(unreadable.date or 'unknown date')[:10]}")
        elif p.sstr_status.value in (None, "unknown"):
            f.add_missing("SSTR imaging (SSTR-PET)")
        else:
            shown_or_missing(f, label, p.sstr_status, "SSTR imaging (SSTR-PET)")
    elif name == "burden":
        shown_or_missing(f, "Tumour burden", p.tumor_burden, "tumour burden (low vs high/bulky)")
    elif name == "symptoms":
        if p.functional_syndrome.value in FUNCTIONAL:
            shown_or_missing(f, "Functional syndrome", p.functional_syndrome, "functional syndrome")
        else:
            shown_or_missing(f, "Symptomatic", p.symptomatic, "symptoms (tumour- or hormone-related)")
    elif name == "functional":
        fs = p.functional_syndrome
        if fs.value == "nonfunctional" and not fs.sources:  # inferred from the absence of a syndrome code
            f.add_missing("functional syndrome: none coded (treated as nonfunctional)")
        else:
            shown_or_missing(f, "Functional status", fs, "functional status")
    elif name == "resectable":
        shown_or_missing(f, "Potentially resectable", p.resectable, "resectability (surgical assessment)")
    elif name == "hepatic":
        if p.hepatic_predominant.known:
            shown_or_missing(f, "Hepatic-predominant disease", p.hepatic_predominant)
        elif p.liver_metastases.known:
            shown_or_missing(f, "Liver metastases", p.liver_metastases)
    elif name == "metastatic":
        shown_or_missing(f, "Metastatic", p.metastatic, "metastatic status")
    elif name == "stage":
        if p.stage.value == "unknown":
            f.add_missing("stage (metastatic or resected)")
        else:
            shown_or_missing(f, "Stage", p.stage, "stage")
    elif name == "status":
        shown_or_missing(f, "Disease status", p.disease_status, "disease status (response assessment)")
    elif name == "line":
        for med in p.unknown_medications:  # never silent (section 2): a therapy may be missing
            f.add_missing(unknown_medication_missing(med))
        if p.line_of_therapy.value == "naive" and not p.line_of_therapy.sources:
            f.add_missing("antitumour therapy: none recorded (treated as first line)")
        else:
            shown_or_missing(f, "Line of therapy", p.line_of_therapy, "treatment history")
    elif name == "therapies":
        for t in p.therapies:
            f.add_facts(shown_therapy(therapy_label(t), t))
    elif name == "durable":
        shown_or_missing(f, "PRRT response durable (>= 12 months)", p.prrt_response_durable,
                         "PRRT response duration (date of progression vs last PRRT)")
    elif name == "men1":
        f.add_facts(shown("MEN1", p.men1))
    elif name == "comorbidities":  # those that weigh in the choice of a targeted agent (P-5)
        flags = comorbidity_flags(p)
        for key, fact in sorted(p.comorbidities.items()):
            if fact.value and (key in flags["sunitinib"] or key in flags["everolimus"]):
                f.add_facts(shown(f"Comorbidity: {{arg}}|{key}", fact))


def unknown_medication_missing(med: Source) -> str:
    """The Missing line for a medication record whose drug could not be identified (section 2)."""
    return (f"the drug of a medication record ({{0}}, {{1}}) that could not be identified|{med.reference}|"
            f"{(med.date or 'undated')[:10]}")


def therapy_label(t: TherapyExposure) -> str:
    """The label key (cards/labels.yaml) of a therapy class."""
    return {"ssa": "Somatostatin analogue", "prrt": "PRRT (Lu-177 dotatate)", "ppi": "Proton pump inhibitor",
            "platinum-etoposide": "Platinum-etoposide", "captem": "CAPTEM"}.get(t.therapy,
                                                                               t.therapy.capitalize())


def add_therapy_fact(f: Finding, t: TherapyExposure) -> None:
    f.add_facts(shown_therapy(therapy_label(t), t))


def within_days(d: str | None, ref: date, days: int) -> bool | None:
    """True when date `d` lies within `days` before `ref` (inclusive)."""
    parsed = parse_date(d)
    if parsed is None:
        return None
    return ref - timedelta(days=days) <= parsed <= ref


# ------------------------------------------------------------------------------- finding factory

TEMPLATE_FOLDER = {
    "scope": "profile", "profile": "profile", "next-step": "therapy", "syndrome": "syndrome",
    "gap": "gaps", "safety": "gaps", "follow-up": "follow_up", "order": "orders", "addendum": "addenda",
}


def new_finding(rule_id: str, **kwargs) -> Finding:
    """A Finding pre-filled from the rule's registry entry (topic, indicator, kind, template, sources)."""
    from cds_service.rules.registry import get_rule

    r = get_rule(rule_id)
    defaults = {
        "rule_id": r.id, "topic": r.topic, "indicator": r.indicator, "kind": r.kind,
        "template": f"{TEMPLATE_FOLDER[r.kind]}/{r.id}", "guidelines": r.guidelines,
    }
    defaults.update(kwargs)
    return Finding(**defaults)


def prrt_criterion_failed(p: PatientProfile) -> bool:
    """An eligibility criterion (CrCl, Karnofsky, platelets, SSTR) is recorded as failed."""
    return any(c.result == "fail" for c in p.prrt_eligibility.criteria)


def prrt_option(p: PatientProfile, key: str = "prrt-ssa", preferred: bool = True) -> Option:
    """A PRRT option; never the preferred one while an eligibility criterion has failed (X-7 lists it)."""
    return Option(key, preferred and not prrt_criterion_failed(p))


def comorbidity_flags(p: PatientProfile) -> dict[str, list[str]]:
    """Comorbidities grouped as P-5 uses them: which favour sunitinib, which favour everolimus.

    Keys from the builder are matched loosely (diabetes, lung/pulmonary, hypertension, heart/cardio,
    bleeding/coagulation) so a renamed key does not silently switch the rule off.
    """
    favour_sunitinib: list[str] = []
    favour_everolimus: list[str] = []
    for key, fact in p.comorbidities.items():
        if not fact.value:
            continue
        k = key.lower()
        if "diab" in k or "lung" in k or "pulm" in k:
            favour_sunitinib.append(key)
        elif "hypert" in k or "heart" in k or "cardi" in k or "bleed" in k or "coag" in k:
            favour_everolimus.append(key)
    return {"sunitinib": sorted(favour_sunitinib), "everolimus": sorted(favour_everolimus)}


def ssa_option(p: PatientProfile, key: str = "ssa", preferred: bool = False) -> Option | None:
    """The SSA option of a card, or None. In insulinoma an SSA is offered only with positive SSTR status,
    and then as a short-acting trial under glucose monitoring, never a long-acting SSA first (model v2,
    P-2, P-6, P-7; 003)."""
    if p.functional_syndrome.value == "insulinoma":
        return Option("ssa-insulinoma-sstr-positive", preferred) if sstr_positive(p) else None
    return Option(key, preferred)


def targeted_pair(p: PatientProfile) -> tuple[str, str]:
    """The two targeted agents P-5 weighs: everolimus vs sunitinib for a pancreatic NET, everolimus vs
    cabozantinib for a GI NET (and for an unknown primary, which follows the GI pathway); sunitinib is
    never named for a GI NET (model v2, P-5)."""
    return ("everolimus", "sunitinib") if p.site_group == "pancreas" else ("everolimus", "cabozantinib")


def favoured_agents(p: PatientProfile) -> dict[str, list[str]]:
    """Comorbidities by the agent they favour, for this patient's pair (P-5, O-TKI-1): diabetes or lung
    disease weigh against everolimus; hypertension, cardiovascular disease or bleeding against the other."""
    flags = comorbidity_flags(p)
    _, other = targeted_pair(p)
    return {other: flags["sunitinib"], "everolimus": flags["everolimus"]}


def nec_check(p: PatientProfile) -> Check:
    """NEC: true when coded; unknown when differentiation is unknown and the grade is high (Ki-67 or
    mitoses > 20: G3 NET and NEC cannot be told apart by Ki-67) or when a NEC is only suspected (provisional,
    differential, unconfirmed); false otherwise. Order rules use it so
    that a high-grade tumour of unknown differentiation gets a conditional card, never silence (5)."""
    diff = p.differentiation.value
    if diff == "NEC" or p.who_grade.value == "high-grade-nec":
        return Check(True, "NEC")
    found = suspected(p, "nec")  # a provisional/differential NEC never sets NEC (section 2, invariant 8)
    if found:
        return Check(None, "NEC suspected, not confirmed", suspected_missing(found))
    high = p.who_grade.value == "G3" or _gt(p.ki67_percent.value, 20) or _gt(p.mitotic_count.value, 20)
    if diff is None and high:
        return Check(None, "high grade with differentiation unknown (G3 NET or NEC)",
                     ("differentiation (well vs poorly differentiated), by pathology review",))
    return Check(False, "not a NEC")


def surveillance_checks(p: PatientProfile, burden_label: str) -> list[Check]:
    """What GI-2 and P-1 share: unresectable (resectable not recorded as true; model v2), untreated (or
    naive), no documented growth, asymptomatic, low burden."""
    sym = symptomatic(p)
    return [check("not recorded as resectable", p.resectable.value is not True),
            check_naive_or_progressing(p),
            check("no documented progression (growth ends surveillance)", not progressing(p)),
            check("asymptomatic", None if sym is None else not sym, "symptoms (tumour- or hormone-related)"),
            check(burden_label, low_burden(p), "tumour burden (low vs high/bulky)")]

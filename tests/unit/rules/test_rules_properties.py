"""Property tests: random NET profiles (every combination the rules branch on, unknowns included)
never crash the rules or the renderer, always give valid cards, and never break an invariant."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.cards import render_cards
from cds_service.rules import evaluate
from cds_service.rules.common import select_pathway, sstr_imaging_positive
from tests.unit.rules.rule_profiles import draft, eligibility, fact, lab, profile, therapy
from tests.vignettes.vignette_support import card_errors

THERAPIES = {
    "ssa": therapy("ssa", start="2025-01-01"),
    "prrt": therapy("prrt", active=False, start="2025-03-01", administrations=4, last="2025-09-01",
                    ref="Procedure/prrt"),
    "prrt-planned": therapy("prrt", active=False, start="2026-11-20", planned=("2026-11-20",),
                            ref="ServiceRequest/prrt-plan"),
    "everolimus": therapy("everolimus", start="2026-02-01"),
    "cabozantinib": therapy("cabozantinib", active=False, start="2025-10-01", end="2026-01-01"),
    "sunitinib": therapy("sunitinib", start="2026-03-01"),
    "captem": therapy("captem", active=False, start="2025-05-01", end="2025-12-01"),
    "ppi": therapy("ppi", start="2026-01-01"),
}
DRAFTS = {
    "ppi": draft("ppi", "omeprazole 20 mg", ref="MedicationRequest/d-ppi"),
    "ppi-unknown": draft("ppi", "pantoprazole 40 mg", ref="MedicationRequest/d-ppi2", doses_per_day=None),
    "lar": draft("ssa", "octreotide LAR 30 mg", ref="MedicationRequest/d-lar", long_acting=True, doses_per_day=None),
    "ssa-unknown": draft("ssa", "octreotide", ref="MedicationRequest/d-oct", long_acting=None),
    "lutathera": draft("prrt", "Lutathera", ref="MedicationRequest/d-lu", doses_per_day=None, date="2026-11-12"),
    "everolimus": draft("everolimus", "everolimus 10 mg", ref="MedicationRequest/d-ev"),
    "sunitinib": draft("sunitinib", "sunitinib 37.5 mg", ref="MedicationRequest/d-su"),
}
PRRT_OPTIONS = {"prrt-ssa", "prrt-retreatment-ssa"}
NEC_FORBIDDEN = {"ssa", "ssa-hormone-only", "ssa-indolent", "ssa-dose-escalation", "ssa-syndrome", "ssa-escalation",
                 "ssa-insulinoma-sstr-positive", "everolimus", "everolimus-insulinoma", "sunitinib", "prrt-ssa",
                 "prrt-retreatment-ssa", "liver-directed-ssa"}
CHEMO = {"captem", "chemotherapy-pnet", "platinum-etoposide", "platinum-irinotecan"}
STOP_PPI = re.compile(r"\b(stop|hold|withhold|discontinue|withdraw|off)\s+(the\s+)?(PPI|proton pump)", re.I)
maybe_bool = st.sampled_from([None, True, False])


@st.composite
def profiles(draw):
    site, group = draw(st.sampled_from([("ileum", "gastrointestinal"), ("pancreas", "pancreas"),
                                        ("duodenum", "gastrointestinal"), ("unknown", "unknown")]))
    diff = draw(st.sampled_from(["NET", "NEC", None]))
    ki67 = draw(st.sampled_from([None, 1.0, 5.0, 15.0, 25.0, 60.0]))
    grade = None
    if diff == "NEC":
        grade = "high-grade-nec" if ki67 is not None else None
    therapies = tuple(THERAPIES[k] for k in draw(st.sets(st.sampled_from(sorted(THERAPIES)), max_size=4)))
    crit = draw(st.sampled_from(["pass", "fail", "unknown"]))
    comorbid = draw(st.sets(st.sampled_from(["diabetes", "hypertension", "lung", "bleeding"]), max_size=2))
    labs = {}
    if draw(st.booleans()):
        labs["cga"] = (lab("cga", 300, draw(st.sampled_from(["2026-08-01", "2025-01-01"]))),)
    if draw(st.booleans()):
        labs["gastrin"] = (lab("gastrin", 900),)
    return profile(
        site=site, group=group, diff=diff, ki67=ki67, grade=grade,
        sstr=draw(st.sampled_from(["positive", "negative", "indeterminate", "unknown"])),
        modality=draw(st.sampled_from(["sstr-pet", "srs", "ihc"])),
        functional=draw(st.sampled_from(["nonfunctional", "carcinoid-syndrome", "gastrinoma", "insulinoma",
                                         "vipoma", "glucagonoma"])),
        stage=draw(st.sampled_from(["metastatic", "resected", "unknown"])),
        liver=draw(maybe_bool), hepatic=draw(maybe_bool), resectable=draw(maybe_bool),
        burden=draw(st.sampled_from([None, "high", "low"])), symptomatic=draw(maybe_bool),
        status=draw(st.sampled_from([None, "progressing", "stable"])),
        line=draw(st.sampled_from([None, "naive", "after-ssa", "after-ssa-prrt", "after-targeted", "after-chemo"])),
        therapies=therapies,
        nen_status=draw(st.sampled_from(["active", "active", "history"])),
        prrt_eligibility=eligibility(crcl=crit, plt=draw(st.sampled_from(["pass", "fail"]))),
        prrt_response_durable=draw(st.sampled_from([fact(True, "Procedure/prrt"), fact(False, "Procedure/prrt"),
                                                    fact(None)])),
        comorbidities={c: fact(True, f"Condition/{c}") for c in comorbid},
        men1=draw(st.sampled_from([fact(True, "Condition/men1"), fact(None)])),
        labs=labs,
        draft_orders=tuple(DRAFTS[k] for k in draw(st.sets(st.sampled_from(sorted(DRAFTS)), max_size=3))),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=profiles(), hook=st.sampled_from(["patient-view", "order-sign"]))
def test_random_profiles_give_valid_cards_and_keep_every_invariant(p, hook) -> None:
    findings = evaluate(p, hook)
    cards = render_cards(findings, p)
    assert len(cards) == len(findings)
    for c in cards:
        assert card_errors(c) == [], (c["summary"], card_errors(c))
    kinds = [f.kind for f in findings]
    if hook == "order-sign":
        assert set(kinds) <= {"order"}
    else:
        assert "order" not in kinds
        for k in ("next-step", "syndrome", "follow-up"):
            assert kinds.count(k) <= 1
    ranks = [{"critical": 0, "warning": 1, "info": 2}[f.indicator] for f in findings]
    assert ranks == sorted(ranks)
    every = [x for f in findings for x in (f, *f.addenda)]
    if p.differentiation.value == "NEC":  # invariant 1
        assert not any(set(f.all_options()) & NEC_FORBIDDEN for f in every)
    if not sstr_imaging_positive(p):  # invariant 2
        assert not any(set(f.recommended_options) & PRRT_OPTIONS for f in every)
        if p.sstr_status.value == "negative":
            assert not any(set(f.all_options()) & PRRT_OPTIONS for f in every)
    if p.functional_syndrome.value == "gastrinoma":  # invariant 3
        assert not {"X-5", "O-PPI-2"} & {f.rule_id for f in findings}
        assert not any(STOP_PPI.search(c["detail"] + c["summary"]) for c in cards)
    if select_pathway(p)[0] == "gi":  # invariant 4
        assert not any(set(f.all_options()) & CHEMO for f in every)
    for f in findings:  # invariant 5
        if f.conditional:
            assert f.missing and f.preferred_option is None
    if p.nen_status == "none":
        assert hook == "order-sign" or cards == []

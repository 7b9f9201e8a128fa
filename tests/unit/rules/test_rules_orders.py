"""Order-sign rules (model section 5): cards only about drafted orders, with their indicators."""

from __future__ import annotations

from cds_service.profile.model import Fact
from cds_service.rules import evaluate, explain
from tests.unit.rules.rule_profiles import draft, eligibility, fact, lab, profile, therapy


def cards(p) -> list:
    return evaluate(p, "order-sign")


def only(p, rule_id: str):
    found = [f for f in cards(p) if f.rule_id == rule_id]
    assert len(found) == 1, [f.rule_id for f in cards(p)]
    return found[0]


PPI = draft("ppi", "omeprazole 40 mg capsule")
LAR = draft("ssa", "octreotide LAR 30 mg", ref="MedicationRequest/ssa-1", long_acting=True, doses_per_day=None)
LUTATHERA = draft("prrt", "Lutathera 7.4 GBq", ref="MedicationRequest/lu-1", doses_per_day=None)


def pnet(**kw):
    return profile(site="pancreas", group="pancreas", **kw)


def test_order_sign_without_drafts_gives_no_cards() -> None:
    assert cards(pnet()) == []


def test_patient_view_never_shows_order_cards() -> None:
    assert all(f.kind != "order" for f in evaluate(pnet(draft_orders=(PPI,)), "patient-view"))


def test_O_PPI_1_pnet_without_gastrin_gets_fasting_gastrin_order() -> None:
    f = only(pnet(draft_orders=(PPI,)), "O-PPI-1")
    assert f.indicator == "warning" and f.order_ref == PPI.reference
    assert f.suggestions[0].kind == "order-gastrin" and f.suggestions[0].recommended


def test_O_PPI_1_gastrin_on_record_no_card() -> None:
    p = pnet(draft_orders=(PPI,), labs={"gastrin": (lab("gastrin", 80),)})
    assert "O-PPI-1" not in [f.rule_id for f in cards(p)]


def test_O_PPI_1_men1_without_nen() -> None:
    p = profile(nen_status="none", in_scope=False, men1=fact(True, "Condition/men1"), draft_orders=(PPI,))
    assert [f.rule_id for f in cards(p)] == ["O-PPI-1"]


def test_O_PPI_1_no_nen_no_men1_no_card() -> None:
    p = profile(nen_status="none", in_scope=False, site_group="unknown", primary_site=Fact(), draft_orders=(PPI,))
    assert cards(p) == []


def test_O_PPI_2_recent_cga_gets_info_note() -> None:
    p = profile(draft_orders=(PPI,), labs={"cga": (lab("cga", 120, "2026-06-01"),)})
    assert only(p, "O-PPI-2").indicator == "info"


def test_O_PPI_2_old_cga_no_note() -> None:
    p = profile(draft_orders=(PPI,), labs={"cga": (lab("cga", 120, "2025-06-01"),)})
    assert "O-PPI-2" not in [f.rule_id for f in cards(p)]


def test_O_PPI_2_suppressed_in_gastrinoma() -> None:
    p = pnet(functional="gastrinoma", draft_orders=(PPI,), labs={"cga": (lab("cga", 120, "2026-06-01"),)})
    assert "O-PPI-2" not in [f.rule_id for f in cards(p)]
    assert any(e.rule_id == "O-PPI-2" and e.status == "suppressed" for e in explain(p, "order-sign"))


def test_O_PPI_3_gastrinoma_once_daily_gets_bid_update() -> None:
    f = only(pnet(functional="gastrinoma", draft_orders=(PPI,)), "O-PPI-3")
    assert f.indicator == "warning"
    assert f.suggestions[0].kind == "update-ppi-bid" and f.suggestions[0].order_ref == PPI.reference


def test_O_PPI_3_twice_daily_no_card() -> None:
    bid = draft("ppi", "omeprazole 40 mg", doses_per_day=2)
    assert "O-PPI-3" not in [f.rule_id for f in cards(pnet(functional="gastrinoma", draft_orders=(bid,)))]


def test_O_PPI_3_unknown_frequency_is_conditional_and_not_recommended() -> None:
    unknown = draft("ppi", "omeprazole 40 mg", doses_per_day=None)
    f = only(pnet(functional="gastrinoma", draft_orders=(unknown,)), "O-PPI-3")
    assert f.conditional and not f.suggestions[0].recommended and f.missing


def test_O_SSA_1_nec_gets_critical_with_delete() -> None:
    p = profile(diff="NEC", ki67=70, grade="high-grade-nec", draft_orders=(LAR,))
    f = only(p, "O-SSA-1")
    assert f.indicator == "critical" and f.suggestions[0].kind == "delete-draft"
    assert f.suggestions[0].order_ref == "MedicationRequest/ssa-1"


def test_O_SSA_2_insulinoma_warning_and_critical_when_sstr_negative() -> None:
    assert only(pnet(functional="insulinoma", draft_orders=(LAR,)), "O-SSA-2").indicator == "warning"
    p = pnet(functional="insulinoma", sstr="negative", draft_orders=(LAR,))
    assert only(p, "O-SSA-2").indicator == "critical"


def test_O_SSA_3_unknown_sstr_suggests_sstr_pet() -> None:
    f = only(profile(sstr="unknown", draft_orders=(LAR,)), "O-SSA-3")
    assert f.indicator == "info" and f.suggestions[0].kind == "order-sstr-pet"


def test_O_SSA_4_sstr_negative_nonfunctional_warns() -> None:
    assert only(profile(sstr="negative", draft_orders=(LAR,)), "O-SSA-4").indicator == "warning"


def test_O_SSA_4_functional_syndrome_no_card() -> None:
    p = profile(sstr="negative", functional="carcinoid-syndrome", draft_orders=(LAR,))
    assert "O-SSA-4" not in [f.rule_id for f in cards(p)]


def test_O_SSA_5_long_acting_ssa_within_28_days_of_planned_prrt() -> None:
    prrt = therapy("prrt", active=False, start="2026-11-20", planned=("2026-11-20",), ref="ServiceRequest/prrt")
    f = only(profile(therapies=(prrt,), draft_orders=(LAR,)), "O-SSA-5")
    assert f.indicator == "warning" and f.params["prrt_dates"] == ["2026-11-20"]


def test_O_SSA_5_prrt_far_away_no_card() -> None:
    prrt = therapy("prrt", active=False, start="2027-02-20", planned=("2027-02-20",), ref="ServiceRequest/prrt")
    assert "O-SSA-5" not in [f.rule_id for f in cards(profile(therapies=(prrt,), draft_orders=(LAR,)))]


def test_O_SSA_5_next_cycle_of_course_in_progress() -> None:
    prrt = therapy("prrt", active=True, start="2026-07-01", administrations=2, last="2026-09-20",
                   ref="Procedure/prrt")
    # next dose expected 2026-11-15: within 28 days of the draft (as of 2026-11-01)
    assert "O-SSA-5" in [f.rule_id for f in cards(profile(therapies=(prrt,), draft_orders=(LAR,)))]


def test_O_SSA_5_short_acting_no_card() -> None:
    short = draft("ssa", "octreotide 100 mcg SC", ref="MedicationRequest/s", long_acting=False, doses_per_day=3)
    prrt = therapy("prrt", active=False, start="2026-11-20", planned=("2026-11-20",), ref="ServiceRequest/prrt")
    assert "O-SSA-5" not in [f.rule_id for f in cards(profile(therapies=(prrt,), draft_orders=(short,)))]


def test_O_SSA_5_drafted_prrt_in_the_same_session() -> None:
    lu = draft("prrt", "Lutathera", ref="ServiceRequest/lu", date="2026-11-10", doses_per_day=None)
    assert "O-SSA-5" in [f.rule_id for f in cards(profile(draft_orders=(LAR, lu)))]


def test_O_PRRT_1_failed_platelets_warns_and_lists_criteria() -> None:
    f = only(profile(draft_orders=(LUTATHERA,), prrt_eligibility=eligibility(plt="fail")), "O-PRRT-1")
    assert f.indicator == "warning"
    assert {"label": "Platelets >= 75 x10^9/L", "result": "fail"} in f.params["criteria"]


def test_O_PRRT_1_all_criteria_met_no_card() -> None:
    assert cards(profile(draft_orders=(LUTATHERA,))) == []


def test_O_PRRT_1_nec_or_sstr_negative_is_critical() -> None:
    p = profile(diff="NEC", ki67=70, grade="high-grade-nec", draft_orders=(LUTATHERA,))
    assert only(p, "O-PRRT-1").indicator == "critical"
    assert only(profile(sstr="negative", draft_orders=(LUTATHERA,)), "O-PRRT-1").indicator == "critical"


def test_O_PRRT_1_ihc_only_is_not_positive_imaging() -> None:
    assert only(profile(modality="ihc", draft_orders=(LUTATHERA,)), "O-PRRT-1").indicator == "warning"


def test_O_TKI_1_everolimus_with_diabetes_favours_sunitinib() -> None:
    evero = draft("everolimus", "everolimus 10 mg", ref="MedicationRequest/e")
    f = only(pnet(comorbidities={"diabetes": fact(True, "Condition/dm")}, draft_orders=(evero,)), "O-TKI-1")
    assert f.indicator == "info" and f.params["other"] == "sunitinib"


def test_O_TKI_1_sunitinib_with_hypertension_favours_everolimus() -> None:
    suni = draft("sunitinib", "sunitinib 37.5 mg", ref="MedicationRequest/s")
    f = only(pnet(comorbidities={"hypertension": fact(True, "Condition/htn")}, draft_orders=(suni,)), "O-TKI-1")
    assert f.params["other"] == "everolimus"


def test_O_TKI_2_everolimus_for_nec_warns() -> None:
    evero = draft("everolimus", "everolimus 10 mg", ref="MedicationRequest/e")
    p = profile(diff="NEC", ki67=70, grade="high-grade-nec", draft_orders=(evero,))
    assert [f.rule_id for f in cards(p)] == ["O-TKI-2"]


def test_unclassified_draft_gets_no_card() -> None:
    other = draft(None, "paracetamol 1 g", ref="MedicationRequest/p")
    assert cards(profile(diff="NEC", draft_orders=(other,))) == []


def test_out_of_scope_nen_gets_no_order_advice() -> None:
    p = profile(site="lung", group="out-of-scope", in_scope=False, sstr="unknown", diff="NEC", ki67=70,
                grade="high-grade-nec", draft_orders=(LAR, LUTATHERA))
    assert cards(p) == []

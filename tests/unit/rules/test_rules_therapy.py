"""Therapy pathway rules (model sections 4.1-4.4) on PatientProfiles built directly (no FHIR)."""

from __future__ import annotations

from cds_service.profile.model import Fact
from cds_service.rules import evaluate, explain
from cds_service.rules.findings import Finding
from tests.unit.rules.rule_profiles import eligibility, fact, profile, therapy


def next_step(p) -> Finding | None:
    cards = [f for f in evaluate(p, "patient-view") if f.kind == "next-step"]
    assert len(cards) <= 1, "at most one next-step card"
    return cards[0] if cards else None


def status(p, rule_id: str) -> str:
    return next(e.status for e in explain(p, "patient-view") if e.rule_id == rule_id)


SSA = therapy("ssa", start="2025-01-01")
PRRT_DONE = therapy("prrt", active=False, start="2024-01-10", administrations=4, last="2024-07-01",
                    ref="Procedure/prrt-1")


# ------------------------------------------------------------------------------------------ GI


def test_GI_1_resectable_liver_predominant_gets_surgical_evaluation() -> None:
    f = next_step(profile(hepatic=True, resectable=True, burden="high", symptomatic=True))
    assert f.rule_id == "GI-1" and f.topic == "resection-evaluation" and f.preferred_option == "resection"
    assert not f.conditional


def test_GI_1_unknown_resectability_is_a_check_first_note_not_a_guess() -> None:
    f = next_step(profile(hepatic=True, resectable=None, burden="high", symptomatic=True))
    assert f.rule_id == "GI-3" and not f.conditional
    assert [b.rule_id for b in f.prechecks] == ["GI-1"]
    assert "resectability (surgical assessment)" in f.missing


def test_GI_2_asymptomatic_low_burden_naive_gets_surveillance() -> None:
    f = next_step(profile(burden="low", symptomatic=False))
    assert f.rule_id == "GI-2" and f.topic == "surveillance" and f.options[0].key == "surveillance-gi"


def test_GI_2_documented_growth_ends_surveillance() -> None:
    f = next_step(profile(burden="low", symptomatic=False, status="progressing"))
    assert f is None or f.rule_id != "GI-2"


def test_GI_3_symptomatic_sstr_positive_g1_gets_ssa() -> None:
    f = next_step(profile(ki67=2, burden="low", symptomatic=True))
    assert f.rule_id == "GI-3" and f.topic == "ssa-first-line" and f.preferred_option == "ssa"


def test_GI_3_bulky_liver_predominant_adds_embolization() -> None:
    f = next_step(profile(ki67=5, burden="high", symptomatic=False, hepatic=True, resectable=False))
    assert f.rule_id == "GI-3" and "hepatic-embolization" in f.recommended_options


def test_GI_3_unknown_burden_and_symptoms_gives_conditional_card_with_both_branches() -> None:
    f = next_step(profile(ki67=2, burden=None, symptomatic=None))
    assert f.conditional and f.preferred_option is None
    assert {b.rule_id for b in f.branches} >= {"GI-2", "GI-3"}
    assert "tumour burden (low vs high/bulky)" in f.missing


def test_GI_4_high_g2_bulky_sstr_positive_gets_prrt_first_line() -> None:
    f = next_step(profile(ki67=15, burden="high", symptomatic=False))
    assert f.rule_id == "GI-4" and f.topic == "prrt-first-line" and f.preferred_option == "prrt-ssa"


def test_GI_4_needs_sstr_imaging_not_just_ihc() -> None:
    p = profile(ki67=15, burden="high", symptomatic=False, modality="ihc")
    assert status(p, "GI-4") == "unknown"
    f = next_step(p)
    assert "prrt-ssa" not in f.recommended_options


def test_GI_5_sstr_negative_gets_targeted_not_ssa_or_prrt() -> None:
    f = next_step(profile(ki67=8, sstr="negative", burden="high", symptomatic=True))
    assert f.rule_id == "GI-5" and f.topic == "targeted-first-line"
    assert {"everolimus", "cabozantinib"} <= set(f.recommended_options)
    assert not {"ssa", "prrt-ssa"} & set(f.recommended_options)


def test_GI_6_progressing_after_ssa_sstr_positive_gets_prrt_after_ssa() -> None:
    f = next_step(profile(ki67=8, therapies=(SSA,), status="progressing", liver=False))
    assert f.rule_id == "GI-6" and f.topic == "prrt-after-ssa" and f.preferred_option == "prrt-ssa"
    assert {"cabozantinib", "everolimus"} <= set(f.recommended_options)


def test_GI_6_on_ssa_and_stable_gets_no_next_step_card() -> None:
    assert next_step(profile(ki67=8, therapies=(SSA,), status="stable")) is None


def test_GI_7_durable_prrt_response_gets_after_prrt_options() -> None:
    p = profile(ki67=8, therapies=(SSA, PRRT_DONE), line="after-ssa-prrt", status="progressing", liver=False,
                prrt_response_durable=fact(True, "Procedure/prrt-1"))
    f = next_step(p)
    assert f.rule_id == "GI-7" and f.topic == "after-prrt"
    assert {"everolimus", "cabozantinib", "prrt-retreatment-ssa"} <= set(f.recommended_options)


def test_GI_7_unknown_durability_is_conditional_between_GI_7_and_GI_8() -> None:
    p = profile(ki67=8, therapies=(SSA, PRRT_DONE), line="after-ssa-prrt", status="progressing", liver=False)
    f = next_step(p)
    assert f.conditional and {b.rule_id for b in f.branches} == {"GI-7", "GI-8"}


def test_GI_8_early_progression_after_prrt_gets_targeted_later_line() -> None:
    p = profile(ki67=8, therapies=(SSA, PRRT_DONE), line="after-ssa-prrt", status="progressing", liver=False,
                prrt_response_durable=fact(False, "Procedure/prrt-1"))
    f = next_step(p)
    assert f.rule_id == "GI-8" and f.topic == "targeted-later-line"


def test_GI_8_after_everolimus_offers_cabozantinib() -> None:
    p = profile(ki67=8, therapies=(SSA, therapy("everolimus", start="2025-09-01")), line="after-targeted",
                status="progressing", liver=False, sstr="negative")
    f = next_step(p)
    assert f.rule_id == "GI-8" and f.preferred_option == "cabozantinib" and "everolimus" not in f.all_options()


def test_GI_8_prrt_ineligible_lists_failed_criterion_X_7() -> None:
    p = profile(ki67=8, therapies=(SSA,), status="progressing", liver=False,
                prrt_eligibility=eligibility(crcl="fail"))
    f = next_step(p)
    assert f.rule_id == "GI-8"
    assert [a.rule_id for a in f.addenda] == ["X-7", "GI-11"]


def test_GI_9_progressing_liver_predominant_adds_liver_directed_option() -> None:
    f = next_step(profile(ki67=8, therapies=(SSA,), status="progressing", hepatic=True, resectable=False))
    assert f.rule_id == "GI-6" and "GI-9" in [a.rule_id for a in f.addenda]
    assert "liver-directed" in f.all_options()


def test_GI_11_nonfunctional_switching_from_ssa_is_told_to_stop_it() -> None:
    f = next_step(profile(ki67=8, therapies=(SSA,), status="progressing", liver=False))
    gi11 = next(a for a in f.addenda if a.rule_id == "GI-11")
    assert gi11.params["functional"] is False


def test_GI_11_functional_keeps_the_ssa() -> None:
    f = next_step(profile(ki67=8, functional="carcinoid-syndrome", therapies=(SSA,), status="progressing",
                          liver=False))
    assert next(a for a in f.addenda if a.rule_id == "GI-11").params["functional"] is True


def test_GI_site_unknown_follows_gi_pathway_and_says_so() -> None:
    f = next_step(profile(site="unknown", group="unknown", ki67=2, burden="low", symptomatic=True))
    assert f.rule_id == "GI-3" and f.params["site_unknown"] is True


# ------------------------------------------------------------------------------------------ pNET


def pnet(**kw):
    return profile(site="pancreas", group="pancreas", **kw)


def test_P_1_asymptomatic_low_volume_pnet_gets_surveillance() -> None:
    f = next_step(pnet(burden="low", symptomatic=False))
    assert f.rule_id == "P-1" and f.topic == "surveillance"


def test_P_2_sstr_positive_non_bulky_growing_pnet_gets_ssa() -> None:
    f = next_step(pnet(ki67=6, burden="low", symptomatic=False, status="progressing"))
    assert f.rule_id == "P-2" and f.topic == "ssa-first-line" and f.preferred_option == "ssa"


def test_P_3_symptomatic_nonfunctional_pnet_gets_cytoreduction() -> None:
    f = next_step(pnet(ki67=6, burden="low", symptomatic=True))
    assert f.rule_id == "P-3"


def test_P_3_large_volume_pnet_gets_captem() -> None:
    f = next_step(pnet(ki67=12, burden="high", symptomatic=False))
    assert f.rule_id == "P-3" and f.topic == "cytoreduction-first-line" and f.preferred_option == "captem"
    assert "prrt-ssa" in f.recommended_options  # SSTR-PET positive


def test_P_4_progressing_after_ssa_lists_agents_without_preference() -> None:
    f = next_step(pnet(ki67=12, therapies=(SSA,), status="progressing"))
    assert f.rule_id == "P-4" and f.topic == "after-ssa-pnet"
    assert {"everolimus", "sunitinib", "prrt-ssa", "captem"} <= set(f.recommended_options)
    assert all(o.preferred for o in f.options)


def test_P_4_without_sstr_imaging_does_not_offer_prrt() -> None:
    f = next_step(pnet(ki67=12, therapies=(SSA,), status="progressing", sstr="unknown"))
    assert f.rule_id == "P-4" and "prrt-ssa" not in f.all_options() and f.params["prrt_needs_imaging"]


def test_P_5_diabetes_favours_sunitinib_inside_the_P_4_card() -> None:
    p = pnet(ki67=12, therapies=(SSA,), status="progressing",
             comorbidities={"diabetes": fact(True, "Condition/dm-1")})
    f = next_step(p)
    p5 = next(a for a in f.addenda if a.rule_id == "P-5")
    assert p5.params["other"] == "sunitinib"
    assert p5.params["favour_other"] == ["diabetes"] and p5.params["favour_everolimus"] == []
    assert [x.rule_id for x in evaluate(p, "patient-view")].count("P-5") == 0  # no card of its own


def test_P_5_hypertension_favours_everolimus() -> None:
    p = pnet(ki67=12, therapies=(SSA,), status="progressing",
             comorbidities={"hypertension": fact(True, "Condition/htn-1")})
    p5 = next(a for a in next_step(p).addenda if a.rule_id == "P-5")
    assert p5.params["favour_everolimus"] == ["hypertension"]


def test_P_6_sstr_pet_negative_pnet_gets_no_prrt() -> None:
    f = next_step(pnet(ki67=12, sstr="negative", burden="high", symptomatic=True))
    assert f.rule_id == "P-6" and f.topic == "sstr-negative-pnet"
    assert not {"prrt-ssa", "prrt-retreatment-ssa"} & set(f.all_options())


def test_P_6_negative_srs_is_not_enough() -> None:
    p = pnet(ki67=12, sstr="indeterminate", modality="srs", burden="high", symptomatic=True)
    assert status(p, "P-6") in ("unknown", "not-fired")


# ------------------------------------------------------------------------------------------ G3 / NEC


def test_G3_1_aggressive_g3_net_gets_captem() -> None:
    f = next_step(pnet(ki67=35, burden="high"))
    assert f.rule_id == "G3-1" and f.topic == "g3-net-first-line" and f.preferred_option == "captem"


def test_G3_2_indolent_sstr_positive_g3_gets_ssa_and_no_first_line_prrt() -> None:
    f = next_step(profile(ki67=25, burden="low"))
    assert f.rule_id == "G3-2" and f.preferred_option == "ssa" and "prrt-ssa" not in f.all_options()


def test_G3_2_after_ssa_slow_progression_may_get_prrt() -> None:
    f = next_step(profile(ki67=25, burden="low", therapies=(SSA,), status="progressing"))
    assert f.rule_id == "G3-2" and f.preferred_option == "prrt-ssa"


def test_NEC_1_nec_gets_platinum_etoposide_only() -> None:
    f = next_step(profile(diff="NEC", ki67=70, grade="high-grade-nec", band="G3"))
    assert f.rule_id == "NEC-1" and f.topic == "nec-first-line" and f.preferred_option == "platinum-etoposide"
    assert not {"ssa", "everolimus", "sunitinib", "prrt-ssa"} & set(f.all_options())


def test_ki67_above_20_with_unknown_differentiation_is_conditional_g3_or_nec() -> None:
    p = profile(diff=None, ki67=40, burden="high")
    f = next_step(p)
    assert f.conditional and {"G3-1", "NEC-1"} <= {b.rule_id for b in f.branches}
    assert "X-4" in [x.rule_id for x in evaluate(p, "patient-view")]


# ------------------------------------------------------------------------------------------ gates


def test_stage_unknown_follows_advanced_pathway_with_tumour_board_note() -> None:
    f = next_step(profile(stage="unknown", liver=None, ki67=2, burden="low", symptomatic=True))
    assert f.rule_id == "GI-3" and "STAGE-1" in [a.rule_id for a in f.addenda]


def test_resected_disease_gets_no_next_step() -> None:
    assert next_step(profile(stage="resected", liver=False, burden="low", symptomatic=True)) is None


def test_history_only_nen_gets_no_therapy_card() -> None:
    assert next_step(profile(nen_status="history", burden="high", symptomatic=True)) is None


def test_no_grade_no_next_step() -> None:
    p = profile(ki67=None, grade=None, band=None, burden="high", symptomatic=True)
    assert next_step(p) is None


def test_out_of_scope_gets_only_the_scope_card() -> None:
    p = profile(site="lung", group="out-of-scope", in_scope=False, burden="high", symptomatic=True)
    assert [f.rule_id for f in evaluate(p, "patient-view")] == ["SCOPE-1"]


def test_no_nen_gets_no_card() -> None:
    p = profile(nen_status="none", in_scope=False, differentiation=Fact())
    assert evaluate(p, "patient-view") == []


def test_GI_8_after_both_targeted_agents_offers_prrt_again_after_durable_response_never_chemo() -> None:
    p = profile(ki67=8, therapies=(SSA, PRRT_DONE, therapy("everolimus", active=False, end="2026-01-01"),
                                   therapy("cabozantinib", start="2026-02-01")),
                line="after-targeted", status="progressing", hepatic=True, resectable=False,
                prrt_response_durable=fact(True, "Procedure/prrt-1"))
    f = next_step(p)
    assert f.rule_id == "GI-8"
    assert {"prrt-retreatment-ssa", "liver-directed"} <= set(f.recommended_options)
    assert not {"everolimus", "cabozantinib", "captem"} & {o.key for o in f.options}


def test_GI_4_failed_prrt_criterion_keeps_prrt_listed_but_not_preferred() -> None:
    f = next_step(profile(ki67=15, burden="high", symptomatic=False, hepatic=False,
                          prrt_eligibility=eligibility(plt="fail")))
    assert f.rule_id == "GI-4" and f.preferred_option == "ssa" and "prrt-ssa" in f.recommended_options
    assert "X-7" in [a.rule_id for a in f.addenda]

"""Syndrome, data-gap, safety and follow-up rules (model sections 4.2, 4.5, 4.6) and card ordering."""

from __future__ import annotations

from cds_service.profile.model import DataQualityNote, Fact, Source
from cds_service.rules import evaluate, explain
from tests.unit.rules.rule_profiles import fact, lab, profile, therapy

SSA = therapy("ssa", start="2025-01-01")


def ids(p, hook: str = "patient-view") -> list[str]:
    return [f.rule_id for f in evaluate(p, hook)]


def finding(p, rule_id: str):
    return next(f for f in evaluate(p, "patient-view") if f.rule_id == rule_id)


def status(p, rule_id: str) -> str:
    return next(e.status for e in explain(p, "patient-view") if e.rule_id == rule_id)


# ------------------------------------------------------------------------------------ syndromes


def pnet(**kw):
    return profile(site="pancreas", group="pancreas", **kw)


def test_P_7_advanced_insulinoma_gets_insulinoma_control_without_ssa_when_sstr_negative() -> None:
    f = finding(pnet(functional="insulinoma", sstr="negative", ki67=5), "P-7")
    assert f.topic == "insulinoma-control" and "diazoxide" in f.recommended_options
    assert "ssa-insulinoma-sstr-positive" not in f.all_options()


def test_P_7_sstr_positive_insulinoma_may_get_ssa_with_monitoring() -> None:
    f = finding(pnet(functional="insulinoma", ki67=5), "P-7")
    assert "ssa-insulinoma-sstr-positive" in f.recommended_options


def test_P_8_gastrinoma_gets_twice_daily_ppi_and_men1_evaluation() -> None:
    p = pnet(functional="gastrinoma", ki67=5)
    assert finding(p, "P-8").preferred_option == "ppi-bid"
    assert "X-6" in ids(p)


def test_P_8_men1_known_no_men1_card() -> None:
    p = pnet(functional="gastrinoma", ki67=5, men1=fact(True, "Condition/men1"))
    assert "P-8" in ids(p) and "X-6" not in ids(p)


def test_P_9_vipoma_gets_ssa_for_syndrome_control() -> None:
    f = finding(pnet(functional="vipoma", ki67=5), "P-9")
    assert f.topic == "ssa-syndrome-control" and f.preferred_option == "ssa-syndrome"


def test_P_9_not_for_nec() -> None:
    assert "P-9" not in ids(pnet(functional="vipoma", diff="NEC", ki67=60, grade="high-grade-nec"))


def test_GI_10_symptoms_persisting_on_ssa_gets_hormone_control() -> None:
    p = profile(functional="carcinoid-syndrome", therapies=(SSA,), status="stable",
                symptoms_observed=fact(True, "Observation/symptoms-1"))
    f = finding(p, "GI-10")
    assert f.topic == "hormone-control" and not f.conditional
    assert {"ssa-escalation", "telotristat"} <= set(f.recommended_options)


def test_GI_10_controlled_symptoms_no_card() -> None:
    p = profile(functional="carcinoid-syndrome", therapies=(SSA,), status="stable",
                symptoms_observed=fact(False, "Observation/symptoms-1"))
    assert "GI-10" not in ids(p)


def test_GI_10_symptom_control_unknown_is_conditional() -> None:
    p = profile(functional="carcinoid-syndrome", therapies=(SSA,), status="stable")
    f = finding(p, "GI-10")
    assert f.conditional and f.preferred_option is None and f.missing


def test_at_most_one_syndrome_card() -> None:
    p = pnet(functional="gastrinoma", ki67=5, therapies=(SSA,))
    assert sum(f.kind == "syndrome" for f in evaluate(p, "patient-view")) == 1


# ------------------------------------------------------------------------------------ gaps


def test_X_1_no_ki67_no_mitoses_gets_grade_unknown_with_ki67_order() -> None:
    p = profile(ki67=None, grade=None, band=None)
    f = finding(p, "X-1")
    assert f.indicator == "warning" and f.suggestions[0].kind == "order-ki67"


def test_X_1_nec_without_ki67_informs_and_leaves_the_nec_pathway_on() -> None:
    """Model v2 X-1: NEC included; Ki-67 <55 % vs >=55 % predicts platinum response (003)."""
    p = profile(diff="NEC", ki67=None, grade="high-grade-nec", band=None)
    findings = evaluate(p, "patient-view")
    x1 = next(f for f in findings if f.rule_id == "X-1")
    assert x1.indicator == "info" and x1.params["nec"] is True
    assert x1.suggestions[0].kind == "order-ki67" and not x1.suggestions[0].recommended
    nec_1 = next(f for f in findings if f.rule_id == "NEC-1")
    assert "Ki-67 index" not in nec_1.missing  # said once, by X-1: a NEC's pathway needs no grade


def test_X_1_nec_with_ki67_does_not_fire() -> None:
    assert "X-1" not in ids(profile(diff="NEC", ki67=70, grade="high-grade-nec", band="G3"))


def test_X_1_unparseable_ki67_is_named_in_missing_data() -> None:
    p = profile(ki67=None, grade=None, band=None,
                notes=[DataQualityNote("Ki-67 value 'n/a' could not be read", "Observation/k", "ki67_percent")])
    assert any("could not be read" in m for m in finding(p, "X-1").missing)


def test_X_2_metastatic_net_without_sstr_imaging_gets_sstr_pet_order() -> None:
    f = finding(profile(sstr="unknown"), "X-2")
    assert f.topic == "sstr-imaging-needed" and f.suggestions[0].kind == "order-sstr-pet"


def test_X_2_ihc_only_still_needs_imaging() -> None:
    assert "X-2" in ids(profile(modality="ihc"))


def test_X_2_not_after_resection() -> None:
    assert "X-2" not in ids(profile(sstr="unknown", stage="resected", liver=False))


def test_X_3_negative_srs_without_pet_gets_confirmation() -> None:
    assert "X-3" in ids(profile(sstr="indeterminate", modality="srs"))


def test_X_4_negative_sstr_pet_in_g1_g2_net_gets_pathology_review() -> None:
    f = finding(profile(sstr="negative", ki67=5), "X-4")
    assert f.topic == "pathology-review" and f.params["g3_or_nec"] is False


def test_X_5_cga_drawn_on_ppi_is_flagged() -> None:
    p = profile(therapies=(therapy("ppi", start="2026-01-01"),), labs={"cga": (lab("cga", 250, "2026-08-01"),)})
    assert finding(p, "X-5").topic == "cga-ppi-confounded"


def test_X_5_ppi_stopped_long_before_is_not_flagged() -> None:
    ppi = therapy("ppi", active=False, start="2025-01-01", end="2026-06-01")
    p = profile(therapies=(ppi,), labs={"cga": (lab("cga", 250, "2026-08-01"),)})
    assert "X-5" not in ids(p)


def test_X_5_suppressed_in_gastrinoma() -> None:
    p = profile(functional="gastrinoma", therapies=(therapy("ppi", start="2026-01-01"),),
                labs={"cga": (lab("cga", 250, "2026-08-01"),)})
    assert "X-5" not in ids(p) and status(p, "X-5") == "suppressed"


def test_X_6_multifocal_pnet_gets_men1_evaluation() -> None:
    p = profile(site="pancreas", group="pancreas", multifocal=fact(True, "Condition/nen-2"))
    assert finding(p, "X-6").topic == "men1-evaluation"


def test_X_7_unknown_karnofsky_is_listed_in_the_prrt_card() -> None:
    from tests.unit.rules.rule_profiles import eligibility

    p = profile(ki67=8, therapies=(SSA,), status="progressing", liver=False,
                prrt_eligibility=eligibility(kps="unknown"))
    card = next(f for f in evaluate(p, "patient-view") if f.kind == "next-step")
    x7 = next(a for a in card.addenda if a.rule_id == "X-7")
    assert x7.params["criteria"] == [{"label": "Karnofsky > 50", "result": "unknown"}]
    assert "Karnofsky > 50" in card.missing


def test_X_8_more_than_four_prrt_doses_warns() -> None:
    prrt = therapy("prrt", active=False, administrations=5, last="2026-05-01", ref="Procedure/prrt")
    f = finding(profile(therapies=(SSA, prrt), line="after-ssa-prrt"), "X-8")
    assert f.indicator == "warning" and f.topic == "prrt-cumulative"


def test_X_9_profile_card_for_every_nen_with_data_quality_notes() -> None:
    p = profile(notes=[DataQualityNote("Ki-67 given as a fraction (0.15) and converted to 15 %", "Observation/k")])
    f = finding(p, "X-9")
    assert f.topic == "net-profile" and any("fraction" in n for n in f.params["notes"])


def test_X_9_undated_fact_is_not_shown_but_reported_missing() -> None:
    p = profile(tumor_burden=Fact("high", None, None, (Source("Observation/b", None),)))
    f = finding(p, "X-9")
    assert all(x.label != "Tumour burden" for x in f.facts)


# ------------------------------------------------------------------------------------ follow-up


def test_F_1_stable_on_ssa_gets_follow_up_schedule() -> None:
    p = profile(therapies=(SSA,), status="stable")
    assert finding(p, "F-1").topic == "follow-up-schedule" and "F-2" not in ids(p)


def test_F_2_on_everolimus_gets_toxicity_schedule() -> None:
    p = profile(therapies=(therapy("everolimus"),), line="after-targeted", status="stable")
    f = finding(p, "F-2")
    assert f.params["agents"] == ["everolimus"]


def test_F_3_after_prrt_lists_overdue_labs_and_wins_over_F_1() -> None:
    prrt = therapy("prrt", active=False, administrations=4, last="2026-05-01", ref="Procedure/prrt")
    p = profile(therapies=(SSA, prrt), line="after-ssa-prrt", status="stable",
                labs={"platelets": (lab("platelets", 180, "2026-01-05"),)})
    f = finding(p, "F-3")
    assert "cbc" in f.params["overdue"] and "renal" in f.params["overdue"]
    assert {s.kind for s in f.suggestions} == {"order-cbc", "order-creatinine"}
    assert "F-1" not in ids(p)


def test_F_3_labs_up_to_date() -> None:
    prrt = therapy("prrt", active=False, administrations=4, last="2026-05-01", ref="Procedure/prrt")
    p = profile(therapies=(SSA, prrt), line="after-ssa-prrt", status="stable",
                labs={"platelets": (lab("platelets", 180, "2026-10-05"),)},
                renal_function=fact(80.0, "Observation/crcl", "2026-10-05", "mL/min"))
    assert finding(p, "F-3").params["overdue"] == []


def test_F_4_resected_history_gets_post_resection_surveillance_only() -> None:
    p = profile(site="pancreas", group="pancreas", stage="resected", liver=False, nen_status="history")
    assert ids(p) == ["X-9", "F-4"]


def test_at_most_one_follow_up_card() -> None:
    prrt = therapy("prrt", active=False, administrations=4, last="2026-05-01", ref="Procedure/prrt")
    p = profile(therapies=(SSA, prrt, therapy("everolimus")), line="after-targeted", status="stable")
    assert sum(f.kind == "follow-up" for f in evaluate(p, "patient-view")) == 1


# ------------------------------------------------------------------------------------ ordering, explain


def test_cards_are_ordered_critical_warning_info() -> None:
    p = profile(ki67=None, grade=None, band=None, sstr="negative")
    ranks = {"critical": 0, "warning": 1, "info": 2}
    order = [ranks[f.indicator] for f in evaluate(p, "patient-view")]
    assert order == sorted(order) and order[0] == 1


def test_explain_lists_every_patient_view_rule_once_with_a_reason() -> None:
    from cds_service.rules import all_rules

    evs = explain(profile(), "patient-view")
    assert sorted(e.rule_id for e in evs) == sorted(r.id for r in all_rules("patient-view"))
    assert all(e.reason for e in evs)


def test_P_7_SSA_insulinoma_next_step_offering_an_ssa_carries_the_hypoglycaemia_caution() -> None:
    p = pnet(functional="insulinoma", ki67=5, burden="low", status="progressing",
             therapies=(therapy("ssa", start="2025-01-01"),))
    card = next(f for f in evaluate(p, "patient-view") if f.kind == "next-step")
    assert card.rule_id == "P-4" and "prrt-ssa" in card.all_options()
    assert "P-7-SSA" in [a.rule_id for a in card.addenda]


def test_P_7_SSA_not_for_nonfunctional() -> None:
    p = pnet(ki67=5, burden="low", status="progressing")
    card = next(f for f in evaluate(p, "patient-view") if f.kind == "next-step")
    assert "P-7-SSA" not in [a.rule_id for a in card.addenda]


def test_a_rule_that_raises_is_reported_and_the_other_cards_survive(monkeypatch) -> None:
    import dataclasses

    from cds_service.rules import registry

    def boom(*_):
        raise RuntimeError("bug")

    broken = dataclasses.replace(registry.get_rule("GI-3"), build=boom)
    monkeypatch.setitem(registry._REGISTRY, "GI-3", broken)
    p = profile(ki67=2, burden="high", symptomatic=True)
    assert "X-9" in ids(p) and "GI-3" not in ids(p)
    assert status(p, "GI-3") == "error"

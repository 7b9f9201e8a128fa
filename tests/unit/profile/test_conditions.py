"""Section 2 rows nen_present/primary_site, differentiation, functional_syndrome, metastatic, comorbidities,
men1 (net-decision-model.md), and section 1 scope."""

from __future__ import annotations

import pytest

from cds_service.fhir.systems import ICD10, ICDO3, LOINC, SCT
from tests.unit.profile.builders import (
    cc,
    condition,
    ileal_net,
    ki67,
    mitoses,
    observation,
    pnet,
    profile,
)

# ---- nen_present, primary_site --------------------------------------------------------------


@pytest.mark.parametrize(("code", "site", "group"), [
    ("C25.4", "pancreas", "pancreas"),
    ("C7A.010", "duodenum", "gastrointestinal"),
    ("C7A.012", "ileum", "gastrointestinal"),
    ("C7A.020", "appendix", "gastrointestinal"),
    ("C7A.025", "colon", "gastrointestinal"),
    ("C7A.026", "rectum", "gastrointestinal"),
    ("C7A.092", "stomach", "gastrointestinal"),
    ("D3A.012", "ileum", "gastrointestinal"),
])
def test_nen_present_and_site_from_icd10(code: str, site: str, group: str) -> None:
    p = profile(condition(code))
    assert p.nen_status == "active" and p.in_scope
    assert (p.primary_site.value, p.site_group) == (site, group)
    assert p.primary_site.sources[0].date == "2025-01-10"


@pytest.mark.parametrize("code", ["C7A.00", "C7A.1", "C7A.8", "C7A.098"])
def test_nen_site_unknown_codes(code: str) -> None:
    p = profile(condition(code))
    assert p.nen_status == "active" and p.in_scope and p.primary_site.value is None and p.site_group == "unknown"


def test_c7a1_site_from_another_code() -> None:
    p = profile(condition("C7A.1", onset="2025-02-01"), condition("C25.4", onset="2025-01-01"))
    assert p.site_group == "pancreas" and p.differentiation.value == "NEC"


@pytest.mark.parametrize(("code", "site"), [("443492008", None), ("445238008", None), ("254612002", "pancreas"),
                                            ("93843007", "pancreas")])
def test_nen_present_from_snomed(code: str, site: str | None) -> None:
    p = profile(condition(code, SCT))
    assert p.nen_status == "active" and p.primary_site.value == site


def test_site_from_body_site_when_code_has_none() -> None:
    p = profile(condition("443492008", SCT, body_site=cc(SCT, "15776009", "Pancreas")))
    assert p.primary_site.value == "pancreas" and p.site_group == "pancreas"


def test_site_from_body_site_text() -> None:
    p = profile(condition("C7A.098", body_site={"text": "Tail of pancreas"}))
    assert p.site_group == "pancreas"


@pytest.mark.parametrize(("text", "group"), [
    ("Neuroendocrine tumour of the pancreas", "pancreas"),
    ("Carcinoid of terminal ileum", "gastrointestinal"),
    ("Islet cell tumor", "pancreas"),
    ("Insulinoma", "pancreas"),
    ("Gastrinoma", "unknown"),
    ("VIPoma", "pancreas"),
    ("Glucagonoma", "pancreas"),
])
def test_nen_present_from_text(text: str, group: str) -> None:
    p = profile(condition(None, text=text))
    assert p.nen_status == "active" and p.site_group == group
    assert any("recognised by text" in n.message for n in p.notes)


def test_text_is_not_used_for_unrelated_conditions() -> None:
    p = profile(condition(None, text="Essential hypertension"), condition("K21.9", text="GERD"))
    assert p.nen_status == "none" and p.functional_syndrome.value == "unknown"


@pytest.mark.parametrize(("status", "nen"), [("active", "active"), ("recurrence", "active"), ("relapse", "active"),
                                             ("remission", "history"), ("inactive", "history"),
                                             ("resolved", "history")])
def test_clinical_status_current_or_history(status: str, nen: str) -> None:
    assert profile(pnet(clinical=status)).nen_status == nen


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_and_entered_in_error_conditions_are_ignored(verification: str) -> None:
    p = profile(pnet(verification=verification))
    assert p.nen_status == "none" and p.primary_site.value is None


def test_missing_clinical_status_is_current() -> None:
    assert profile(pnet(clinical=None)).nen_status == "active"


def test_clinical_status_as_plain_string_is_read() -> None:
    r = pnet()
    r["clinicalStatus"] = "resolved"
    assert profile(r).nen_status == "history"


@pytest.mark.parametrize("code", ["C7A.090", "C7A.091"])
def test_lung_and_thymic_nets_are_out_of_scope(code: str) -> None:
    p = profile(condition(code))
    assert p.nen_status == "active" and not p.in_scope and p.site_group == "out-of-scope"


def test_merkel_text_is_out_of_scope() -> None:
    p = profile(condition(None, text="Merkel cell carcinoma (neuroendocrine carcinoma of the skin)"))
    assert not p.in_scope


def test_gep_net_with_lung_net_is_in_scope() -> None:
    p = profile(condition("C7A.090"), ileal_net())
    assert p.in_scope and p.site_group == "gastrointestinal"


def test_conflicting_sites_latest_wins_with_note() -> None:
    p = profile(condition("C7A.012", onset="2024-01-01"), condition("C25.4", onset="2025-06-01"))
    assert p.primary_site.value == "pancreas" and any("conflicting sites" in n for n in p.primary_site.notes)


# ---- differentiation ------------------------------------------------------------------------


@pytest.mark.parametrize("morph", ["8240/3", "8249/3", "8150/3", "8151/3", "8152/3", "8153/3", "8155/3", "8156/3"])
def test_net_morphology(morph: str) -> None:
    assert profile(pnet(morphology=morph)).differentiation.value == "NET"


@pytest.mark.parametrize("morph", ["8246/3", "8041/3", "8013/3", "8154/3"])
def test_nec_morphology_including_minen(morph: str) -> None:
    p = profile(pnet(morphology=morph))
    assert p.differentiation.value == "NEC" and p.who_grade.value == "high-grade-nec"


def test_morphology_from_observation_31206_6() -> None:
    obs = observation("31206-6", valueCodeableConcept=cc(ICDO3, "8246/3"))
    assert profile(pnet(), obs).differentiation.value == "NEC"


def test_c7a_carcinoid_code_implies_net() -> None:
    assert profile(ileal_net()).differentiation.value == "NET"


def test_c25_4_alone_says_nothing_about_differentiation() -> None:
    p = profile(pnet())
    assert p.differentiation.value is None


def test_nec_code_wins_over_net_codes() -> None:
    p = profile(ileal_net(morphology="8240/3"), condition("C7A.1"))
    assert p.differentiation.value == "NEC"
    assert any("wins over NET" in n for n in p.differentiation.notes)


@pytest.mark.parametrize("text", ["Poorly differentiated neuroendocrine carcinoma of colon",
                                  "Small cell carcinoma of pancreas, neuroendocrine",
                                  "Large cell neuroendocrine carcinoma"])
def test_nec_text(text: str) -> None:
    assert profile(condition(None, text=text)).differentiation.value == "NEC"


def test_well_differentiated_neuroendocrine_carcinoma_is_not_nec() -> None:
    p = profile(condition(None, text="Well-differentiated neuroendocrine carcinoma of ileum"))
    assert p.differentiation.value == "NET"


def test_functioning_syndrome_tumor_implies_net() -> None:
    p = profile(pnet(), condition("E16.4"))
    assert p.differentiation.value == "NET"


def test_ki67_at_most_20_implies_net_when_nothing_says() -> None:
    p = profile(pnet(), ki67(20))
    assert p.differentiation.value == "NET" and "implied" in p.differentiation.notes[0]


def test_mitoses_at_most_20_implies_net() -> None:
    assert profile(pnet(), mitoses(5)).differentiation.value == "NET"


def test_ki67_above_20_leaves_differentiation_unknown() -> None:
    p = profile(pnet(), ki67(35))
    assert p.differentiation.value is None and p.who_grade.value == "G3"
    assert any("pathology review" in n for n in p.differentiation.notes)


def test_ki67_above_20_never_turns_a_net_into_a_nec() -> None:
    p = profile(ileal_net(), ki67(45))
    assert p.differentiation.value == "NET" and p.who_grade.value == "G3"


# ---- functional syndrome --------------------------------------------------------------------


@pytest.mark.parametrize(("code", "system", "syndrome"), [
    ("E34.0", ICD10, "carcinoid-syndrome"), ("E34.00", ICD10, "carcinoid-syndrome"),
    ("E34.09", ICD10, "carcinoid-syndrome"), ("35868009", SCT, "carcinoid-syndrome"),
    ("36222008", SCT, "carcinoid-syndrome"), ("E16.4", ICD10, "gastrinoma"), ("53132006", SCT, "gastrinoma"),
    ("E16.1", ICD10, "insulinoma"), ("83469008", SCT, "insulinoma"), ("E16.3", ICD10, "glucagonoma"),
    ("E34.1", ICD10, "vipoma"),
])
def test_functional_syndrome_codes_with_a_pnet(code: str, system: str, syndrome: str) -> None:
    assert profile(pnet(), condition(code, system)).functional_syndrome.value == syndrome


@pytest.mark.parametrize(("morph", "syndrome"), [("8151/3", "insulinoma"), ("8152/3", "glucagonoma"),
                                                 ("8153/3", "gastrinoma"), ("8155/3", "vipoma"),
                                                 ("8156/3", "somatostatinoma")])
def test_functional_syndrome_from_morphology(morph: str, syndrome: str) -> None:
    assert profile(pnet(morphology=morph)).functional_syndrome.value == syndrome


@pytest.mark.parametrize(("text", "syndrome"), [("Insulinoma of pancreas", "insulinoma"),
                                                ("VIPoma", "vipoma")])
def test_functional_syndrome_from_text(text: str, syndrome: str) -> None:
    assert profile(condition(None, text=text)).functional_syndrome.value == syndrome


def test_e16_1_without_a_pnet_is_not_insulinoma() -> None:
    p = profile(ileal_net(), condition("E16.1"))
    assert p.functional_syndrome.value == "nonfunctional"
    assert any("without a pancreatic NEN" in n.message for n in p.notes)


def test_e34_1_without_a_nen_is_not_vipoma() -> None:
    assert profile(condition("E34.1")).functional_syndrome.value == "unknown"


def test_nonfunctional_when_nen_without_syndrome_and_unknown_without_nen() -> None:
    assert profile(pnet()).functional_syndrome.value == "nonfunctional"
    assert profile().functional_syndrome.value == "unknown"


def test_several_syndromes_all_listed() -> None:
    p = profile(pnet(), condition("E16.4"), condition("E34.0"))
    assert p.functional_syndrome.value == "gastrinoma"
    assert p.functional_syndromes == ("gastrinoma", "carcinoid-syndrome")


# ---- metastatic -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "system", "sites", "liver"), [
    ("C7B.02", ICD10, ("liver",), True), ("C78.7", ICD10, ("liver",), True), ("94381002", SCT, ("liver",), True),
    ("C7B.03", ICD10, ("bone",), None), ("C7B.01", ICD10, ("lymph-node",), None),
    ("C7B.04", ICD10, ("peritoneum",), None), ("C7B.00", ICD10, ("other",), None),
    ("128462008", SCT, ("other",), None),
])
def test_metastatic_sites(code: str, system: str, sites: tuple, liver: bool | None) -> None:
    p = profile(ileal_net(), condition(code, system))
    assert p.metastatic.value is True and p.metastatic_sites == sites and p.liver_metastases.value is liver
    assert p.stage.value == "metastatic"


def test_c7b_alone_is_a_nen_with_unknown_site() -> None:
    p = profile(condition("C7B.02"))
    assert p.nen_status == "active" and p.site_group == "unknown" and p.liver_metastases.value is True


def test_no_metastatic_code_leaves_metastatic_unknown() -> None:
    p = profile(ileal_net())
    assert p.metastatic.value is None and p.stage.value == "unknown"


# ---- comorbidities and MEN1 -----------------------------------------------------------------


@pytest.mark.parametrize(("code", "system", "key"), [
    ("73211009", SCT, "diabetes"), ("E11.9", ICD10, "diabetes"), ("E10.9", ICD10, "diabetes"),
    ("I10", ICD10, "hypertension"), ("38341003", SCT, "hypertension"), ("I50.9", ICD10, "cardiovascular"),
    ("84114007", SCT, "cardiovascular"), ("I25.10", ICD10, "cardiovascular"), ("53741008", SCT, "cardiovascular"),
    ("D68.9", ICD10, "bleeding-disorder"), ("64779008", SCT, "bleeding-disorder"), ("N18.31", ICD10, "ckd"),
    ("709044004", SCT, "ckd"), ("J44.9", ICD10, "lung-disease"),
])
def test_comorbidities(code: str, system: str, key: str) -> None:
    p = profile(pnet(), condition(code, system))
    assert p.comorbidities[key].value is True
    assert all(v.value is None for k, v in p.comorbidities.items() if k != key)


def test_resolved_comorbidity_does_not_count() -> None:
    assert profile(condition("I10", clinical="resolved")).comorbidities["hypertension"].value is None


def test_hba1c_at_least_6_5_counts_as_diabetes() -> None:
    from tests.unit.profile.builders import lab
    p = profile(pnet(), lab("4548-4", 7.1, "%"))
    assert p.comorbidities["diabetes"].value is True and p.comorbidities["diabetes"].sources


@pytest.mark.parametrize(("code", "system"), [("E31.21", ICD10), ("30664006", SCT)])
def test_men1_condition(code: str, system: str) -> None:
    p = profile(pnet(), condition(code, system))
    assert p.men1.value is True and p.men1.sources


def test_men1_family_history_is_separate_from_diagnosis() -> None:
    fmh = {"resourceType": "FamilyMemberHistory", "id": "fmh1", "status": "completed", "date": "2024-05-01",
           "relationship": {"text": "mother"}, "condition": [{"code": cc(SCT, "30664006")}]}
    p = profile(pnet(), fmh)
    assert p.men1.value is None and p.men1_family_history.value is True


def test_men1_features_for_x6() -> None:
    p = profile(pnet(), condition("E21.0"), condition(None, text="Pituitary adenoma"))
    assert p.men1_features == ("hyperparathyroidism", "pituitary-adenoma")


def test_multifocal_pnet_from_text() -> None:
    p = profile(condition("C25.4", text="Multifocal pancreatic NET"))
    assert p.multifocal.value is True


def test_loinc_code_on_a_condition_is_harmless() -> None:
    assert profile(condition("29593-1", LOINC)).nen_status == "none"

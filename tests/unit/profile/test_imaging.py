"""SSTR status (net-decision-model.md section 2 row sstr_status; section 3): modality from text/codes,
result from interpretation, valueCodeableConcept, conclusionCode or Krenning; latest SSTR-PET wins."""

from __future__ import annotations

import pytest

from cds_service.fhir.systems import HCPCS, INTERP, SCT
from tests.unit.profile.builders import (
    cc,
    finding,
    ileal_net,
    observation,
    procedure,
    profile,
    sstr_report,
)


@pytest.mark.parametrize("text", ["Ga-68 DOTATATE PET/CT", "68Ga-DOTATOC PET", "DOTANOC PET-CT", "NETSPOT PET",
                                  "Detectnet PET/CT", "Cu-64 dotatate PET", "Gallium 68 PET"])
def test_sstr_pet_modalities(text: str) -> None:
    p = profile(ileal_net(), sstr_report(text))
    assert (p.sstr_status.value, p.sstr_modality) == ("positive", "sstr-pet")
    assert p.sstr_status.sources[0].reference.startswith("DiagnosticReport/") and p.sstr_status.date == "2026-10-15"


@pytest.mark.parametrize("text", ["OctreoScan", "Octreotide scan SPECT", "In-111 pentetreotide scintigraphy",
                                  "Indium-111 SPECT"])
def test_srs_modalities(text: str) -> None:
    assert profile(ileal_net(), sstr_report(text)).sstr_modality == "srs"


@pytest.mark.parametrize(("code", "modality"), [("A9587", "sstr-pet"), ("A9592", "sstr-pet"), ("A9572", "srs")])
def test_modality_from_hcpcs_code(code: str, modality: str) -> None:
    dr = sstr_report("PET/CT skull base to mid-thigh")
    dr["code"] = cc(HCPCS, code, "Nuclear medicine study")
    assert profile(ileal_net(), dr).sstr_modality == modality


def test_sstr_negative_by_pet() -> None:
    p = profile(ileal_net(), sstr_report("Ga-68 DOTATATE PET/CT", "260385009"))
    assert (p.sstr_status.value, p.sstr_modality) == ("negative", "sstr-pet")


def test_negative_srs_without_pet_is_indeterminate() -> None:
    p = profile(ileal_net(), sstr_report("OctreoScan", "260385009"))
    assert (p.sstr_status.value, p.sstr_modality) == ("indeterminate", "srs")


def test_positive_srs_without_pet_counts() -> None:
    assert profile(ileal_net(), sstr_report("OctreoScan")).sstr_status.value == "positive"


def test_latest_sstr_pet_wins_over_any_srs() -> None:
    p = profile(ileal_net(), sstr_report("Ga-68 DOTATATE PET", "260385009", when="2025-01-01"),
                sstr_report("OctreoScan", "10828004", when="2026-10-01"))
    assert (p.sstr_status.value, p.sstr_modality) == ("negative", "sstr-pet")


def test_latest_of_two_pets_wins() -> None:
    p = profile(ileal_net(), sstr_report("Ga-68 DOTATATE PET", "260385009", when="2024-01-01"),
                sstr_report("Ga-68 DOTATATE PET", "10828004", when="2026-01-01"))
    assert p.sstr_status.value == "positive" and p.sstr_status.date == "2026-01-01"
    assert [s.date for s in p.sstr_studies] == ["2026-01-01", "2024-01-01"]


@pytest.mark.parametrize(("code", "status"), [("POS", "positive"), ("NEG", "negative"), ("H", "positive"),
                                              ("N", "negative")])
def test_result_from_interpretation_on_an_imaging_observation(code: str, status: str) -> None:
    obs = observation(None, text="Ga-68 DOTATATE PET/CT", interpretation=[cc(INTERP, code)],
                      category=[cc(None, "imaging")])
    assert profile(ileal_net(), obs).sstr_status.value == status


def test_result_from_value_codeable_concept_project_code_with_modality_from_method() -> None:
    obs = finding("sstr-status", valueCodeableConcept=cc(SCT, "10828004"), method={"text": "Ga-68 DOTATATE PET/CT"})
    p = profile(ileal_net(), obs)
    assert (p.sstr_status.value, p.sstr_modality) == ("positive", "sstr-pet")


def test_sstr_status_without_tracer_is_treated_as_srs() -> None:
    p = profile(ileal_net(), finding("sstr-status", valueCodeableConcept=cc(SCT, "260385009")))
    assert (p.sstr_status.value, p.sstr_modality) == ("indeterminate", "srs")


@pytest.mark.parametrize(("score", "status"), [(0, "indeterminate"), (1, "indeterminate"), (2, "positive"),
                                               (4, "positive")])
def test_krenning_score_two_or_more_is_positive(score: int, status: str) -> None:
    obs = finding("krenning-score", valueInteger=score)
    assert profile(ileal_net(), obs).sstr_status.value == status


def test_krenning_score_takes_modality_from_the_report_it_derives_from() -> None:
    dr = sstr_report("Ga-68 DOTATATE PET/CT", None, rid="pet1")
    obs = finding("krenning-score", valueQuantity={"value": 3}, derivedFrom=[{"reference": "DiagnosticReport/pet1"}])
    p = profile(ileal_net(), dr, obs)
    assert (p.sstr_status.value, p.sstr_modality) == ("positive", "sstr-pet")


def test_krenning_score_out_of_range_rejected() -> None:
    p = profile(ileal_net(), finding("krenning-score", valueInteger=7))
    assert p.sstr_status.value == "unknown" and p.sstr_modality == "srs"


def test_krenning_in_report_conclusion() -> None:
    p = profile(ileal_net(), sstr_report("OctreoScan", None, conclusion="Uptake Krenning score 3 in liver"))
    assert p.sstr_status.value == "positive"


def test_report_result_from_referenced_observation() -> None:
    obs = observation(None, text="Impression", rid="imp1", valueCodeableConcept=cc(SCT, "260385009"))
    dr = sstr_report("Ga-68 DOTATATE PET/CT", None)
    dr["result"] = [{"reference": "Observation/imp1"}]
    assert profile(ileal_net(), obs, dr).sstr_status.value == "negative"


def test_procedure_with_outcome() -> None:
    proc = procedure("Ga-68 DOTATATE PET/CT", when="2026-09-01")
    proc["outcome"] = cc(SCT, "10828004")
    assert profile(ileal_net(), proc).sstr_status.value == "positive"


def test_imaging_study_without_result_is_imaging_with_unknown_status() -> None:
    study = {"resourceType": "ImagingStudy", "id": "is1", "status": "available", "started": "2026-09-01",
             "description": "Ga-68 DOTATATE PET/CT"}
    p = profile(ileal_net(), study)
    assert p.sstr_status.value == "unknown" and p.sstr_modality == "sstr-pet" and p.has_sstr_imaging
    assert p.sstr_status.sources[0].reference == "ImagingStudy/is1"


def test_lutathera_treatment_is_not_an_sstr_scan() -> None:
    p = profile(ileal_net(), procedure("Lutetium Lu-177 dotatate (Lutathera) infusion"))
    assert p.sstr_modality is None and not p.has_sstr_imaging


def test_sstr2a_ihc_counts_only_without_imaging() -> None:
    ihc = observation(None, text="SSTR2A immunohistochemistry", valueCodeableConcept=cc(SCT, "10828004"))
    p = profile(ileal_net(), ihc)
    assert (p.sstr_status.value, p.sstr_modality) == ("positive", "ihc") and not p.has_sstr_imaging
    p2 = profile(ileal_net(), ihc, sstr_report("Ga-68 DOTATATE PET", "260385009"))
    assert (p2.sstr_status.value, p2.sstr_modality) == ("negative", "sstr-pet")


def test_entered_in_error_report_ignored_and_preliminary_flagged() -> None:
    p = profile(ileal_net(), sstr_report("Ga-68 DOTATATE PET", "260385009", status="entered-in-error"),
                sstr_report("OctreoScan", status="preliminary"))
    assert (p.sstr_status.value, p.sstr_modality) == ("positive", "srs")
    assert any("preliminary" in n for n in p.sstr_status.notes)


def test_ct_report_recommending_dotatate_is_not_sstr_imaging() -> None:
    dr = sstr_report("CT abdomen with contrast", None, conclusion="Liver lesions; recommend Ga-68 DOTATATE PET.")
    assert profile(ileal_net(), dr).sstr_modality is None


def test_no_imaging_is_unknown() -> None:
    p = profile(ileal_net())
    assert p.sstr_status.value == "unknown" and p.sstr_modality is None


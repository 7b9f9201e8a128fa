"""The shared sample patients (samples/, ground truth for the builder and the rules) profile as their
titles in samples/index.yaml say."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.commands.profile import record_from_bundle
from cds_service.profile import build_profile
from cds_service.profile.model import PatientProfile

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
TODAY = date(2026, 11, 28)


def _profile(name: str) -> PatientProfile:
    path = SAMPLES / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path.name} not present")
    return build_profile(record_from_bundle(json.loads(path.read_text(encoding="utf-8"))), TODAY)


# sample: (nen_status, site_group, differentiation, who_grade, sstr_status, sstr_modality, syndrome, stage, line)
EXPECTED = {
    "net-no-nen": ("none", "unknown", None, None, "unknown", None, "unknown", "unknown", "naive"),
    "net-lung-carcinoid": ("active", "out-of-scope", "NET", "G1", "unknown", None, "nonfunctional", "unknown", "naive"),
    "net-pnet-resected": ("history", "pancreas", "NET", "G2", "unknown", None, "nonfunctional", "resected", "naive"),
    "net-pnet-insulinoma": ("active", "pancreas", "NET", "G2", "negative", "sstr-pet", "insulinoma", "metastatic",
                            "naive"),
    "net-pnet-bulky-negative-srs": ("active", "pancreas", "NET", "G2", "indeterminate", "srs", "nonfunctional",
                                    "metastatic", "naive"),
    "net-colon-nec": ("active", "gastrointestinal", "NEC", "high-grade-nec", "unknown", None, "nonfunctional",
                      "metastatic", "naive"),
    "net-si-after-prrt-early": ("active", "gastrointestinal", "NET", "G2", "positive", "sstr-pet", "nonfunctional",
                                "metastatic", "after-ssa-prrt"),
    "net-pnet-vipoma": ("active", "pancreas", "NET", None, "positive", "sstr-pet", "vipoma", "metastatic", "naive"),
    "net-rectal-sstr-negative": ("active", "gastrointestinal", "NET", "G2", "negative", "sstr-pet", "nonfunctional",
                                 "metastatic", "naive"),
    "net-pnet-progressing-diabetes": ("active", "pancreas", "NET", "G2", "positive", "sstr-pet", "nonfunctional",
                                      "metastatic", "after-ssa"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_profile(name: str) -> None:
    p = _profile(name)
    got = (p.nen_status, p.site_group, p.differentiation.value, p.who_grade.value, p.sstr_status.value,
           p.sstr_modality, p.functional_syndrome.value, p.stage.value, p.line_of_therapy.value)
    assert got == EXPECTED[name]


def test_sample_six_prrt_doses_progressing_within_12_months() -> None:
    p = _profile("net-si-after-prrt-early")
    prrt = p.therapy("prrt")
    assert prrt is not None and prrt.administrations == 6 and p.prrt_response_durable.value is False


def test_sample_diabetes_comorbidity() -> None:
    assert _profile("net-pnet-progressing-diabetes").comorbidities["diabetes"].value is True


def test_sample_vipoma_has_no_ki67_yet() -> None:
    p = _profile("net-pnet-vipoma")
    assert p.ki67_percent.value is None and p.mitotic_count.value is None

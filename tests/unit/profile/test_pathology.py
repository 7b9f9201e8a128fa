"""grade_specimens, WHO grade and Ki-67 band in the profile (net-decision-model.md sections 2 and 3):
highest value within 90 days of the latest specimen, discordant -> higher, bad values -> unknown + note."""

from __future__ import annotations

import pytest

from cds_service.fhir.systems import CAP
from tests.unit.profile.builders import condition, ileal_net, ki67, mitoses, observation, pnet, profile


@pytest.mark.parametrize(("value", "grade", "band"), [(2.9, "G1", "G1"), (3, "G2", "low-G2"), (10, "G2", "high-G2"),
                                                      (20, "G2", "high-G2"), (20.1, "G3", "G3")])
def test_profile_grade_and_band_at_ki67_boundaries(value: float, grade: str, band: str) -> None:
    p = profile(ileal_net(), ki67(value))
    assert (p.who_grade.value, p.ki67_band.value) == (grade, band)
    assert p.who_grade.sources[0].reference.startswith("Observation/") and p.who_grade.date == "2026-10-01"


@pytest.mark.parametrize(("count", "grade"), [(1, "G1"), (2, "G2"), (20, "G2"), (21, "G3")])
def test_profile_grade_at_mitoses_boundaries(count: float, grade: str) -> None:
    assert profile(ileal_net(), mitoses(count)).who_grade.value == grade


def test_discordance_takes_the_higher_grade_with_a_note() -> None:
    p = profile(ileal_net(), ki67(2), mitoses(5))
    assert p.who_grade.value == "G2"
    assert any("discordant" in n for n in p.who_grade.notes)
    measured = p.ki67_percent.sources + p.mitotic_count.sources
    assert {s.reference for s in p.who_grade.sources} == {s.reference for s in measured}


def test_discordance_ki67_g3_mitoses_g2() -> None:
    assert profile(ileal_net(), ki67(25), mitoses(10)).who_grade.value == "G3"


def test_less_than_3_percent_string_is_g1() -> None:
    p = profile(ileal_net(), ki67(valueString="<3%"))
    assert p.who_grade.value == "G1" and p.ki67_percent.value < 3  # type: ignore[operator]


def test_greater_than_20_percent_string_is_g3() -> None:
    assert profile(ileal_net(), ki67(valueString=">20%")).who_grade.value == "G3"


def test_range_string_takes_upper_bound_grade() -> None:
    assert profile(ileal_net(), ki67(valueString="2-5 %")).who_grade.value == "G2"


def test_highest_ki67_within_90_days_of_latest_specimen() -> None:
    p = profile(ileal_net(), ki67(4, when="2026-10-01"), ki67(12, when="2026-07-15"), ki67(30, when="2026-06-01"))
    assert p.ki67_percent.value == 12 and p.who_grade.value == "G2"
    assert p.ki67_percent.sources[0].date == "2026-07-15"
    assert any("outside 90 days" in n for n in p.who_grade.notes)


def test_metastasis_and_primary_assessed_together() -> None:
    p = profile(ileal_net(), ki67(2, when="2026-09-01"), ki67(8, when="2026-09-20"))
    assert p.ki67_percent.value == 8 and any("highest of 2" in n for n in p.ki67_percent.notes)


def test_mitotic_count_cap_ecc_code() -> None:
    p = profile(ileal_net(), mitoses(3, code="38390-100004300", system=CAP))
    assert p.mitotic_count.value == 3 and p.who_grade.value == "G2"


def test_mitotic_count_by_text() -> None:
    obs = observation(None, text="Mitotic rate", valueQuantity={"value": 25, "unit": "/2mm2"})
    p = profile(ileal_net(), obs)
    assert p.mitotic_count.value == 25 and p.who_grade.value == "G3"


def test_mitoses_per_10_hpf_used_and_flagged_approximate() -> None:
    p = profile(ileal_net(), mitoses(3, "/10HPF"))
    assert p.mitotic_count.value == 3 and p.mitotic_count.unit == "/10 HPF"
    assert any("approximate" in n for n in p.who_grade.notes)


def test_ki67_presence_33055_5_is_never_graded() -> None:
    p = profile(ileal_net(), observation("33055-5", valueQuantity={"value": 40, "unit": "%"}))
    assert p.ki67_percent.value is None and p.who_grade.value is None


def test_ki67_breast_code_85330_9_accepted_defensively() -> None:
    assert profile(ileal_net(), observation("85330-9", valueQuantity={"value": 5, "unit": "%"})).ki67_percent.value == 5


def test_ki67_text_only_is_not_used_but_noted() -> None:
    p = profile(ileal_net(), observation(None, text="Ki-67 index", valueQuantity={"value": 5, "unit": "%"}))
    assert p.ki67_percent.value is None
    assert any("looks like Ki-67" in n.message for n in p.notes)


@pytest.mark.parametrize("bad", [
    {"valueQuantity": {"value": 150, "unit": "%"}},
    {"valueQuantity": {"value": -3, "unit": "%"}},
    {"valueString": "n/a"},
    {"valueQuantity": {"value": 15, "unit": "mg"}},
])
def test_bad_ki67_gives_unknown_value_unknown_grade_and_a_note(bad: dict) -> None:
    p = profile(ileal_net(), ki67(**bad))
    assert p.ki67_percent.value is None and p.who_grade.value is None and p.ki67_band.value is None
    assert p.ki67_percent.notes and any("rejected" in n.message for n in p.notes)


def test_bad_ki67_next_to_a_good_one_is_noted_on_the_grade() -> None:
    p = profile(ileal_net(), ki67(5), ki67(150, when="2026-09-15"))
    assert p.ki67_percent.value == 5
    assert any("unreadable" in n for n in p.who_grade.notes)


def test_entered_in_error_ki67_is_ignored() -> None:
    p = profile(ileal_net(), ki67(40, status="entered-in-error"), ki67(5, when="2026-01-01"))
    assert p.ki67_percent.value == 5


def test_preliminary_ki67_is_used_and_flagged() -> None:
    p = profile(ileal_net(), ki67(8, status="preliminary"))
    assert p.ki67_percent.value == 8 and any("preliminary" in n for n in p.who_grade.notes)


def test_undated_values_used_when_no_dates() -> None:
    p = profile(ileal_net(), ki67(8, when=None))
    assert p.who_grade.value == "G2" and p.ki67_percent.date is None


def test_nec_has_no_g_number() -> None:
    p = profile(condition("C7A.1"), ki67(60))
    assert p.who_grade.value == "high-grade-nec" and p.ki67_percent.value == 60


def test_no_pathology_grade_unknown() -> None:
    p = profile(pnet())
    assert p.who_grade.value is None and p.ki67_percent.value is None and p.mitotic_count.value is None


def test_ki67_as_a_component_of_a_pathology_panel() -> None:
    panel = observation(None, text="Surgical pathology panel", rid="panel-1", when="2026-09-01",
                        component=[{"code": {"coding": [{"system": "http://loinc.org", "code": "29593-1"}]},
                                    "valueQuantity": {"value": 14, "unit": "%"}},
                                   {"code": {"text": "Tumour size"}, "valueQuantity": {"value": 2.1, "unit": "cm"}}])
    p = profile(ileal_net(), panel)
    assert p.ki67_percent.value == 14 and p.who_grade.value == "G2"
    assert p.ki67_percent.sources[0].reference == "Observation/panel-1" and p.ki67_percent.date == "2026-09-01"

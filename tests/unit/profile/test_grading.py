"""WHO 2019 grade and Ki-67 band boundaries (net-decision-model.md section 3; seed 003 Table 1, seed 004)."""

from __future__ import annotations

import pytest

from cds_service.profile.grading import grade_by_ki67, grade_by_mitoses, higher_grade, ki67_band


@pytest.mark.parametrize(("ki67", "grade"), [(0, "G1"), (2.9, "G1"), (3, "G2"), (20, "G2"), (20.1, "G3"), (90, "G3")])
def test_who_grade_by_ki67_boundaries(ki67: float, grade: str) -> None:
    assert grade_by_ki67(ki67) == grade


def test_ki67_boundary_2_9_is_G1() -> None:
    assert grade_by_ki67(2.9) == "G1"


def test_ki67_boundary_3_is_G2() -> None:
    assert grade_by_ki67(3) == "G2"


def test_ki67_boundary_20_is_G2() -> None:
    assert grade_by_ki67(20) == "G2"


def test_ki67_boundary_20_1_is_G3() -> None:
    assert grade_by_ki67(20.1) == "G3"


@pytest.mark.parametrize(("count", "grade"), [(0, "G1"), (1, "G1"), (2, "G2"), (20, "G2"), (21, "G3")])
def test_who_grade_by_mitoses_boundaries(count: float, grade: str) -> None:
    assert grade_by_mitoses(count) == grade


def test_discordant_measures_take_the_higher_grade() -> None:
    assert higher_grade("G1", "G2") == "G2"
    assert higher_grade("G3", "G2") == "G3"
    assert higher_grade(None, "G1") == "G1"
    assert higher_grade(None, None) is None


@pytest.mark.parametrize(("ki67", "band"), [(2.9, "G1"), (3, "low-G2"), (9.9, "low-G2"), (10, "high-G2"),
                                            (20, "high-G2"), (20.1, "G3")])
def test_ki67_band_boundaries(ki67: float, band: str) -> None:
    assert ki67_band(ki67) == band

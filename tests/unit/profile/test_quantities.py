"""Parsing Ki-67, mitoses and lab values (net-decision-model.md section 2 rows ki67_percent, mitotic_count,
labs). Ranges take the upper bound, '<x' is just below x, '>x' just above; 0-100 % or rejected."""

from __future__ import annotations

import pytest

from cds_service.profile.quantities import read_ki67, read_mitoses, read_number


@pytest.mark.parametrize(("value", "expected"), [
    ({"valueQuantity": {"value": 15, "unit": "%"}}, 15.0),
    ({"valueQuantity": {"value": 15, "code": "%", "system": "http://unitsofmeasure.org"}}, 15.0),
    ({"valueQuantity": {"value": 15, "unit": "{percent}"}}, 15.0),
    ({"valueQuantity": {"value": 0.15, "unit": "1"}}, 15.0),
    ({"valueQuantity": {"value": 0.15}}, 15.0),
    ({"valueQuantity": {"value": "12.5", "unit": "%"}}, 12.5),
    ({"valueString": "15%"}, 15.0),
    ({"valueString": "2-5 %"}, 5.0),
    ({"valueString": "Ki-67: 25 %"}, 25.0),
    ({"valueString": "Ki67 8,5%"}, 8.5),
    ({"valueRange": {"low": {"value": 2, "unit": "%"}, "high": {"value": 5, "unit": "%"}}}, 5.0),
    ({"valueInteger": 7}, 7.0),
])
def test_ki67_variants(value: dict, expected: float) -> None:
    r = read_ki67(value)
    assert r.value == pytest.approx(expected) and not r.rejected


def test_ki67_fraction_is_noted() -> None:
    r = read_ki67({"valueQuantity": {"value": 0.15, "unit": "1"}})
    assert any("fraction" in n for n in r.notes)


def test_ki67_less_than_is_graded_just_below() -> None:
    r = read_ki67({"valueString": "<3%"})
    assert 2.9 < r.value < 3 and r.shown == "<3 %"  # type: ignore[operator]


def test_ki67_less_than_2_percent() -> None:
    assert read_ki67({"valueString": "<2%"}).value == pytest.approx(1.99)


def test_ki67_greater_than_is_graded_just_above() -> None:
    r = read_ki67({"valueString": ">20%"})
    assert 20 < r.value < 20.1  # type: ignore[operator]


def test_ki67_quantity_comparator() -> None:
    assert read_ki67({"valueQuantity": {"value": 3, "comparator": "<", "unit": "%"}}).value < 3  # type: ignore[operator]


def test_ki67_range_note_says_upper_bound() -> None:
    assert any("upper bound" in n for n in read_ki67({"valueString": "2-5 %"}).notes)


@pytest.mark.parametrize("value", [
    {"valueQuantity": {"value": 150, "unit": "%"}},
    {"valueQuantity": {"value": -1, "unit": "%"}},
    {"valueString": "-5%"},
    {"valueString": "n/a"},
    {"valueString": "pending"},
    {"valueQuantity": {"value": 15, "unit": "mg/dL"}},
    {"valueQuantity": {"value": "abc", "unit": "%"}},
    {"valueQuantity": "15"},
    {"valueRange": {"low": {"value": 20}, "high": {"value": 120}}},
])
def test_ki67_bad_values_are_rejected_with_a_note_never_clamped(value: dict) -> None:
    r = read_ki67(value)
    assert r.value is None and r.rejected and r.notes


def test_ki67_150_percent_note_says_outside_range() -> None:
    assert "outside 0-100" in read_ki67({"valueQuantity": {"value": 150, "unit": "%"}}).notes[-1]


@pytest.mark.parametrize(("value", "expected", "approximate"), [
    ({"valueQuantity": {"value": 5, "unit": "/2mm2"}}, 5.0, False),
    ({"valueQuantity": {"value": 5, "unit": "per 2 mm²"}}, 5.0, False),
    ({"valueQuantity": {"value": 12, "unit": "/10HPF"}}, 12.0, True),
    ({"valueQuantity": {"value": 12, "unit": "per 10 high-power fields"}}, 12.0, True),
    ({"valueString": "5 per 10 HPF"}, 5.0, True),
    ({"valueString": "3/2mm2"}, 3.0, False),
    ({"valueInteger": 4}, 4.0, False),
])
def test_mitoses_variants(value: dict, expected: float, approximate: bool) -> None:
    r = read_mitoses(value)
    assert r.value == expected and r.approximate is approximate


def test_mitoses_per_10_hpf_flagged_approximate() -> None:
    r = read_mitoses({"valueQuantity": {"value": 3, "unit": "/10HPF"}})
    assert any("approximate (per 10 HPF)" in n for n in r.notes)


def test_mitoses_negative_rejected() -> None:
    r = read_mitoses({"valueQuantity": {"value": -2, "unit": "/2mm2"}})
    assert r.value is None and r.rejected


@pytest.mark.parametrize("unit", ["ng/mL", "ug/L", "nmol/L", "U/L"])
def test_lab_values_keep_their_unit(unit: str) -> None:
    r = read_number({"valueQuantity": {"value": 120, "unit": unit}})
    assert (r.value, r.unit) == (120.0, unit)


def test_lab_less_than_keeps_the_number_and_notes_it() -> None:
    r = read_number({"valueString": "<5"})
    assert r.value == 5.0 and any("<5" in n for n in r.notes)


def test_lab_text_kept_when_not_numeric() -> None:
    r = read_number({"valueString": "hemolysed"})
    assert r.value is None and r.shown == "hemolysed"

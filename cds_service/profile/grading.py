"""WHO 2019 grade and Ki-67 band (net-decision-model.md section 3; seed 003 Table 1; seed 004).

WHO 2019 for digestive NETs: Ki-67 G1 <3 %, G2 3-20 %, G3 >20 %; mitoses per 2 mm2 G1 <2, G2 2-20,
G3 >20. Discordant measures -> the higher grade. NEC is high grade with no G number (callers handle it).
Ki-67 band for GI NETs (004): G1 <3; low-G2 3 to <10; high-G2 10-20; G3 >20.
"""

from __future__ import annotations

from cds_service.profile.model import Ki67Band, WhoGrade

_ORDER: dict[str, int] = {"G1": 1, "G2": 2, "G3": 3}


def grade_by_ki67(ki67_percent: float) -> WhoGrade:
    """WHO 2019 grade from the Ki-67 index: <3 G1, 3-20 G2, >20 G3."""
    if ki67_percent < 3:
        return "G1"
    if ki67_percent <= 20:
        return "G2"
    return "G3"


def grade_by_mitoses(per_2mm2: float) -> WhoGrade:
    """WHO 2019 grade from the mitotic count per 2 mm2: <2 G1, 2-20 G2, >20 G3."""
    if per_2mm2 < 2:
        return "G1"
    if per_2mm2 <= 20:
        return "G2"
    return "G3"


def higher_grade(a: WhoGrade | None, b: WhoGrade | None) -> WhoGrade | None:
    """The higher of two WHO grades (discordant -> higher); None when both are unknown."""
    if a is None:
        return b
    if b is None:
        return a
    return a if _ORDER[a] >= _ORDER[b] else b


def ki67_band(ki67_percent: float) -> Ki67Band:
    """The GI NET Ki-67 band (004): G1 <3, low-G2 3 to <10, high-G2 10-20, G3 >20."""
    if ki67_percent < 3:
        return "G1"
    if ki67_percent < 10:
        return "low-G2"
    if ki67_percent <= 20:
        return "high-G2"
    return "G3"

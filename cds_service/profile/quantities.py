"""Reading Ki-67, mitotic counts and lab values from Observation values (net-decision-model.md section 2).

Ki-67: valueQuantity in % (or a fraction <= 1 with unit "1" or none, x100), valueString ("15%", "<2%",
"2-5 %", "Ki-67: 25 %"), valueRange (upper bound). "<x" reads as just below x, ">x" as just above x, a
range as its upper bound (the conservative grade). Values outside 0-100 % are rejected, never clamped.
Mitoses: per 2 mm2; per 10 HPF is used as is and flagged approximate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cds_service.profile.codes import index
from cds_service.profile.fhirread import as_dict, as_str, finite_float, to_float

# "<3 %" is graded as just below 3, ">20 %" as just above 20 (section 2).
BELOW_ABOVE = 0.01

_PERCENT_UNITS = frozenset({"%", "percent", "{percent}", "pct", "% positive", "%{positive}"})
_FRACTION_UNITS = frozenset({"", "1", "{ratio}", "ratio", "fraction", "{fraction}"})
_LABEL_RE = re.compile(r"ki-?\s?67|mib-?1|proliferation index|index", re.IGNORECASE)
_VALUE_RE = re.compile(
    r"(?P<cmp><=|>=|<|>|≤|≥|less than|greater than|up to|more than)?\s*"
    r"(?P<a>\d+(?:[.,]\d+)?)\s*(?P<pa>%|percent)?"
    r"(?:\s*(?:-|–|—|to)\s*(?P<b>\d+(?:[.,]\d+)?)\s*(?P<pb>%|percent)?)?",
    re.IGNORECASE,
)
_NEGATIVE_RE = re.compile(r"^\s*[-−]\s*\d")
_HPF_RE = re.compile(r"hpf|high[- ]power", re.IGNORECASE)
_2MM_RE = re.compile(r"2\s*\.?\s*mm|2mm", re.IGNORECASE)
_MM_RE = re.compile(r"mm", re.IGNORECASE)
_PER_AREA_RE = re.compile(r"(?:/|per)\s*\d+(?:\.\d+)?\s*(?:hpf|high[- ]power\s*fields?|mm2|mm²|mm\^2|mm|sq\.? ?mm)",
                          re.IGNORECASE)
_CMP = {"<": "<", "less than": "<", "≤": "<=", "<=": "<=", "up to": "<=", ">": ">", "greater than": ">",
        "more than": ">", "≥": ">=", ">=": ">="}


@dataclass(frozen=True)
class Reading:
    """A value read from an Observation: `value` is what grading uses (None when rejected/absent)."""

    value: float | None
    unit: str | None = None
    shown: str = ""  # the value as a reader should see it, e.g. "<3 %", "2-5 %", "12 /10 HPF"
    notes: tuple[str, ...] = ()
    approximate: bool = False
    rejected: bool = False  # a value was there but could not be used


@dataclass(frozen=True)
class _Number:
    value: float
    comparator: str | None  # "<", "<=", ">", ">=" or None
    upper: float | None = None  # set for a range a-b
    percent: bool = False


def _fmt(x: float) -> str:
    return f"{x:g}"


def _apply_comparator(n: _Number) -> tuple[float, str | None]:
    """The value to grade with and a note, for comparators and ranges."""
    if n.upper is not None:
        return n.upper, f"range {_fmt(n.value)}-{_fmt(n.upper)}: upper bound {_fmt(n.upper)} used (conservative grade)"
    if n.comparator == "<":
        return max(n.value - BELOW_ABOVE, 0.0), f"'<{_fmt(n.value)}' graded as just below {_fmt(n.value)}"
    if n.comparator == ">":
        return n.value + BELOW_ABOVE, f"'>{_fmt(n.value)}' graded as just above {_fmt(n.value)}"
    if n.comparator in ("<=", ">="):
        return n.value, f"'{n.comparator}{_fmt(n.value)}' read as {_fmt(n.value)}"
    return n.value, None


def _parse_text_number(text: str) -> tuple[list[_Number], bool]:
    """Numbers in free text (labels like "Ki-67:" removed); second item is True for a negative number."""
    cleaned = _LABEL_RE.sub(" ", text).strip(" :=\t")
    if _NEGATIVE_RE.match(cleaned):
        return [], True
    found: list[_Number] = []
    for m in _VALUE_RE.finditer(cleaned):
        a = finite_float(m.group("a").replace(",", "."))
        b = finite_float(m.group("b").replace(",", ".")) if m.group("b") else None
        if a is None or (m.group("b") and b is None):
            continue  # hundreds of digits: not a number anyone measured
        cmp = _CMP.get((m.group("cmp") or "").lower())
        percent = bool(m.group("pa") or m.group("pb"))
        if b is not None and b < a:
            a, b = b, a
        found.append(_Number(a, cmp, b, percent))
    return found, False


def _shown(n: _Number, unit: str) -> str:
    if n.upper is not None:
        return f"{_fmt(n.value)}-{_fmt(n.upper)} {unit}".strip()
    return f"{n.comparator or ''}{_fmt(n.value)} {unit}".strip()


def _quantity(value: Any) -> tuple[_Number | None, str | None, list[str], bool]:
    """(number, unit, notes, present) from a Quantity dict."""
    q = as_dict(value)
    notes: list[str] = []
    number, was_string = to_float(q.get("value"))
    present = "value" in q
    if was_string:
        notes.append("decimal sent as a string")
    unit = as_str(q.get("unit")) or as_str(q.get("code"))
    if number is None:
        return None, unit, notes, present
    cmp = _CMP.get(as_str(q.get("comparator")) or "")
    return _Number(number, cmp), unit, notes, present


def _range(value: Any) -> tuple[_Number | None, str | None, list[str]]:
    r = as_dict(value)
    low, lunit, lnotes, _ = _quantity(r.get("low"))
    high, hunit, hnotes, _ = _quantity(r.get("high"))
    notes = lnotes + hnotes
    if high is not None and low is not None:
        return _Number(low.value, None, high.value), hunit or lunit, notes
    if high is not None:
        return _Number(high.value, None, high.value), hunit, notes + ["range without a low bound"]
    if low is not None:
        return _Number(low.value, ">="), lunit, notes + ["range without a high bound: low bound used"]
    return None, None, notes


def read_ki67(observation: dict[str, Any]) -> Reading:
    """The Ki-67 index in % from an Observation (section 2 ki67_percent)."""
    notes: list[str] = []
    number: _Number | None = None
    unit: str | None = None
    if "valueQuantity" in observation:
        number, unit, qnotes, _ = _quantity(observation["valueQuantity"])
        notes += qnotes
        if number is not None:
            u = (unit or "").strip().lower()
            if u in _PERCENT_UNITS:
                pass
            elif u in _FRACTION_UNITS:
                if number.value <= 1:
                    number = _Number(number.value * 100, number.comparator)
                    shown_unit = unit or "none"
                    notes.append(f"fraction {_fmt(number.value / 100)} (unit '{shown_unit}') read as "
                                 f"{_fmt(number.value)} %")
                else:
                    notes.append(f"unit '{unit or 'none'}' with a value above 1: read as %")
            else:
                rejection = f"Ki-67 rejected: unit '{unit}' is not a percentage"
                return Reading(None, unit, f"{_fmt(number.value)} {unit}", (*notes, rejection), rejected=True)
    elif "valueRange" in observation:
        number, unit, rnotes = _range(observation["valueRange"])
        notes += rnotes
    elif "valueString" in observation or "valueCodeableConcept" in observation:
        coded_text = as_str(as_dict(observation.get("valueCodeableConcept")).get("text"))
        text = as_str(observation.get("valueString")) or coded_text
        numbers, negative = _parse_text_number(text or "")
        if holds_no_result(text or "", numbers):
            return Reading(None, "%", text or "", (f"Ki-67 not read: '{text}' holds no result (pending or "
                                                   "pointing elsewhere); record the value itself",), rejected=True)
        if negative:
            return Reading(None, "%", text or "", (f"Ki-67 rejected: negative value '{text}'",), rejected=True)
        if not numbers:
            return Reading(None, "%", text or "", (f"Ki-67 rejected: no number in '{text}'",), rejected=True)
        number = max(numbers, key=lambda n: n.upper if n.upper is not None else n.value)
        if len(numbers) > 1:
            notes.append(f"several numbers in '{text}': the highest used")
        if not number.percent:
            notes.append(f"'{text}' has no % sign: read as %")
        notes.append(f"parsed from text '{text}'")
    elif "valueInteger" in observation:
        n, _ = to_float(observation.get("valueInteger"))
        number = _Number(n, None) if n is not None else None
        notes.append("valueInteger read as %")
    if number is None:
        present = any(k.startswith("value") for k in observation)
        msg = "Ki-67 rejected: value could not be read" if present else "Ki-67 observation has no value"
        return Reading(None, "%", "", (*notes, msg), rejected=present)
    shown = _shown(number, "%")
    top = number.upper if number.upper is not None else number.value
    if number.value < 0 or top > 100:
        return Reading(None, "%", shown, (*notes, f"Ki-67 rejected: {shown} is outside 0-100 %"), rejected=True)
    value, note = _apply_comparator(number)
    if note:
        notes.append(note)
    return Reading(value, "%", shown, tuple(notes))


def holds_no_result(text: str, numbers: list[_Number], unit_stated: bool = False) -> bool:
    """A value text that is a note, not a result: "pending", "see addendum 2", "refer to report of 03/05"
    (mappings/observations.yaml no_result_text). Its numbers are addendum numbers or dates, never the
    value; only a percentage (or, for mitoses, a count per area or HPF) counts as a result (section 2,
    invariant 5)."""
    if not text or index("observations").text("no_result_text", text) is None:
        return False
    return not unit_stated and not any(n.percent for n in numbers)


def read_mitoses(observation: dict[str, Any]) -> Reading:
    """Mitotic count per 2 mm2 (section 2 mitotic_count); per 10 HPF kept as is, flagged approximate."""
    notes: list[str] = []
    number: _Number | None = None
    unit_text = ""
    if "valueQuantity" in observation:
        number, unit, qnotes, _ = _quantity(observation["valueQuantity"])
        notes += qnotes
        q = as_dict(observation["valueQuantity"])
        unit_text = " ".join(filter(None, (unit, as_str(q.get("code")))))
    elif "valueInteger" in observation:
        n, _ = to_float(observation.get("valueInteger"))
        number = _Number(n, None) if n is not None else None
    elif "valueRange" in observation:
        number, unit, rnotes = _range(observation["valueRange"])
        notes += rnotes
        unit_text = unit or ""
    elif "valueString" in observation:
        text = as_str(observation.get("valueString")) or ""
        numbers, negative = _parse_text_number(_PER_AREA_RE.sub(" ", text))
        if holds_no_result(text, numbers, bool(_PER_AREA_RE.search(text) or _HPF_RE.search(text))):
            return Reading(None, None, text, (f"mitotic count not read: '{text}' holds no result (pending or "
                                              "pointing elsewhere); record the count itself",), rejected=True)
        if negative:
            return Reading(None, None, text, (f"mitotic count rejected: negative value '{text}'",), rejected=True)
        if numbers:
            number = max(numbers, key=lambda n: n.upper if n.upper is not None else n.value)
            notes.append(f"parsed from text '{text}'")
        unit_text = text
    unit_text = unit_text or " ".join(filter(None, (
        as_str(as_dict(observation.get("code")).get("text")),
        as_str(as_dict(observation.get("method")).get("text")))))
    if number is None:
        present = any(k.startswith("value") for k in observation)
        msg = "mitotic count rejected: value could not be read" if present else "mitotic count observation has no value"
        return Reading(None, None, "", (*notes, msg), rejected=present)
    approximate = False
    if _HPF_RE.search(unit_text):
        unit = "/10 HPF"
        approximate = True
        notes.append("approximate (per 10 HPF): used as per 2 mm2")
    elif _2MM_RE.search(unit_text):
        unit = "/2 mm2"
    elif _MM_RE.search(unit_text):
        number = _Number(number.value * 2, number.comparator, number.upper * 2 if number.upper is not None else None)
        unit = "/2 mm2"
        notes.append("count per 1 mm2 doubled to per 2 mm2")
    else:
        unit = "/2 mm2"
        notes.append("unit not stated: read as per 2 mm2")
    shown = _shown(number, unit)
    if number.value < 0:
        return Reading(None, unit, shown, (*notes, f"mitotic count rejected: negative value {shown}"), rejected=True)
    value, note = _apply_comparator(number)
    if note:
        notes.append(note)
    return Reading(value, unit, shown, tuple(notes), approximate=approximate)


def read_number(observation: dict[str, Any]) -> Reading:
    """A lab value: number and unit as sent (never converted); "<5" keeps 5 with a note; text kept in `shown`."""
    plain = plain_quantity(observation)
    if plain is not None:
        return Reading(*plain)
    return _read_number(observation)


def plain_quantity(observation: dict[str, Any]) -> tuple[float, str | None, str] | None:
    """(value, unit, shown) of the common valueQuantity (a JSON number, no comparator), else None.

    Fast path (performance): read as `_read_number` reads it, without its intermediate objects (~1.5 us
    less per lab result; a 5,000-resource record has ~700 of them)."""
    quantity = observation.get("valueQuantity")
    if type(quantity) is dict and quantity.get("comparator") is None:
        raw = quantity.get("value")
        if type(raw) is int or type(raw) is float:
            number = finite_float(raw)  # None for integers too big for a float: the general reader rejects them
            if number is not None:
                unit = as_str(quantity.get("unit")) or as_str(quantity.get("code"))
                return number, unit, f"{number:g} {unit or ''}".strip()
    return None


def _read_number(observation: dict[str, Any]) -> Reading:
    """The general (tolerant) reader behind `read_number`."""
    notes: list[str] = []
    number: _Number | None = None
    unit: str | None = None
    if "valueQuantity" in observation:
        number, unit, qnotes, _ = _quantity(observation["valueQuantity"])
        notes += qnotes
    elif "valueInteger" in observation:
        n, _ = to_float(observation.get("valueInteger"))
        number = _Number(n, None) if n is not None else None
    elif "valueString" in observation:
        text = as_str(observation.get("valueString")) or ""
        numbers, negative = _parse_text_number(text)
        if len(numbers) != 1 or negative:
            return Reading(None, None, text, (f"no single number in '{text}'",), rejected=True)
        number = numbers[0]
        notes.append(f"parsed from text '{text}'")
    elif "valueCodeableConcept" in observation:
        cc = as_dict(observation["valueCodeableConcept"])
        return Reading(None, None, as_str(cc.get("text")) or "", ("coded value, not a number",))
    else:
        return Reading(None, None, "", ("no value",))
    if number is None:
        return Reading(None, unit, "", (*notes, "value could not be read"), rejected=True)
    if number.comparator:
        notes.append(f"reported as '{number.comparator}{_fmt(number.value)}'")
    value = number.upper if number.upper is not None else number.value
    return Reading(value, unit, _shown(number, unit or ""), tuple(notes))

"""Tolerant readers for FHIR JSON (net-decision-model.md section 2: "be liberal in what you accept").

Real EHR data sends arrays as single objects, decimals as strings and dates in partial precision. These
helpers never raise on a wrong type: they return an empty value and the caller records a note.
"""

from __future__ import annotations

import re
from datetime import date
from math import isfinite
from typing import Any

from cds_service.bounded_cache import text_cache
from cds_service.profile.model import Source

_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$")


def as_list(value: Any) -> list[Any]:
    """A list from a list, a single object (array sent as object) or None."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is an object; a one-element list holding an object is unwrapped."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]
    return {}


def as_str(value: Any) -> str | None:
    """A non-empty stripped string; numbers are turned into strings; anything else is None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return None


def to_float(value: Any) -> tuple[float | None, bool]:
    """(number, was_string): a JSON number or a numeric string ("12.5", "12,5"); else (None, False)."""
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        f = finite_float(value)
        return (f, False) if f is not None else (None, False)
    if isinstance(value, str) and _NUMBER_RE.match(value):
        f = finite_float(value.strip().replace(",", "."))
        return (f, True) if f is not None else (None, False)
    return None, False


def finite_float(value: int | float | str) -> float | None:
    """float(value) when it is a finite number; None for NaN, infinities and integers or digit strings too big
    for a float (a 401-digit lab value from a hostile FHIR server: unreadable, never an OverflowError)."""
    try:
        f = float(value)
    except (OverflowError, ValueError):
        return None
    return f if isfinite(f) else None


def parse_date(value: object) -> date | None:
    """The calendar day of a FHIR date/dateTime/instant; partial dates take the first day."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    return _parse_date(value)


@text_cache(maxsize=8192, max_chars=64)
def _parse_date(value: str) -> date | None:
    try:
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            return date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
        if len(value) >= 7 and value[4] == "-":
            return date(int(value[0:4]), int(value[5:7]), 1)
        if len(value) == 4 and value.isdigit():
            return date(int(value), 1, 1)
        return None
    except ValueError:
        return None


def first_date(resource: dict[str, Any], *fields: str) -> str | None:
    """The first of `fields` (dotted paths like "effectivePeriod.start") holding a readable date."""
    for path in fields:
        value: Any = resource
        for part in path.split("."):
            value = as_dict(value).get(part) if isinstance(value, (dict, list)) else None
        if isinstance(value, str) and parse_date(value) is not None:
            return value
    return None


_DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "Observation": ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "effectivePeriod.end",
                    "issued"),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "recordedDate", "assertedDate"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod.start", "issued"),
    "Procedure": ("performedDateTime", "performedPeriod.start", "performedPeriod.end", "occurrenceDateTime"),
    "ImagingStudy": ("started",),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
    "MedicationRequest": ("authoredOn",),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod.start", "occurenceDateTime"),
    "ServiceRequest": ("occurrenceDateTime", "occurrencePeriod.start", "authoredOn"),
    "FamilyMemberHistory": ("date",),
}


# The same fields split into path parts once (performance: resource_date runs for every lab Observation
# when the newest results are picked, ~3,500 times at 5,000 resources).
_DATE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    rtype: tuple(tuple(path.split(".")) for path in fields) for rtype, fields in _DATE_FIELDS.items()
}


def resource_date(resource: dict[str, Any]) -> str | None:
    """The clinically relevant date of a resource (effective, onset, performed, authored ...).

    The same answer as `first_date(resource, *_DATE_FIELDS[type])`, with the paths split in advance."""
    paths = _DATE_PATHS.get(resource.get("resourceType", ""), ())
    for parts in paths:
        value: Any = resource
        for part in parts:
            if type(value) is dict:
                value = value.get(part)
            else:
                value = as_dict(value).get(part) if isinstance(value, (dict, list)) else None
        if isinstance(value, str) and len(value) >= 4 and _parse_date(value) is not None:
            return value
    return None


def reference_of(resource: dict[str, Any]) -> str:
    """The relative reference of a resource ("Observation/k1"); "Observation/#" when it has no id."""
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if type(rtype) is str and type(rid) is str:  # fast path (performance): as_str of two strings, inlined
        rtype, rid = rtype.strip() or "Resource", rid.strip()
    else:
        rtype, rid = as_str(rtype) or "Resource", as_str(rid)
    return f"{rtype}/{rid}" if rid else f"{rtype}/#"


def source_of(resource: dict[str, Any], label: str = "", when: str | None = None) -> Source:
    """A Source for a resource with its date (invariant 6: every value has a dated source)."""
    return Source(reference_of(resource), when if when is not None else resource_date(resource), label)


def status_code(value: Any) -> str | None:
    """A status as a lower-case code: a plain string, or a CodeableConcept's first coding code/text."""
    if type(value) is dict:  # fast path (performance, ~600 calls per 500 resources): a first coding with a code
        coding = value.get("coding")
        if type(coding) is list and coding and type(coding[0]) is dict:
            first = coding[0].get("code")
            first = first.strip() if type(first) is str else None
            if first:
                return first.lower()
    return _status_code(value)


def _status_code(value: Any) -> str | None:
    """The general (tolerant) reader behind `status_code`."""
    if isinstance(value, str):
        return value.strip().lower() or None
    cc = as_dict(value)
    for coding in as_list(cc.get("coding")):
        code = as_str(as_dict(coding).get("code"))
        if code:
            return code.lower()
    text = as_str(cc.get("text"))
    return text.lower() if text else None


def display_of(*values: Any) -> str:
    """The first human-readable name (text, else a coding display) of CodeableConcepts or strings, as sent."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
        for cc in as_list(value):
            cc = as_dict(cc)
            text = as_str(cc.get("text"))
            if text:
                return text
            for coding in as_list(cc.get("coding")):
                display = as_str(as_dict(coding).get("display"))
                if display:
                    return display
    return ""


_TEXT_OF_CACHE: dict[tuple[Any, ...], str] = {}
_TEXT_OF_CACHE_SIZE = 4096  # cleared when full (EHR code texts repeat)
_TEXT_OF_CACHED_CHARS = 256  # longer texts are read uncached, so the cache keeps no large request strings


def text_of(*values: Any) -> str:
    """Lower-cased text from strings and CodeableConcepts (text and displays), for text rules."""
    # Fast path (performance): one well-formed CodeableConcept, the usual call (~220 per 500-resource
    # record), answered from a cache keyed by its text and displays; EHR code texts repeat. A second
    # value that is None (an absent field, e.g. DiagnosticReport.method) adds no text.
    if len(values) == 1 or (len(values) == 2 and values[1] is None):
        key = _concept_text_key(values[0])
        if key is not None:
            hit = _TEXT_OF_CACHE.get(key)
            if hit is None:
                if len(_TEXT_OF_CACHE) > _TEXT_OF_CACHE_SIZE:
                    _TEXT_OF_CACHE.clear()
                hit = _TEXT_OF_CACHE[key] = _text_of(values[:1])
            return hit
    return _text_of(values)


def _concept_text_key(value: Any) -> tuple[Any, ...] | None:
    """(text, displays) of a CodeableConcept whose text and coding displays are short strings or absent, else None."""
    if type(value) is not dict:
        return None
    text = value.get("text")
    if text is not None and (type(text) is not str or len(text) > _TEXT_OF_CACHED_CHARS):
        return None
    raw = value.get("coding")
    if raw is None:
        return text, ()
    if type(raw) is not list:
        return None
    displays = []
    for coding in raw:
        if type(coding) is not dict:
            return None
        display = coding.get("display")
        if display is not None and (type(display) is not str or len(display) > _TEXT_OF_CACHED_CHARS):
            return None
        displays.append(display)
    return text, tuple(displays)


def _text_of(values: tuple[Any, ...]) -> str:
    """The general reader behind `text_of`."""
    parts: list[str] = []
    for value in values:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, (dict, list)):
            for cc in as_list(value):
                cc = as_dict(cc)
                text = as_str(cc.get("text"))
                if text:
                    parts.append(text)
                for coding in as_list(cc.get("coding")):
                    display = as_str(as_dict(coding).get("display"))
                    if display:
                        parts.append(display)
    return " | ".join(parts).lower()

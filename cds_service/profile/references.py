"""The FHIR references behind a profile's facts (the resources a card may show as evidence)."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from cds_service.profile.model import Fact, PatientProfile

_SKIPPED_FIELDS = ("notes", "draft_orders")
_SCALARS = (str, int, float, bool, type(None))
# Per dataclass type: the fields _references visits as (name, holds `sources`), or None when no value of
# the type can hold a Fact or a `sources` field (LabResult, Source, ...), judged from its type hints.
_visit_plans: dict[type, tuple[tuple[str, bool], ...] | None] = {}


def _inert(hint: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether values of this type hint can never hold a Fact or a dataclass with a `sources` field."""
    if hint in _SCALARS or hint is type(None):
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType) or origin is tuple:
        return all(a is Ellipsis or _inert(a, seen) for a in typing.get_args(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and not issubclass(hint, Fact):
        return hint in seen or _visit_plan(hint, seen | {hint}) is None
    return False  # dict, list, Any, type variables, anything unknown: walk it


def _visit_plan(cls: type, seen: frozenset[type] = frozenset()) -> tuple[tuple[str, bool], ...] | None:
    if cls in _visit_plans:
        return _visit_plans[cls]
    plan = tuple((f.name, f.name == "sources") for f in dataclasses.fields(cls) if f.name not in _SKIPPED_FIELDS)
    try:
        hints = typing.get_type_hints(cls)
        leaf = not any(is_sources or not _inert(hints.get(name, Any), seen | {cls}) for name, is_sources in plan)
    except Exception:  # unresolvable hints: walk every field
        leaf = False
    _visit_plans[cls] = None if leaf else plan
    return _visit_plans[cls]


def fact_references(profile: PatientProfile) -> set[str]:
    """Every FHIR reference behind a fact of the profile (Fact.sources and `sources` fields, except in
    notes and draft orders). Subtrees whose types cannot hold either are skipped without walking them."""
    refs: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, _SCALARS):
            return
        if isinstance(value, Fact):
            refs.update(s.reference for s in value.sources)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, (tuple, list)):
            for item in value:
                collect(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            plan = _visit_plan(type(value))
            for name, is_sources in plan or ():
                item = getattr(value, name)
                if is_sources:
                    refs.update(s.reference for s in item)
                else:
                    collect(item)

    collect(profile)
    return refs

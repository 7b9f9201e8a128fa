"""Strict FHIR R4 checks (fhir.resources R4B models) on the resources a profile actually used.

The profile builder reads fields tolerantly (decision model section 2: be liberal in what you
accept). Here the resources that ended up behind a fact are validated strictly, so the cards can
say which inputs were not valid FHIR. Validating only those keeps large records fast.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cds_service.fhir.record import PatientRecord
from cds_service.profile.model import DataQualityNote


@cache
def _model(resource_type: str):  # noqa: ANN202
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        return None


def strict_errors(resource: dict) -> str | None:
    """The first strict-validation problem of a resource, or None when it is valid R4 (R4B model).

    Results are cached by the resource's canonical JSON (sorted keys): the same chart opened again, or
    the same resource in the next hook call, is not validated twice (strict validation costs ~0.1-0.3 ms
    per resource; the cache key ~0.01 ms). Bounded, per process.
    """
    try:
        key = json.dumps(resource, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # not JSON-serialisable: cannot be a cache key; validate directly
        return _strict_errors(resource)
    return _strict_errors_cached(key)


@lru_cache(maxsize=8192)
def _strict_errors_cached(canonical_json: str) -> str | None:
    return _strict_errors(json.loads(canonical_json))


def _strict_errors(resource: dict) -> str | None:
    model = _model(str(resource.get("resourceType")))
    if model is None:
        return f"unknown resourceType {resource.get('resourceType')!r}"
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("function-"))
        return f"{where or 'resource'}: {first.get('msg', 'invalid')}"
    except (ValueError, TypeError) as exc:
        return str(exc).splitlines()[0][:200]
    return None


def validate_used(record: PatientRecord, references: set[str]) -> list[DataQualityNote]:
    """A data-quality note for each used resource that is not strictly valid FHIR R4."""
    notes = []
    for reference in sorted(references):
        resource = record.get(reference)
        if resource is None:
            continue
        problem = strict_errors(resource)
        if problem:
            notes.append(DataQualityNote(
                f"{reference} is not valid FHIR R4 ({problem}); the fields needed were read tolerantly.",
                reference))
    return notes

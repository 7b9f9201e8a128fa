"""A normalized copy of a drafted order that is not strictly R4, so that a suggestion can be built from it.

EHRs (and the CDS Hooks sandbox) send drafts with a single object where R4 has an array, for example
`category: {...}` on a MedicationRequest. An update built from such a draft does not validate. The
copy wraps each such object in an array, guided by the R4B model's field types, and says which
fields it changed, so the card can tell the clinician (decision model section 7).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

_TYPE = re.compile(r"abc\.(\w+?)Type\b")


@cache
def _model(name: str) -> Any:
    try:
        return get_fhir_model_class(name)
    except (KeyError, ValueError):
        return None


def normalized(resource: dict) -> tuple[dict, list[str]]:
    """(copy with single objects wrapped where R4 wants arrays, the paths of the fields changed)."""
    model = _model(str(resource.get("resourceType")))
    if model is None:
        return resource, []
    changed: list[str] = []
    return _walk(model, resource, "", changed), changed


def _walk(model: Any, obj: dict, path: str, changed: list[str]) -> dict:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        field = model.model_fields.get(key)
        if field is None:
            out[key] = value
            continue
        annotation = str(field.annotation)
        match = _TYPE.search(annotation)
        inner = _model(match.group(1)) if match else None
        if "List[" in annotation and isinstance(value, dict):
            value = [value]
            changed.append(path + key)
        if inner is not None and isinstance(value, dict):
            value = _walk(inner, value, f"{path}{key}.", changed)
        elif inner is not None and isinstance(value, list):
            value = [_walk(inner, v, f"{path}{key}.", changed) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out

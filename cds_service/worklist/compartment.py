"""Which patient a resource of the export belongs to (the Patient compartment, as the export groups it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from cds_service.worklist.export import read_ndjson

PATIENT_PREFIX = "Patient/"
# patient_of in DuckDB's SQL over a `json` column (partition.py, prefilter.py read the NDJSON there)
PATIENT_SQL = ("CASE WHEN json->>'resourceType' = 'Patient' THEN json->>'id' ELSE nullif(regexp_extract("
               "coalesce(json->'subject'->>'reference', json->'patient'->>'reference'), 'Patient/([^/]+)', 1), '') END")


def patient_of(resource: dict) -> str | None:
    """The patient a compartment resource belongs to (Patient.id, or its subject/patient reference)."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) else None
    for key in ("subject", "patient"):
        value = resource.get(key)
        reference = value.get("reference") if isinstance(value, dict) else None
        if isinstance(reference, str) and PATIENT_PREFIX in reference:
            return reference.rsplit(PATIENT_PREFIX, 1)[1].split("/")[0] or None
    return None


def with_patients(files: Iterable[str | Path]) -> Iterator[tuple[str, dict]]:
    """(patient, resource) for every resource of the files that belongs to a patient."""
    for name in files:
        for resource in read_ndjson(Path(name)):
            patient = patient_of(resource)
            if patient is not None:
                yield patient, resource

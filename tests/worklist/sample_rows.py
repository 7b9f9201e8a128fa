"""The sample patients as worklist rows, evaluated once per session as of the sample set's date."""

from __future__ import annotations

from functools import cache

from cds_service.samples import Sample, list_samples, sample_set_as_of
from cds_service.worklist.evaluate import evaluate_patient
from cds_service.worklist.rows import WorklistRow

SAMPLES: list[Sample] = list_samples()
AS_OF = sample_set_as_of()


def resources_of(sample: Sample) -> tuple[str, list[dict]]:
    resources = [e["resource"] for e in sample.bundle()["entry"]]
    return next(r["id"] for r in resources if r["resourceType"] == "Patient"), resources


@cache
def sample_row(sample_id: str) -> WorklistRow:
    sample = next(s for s in SAMPLES if s.id == sample_id)
    return evaluate_patient(*resources_of(sample), {}, AS_OF)


def sample_rows() -> list[WorklistRow]:
    return [sample_row(s.id) for s in SAMPLES]

"""The embedded engine: partition the export by patient on disk, then evaluate buckets in a process pool.

Each worker process gets the shared resources and the as-of date once (its initializer), then loads one
bucket at a time and evaluates its patients with `evaluate_patient`, the hooks' own path. Rows come back
in bucket order and, within a bucket, in patient-id order, so a re-run writes the same file.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from cds_service.worklist.evaluate import evaluate_patient
from cds_service.worklist.export import BulkExport
from cds_service.worklist.partition import Bucket, bucket_count, partition, patients_in
from cds_service.worklist.rows import WorklistRow
from cds_service.worklist.shared import shared_resources

Progress = Callable[[int, int], None]  # (buckets done, buckets in all)

_worker: dict = {}


def _init_worker(shared: dict[str, dict], as_of: date) -> None:
    _worker["shared"] = shared
    _worker["as_of"] = as_of


def evaluate_bucket(bucket: Bucket, shared: dict[str, dict] | None = None,
                    as_of: date | None = None) -> list[WorklistRow]:
    """Every patient of one bucket, evaluated (in a worker: with what its initializer was given)."""
    shared = _worker.get("shared", {}) if shared is None else shared
    as_of = _worker["as_of"] if as_of is None else as_of
    return [evaluate_patient(patient, resources, shared, as_of) for patient, resources in patients_in(bucket)]


def run(export: BulkExport, *, as_of: date, workers: int = 2, only: set[str] | None = None,
        progress: Progress | None = None, partitioner: str = "duckdb",
        work_dir: Path | None = None) -> Iterator[WorklistRow]:
    """The worklist rows of the export's patients (of `only`'s, when a pre-filter gave a set)."""
    shared = shared_resources(export)
    with tempfile.TemporaryDirectory(prefix="net-cds-worklist-", dir=work_dir) as tmp:
        buckets = partition(export, Path(tmp), bucket_count(export), only, partitioner)
        if progress:
            progress(0, len(buckets))
        if workers <= 1:
            for done, bucket in enumerate(buckets, 1):
                yield from evaluate_bucket(bucket, shared, as_of)
                if progress:
                    progress(done, len(buckets))
            return
        context = multiprocessing.get_context("spawn")  # no forked DuckDB threads or locks
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(shared, as_of)) as pool:
            for done, rows in enumerate(pool.map(evaluate_bucket, buckets), 1):
                yield from rows
                if progress:
                    progress(done, len(buckets))

"""The Spark engine: the same per-patient function, grouped by Spark (local mode here, a cluster elsewhere).

Spark reads the NDJSON as text (gzip or not), finds each line's patient with its own JSON functions,
keeps the pre-filter's patients, groups by patient and hands each group to `evaluate_patient` (the hooks'
path) in its Python workers, with the shared Medications broadcast. The rows come back sorted by patient
id. Optional: `pip install 'net-cds[spark]'` (PySpark 4, Java 17+). Under spark-submit, on YARN,
Kubernetes or Databricks, the same code runs with the cluster's master (docs/worklist.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from datetime import date

import orjson

from cds_service.worklist.export import BulkExport
from cds_service.worklist.rows import Finding, WorklistRow
from cds_service.worklist.shared import SHARED_TYPES, shared_resources

Progress = Callable[[int, int], None]


def _session(workers: int):  # noqa: ANN202
    """Local mode on loopback with a modest heap, unless a cluster launched us: under spark-submit (a JVM
    started this Python: PYSPARK_GATEWAY_PORT), in a Databricks notebook (an active session) or with
    SPARK_MASTER set, the cluster's own master and settings are used as they are."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("net-cds-worklist")
    launched = os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_MASTER") \
        or "spark.master" in os.environ.get("PYSPARK_SUBMIT_ARGS", "")
    if not launched:
        builder = (builder.master(f"local[{workers}]")
                   .config("spark.driver.memory", os.environ.get("NET_CDS_SPARK_DRIVER_MEMORY", "1g"))
                   .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false"))
        return (builder.config("spark.sql.shuffle.partitions", str(max(4 * workers, 8)))
                .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    return builder.config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate()


def row_from_json(text: str) -> WorklistRow:
    data = orjson.loads(text)
    data["findings"] = tuple(Finding(*f) for f in data["findings"])
    return WorklistRow(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _row_json(row: WorklistRow) -> str:
    return orjson.dumps({**row.as_dict(), "findings": [tuple(f) for f in row.findings]}).decode()


def run(export: BulkExport, *, as_of: date, workers: int = 2, only: set[str] | None = None,
        progress: Progress | None = None) -> Iterator[WorklistRow]:
    """The worklist rows of the export's patients (of `only`'s), sorted by patient id."""
    import pandas as pd
    from pyspark.sql import functions as F  # noqa: N812

    spark = _session(workers)
    shared = spark.sparkContext.broadcast(shared_resources(export))
    files = [str(p) for t in export.types() if t not in SHARED_TYPES for p in export.files(t)]
    lines = spark.read.text(files)
    field = lambda path: F.get_json_object("value", path)  # noqa: E731
    patient = F.when(field("$.resourceType") == "Patient", field("$.id")).otherwise(F.regexp_extract(
        F.coalesce(field("$.subject.reference"), field("$.patient.reference")), "Patient/([^/]+)", 1))
    resources = lines.select(patient.alias("patient"), "value").where(F.col("patient").isNotNull()
                                                                       & (F.col("patient") != ""))
    if only is not None:
        kept = spark.createDataFrame([(p,) for p in sorted(only)] or [("",)], "patient string")
        resources = resources.join(F.broadcast(kept), "patient")

    def evaluate(group: pd.DataFrame) -> pd.DataFrame:
        from cds_service.worklist.evaluate import evaluate_patient

        parsed = sorted((orjson.loads(v) for v in group["value"]),
                        key=lambda r: (str(r.get("resourceType")), str(r.get("id"))))
        row = evaluate_patient(str(group["patient"].iloc[0]), parsed, shared.value, as_of)
        return pd.DataFrame({"patient": [row.patient_id], "row": [_row_json(row)]})

    rows = resources.groupBy("patient").applyInPandas(evaluate, "patient string, row string").orderBy("patient")
    # The rows arrive once Spark has grouped and sorted them: the bar then counts them against the patients.
    total = len(only) if only is not None else sum(1 for _ in export.iter_resources("Patient"))
    if progress:
        progress(0, total)
    try:
        for done, record in enumerate(rows.toLocalIterator(), start=1):
            yield row_from_json(record["row"])
            if progress:
                progress(done, max(total, done))
    finally:
        shared.unpersist()

"""The Spark engine (PySpark local mode) gives the same rows as the embedded engine (issue 16).

Needs PySpark and Java 17+ (`scripts/bootstrap --test` installs both); skipped without them outside CI,
a failure in CI (CI=true), where a skipped engine would be an untested one.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from cds_service.worklist import engine_local, prefilter
from cds_service.worklist.export import BulkExport

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
READY = importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None

pytestmark = pytest.mark.skipif(not READY and not IN_CI, reason="PySpark or Java missing: scripts/bootstrap --test")


def test_spark_rows_equal_the_embedded_engines_rows(bulk_export_gz):
    from cds_service.worklist import engine_spark

    export = BulkExport.open(bulk_export_gz)
    only = prefilter.nen_patient_ids(export)
    local = sorted(engine_local.run(export, as_of=export.as_of, workers=2, only=only), key=lambda r: r.patient_id)
    spark = list(engine_spark.run(export, as_of=export.as_of, workers=2, only=only))
    assert spark == local and len(spark) == len(only)
    assert any(r.findings for r in spark)

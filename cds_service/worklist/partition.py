"""Group an export's resources by patient in bounded memory: hash buckets on disk, one bucket at a time.

DuckDB (the default) reads the NDJSON, gzip or not, and writes Parquet buckets by patient in C++; without
DuckDB a plain-Python pass writes NDJSON buckets instead. Either way a worker later loads one bucket,
whose patients fit in memory, and gets each patient's resources together. Resources outside the Patient
compartment (Medication) are not bucketed: they are broadcast to every worker (`shared.py`).
"""

from __future__ import annotations

import os
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from cds_service.worklist.compartment import PATIENT_SQL, with_patients
from cds_service.worklist.export import BulkExport, ExportError
from cds_service.worklist.shared import SHARED_TYPES

BUCKET_BYTES = 48 * 1024 * 1024  # input bytes per bucket: a bucket's patients stay well under 1 GB in memory


@dataclass(frozen=True)
class Bucket:
    """One bucket of patients on disk, and how it was written."""

    path: Path
    kind: str  # "parquet" (DuckDB) or "ndjson" (plain Python)


MIN_BUCKETS = 16  # not tied to the worker count: the same export gives the same row order on any machine


def bucket_count(export: BulkExport) -> int:
    size = sum(p.stat().st_size for t in export.types() if t not in SHARED_TYPES for p in export.files(t))
    return max(MIN_BUCKETS, -(-size // BUCKET_BYTES))


def partition(export: BulkExport, folder: Path, buckets: int, only: set[str] | None = None,
              engine: str = "duckdb") -> list[Bucket]:
    """Write the export's compartment resources into `buckets` buckets under `folder`."""
    if engine == "duckdb":
        try:
            import duckdb  # noqa: F401
        except ImportError:
            engine = "python"
    if engine == "duckdb":
        return _partition_duckdb(export, folder, buckets, only)
    return _partition_python(export, folder, buckets, only)


DUCKDB_MEMORY = os.environ.get("NET_CDS_WORKLIST_DUCKDB_MEMORY", "1GB")  # DuckDB's own default: 80 % of RAM


def duckdb_connection():  # noqa: ANN201 - a duckdb connection
    """A DuckDB connection that spills to disk beyond DUCKDB_MEMORY instead of taking most of the machine."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = {sql_string(DUCKDB_MEMORY)}")
    return con


def _compartment_files(export: BulkExport) -> list[str]:
    return [str(p) for t in export.types() if t not in SHARED_TYPES for p in export.files(t)]


def _partition_duckdb(export: BulkExport, folder: Path, buckets: int, only: set[str] | None) -> list[Bucket]:
    import duckdb

    files = _compartment_files(export)
    if not files:  # an export with no patient data (a $export of an empty group): no buckets
        return []
    con = duckdb_connection()
    try:
        con.execute(f"SET temp_directory = {sql_string(str(folder / 'duckdb-tmp'))}")
        con.execute("SET preserve_insertion_order = false")
        listed = ", ".join(sql_string(f) for f in files)
        con.execute(f"CREATE TEMP VIEW resources AS SELECT {PATIENT_SQL} AS patient, json::VARCHAR AS json "
                    f"FROM read_json_objects([{listed}], format = 'newline_delimited')")
        where = "patient IS NOT NULL"
        if only is not None:
            con.execute("CREATE TEMP TABLE only_patients(patient VARCHAR)")
            con.executemany("INSERT INTO only_patients VALUES (?)", [(p,) for p in sorted(only)])
            where += " AND patient IN (SELECT patient FROM only_patients)"
        out = folder / "buckets"
        con.execute(f"COPY (SELECT hash(patient) % {buckets} AS bucket, patient, json FROM resources WHERE {where}) "
                    f"TO {sql_string(str(out))} (FORMAT parquet, PARTITION_BY (bucket))")
    except duckdb.Error as exc:  # a line that is not JSON, an unreadable file: the export's fault, named
        raise ExportError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
    finally:
        con.close()
    return [Bucket(path, "parquet") for path in sorted(out.glob("bucket=*"), key=lambda p: int(p.name[7:]))]


def sql_string(text: str) -> str:
    """A SQL string literal (file names are ours, but a folder may contain a quote)."""
    return "'" + text.replace("'", "''") + "'"


def _partition_python(export: BulkExport, folder: Path, buckets: int, only: set[str] | None) -> list[Bucket]:
    out = folder / "buckets"
    out.mkdir(parents=True, exist_ok=True)
    handles = [(out / f"bucket-{n}.ndjson").open("wb") for n in range(buckets)]
    try:
        for patient, resource in with_patients(_compartment_files(export)):
            if only is None or patient in only:
                handles[zlib.crc32(patient.encode()) % buckets].write(orjson.dumps([patient, resource]) + b"\n")
    finally:
        for handle in handles:
            handle.close()
    return [Bucket(out / f"bucket-{n}.ndjson", "ndjson") for n in range(buckets)]


def patients_in(bucket: Bucket) -> Iterator[tuple[str, list[dict]]]:
    """The bucket's patients, sorted by id, each with their resources sorted by type and id."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    if bucket.kind == "parquet":
        con = duckdb_connection()
        try:
            rows = con.execute("SELECT patient, json FROM read_parquet(?)",
                               [str(bucket.path / "*.parquet")]).fetchall()
        finally:
            con.close()
        for patient, text in rows:
            grouped[patient].append(orjson.loads(text))
    else:
        with bucket.path.open("rb") as lines:
            for line in lines:
                patient, resource = orjson.loads(line)
                grouped[patient].append(resource)
    for patient in sorted(grouped):  # resources in a fixed order too: DuckDB reads files in parallel
        yield patient, in_fixed_order(grouped[patient])


def _type_and_id(resource: dict) -> tuple[str, str]:
    return str(resource.get("resourceType")), str(resource.get("id"))


def in_fixed_order(resources: list[dict]) -> list[dict]:
    """By type and id; one resource given twice (an export may repeat it) by content as well, so the copy the
    record keeps (the first) never depends on the order the files were read in."""
    ordered = sorted(resources, key=_type_and_id)
    keys = [_type_and_id(r) for r in ordered]
    if len(set(keys)) == len(keys):
        return ordered
    return sorted(ordered, key=lambda r: (*_type_and_id(r), orjson.dumps(r, option=orjson.OPT_SORT_KEYS)))

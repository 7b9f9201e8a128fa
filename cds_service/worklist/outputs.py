"""Write the worklist: one row per patient, and the long form (one line per rule on a card) beside it.

`.csv` and `.ndjson` need nothing more; `.parquet` is written by DuckDB. The long form goes to
`<stem>.findings<suffix>`. Lists are joined with ";" in CSV and kept as lists elsewhere.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from cds_service.worklist.queues import queues_for
from cds_service.worklist.rows import FINDING_COLUMNS, ROW_COLUMNS, WorklistRow

SUFFIXES = (".csv", ".ndjson", ".parquet")
COLUMNS = (*ROW_COLUMNS, "queues")


def findings_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.findings{out.suffix}")


def row_record(row: WorklistRow) -> dict[str, Any]:
    """The row's columns, with the queues that list it."""
    return {**row.as_dict(), "queues": queues_for(row)}


def write_rows(rows: Iterable[WorklistRow], out: Path) -> Iterator[WorklistRow]:
    """Write `rows` to `out` (by suffix) and its long form beside it; yield each row once written."""
    if out.suffix not in SUFFIXES:
        raise ValueError(f"--out: {out.name} must end with one of {', '.join(SUFFIXES)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        yield from _parquet(rows, out)
        return
    with out.open("w", encoding="utf-8", newline="") as main, \
            findings_path(out).open("w", encoding="utf-8", newline="") as long:
        write, write_long = _writer(main, COLUMNS, out.suffix), _writer(long, FINDING_COLUMNS, out.suffix)
        for row in rows:
            write(row_record(row))
            for finding in row.finding_dicts():
                write_long(finding)
            yield row


def _writer(handle: Any, columns: tuple[str, ...], suffix: str):  # noqa: ANN202
    if suffix == ".ndjson":
        return lambda record: handle.write(orjson.dumps(record).decode() + "\n")
    table = csv.DictWriter(handle, fieldnames=columns)
    table.writeheader()
    return lambda record: table.writerow(
        {k: ";".join(v) if isinstance(v, tuple) else ("" if v is None else v) for k, v in record.items()})


def _parquet(rows: Iterable[WorklistRow], out: Path) -> Iterator[WorklistRow]:
    """NDJSON into a temporary folder, then DuckDB turns it into Parquet with typed columns."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="net-cds-out-") as tmp:
        staged = Path(tmp) / "rows.ndjson"
        yield from write_rows(rows, staged)
        con = duckdb.connect()
        try:
            for source, target, columns in ((staged, out, COLUMNS),
                                            (findings_path(staged), findings_path(out), FINDING_COLUMNS)):
                select = ", ".join(f'"{c}"' for c in columns)
                con.execute(f"COPY (SELECT {select} FROM read_json('{_quoted(source)}', format = 'newline_delimited', "
                            f"columns = {_types(columns)})) TO '{_quoted(target)}' (FORMAT parquet)")
        finally:
            con.close()


TYPES = {"in_scope": "BOOLEAN", "conditional": "BOOLEAN", "ki67_percent": "DOUBLE", "cards_critical": "INTEGER",
         "cards_warning": "INTEGER", "cards_info": "INTEGER", "rules": "VARCHAR[]", "topics": "VARCHAR[]",
         "notes": "VARCHAR[]", "overdue": "VARCHAR[]", "queues": "VARCHAR[]"}


def _types(columns: tuple[str, ...]) -> str:
    return "{" + ", ".join(f"'{c}': '{TYPES.get(c, 'VARCHAR')}'" for c in columns) + "}"


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")

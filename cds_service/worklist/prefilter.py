"""The NEN pre-filter: which patients of an export can the profile call a NEN patient at all?

The profile sets NEN status and scope from Conditions only (decision model v2, sections 1-2), read by
`profile.conditions.read_condition` with the code lists in `mappings/`. The pre-filter runs that same
reader, once per distinct Condition content (code, bodySite, extensions: a population repeats a few
thousand distinct diagnoses millions of times), with every status ignored: so it keeps a superset of
the patients the full run calls NEN (active or history, suspected included), and only those go on to
the per-patient evaluation. DuckDB does the grouping; without it a plain-Python pass does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from cds_service.profile.conditions import read_condition
from cds_service.worklist.compartment import PATIENT_SQL, with_patients
from cds_service.worklist.export import BulkExport
from cds_service.worklist.partition import duckdb_connection, sql_string

KEY_FIELDS = ("code", "bodySite", "extension")


def _key(resource: dict) -> str:
    return json.dumps({k: resource.get(k) for k in KEY_FIELDS}, sort_keys=True, separators=(",", ":"))


def is_nen_content(condition: dict) -> bool:
    """Whether a Condition with this content (KEY_FIELDS) is a NEN, or suspected NEN, for the profile,
    whatever its clinical and verification status."""
    content = {k: condition[k] for k in KEY_FIELDS if condition.get(k) is not None}
    hit = read_condition({"resourceType": "Condition", **content})
    return hit is not None and bool(hit.nen)


def nen_patient_ids(export: BulkExport) -> set[str]:
    """The patients with at least one Condition the profile reads as a NEN (status ignored)."""
    files = [str(p) for p in export.files("Condition")]
    if not files:
        return set()
    try:
        import duckdb  # noqa: F401 - only whether it is installed
    except ImportError:
        return _python_pass(files)
    con = duckdb_connection()
    try:
        listed = ", ".join(sql_string(f) for f in files)
        content = ("json_object('code', json->'code', 'bodySite', json->'bodySite', "
                   "'extension', json->'extension')::VARCHAR")
        con.execute(f"CREATE TEMP TABLE conditions AS SELECT {PATIENT_SQL} AS patient, {content} AS content "
                    f"FROM read_json_objects([{listed}], format = 'newline_delimited')")
        contents = [row[0] for row in con.execute("SELECT DISTINCT content FROM conditions").fetchall()]
        nen = [c for c in contents if is_nen_content(json.loads(c))]
        if not nen:
            return set()
        con.execute("CREATE TEMP TABLE nen_content(content VARCHAR)")
        con.executemany("INSERT INTO nen_content VALUES (?)", [(c,) for c in nen])
        rows = con.execute("SELECT DISTINCT patient FROM conditions WHERE patient IS NOT NULL "
                           "AND content IN (SELECT content FROM nen_content)").fetchall()
        return {row[0] for row in rows}
    finally:
        con.close()


def _python_pass(files: Iterable[str]) -> set[str]:
    verdicts: dict[str, bool] = {}
    patients: set[str] = set()
    for patient, resource in with_patients(files):
        if patient in patients:
            continue
        key = _key(resource)
        if key not in verdicts:
            verdicts[key] = is_nen_content(resource)
        if verdicts[key]:
            patients.add(patient)
    return patients

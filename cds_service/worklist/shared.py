"""Resources outside the Patient compartment that the profile dereferences, for every worker.

`Medication` is not in the Patient compartment, so a Bulk Data export puts it in its own file and a
patient's `medicationReference` only resolves if the worker evaluating that patient has the file.
Without it the profile notes an unresolvable Medication (never silently different cards).
"""

from __future__ import annotations

from cds_service.worklist.export import BulkExport

SHARED_TYPES = ("Medication",)


def shared_resources(export: BulkExport) -> dict[str, dict]:
    """The shared resources by relative reference ("Medication/id")."""
    shared: dict[str, dict] = {}
    for rtype in SHARED_TYPES:
        for resource in export.iter_resources(rtype):
            rid = resource.get("id")
            if isinstance(rid, str) and rid:
                shared[f"{rtype}/{rid}"] = resource
    return shared

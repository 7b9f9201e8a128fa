"""One patient's FHIR data for one request: what prefetch and fallback queries gave us.

The record is the only thing the profile builder reads. Resources stay as (tolerantly checked) JSON
dicts: real EHR data is often not strictly valid FHIR, and the decision model asks us to read the
fields we need liberally and note what was wrong rather than drop the resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from cds_service.profile.model import DataQualityNote

KeyOutcome = Literal["prefetch", "fetched", "null", "failed", "skipped"]


@dataclass
class PatientRecord:
    """The patient's resources, de-duplicated by type and id, plus how each prefetch key was obtained."""

    patient_id: str
    resources: list[dict] = field(default_factory=list)
    as_of: date | None = None  # the date the record is evaluated as of (the request's); None: the current date
    draft_orders: list[dict] = field(default_factory=list)  # order-sign context.draftOrders entries
    key_outcomes: dict[str, KeyOutcome] = field(default_factory=dict)
    notes: list[DataQualityNote] = field(default_factory=list)
    fetch_ms: dict[str, float] = field(default_factory=dict)  # fallback request label -> its wall time (ms)
    medication_reads: tuple[int, float] | None = None  # Medication reads after the searches: (count, wall ms)
    fallback_requests: int = 0  # FHIR requests made for this call (metrics)
    fallback_failures: int = 0  # of which failed or timed out
    _by_type: dict[str, list[dict]] = field(default_factory=dict, repr=False)
    _by_ref: dict[str, dict] = field(default_factory=dict, repr=False)

    def add(self, resource: dict, full_url: str | None = None) -> bool:
        """Add a resource unless one with the same type and id is there already."""
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str):
            return False
        rid = resource.get("id")
        if isinstance(rid, str) and rid:
            ref = f"{rtype}/{rid}"
            if ref in self._by_ref:
                return False
            self._by_ref[ref] = resource
        if full_url:
            self._by_ref.setdefault(full_url, resource)
        self.resources.append(resource)
        self._by_type.setdefault(rtype, []).append(resource)
        return True

    def add_alias(self, reference: str, resource: dict) -> None:
        """Make `resource` findable under another reference (a Bundle fullUrl such as urn:uuid:...)."""
        self._by_ref.setdefault(reference, resource)

    def extend(self, resources: Iterable[dict]) -> None:
        for resource in resources:
            self.add(resource)

    def of_type(self, *types: str) -> Iterator[dict]:
        for rtype in types:
            yield from self._by_type.get(rtype, ())

    def get(self, reference: str) -> dict | None:
        """A resource by relative reference ("Medication/123"); absolute URLs match on their tail."""
        if reference in self._by_ref:
            return self._by_ref[reference]
        parts = reference.rstrip("/").split("/")
        if len(parts) >= 2:
            return self._by_ref.get(f"{parts[-2]}/{parts[-1]}")
        return None

    @property
    def patient(self) -> dict | None:
        return self._by_ref.get(f"Patient/{self.patient_id}") or next(self.of_type("Patient"), None)

    def note(self, message: str, reference: str | None = None, field_name: str | None = None) -> None:
        self.notes.append(DataQualityNote(message, reference, field_name))

    @property
    def data_source(self) -> str:
        """'prefetch', 'fetched' or 'mixed', for the audit log."""
        kinds = {v for v in self.key_outcomes.values() if v in ("prefetch", "fetched", "null")}
        kinds = {"prefetch" if v == "null" else v for v in kinds}
        if kinds == {"fetched"}:
            return "fetched"
        if kinds == {"prefetch"} or not kinds:
            return "prefetch"
        return "mixed"


def resolve_medication(record: PatientRecord, resource: dict) -> dict | None:
    """The Medication a medication resource points to: contained, in the record, or None.

    Fallback fetching of referenced Medications happens in the data access layer before the
    record is complete, so by the time the profile is built a resolvable reference is in the record.
    """
    ref = resource.get("medicationReference")
    if not isinstance(ref, dict):
        return None
    target = ref.get("reference")
    if not isinstance(target, str) or not target:
        return None
    if target.startswith("#"):
        for contained in resource.get("contained") or ():
            if isinstance(contained, dict) and contained.get("id") == target[1:]:
                return contained
        return None
    return record.get(target)

"""The NET patient profile: FHIR record -> decision-model inputs with provenance (model sections 2-3)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cds_service.fhir.record import PatientRecord
    from cds_service.profile.model import PatientProfile

__all__ = ["build_profile"]


def build_profile(record: PatientRecord, today: date | None = None) -> PatientProfile:
    """The patient profile of one record (see cds_service.profile.build; imported lazily because
    cds_service.fhir.record imports the profile model)."""
    from cds_service.profile.build import build_profile as build

    return build(record, today)

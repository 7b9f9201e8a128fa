"""From a patient's record to a service's cards: the one path the hooks, the worklist and the timeline share.

Splitting it in two steps lets the hook endpoint time them separately (Server-Timing); nothing else
may build a profile or cards from a record another way.
"""

from __future__ import annotations

from typing import Any

from cds_service.fhir.record import PatientRecord
from cds_service.fhir.validation import validate_used
from cds_service.profile.model import PatientProfile
from cds_service.profile.references import fact_references
from cds_service.services.card_options import CardOptions
from cds_service.services.registry import handler_for
from cds_service.web.card_validation import valid_cards


def profile_of(record: PatientRecord) -> PatientProfile:
    """The patient's NET profile, with data-quality notes on the resources its facts rest on."""
    from cds_service.profile import build_profile  # the profile package is heavy; import on first use

    profile = build_profile(record)
    profile.notes.extend(validate_used(record, fact_references(profile)))
    return profile


def cards_of(service_id: str, profile: PatientProfile,
             options: CardOptions) -> tuple[list[dict], list[tuple[Any, list[str]]]]:
    """The service's cards for the profile that pass the CDS Hooks 2.0 checks, and the ones that did not."""
    return valid_cards(handler_for(service_id)(profile, options))

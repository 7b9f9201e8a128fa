"""net-patient-view: the next step, syndrome control, missing data and safety cards when a chart opens."""

from __future__ import annotations

from cds_service.cards import CardOptions, answer_cards
from cds_service.profile.model import PatientProfile
from cds_service.rules import evaluate
from cds_service.services.registry import cds_service


@cds_service("net-patient-view")
def patient_view(profile: PatientProfile, options: CardOptions) -> list[dict]:
    return answer_cards(evaluate(profile, "patient-view"), profile, options)

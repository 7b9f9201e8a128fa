"""net-patient-view: the NET profile, next step, missing data and safety cards when a chart opens."""

from __future__ import annotations

from cds_service.cards import render_cards
from cds_service.profile.model import PatientProfile
from cds_service.rules import evaluate
from cds_service.services.registry import cds_service


@cds_service("net-patient-view")
def patient_view(profile: PatientProfile) -> list[dict]:
    return render_cards(evaluate(profile, "patient-view"), profile)

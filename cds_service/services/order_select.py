"""net-order-select: the order-sign rules, on the orders just selected (CDS Hooks `order-select`).

Epic and other EHRs call order-select while the clinician is still choosing: an alert here interrupts
less than at signing. The request step keeps only the drafts named in `context.selections`
(web/hooks.py), so the same rules answer exactly as order-sign would for those drafts.
"""

from __future__ import annotations

from cds_service.cards import CardOptions, answer_cards
from cds_service.profile.model import PatientProfile
from cds_service.rules import evaluate
from cds_service.services.registry import cds_service


@cds_service("net-order-select")
def order_select(profile: PatientProfile, options: CardOptions) -> list[dict]:
    return answer_cards(evaluate(profile, "order-sign"), profile, options)

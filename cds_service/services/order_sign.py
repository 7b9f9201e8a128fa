"""net-order-sign: alerts on drafted PPI, SSA, Lu-177 dotatate, everolimus and sunitinib orders."""

from __future__ import annotations

from cds_service.cards import CardOptions, answer_cards
from cds_service.profile.model import PatientProfile
from cds_service.rules import evaluate
from cds_service.services.registry import cds_service


@cds_service("net-order-sign")
def order_sign(profile: PatientProfile, options: CardOptions) -> list[dict]:
    return answer_cards(evaluate(profile, "order-sign"), profile, options)

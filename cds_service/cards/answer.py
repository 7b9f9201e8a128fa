"""One hook answer: which cards, in which order (decision model section 7).

A critical safety card first, then the next-step card, then syndrome control, then the other warnings,
then info gaps, safety notes and follow-up. The profile card (X-9) is off by default: a clinician reads
the one-line profile at the top of the next-step card instead; `NET_CDS_PROFILE_CARD=on` adds it, last.
"""

from __future__ import annotations

from cds_service.cards.render import render_cards
from cds_service.profile.model import PatientProfile
from cds_service.rules.findings import Finding
from cds_service.services.card_options import CardOptions

_KIND_RANK = {"next-step": 1, "syndrome": 2}
_INFO_RANK = {"follow-up": 5}


def rank(f: Finding) -> int:
    """Position class of a finding's card in the answer (lower first)."""
    if f.kind == "profile":
        return 9
    if f.indicator == "critical":
        return 0
    if f.kind in _KIND_RANK:
        return _KIND_RANK[f.kind]
    if f.indicator == "warning":
        return 3
    return _INFO_RANK.get(f.kind, 4)


def arrange(findings: list[Finding], options: CardOptions | None = None) -> list[Finding]:
    """The findings that become cards, in the order a clinician should read them (stable within a class)."""
    options = options or CardOptions()
    kept = [f for f in findings if f.kind != "profile" or options.profile_card]
    return sorted(kept, key=rank)


SMART_LINK_LABEL = "NET timeline (history, next step, every rule)"


def answer_cards(findings: list[Finding], profile: PatientProfile, options: CardOptions | None = None) -> list[dict]:
    """The cards of one answer: arranged, rendered, no fact repeated across them; with the timeline app
    configured, each card links to it (a `smart` link: the EHR launches it with its own iss and launch)."""
    cards = render_cards(arrange(findings, options), profile)
    if options is not None and options.smart_app_url:
        for card in cards:
            card.setdefault("links", []).append({"label": SMART_LINK_LABEL, "url": options.smart_app_url,
                                                 "type": "smart"})
    return cards

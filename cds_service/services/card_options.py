"""Settings that change which cards an answer has (light: imported by the web layer at start-up)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardOptions:
    """`profile_card`: add the NET profile card (X-9), last (Settings.profile_card, NET_CDS_PROFILE_CARD).
    `smart_app_url`: the NET timeline app's launch URL; each card links to it (type smart) when set
    (Settings.smart_app_url, NET_CDS_SMART_APP_URL)."""

    profile_card: bool = False
    smart_app_url: str = ""

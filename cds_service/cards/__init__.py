"""Cards: findings rendered into CDS Hooks 2.0 card JSON from the templates and YAML in `cards/`.

Names are imported on first use: the web layer reads card data (source attributes) at start-up without
loading the renderer and the FHIR models it needs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CardOptions", "answer_cards", "arrange", "render_card", "render_cards"]


def __getattr__(name: str) -> Any:
    if name in ("answer_cards", "arrange"):
        from cds_service.cards import answer

        return getattr(answer, name)
    if name in ("render_card", "render_cards"):
        from cds_service.cards import render

        return getattr(render, name)
    if name == "CardOptions":
        from cds_service.services.card_options import CardOptions

        return CardOptions
    raise AttributeError(name)

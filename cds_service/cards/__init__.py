"""Cards: findings rendered into CDS Hooks 2.0 card JSON from the templates and YAML in `cards/`."""

from cds_service.cards.render import render_card, render_cards

__all__ = ["render_card", "render_cards"]

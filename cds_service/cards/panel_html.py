"""CDS Hooks cards as HTML, the way an EHR's side panel shows them: the one renderer of the demo page at `/`
and of docs/cards-demo.html (tools/render_cards_page.py).

Card detail is markdown rendered with markdown-it-py with raw HTML off (as a careful EHR does: text from
FHIR inside a card stays text, safety invariant 7); every other value (summary, labels, URLs, a suggestion's
resource) is HTML-escaped here. Indicator colours, suggestions and override reasons as in the CDS Hooks
sandbox's card list; `interactive=True` adds what the demo page's script needs to send feedback.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

CARDS_CSS = Path(__file__).resolve().parents[1] / "static" / "demo" / "cards.css"
_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_LINK_SCHEMES = ("http", "https")


def render_markdown(text: str) -> Markup:
    """Card markdown as HTML; raw HTML in it is shown as text, unsafe link targets are not linked."""
    return Markup(_MD.render(text or ""))


def _text_of(value: object) -> str:
    """The human text of a CodeableConcept-like value (its text, else its first coding's display)."""
    if not isinstance(value, dict):
        return ""
    codings = value.get("coding") or [{}]
    return str(value.get("text") or (codings[0] if isinstance(codings[0], dict) else {}).get("display") or "")


def resource_summary(resource: dict | None) -> str:
    """A line saying what a FHIR order is: its type, what is ordered and the dosage text, when present."""
    if not isinstance(resource, dict):
        return ""
    what = _text_of(resource.get("medicationCodeableConcept")) or _text_of(resource.get("code"))
    dosage = next((d.get("text") for d in resource.get("dosageInstruction") or () if isinstance(d, dict)), None)
    return " · ".join(str(part) for part in (resource.get("resourceType"), what, dosage) if part)


def _action_html(action: dict) -> str:
    kind = str(action.get("type", ""))
    target = resource_summary(action.get("resource")) or str(action.get("resourceId") or "")
    parts = [f'<span class="action-type">{escape(kind)}</span>']
    if target:
        parts.append(f'<span class="action-target">{escape(target)}</span>')
    if action.get("description"):
        parts.append(f'<span class="action-description">{escape(str(action["description"]))}</span>')
    return f"<li>{' '.join(parts)}</li>"


def _suggestion_html(suggestion: dict, interactive: bool) -> str:
    actions = "".join(_action_html(a) for a in suggestion.get("actions") or ())
    accept = (f'<button type="button" class="accept" data-suggestion="{escape(str(suggestion.get("uuid", "")))}">'
              "Accept (sends feedback)</button>" if interactive and suggestion.get("uuid") else "")
    return (f'<details class="suggestion"><summary>{escape(str(suggestion.get("label", "")))}</summary>'
            f'<p class="what">What it would do:</p><ul class="actions-list">{actions}</ul>{accept}</details>')


def _override_html(reasons: list[dict], interactive: bool) -> str:
    if interactive:
        buttons = "".join(
            f'<button type="button" class="reason" data-code="{escape(str(r.get("code", "")))}" '
            f'data-system="{escape(str(r.get("system", "")))}" data-display="{escape(str(r.get("display", "")))}">'
            f'{escape(str(r.get("display", "")))}</button>' for r in reasons)
    else:
        buttons = "".join(f'<li>{escape(str(r.get("display", "")))}</li>' for r in reasons)
        buttons = f"<ul>{buttons}</ul>"
    return (f'<details class="override"><summary>Dismiss…</summary><p class="what">Why is this card not '
            f'followed?</p><div class="reasons">{buttons}</div></details>')


def _link_html(link: dict) -> str:
    url, label = str(link.get("url", "")), escape(str(link.get("label", "")))
    if urlsplit(url).scheme not in _LINK_SCHEMES and not url.startswith("/"):
        return f'<span class="link">{label}</span>'
    return f'<a class="link" href="{escape(url)}">{label}</a>'


def card_html(card: dict, *, interactive: bool = False) -> Markup:
    """One card as the EHR panel shows it; `interactive`: override reasons and suggestions as buttons
    (with the card's uuid) for the demo page's feedback script."""
    indicator = escape(str(card.get("indicator", "info")))
    uuid = escape(str(card.get("uuid", "")))
    parts = [f'<article class="card {indicator}" data-card="{uuid}">',
             f'<div class="summary"><span class="indicator">{indicator}</span>'
             f'<span class="summary-text">{escape(str(card.get("summary", "")))}</span></div>',
             f'<div class="source">{escape(str((card.get("source") or {}).get("label", "")))}</div>',
             f'<div class="detail">{render_markdown(card.get("detail", ""))}</div>']
    actions = [_suggestion_html(s, interactive) for s in card.get("suggestions") or ()]
    if card.get("overrideReasons"):
        actions.append(_override_html(card["overrideReasons"], interactive))
    if actions:
        parts.append(f'<div class="actions">{"".join(actions)}</div>')
    links = [_link_html(link) for link in card.get("links") or ()]
    if links:
        parts.append(f'<div class="links">{"".join(links)}</div>')
    if interactive:
        parts.append('<p class="feedback-status" role="status" aria-live="polite"></p>')
    parts.append("</article>")
    return Markup("\n".join(parts))


def cards_html(cards: list[dict], *, interactive: bool = False, none: str = "No cards.") -> Markup:
    """Every card of one answer, in order (`none` when there is none)."""
    if not cards:
        return Markup(f'<p class="none">{escape(none)}</p>')
    return Markup("\n".join(card_html(c, interactive=interactive) for c in cards))

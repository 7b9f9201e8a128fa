"""Render five samples' cards (patient-view and order-sign) as an EHR side panel shows them: docs/cards-demo.html.

    .venv/bin/python tools/render_cards_page.py [--out docs/cards-demo.html]

Each answer comes from the service itself (the Flask app, called as an EHR calls it, default settings).
Card markdown is rendered with markdown-it-py with raw HTML off (as a careful EHR does); summaries, labels
and links are HTML-escaped. Indicator colours, suggestion buttons and guideline links as in the CDS Hooks
sandbox's card list. Regenerate after changing card templates, and look at it in a browser.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

from markdown_it import MarkdownIt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_service.app import create_app  # noqa: E402
from cds_service.samples import get_sample  # noqa: E402
from cds_service.services.registry import load_services  # noqa: E402
from cds_service.tiny_ehr import hook_request, prefetch_from_bundle  # noqa: E402

SAMPLES = ("net-si-progressing-on-ssa", "net-pnet-gastrinoma", "net-pnet-insulinoma", "net-colon-nec",
           "net-rectal-sstr-negative")
SERVICES = (("patient-view", "net-patient-view"), ("order-sign", "net-order-sign"))
MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
OUT = Path(__file__).resolve().parents[1] / "docs" / "cards-demo.html"

STYLE = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 24px;
       background: #eef1f4; color: #1d2329; }
h1 { font-size: 20px; margin: 0 0 4px; } p.lead { margin: 0 0 20px; color: #4a5560; max-width: 900px; }
section.patient { margin-bottom: 32px; } section.patient > h2 { font-size: 16px; margin: 0 0 8px; }
.row { display: flex; gap: 20px; align-items: flex-start; flex-wrap: wrap; }
.panel { width: 400px; background: #fff; border: 1px solid #c9d1d9; border-radius: 6px; padding: 10px; }
.panel > h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: #5b6670; margin: 0 0 8px; }
.card { border: 1px solid #d5dbe1; border-left: 6px solid #2b7bb9; border-radius: 4px; padding: 8px 10px;
        margin-bottom: 10px; background: #fff; }
.card.warning { border-left-color: #e8a33d; } .card.critical { border-left-color: #c62828; }
.summary { font-weight: 600; font-size: 14px; }
.indicator { display: inline-block; font-size: 11px; font-weight: 600; text-transform: uppercase;
             padding: 0 6px; border-radius: 3px; margin-right: 6px; color: #fff; background: #2b7bb9; }
.warning .indicator { background: #8f5a00; } .critical .indicator { background: #c62828; }
.source { font-size: 12px; color: #5b6670; margin: 2px 0 6px; }
.detail { font-size: 13px; } .detail p { margin: 6px 0; } .detail ul { margin: 4px 0; padding-left: 20px; }
.detail li { margin: 1px 0; }
.actions { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 6px; }
button { font: inherit; font-size: 12px; padding: 4px 10px; border-radius: 4px; border: 1px solid #2b7bb9;
         background: #2b7bb9; color: #fff; cursor: pointer; }
button.dismiss { background: #fff; color: #2b7bb9; }
a.link { font-size: 12px; color: #1f5f99; display: inline-block; margin: 4px 8px 0 0; }
.none { color: #5b6670; font-style: italic; }
"""


def answer(hook: str, service_id: str, sample_id: str, client) -> list[dict]:
    service = load_services()[service_id]
    sample = get_sample(sample_id)
    bundle = sample.bundle()
    drafts = sample.draft_orders() if service.takes_drafts else None
    body = hook_request(service, sample_id, prefetch=prefetch_from_bundle(service, bundle, sample_id),
                        draft_orders=drafts)
    response = client.post(f"/cds-services/{service_id}", json=body)
    return response.get_json()["cards"]


def card_html(card: dict) -> str:
    e = html.escape
    indicator = card["indicator"]
    parts = [f'<div class="card {e(indicator)}">',
             f'<div class="summary"><span class="indicator">{e(indicator)}</span>{e(card["summary"])}</div>',
             f'<div class="source">{e(card["source"]["label"])}</div>',
             f'<div class="detail">{MD.render(card.get("detail", ""))}</div>']
    buttons = [f'<button title="{e(a["description"])}">{e(s["label"])}</button>'
               for s in card.get("suggestions") or () for a in s["actions"][:1]]
    if card.get("overrideReasons"):
        buttons.append('<button class="dismiss">Dismiss…</button>')
    if buttons:
        parts.append(f'<div class="actions">{"".join(buttons)}</div>')
    links = [f'<a class="link" href="{e(link["url"])}">{e(link["label"])}</a>' for link in card.get("links") or ()]
    if links:
        parts.append(f'<div>{"".join(links)}</div>')
    parts.append("</div>")
    return "\n".join(parts)


def page(client, samples: tuple[str, ...] = SAMPLES) -> str:
    sections = []
    for sample_id in samples:
        panels = []
        for hook, service_id in SERVICES:
            cards = answer(hook, service_id, sample_id, client)
            body = "\n".join(card_html(c) for c in cards) or '<p class="none">No cards.</p>'
            panels.append(f'<div class="panel"><h3>{hook}</h3>\n{body}\n</div>')
        sections.append(f'<section class="patient"><h2>{html.escape(sample_id)}</h2>\n<div class="row">\n'
                        + "\n".join(panels) + "\n</div></section>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>NET-CDS cards as an EHR shows them</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>NET-CDS cards as an EHR side panel shows them</h1>\n"
            "<p class=\"lead\">Five synthetic sample patients: the cards of the chart opening (patient-view) and of "
            "signing the sample's drafted order (order-sign), with the service's default settings. Generated by "
            "<code>tools/render_cards_page.py</code>; markdown rendered with markdown-it-py, raw HTML off.</p>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", nargs="+", metavar="SAMPLE", help="only these samples (to look at a part)")
    args = parser.parse_args(argv)
    client = create_app({"auth": "disabled", "feedback_db": ":memory:"}).test_client()
    args.out.write_text(page(client, tuple(args.only or SAMPLES)), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

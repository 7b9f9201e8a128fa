"""Text from the record is data, never markup (safety invariant 7), checked through a real GFM renderer."""

from __future__ import annotations

import re

import pytest

from cds_service.cards.escape import Markdown, md_escape, plain
from tests.markup import HOSTILE, injected, render
from tests.unit.rules.rule_profiles import draft, profile

TAG = re.compile(r"<(?!/?p>)[a-z]", re.I)


@pytest.mark.parametrize("text", [
    HOSTILE, "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))", "![i](http://evil.com/i.png)",
    "http://evil.com", "https://evil.com/x?y=1", "//evil.com/x", "www.evil.com", "x@evil.com", "**b** __u__",
    "`c`", "<a href='http://evil.com'>x</a>", "&lt;script&gt;", "- item", "1. one", "# h", "> q", "| a | b |",
    "---", "===", "line\nbreak\n\n- list", "<!-- c -->", "<http://evil.com>", "\\<img src=x>", "\\\\[a](b)",
])
def test_escaped_text_renders_as_exactly_that_text(text: str) -> None:
    html = render(md_escape(text))
    assert not TAG.search(html) and not injected(html), html
    # the reader sees the characters that were sent (whitespace collapsed to single spaces)
    shown = html.removeprefix("<p>").removesuffix("</p>\n")
    unescaped = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert unescaped == " ".join(text.split())


def test_ordinary_text_stays_readable_in_the_raw_markdown() -> None:
    for text in ("omeprazole 40 mg delayed-release oral capsule", "7.4 GBq", "Ki-67 7 %", "a, b; c (d)",
                 "CrCl 82 mL/min", "NET: well differentiated"):
        assert md_escape(text) == text


def test_plain_summary_text_loses_markup_and_links() -> None:
    s = plain(HOSTILE)
    assert "<img" not in s and "<script" not in s and "[" not in s and "://" not in s and "@" not in s
    assert "www.evil" not in s and "evil.com" not in s
    assert plain("CrCl > 50 mL/min") == "CrCl > 50 mL/min"
    assert not TAG.search(render(s)) and not injected(render(s))


def test_only_the_projects_own_text_is_trusted() -> None:
    from cds_service.cards.escape import markdown_value

    assert markdown_value(Markdown("**own**")) == "**own**"
    assert markdown_value("**record**") == "\\*\\*record\\*\\*"
    assert markdown_value(None) == ""


def test_a_hostile_drug_name_in_a_draft_never_becomes_markup_on_the_card() -> None:
    from cds_service.cards import answer_cards
    from cds_service.rules import evaluate

    p = profile(site="pancreas", group="pancreas", functional="gastrinoma",
                draft_orders=(draft("ppi", "omeprazole " + HOSTILE),))
    cards = answer_cards(evaluate(p, "order-sign"), p)
    assert cards
    for c in cards:
        html = render(c["detail"])
        assert not injected(html, own=c["detail"].replace(md_escape("omeprazole " + HOSTILE), "")), html
        assert not injected(render(c["summary"])), c["summary"]
    assert any("**bold**" in render(c["detail"]) for c in cards)  # shown literally, as sent

"""Text from the record is data, never markup (decision model section 7, safety invariant 7).

The one place where card text is made safe. Card templates are rendered with `finalize=markdown_value`
(cards/data.py), so every `{{ value }}` a template prints goes through `md_escape` unless it is
`Markdown` (trusted text: the project's own YAML, already-rendered sections). A template cannot
forget to escape: it would have to mark a value trusted on purpose, and templates have no way to.
Summaries are plain text (`plain_value`): markup characters are dropped, not escaped.

`md_escape` keeps ordinary text readable in the raw markdown (only the characters that can start
markup are escaped) and covers what a GitHub-flavoured renderer does with text: HTML tags and entities,
emphasis, code, links and images, autolinks (`http://`, `//`, `www.`, e-mail), headings, lists, quotes,
tables and line structure.
"""

from __future__ import annotations

import re
from typing import Any


class Markdown(str):
    """Trusted markdown: the project's own text, printed as is."""

    __slots__ = ()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_SPACE = re.compile(r"\s+")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # `>` too: a value may start a line (block quote)
_PUNCT = set("\\`*_[]~|#!@")
_AUTOLINK = re.compile(
    r"(?<=\S):(?=\S)"  # scheme separators (http:, javascript:, mailto:) and anything like them
    r"|/(?=/)|(?<=/)/"  # protocol-relative //host
    r"|(?<=[A-Za-z0-9])\.(?=[A-Za-z])"  # host names (www.evil.com, a.b.org)
)
_LINE_START = re.compile(r"^ *([-+=]|\d+(?=[.)](?: |$)))")


def md_escape(text: Any) -> str:
    """`text` as literal GFM text: one line, nothing in it can become markup, a link or an image."""
    s = _SPACE.sub(" ", _CONTROL.sub(" ", str(text)))  # one line; spaces kept (", " between items)
    s = _AUTOLINK.sub(lambda m: "\x00" + m.group(0), s)  # marked for a backslash below
    out = []
    for ch in s:
        if ch == "\x00":
            out.append("\\")
        elif ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    s = "".join(out)
    m = _LINE_START.match(s)
    if m:  # a list marker, setext underline or ordered-list number at the start of a line
        at = m.end() if m.group(1)[0].isdigit() else m.start(1)
        s = s[:at] + "\\" + s[at:]
    return s


_TAG = re.compile(r"<[^<>]*>")
_PLAIN_DROP = re.compile(r"<(?=[A-Za-z/!?])|[\[\]`*_|~#\\]")  # `<` only where it could open a tag
_PLAIN_LINK = re.compile(r"://|//|@")
_PLAIN_HOST = re.compile(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z])")  # evil.com -> "evil. com": no autolink


def plain(text: Any) -> str:
    """`text` for a plain-text field (the summary): tags and markup characters removed, links broken."""
    s = _SPACE.sub(" ", _CONTROL.sub(" ", str(text)))
    s = _PLAIN_DROP.sub("", _TAG.sub("", s))
    s = _PLAIN_HOST.sub(". ", _PLAIN_LINK.sub(" ", s))
    return _SPACE.sub(" ", s)  # not stripped: " (SSTR negative)" keeps its space; the summary is trimmed once


def markdown_value(value: Any) -> Any:
    """Jinja `finalize` of the card templates: trusted markdown as is, everything else escaped."""
    if isinstance(value, Markdown):
        return str(value)
    if value is None:
        return ""
    return md_escape(value)


def plain_value(value: Any) -> Any:
    """Jinja `finalize` of the summary templates."""
    return "" if value is None else plain(value)


def trusted(value: Any) -> Any:
    """YAML card text (and lists/dicts of it) marked as the project's own markdown."""
    if isinstance(value, str):
        return Markdown(value)
    if isinstance(value, list):
        return [trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    return value


def join(items: Any, separator: str = "") -> str:
    """Jinja `join` for card templates: each item escaped unless trusted; the result is trusted."""
    return Markdown(str(separator).join(markdown_value(i) for i in items))


def capfirst(text: Any) -> Any:
    """First letter upper-case, keeping the text trusted or untrusted as it was."""
    s = str(text)
    s = s[:1].upper() + s[1:]
    return Markdown(s) if isinstance(text, Markdown) else s

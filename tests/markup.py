"""Card text through a real GitHub-flavoured markdown renderer (markdown-it-py, gfm-like: raw HTML on,
tables, strikethrough, linkify), and what hostile text looks like (safety invariant 7)."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

GFM = MarkdownIt("gfm-like")  # HTML allowed, as in the CDS Hooks sandbox: the worst case for injection

HOSTILE = ('<img src="http://evil.example/x.png" onerror="alert(1)"> <span style="color:red">red</span> '
           '<script>alert(2)</script> [click](http://evil.com/a) ![pic](http://evil.com/p.png) '
           '<http://evil.com/auto> www.evil.com http://evil.com/bare //evil.com/x mail@evil.com '
           '**bold** _it_ `code` ~~del~~ | a | b | &lt;b&gt; &#60;i&#62;\n# heading\n- item\n> quote\n---\n1. one')

# What would show that markup from the input survived: tags, links, images, formatting.
_INJECTED = re.compile(r"<(img|span|script|a|strong|em|code|del|s|h\d|ul|ol|li|blockquote|hr|table|b|i|style|iframe)\b",
                       re.I)


def render(markdown: str) -> str:
    return GFM.render(markdown)


def injected(html: str, own: str = "") -> list[str]:
    """Tags/links in `html` (rendered from card text) that the project's own markdown `own` does not make."""
    found = [m.group(0) for m in _INJECTED.finditer(html)]
    allowed = [m.group(0) for m in _INJECTED.finditer(GFM.render(own))] if own else []
    for tag in allowed:
        if tag in found:
            found.remove(tag)
    return found

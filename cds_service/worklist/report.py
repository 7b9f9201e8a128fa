"""The worklist run as a small, self-contained HTML page: patients per queue, a bar chart, the errors.

Made from the audit record only (no patient data beyond counts). Every value goes through Jinja2's
autoescaping, the chart is inline SVG with a text alternative (its title and description, and the table
beside it), and nothing is loaded from elsewhere (no CDN, no script, no external font or stylesheet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from cds_service.worklist.queues import Queue, load_queues

BAR_HEIGHT = 18
LABEL_HEIGHT = 18  # each queue's title on its own line above its bar: long titles never overlap a bar
ROW_HEIGHT = LABEL_HEIGHT + BAR_HEIGHT + 10
BAR_WIDTH = 560
CHART_WIDTH = BAR_WIDTH + 60

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>NET-CDS worklist {{ a.export.asOf }}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #1a1a1a; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.source { color: #555; font-size: .85rem; }
.errors { font-weight: 600; color: {{ '#a40000' if a.errors else '#1a1a1a' }}; }
svg text { font: 13px system-ui, sans-serif; fill: #1a1a1a; }
</style>
</head>
<body>
<h1>NET-CDS worklist</h1>
<p class="meta">As of {{ a.export.asOf }} &middot; {{ a.patients }} patients
({{ a.patientsInScope }} with an in-scope NEN) &middot; engine {{ a.run.engine }}
&middot; code {{ a.code }} &middot; knowledge base {{ a.knowledgeBase.version }}
(reviewed {{ a.knowledgeBase.lastClinicalReview }})</p>
<p class="errors">Patients that could not be evaluated: {{ a.errors }}</p>

<h2>Patients per queue</h2>
<svg role="img" aria-labelledby="chart-title chart-desc" width="{{ width }}" height="{{ height }}"
     viewBox="0 0 {{ width }} {{ height }}" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Patients per worklist queue</title>
<desc id="chart-desc">{% for b in bars %}{{ b.title }}: {{ b.count }}{{ '; ' if not loop.last else '.' }}
{% endfor %}</desc>
{% for b in bars %}
<text x="0" y="{{ b.y + 13 }}">{{ b.title }}</text>
<rect x="0" y="{{ b.y + label_height }}" width="{{ b.width }}" height="{{ bar_height }}" fill="#2f6db5"></rect>
<text x="{{ b.width + 6 }}" y="{{ b.y + label_height + 14 }}">{{ b.count }}</text>
{% endfor %}
</svg>

<table>
<thead><tr><th>Queue</th><th class="n">Patients</th><th>Behind it</th></tr></thead>
<tbody>
{% for q in queues %}
<tr><td>{{ q.title }}</td><td class="n">{{ q.count }}</td><td class="source">{{ q.source }}</td></tr>
{% endfor %}
</tbody>
</table>

<p class="source">Export {{ a.export.sha256 }} &middot; run finished {{ a.run.finished }}
in {{ a.run.seconds }} s</p>
</body>
</html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_report(audit: dict[str, Any], defined: tuple[Queue, ...] | None = None) -> str:
    """The HTML page for one run's audit record (queue titles and sources from the queue file)."""
    titles = {q.id: q for q in (defined or load_queues())}
    queues = [{"title": titles[qid].title if qid in titles else qid, "count": int(n),
               "source": titles[qid].source if qid in titles else ""} for qid, n in audit["queues"].items()]
    top = max((q["count"] for q in queues), default=0) or 1
    bars = [{"title": q["title"], "count": q["count"], "y": i * ROW_HEIGHT,
             "width": round(BAR_WIDTH * q["count"] / top)} for i, q in enumerate(queues)]
    height = max(len(bars) * ROW_HEIGHT, ROW_HEIGHT)
    return _ENV.from_string(_TEMPLATE).render(a=audit, queues=queues, bars=bars, width=CHART_WIDTH, height=height,
                                              label_height=LABEL_HEIGHT, bar_height=BAR_HEIGHT)


def report_path(out: Path) -> Path:
    """Where `--report` puts the page by default: beside the output, `<stem>.report.html`."""
    return out.with_name(f"{out.stem}.report.html")


def write_report(audit: dict[str, Any], path: Path) -> Path:
    path.write_text(render_report(audit), encoding="utf-8")
    return path

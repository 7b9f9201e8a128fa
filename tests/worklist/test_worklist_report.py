"""The run's HTML report: counts per queue, an inline SVG chart with its text alternative, the errors,
every value escaped, nothing loaded from elsewhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from cds_service.worklist.audit import RunTally, audit_record
from cds_service.worklist.queues import Queue, load_queues, queues_for
from cds_service.worklist.report import BAR_WIDTH, render_report, report_path, write_report
from cds_service.worklist.rows import WorklistRow
from tests.worklist.sample_rows import AS_OF, sample_rows


def _record(rows: list[WorklistRow], **export: str) -> dict:
    tally = RunTally()
    for row in rows:
        tally.add(row, queues_for(row))
    return audit_record(export_path=Path(export.get("path", "export")), fingerprint=export.get("sha", "abc123"),
                        as_of=AS_OF.isoformat(), engine=export.get("engine", "local"), workers=2, prefiltered=None,
                        tally=tally, seconds=1.5, out=Path("w.csv"))


class _Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):  # noqa: ANN001
        self.text.append(data)


def test_counts_chart_text_alternative_and_errors(tmp_path):
    rows = sample_rows() + [WorklistRow("broken", error="ValueError at cds_service/x.py:1 in f")]
    record = _record(rows)
    html = render_report(record)
    page = _Page(html)
    text = " ".join(" ".join(page.text).split())
    assert "Patients that could not be evaluated: 1" in text
    svg = [a for t, a in page.tags if t == "svg"]
    assert len(svg) == 1 and svg[0]["role"] == "img" and svg[0]["aria-labelledby"] == "chart-title chart-desc"
    bars = [a for t, a in page.tags if t == "rect"]
    queues = load_queues()
    assert len(bars) == len(queues)
    top = max(record["queues"].values())
    desc = " ".join(html.split('<desc id="chart-desc">')[1].split("</desc>")[0].split())
    for q, bar in zip(queues, bars, strict=True):
        n = record["queues"][q.id]
        assert abs(float(bar["width"]) - BAR_WIDTH * n / top) <= 0.5  # the bar is the count
        assert f"{q.title}: {n}" in desc  # the chart's text alternative
        assert f"{q.title} {n}" in text  # and the table
    assert len(html) < 20_000
    path = write_report(record, report_path(tmp_path / "w.csv"))
    assert path == tmp_path / "w.report.html" and path.read_text(encoding="utf-8") == html


def test_the_report_loads_nothing_from_elsewhere():
    html = render_report(_record(sample_rows()))
    assert not [t for t, _ in _Page(html).tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "url(" not in html and "@import" not in html and "default-src 'none'" in html


def test_every_value_in_the_report_is_escaped():
    hostile = "<script>alert(1)</script>&\"'"
    q = Queue("q", hostile, frozenset({"X-1"}), hostile)
    record = _record([], sha=hostile, engine=hostile)
    record["queues"] = {"q": 1}
    record["code"] = hostile
    html = render_report(record, (q,))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#34;&#39;" in html
    assert not [t for t, _ in _Page(html).tags if t == "script"]

"""The timeline page: record -> profile (the hooks' code) -> rules.explain -> Timeline -> HTML.

Jinja with autoescape on: every value from FHIR is text, never markup. Charts are inline SVG placed by
`chart.py`, each with a title and the same values as tables (text alternatives). The stylesheet ships in
the package (`cds_service/static/timeline/`); the page loads nothing from anywhere else.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from cds_service.fhir.record import PatientRecord
from cds_service.rules import explain
from cds_service.services.answer import profile_of
from cds_service.timeline.chart import build_chart
from cds_service.timeline.model import Timeline, build_timeline

STATUS_ORDER = ("fired", "unknown", "suppressed", "superseded", "not-fired", "error")


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("cds_service.timeline", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def _summary(t: Timeline) -> str:
    """One sentence for the chart's accessible name: what it holds."""
    parts = [f"{len(t.diagnosis.ki67)} Ki-67 value(s)", f"{len(t.sstr)} SSTR stud(ies)",
             f"{len(t.therapies)} therapy line(s)", f"{len(t.status_events)} disease-status assessment(s)"]
    parts += [f"{m.label} {len(m.points)} value(s)" for m in t.markers]
    return ", ".join(parts)


def render_timeline(t: Timeline, css_url: str) -> str:
    """The HTML page of one timeline."""
    counts = Counter(r.status for r in t.rules)
    return _env().get_template("timeline.html.j2").render(
        t=t, c=build_chart(t), css_url=css_url, chart_summary=_summary(t),
        counts=[(s, counts[s]) for s in STATUS_ORDER if counts[s]])


def timeline_for(record: PatientRecord) -> Timeline:
    """The timeline of a record, through exactly the profile and rules the patient-view hook uses."""
    profile = profile_of(record)  # the one record -> profile path of the hooks (services/answer.py)
    return build_timeline(record, profile, explain(profile, "patient-view"))


def timeline_page(record: PatientRecord, css_url: str) -> str:
    return render_timeline(timeline_for(record), css_url)

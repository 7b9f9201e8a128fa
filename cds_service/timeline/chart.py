"""The timeline chart's geometry: one time axis shared by every lane, positions computed here.

The template only draws what this module placed (rectangles, marks, ticks, labels); it decides no
position and nothing clinical. Coordinates are in SVG user units of a fixed-width viewBox that the
page scales to its column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from cds_service.profile.fhirread import parse_date
from cds_service.timeline.model import MarkerSeries, Point, Timeline

WIDTH = 880  # viewBox width
GUTTER = 150  # left column for lane names
RIGHT = 16  # room after the as-of line
LANE = 22  # height of a lane (Ki-67, SSTR, a therapy, status)
MARKER = 64  # height of a marker chart
AXIS = 18


@dataclass(frozen=True)
class Mark:
    """A placed mark: x, y, a short text, a css class and the text for assistive technology."""

    x: float
    y: float
    text: str
    css: str
    title: str

    @property
    def left(self) -> bool:
        """Label to the left of the mark (near the right edge it would be cut off)."""
        return self.x > WIDTH - 90


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    css: str
    title: str
    open_end: bool = False  # still running at the as-of date


@dataclass
class Lane:
    """One row of the chart: its name, its y, and what is drawn in it."""

    name: str
    y: float
    height: float
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    shades: list[Bar] = field(default_factory=list)  # PPI periods (markers)
    band: Bar | None = None  # reference range (markers)
    band_height: float = 0.0
    line: str = ""  # polyline points (markers)
    scale: tuple[str, str] = ("", "")  # (top, bottom) y-axis labels (markers)


@dataclass
class Chart:
    width: int
    height: float
    gutter: int
    ticks: list[Mark]
    as_of_x: float | None
    lanes: list[Lane]
    start: date
    end: date


def _x(day: date, start: date, end: date) -> float:
    span = max((end - start).days, 1)
    return round(GUTTER + (day - start).days / span * (WIDTH - GUTTER - RIGHT), 1)


def _ticks(start: date, end: date) -> list[Mark]:
    years = range(start.year + (1 if (start.month, start.day) > (1, 1) else 0), end.year + 1)
    ticks = [Mark(_x(date(y, 1, 1), start, end), AXIS - 5, str(y), "tick", str(y)) for y in years]
    if len(ticks) <= 2:  # a short history: half years too
        ticks += [Mark(_x(date(y, 7, 1), start, end), AXIS - 5, f"{y}-07", "tick minor", f"July {y}")
                  for y in range(start.year, end.year + 1) if start <= date(y, 7, 1) <= end]
    return ticks


def _nice(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `value` (a readable top of a y axis)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= value)


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 10000 else f"{value:,.0f}"


def build_chart(t: Timeline) -> Chart:
    """Every lane of the timeline placed on one axis from the first dated event to the as-of date."""
    days = t.dates
    end = parse_date(t.as_of) or (days[-1] if days else date.today())
    first = days[0] if days else end - timedelta(days=365)
    start = min(first, end - timedelta(days=365)) - timedelta(days=30)
    end_axis = max(end, days[-1] if days else end) + timedelta(days=20)
    x = lambda d: _x(d, start, end_axis)  # noqa: E731
    lanes: list[Lane] = []
    y = float(AXIS + 4)

    def lane(name: str, height: float = LANE) -> Lane:
        nonlocal y
        new = Lane(name, y, height)
        lanes.append(new)
        y += height + 4
        return new

    if t.diagnosis.ki67 or t.diagnosis.mitoses:
        row = lane("Ki-67 / mitoses")
        for p in t.diagnosis.ki67:
            _dated(row, p.date, x, f"{_fmt(p.value)} %", "ki67", f"Ki-67 {_fmt(p.value)} % on {p.date}")
        for p in t.diagnosis.mitoses:
            _dated(row, p.date, x, f"{_fmt(p.value)} mit", "mitoses", f"mitotic count {_fmt(p.value)} {p.unit or ''} "
                   f"on {p.date}")
    if t.sstr:
        row = lane("SSTR imaging")
        for s in t.sstr:
            sign = {"positive": "+", "negative": "−"}.get(s.result or "", "?")
            _dated(row, s.date, x, sign, f"sstr {s.result or 'unknown'}",
                   f"{s.modality} {s.result or 'result not readable'} on {s.date}")
    for bar in t.therapies:
        row = lane(bar.label)
        for start_s, end_s in bar.periods:
            b0 = parse_date(start_s) or parse_date(end_s)
            if b0 is None:
                continue
            b1 = parse_date(end_s) if end_s else end
            b1 = max(b1 or b0, b0)
            width = max(x(b1) - x(b0), 3.0)
            title = f"{bar.label} from {start_s or '?'}" + (f" to {end_s}" if end_s else " (ongoing)")
            row.bars.append(Bar(x(b0), row.y + 5, round(width, 1), f"therapy {bar.group.replace(' ', '-')}",
                                title, end_s is None))
        for i, dose in enumerate(bar.doses, 1):
            _dated(row, dose, x, str(i), "dose", f"PRRT dose {i} on {dose}")
        for planned in bar.planned:
            _dated(row, planned, x, "", "dose planned", f"PRRT dose planned for {planned}")
    if t.status_events:
        row = lane("Disease status")
        for e in t.status_events:
            _dated(row, e.date, x, e.status, f"status {e.status}", f"{e.status} on {e.date}")
    for m in t.markers:
        _marker(lane(m.label + (f" ({m.unit})" if m.unit else ""), MARKER), m, t, x, end)
    return Chart(WIDTH, y + 2, GUTTER, _ticks(start, end_axis), x(end), lanes, start, end_axis)


def _dated(row: Lane, when: str | None, x, text: str, css: str, title: str) -> None:  # noqa: ANN001
    day = parse_date(when)
    if day is not None:
        row.marks.append(Mark(x(day), row.y + LANE / 2, text, css, title))


def _marker(row: Lane, m: MarkerSeries, t: Timeline, x, end: date) -> None:  # noqa: ANN001
    """A small line chart: reference band, PPI periods shaded, one point per value."""
    values = [p.value for p in m.points]
    top = _nice(max([*values, m.reference_high or 0.0]) * 1.1)
    y = lambda v: round(row.y + row.height - 4 - (v / top) * (row.height - 10), 1)  # noqa: E731
    row.scale = (_fmt(top), "0")
    if m.reference_high is not None or m.reference_low is not None:
        low, high = m.reference_low or 0.0, m.reference_high if m.reference_high is not None else top
        row.band = Bar(GUTTER, y(high), WIDTH - GUTTER - RIGHT, "reference", f"reference range {m.reference_text}")
        row.band_height = round(y(low) - y(high), 1)
    if m.ppi_confounded:
        for start_s, end_s in t.ppi_periods:
            b0 = parse_date(start_s)
            b1 = parse_date(end_s) if end_s else end
            if b0 is None or b1 is None:
                continue
            row.shades.append(Bar(x(b0), row.y, round(max(x(b1) - x(b0), 2.0), 1), "ppi",
                                  f"on a PPI from {start_s}" + (f" to {end_s}" if end_s else "")))
    placed: list[tuple[float, float, Point]] = []
    for p in m.points:
        day = parse_date(p.date)
        if day is not None:
            placed.append((x(day), y(p.value), p))
    row.line = " ".join(f"{px},{py}" for px, py, _ in placed)
    for px, py, p in placed:
        on_ppi = " drawn on a PPI" if p.on_ppi else ""
        row.marks.append(Mark(px, py, _fmt(p.value), "point" + (" on-ppi" if p.on_ppi else ""),
                              f"{m.label} {_fmt(p.value)} {p.unit or ''} on {p.date}{on_ppi}"))

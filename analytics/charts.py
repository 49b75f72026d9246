"""Geometry for the server-rendered SVG charts (no JavaScript chart library, works offline).

A day without a measurement is a gap: lines break there and no bar is drawn.

A chart is only ever scaled uniformly (the page and the PDF keep its aspect ratio), so its axis
labels are sized in view-box units: AXIS_FONT is the size the SVG itself carries (the PDF and
e-mail read no page CSS inside it) and the largest a stylesheet sets (narrow screens). The
margins leave room for labels of that size, so no label is cut at the view box's edge.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from later.numbers import figure

WIDTH = 640
HEIGHT = 220
AXIS_FONT = 18
# A generous average advance of the label fonts (DejaVu Sans, Liberation Sans), in ems.
AXIS_CHAR_WIDTH = 0.62
Y_LABEL_GAP = 8
PAD_TOP = 12
PAD_BOTTOM = 36
MAX_X_LABELS = 7


def label_width(text: str) -> float:
    """An upper estimate of an axis label's width in view-box units, at AXIS_FONT."""
    return len(text) * AXIS_CHAR_WIDTH * AXIS_FONT


# A day label ("Mar 28") is centred under its day, the last one at the right edge of the plot.
PAD_RIGHT = math.ceil(label_width("Mar 28") / 2) + 2
# Room for y labels up to five characters ("12.5K"); a chart with longer ones widens it.
PAD_LEFT = math.ceil(label_width("12.5K")) + Y_LABEL_GAP


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass
class Line:
    """One drawn series; `color` empty means the stylesheet's default line colour."""

    label: str
    color: str = ""
    segments: list[str] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    gaps: int = 0


@dataclass
class Chart:
    """`color` is the bars' colour; empty means the stylesheet's default bar colour."""

    kind: str
    label: str
    color: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    baseline: float = HEIGHT - PAD_BOTTOM
    left: float = PAD_LEFT
    right: float = WIDTH - PAD_RIGHT
    gaps: int = 0

    def fit_y_labels(self, labels: Sequence[str]) -> None:
        """Move the plot's left edge so that the widest y label ends Y_LABEL_GAP before it."""
        widest = max((label_width(label) for label in labels), default=0.0)
        self.left = max(PAD_LEFT, math.ceil(widest) + Y_LABEL_GAP)

    @property
    def axis_font(self) -> int:
        return AXIS_FONT

    @property
    def y_label_x(self) -> float:
        return self.left - Y_LABEL_GAP

    @property
    def points(self) -> list[Point]:
        return [point for line in self.lines for point in line.points]

    @property
    def empty(self) -> bool:
        return not self.points and not self.bars

    @property
    def legend(self) -> bool:
        return len(self.lines) > 1

    @property
    def gapped_lines(self) -> list[Line]:
        return [line for line in self.lines if line.gaps]


def compact(value: float) -> str:
    """12 300 -> '12.3K'; axis labels must stay short."""
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= threshold:
            text = f"{value / threshold:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks
    exponent = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * exponent:
            return multiple * exponent
    return 10 * exponent


def _y_scale(values: Sequence[float], *, from_zero: bool) -> tuple[float, float, list[float]]:
    low = 0.0 if from_zero else min(values)
    high = max(values)
    if high == low:
        high = low + (1 if low == 0 else abs(low) * 0.1 or 1)
        if not from_zero:
            low = max(0.0, low - (high - low))
    # Every series counts something (views, followers, posts): no tick between whole numbers.
    step = max(_nice_step(high - low), 1.0)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    ticks = [low + step * index for index in range(round((high - low) / step) + 1)]
    return low, high, ticks


def _x_ticks(days: Sequence[dt.date], xs: Sequence[float]) -> list[Tick]:
    if not days:
        return []
    every = max(1, math.ceil(len(days) / MAX_X_LABELS))
    return [
        Tick(position=x, label=f"{day:%b} {day.day}")
        for index, (day, x) in enumerate(zip(days, xs, strict=True))
        if index % every == 0
    ]


def _date_title(day: dt.date, value: float | None, unit: str) -> str:
    shown = "no data" if value is None else f"{figure(round(value))} {unit}"
    return f"{day:%a %b} {day.day}, {day.year}: {shown}"


def line_chart(
    series: Sequence[tuple[dt.date, int | None]], *, label: str, unit: str, color: str = ""
) -> Chart:
    return multi_line_chart(
        [LineSeries(label=label, series=series, color=color)], label=label, unit=unit
    )


@dataclass(frozen=True)
class LineSeries:
    label: str
    series: Sequence[tuple[dt.date, int | None]]
    color: str = ""


def multi_line_chart(lines: Sequence[LineSeries], *, label: str, unit: str) -> Chart:
    """Lines over the same days on one y-scale; each line breaks where it has no measurement."""
    chart = Chart(kind="line", label=label)
    if not lines:
        return chart
    days = [day for day, _ in lines[0].series]
    values = [float(value) for line in lines for _, value in line.series if value is not None]
    low, high, ticks = _y_scale(values, from_zero=False) if values else (0.0, 1.0, [])
    chart.fit_y_labels([compact(tick) for tick in ticks])
    span = chart.right - chart.left
    step = span / max(len(days) - 1, 1)
    xs = [chart.left + index * step for index in range(len(days))]
    chart.x_ticks = _x_ticks(days, xs)
    chart.gaps = sum(
        1 for index in range(len(days)) if all(line.series[index][1] is None for line in lines)
    )
    chart.lines = [
        Line(
            label=line.label,
            color=line.color,
            gaps=sum(1 for _, value in line.series if value is None),
        )
        for line in lines
    ]
    if not values:
        return chart
    plot_height = chart.baseline - PAD_TOP

    def y_of(value: float) -> float:
        return chart.baseline - (value - low) / (high - low) * plot_height

    chart.y_ticks = [Tick(position=y_of(tick), label=compact(tick)) for tick in ticks]
    for source, drawn in zip(lines, chart.lines, strict=True):
        prefix = f"{source.label} · " if len(lines) > 1 else ""
        current: list[str] = []
        for (day, value), x in zip(source.series, xs, strict=True):
            if value is None:
                if current:
                    drawn.segments.append(" ".join(current))
                current = []
                continue
            y = y_of(float(value))
            current.append(f"{x:.1f},{y:.1f}")
            drawn.points.append(Point(x=x, y=y, title=prefix + _date_title(day, value, unit)))
        if current:
            drawn.segments.append(" ".join(current))
    return chart


def bar_chart(
    series: Sequence[tuple[dt.date, int | None]], *, label: str, unit: str, color: str = ""
) -> Chart:
    chart = Chart(kind="bar", label=label, color=color)
    days = [day for day, _ in series]
    values = [float(value) for _, value in series if value is not None]
    low, high, ticks = _y_scale(values, from_zero=True) if values else (0.0, 1.0, [])
    chart.fit_y_labels([compact(tick) for tick in ticks])
    span = chart.right - chart.left
    slot = span / max(len(series), 1)
    xs = [chart.left + slot * (index + 0.5) for index in range(len(series))]
    chart.x_ticks = _x_ticks(days, xs)
    chart.gaps = sum(1 for _, value in series if value is None)
    if not values:
        return chart
    plot_height = chart.baseline - PAD_TOP
    chart.y_ticks = [
        Tick(
            position=chart.baseline - (tick - low) / (high - low) * plot_height, label=compact(tick)
        )
        for tick in ticks
    ]
    width = max(slot * 0.7, 1.0)
    for (day, value), x in zip(series, xs, strict=True):
        if value is None:
            continue
        height = (float(value) - low) / (high - low) * plot_height
        chart.bars.append(
            Bar(
                x=x - width / 2,
                y=chart.baseline - height,
                width=width,
                height=max(height, 0.0),
                title=_date_title(day, value, unit),
            )
        )
    return chart

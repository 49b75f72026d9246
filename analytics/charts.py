"""Geometry for the server-rendered SVG charts (no JavaScript chart library, works offline).

A day without a measurement is a gap: lines break there and no bar is drawn.

A chart is only ever scaled uniformly (the page and the PDF keep its aspect ratio), so its axis
labels are sized in view-box units: AXIS_FONT is the size the SVG itself carries (the PDF and
e-mail read no page CSS inside it) and the largest a stylesheet sets (narrow screens). The
margins leave room for labels of that size, so no label is cut at the view box's edge.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator, Sequence
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
# The least room between two x labels, in view-box units, and the most labels an x axis reads.
X_LABEL_GAP = 12
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


_SUFFIXES = ((1e9, "B"), (1e6, "M"), (1e3, "K"))
# A suffixed label needing more decimals than this ("1.20002M") is written in full instead.
MAX_SUFFIX_DECIMALS = 2


def _decimals(value: float) -> int:
    """How many decimals write `value` exactly (a nice step: 1, 2, 2.5 or 5 times 10^n)."""
    for places in range(10):
        scaled = value * 10**places
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, abs(scaled)):
            return places
    return 10


def y_labels(ticks: Sequence[float]) -> list[str]:
    """The y axis' labels, in the reader's notation, one unit and precision for the whole axis.

    The largest tick picks the unit (12,300 -> "12.3K") and the step the decimals, so two
    neighbouring ticks never read the same: 15,100 to 15,250 by 50 is "15.10K" ... "15.25K",
    not "15.1K, 15.1K, 15.2K, 15.2K". Where the unit would need more than two decimals the
    labels are written in full (998, 1,000, 1,002).
    """
    if not ticks:
        return []
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    largest = max(abs(tick) for tick in ticks)
    for threshold, suffix in _SUFFIXES:
        if largest >= threshold:
            decimals = _decimals(step / threshold)
            if decimals > MAX_SUFFIX_DECIMALS:
                break
            return [
                f"{figure(tick / threshold, decimals)}{suffix}" if tick else "0" for tick in ticks
            ]
    return [figure(tick, _decimals(step)) for tick in ticks]


def nice_steps(least: float, *, whole: bool = False) -> Iterator[float]:
    """Nice steps (1, 2, 2.5, 5 times 10^n) from the smallest one >= `least`, upwards.

    `whole` leaves out steps between whole numbers (0.5, 2.5): an axis of counts.
    """
    exponent = math.floor(math.log10(least)) if least > 0 else 0
    while True:
        for multiple in (1, 2, 2.5, 5):
            step = multiple * 10.0**exponent
            if step < least or (whole and not float(step).is_integer()):
                continue
            yield step
        exponent += 1


def _nice_step(span: float, ticks: int = 4) -> float:
    """The smallest whole nice step that splits `span` into at most `ticks` intervals."""
    return next(nice_steps(max(span / ticks, 1.0), whole=True))


def _y_scale(values: Sequence[float], *, from_zero: bool) -> tuple[float, float, list[float]]:
    low = 0.0 if from_zero else min(values)
    high = max(values)
    if high == low:
        high = low + (1 if low == 0 else abs(low) * 0.1 or 1)
        if not from_zero:
            low = max(0.0, low - (high - low))
    # Every series counts something (views, followers, posts): no tick between whole numbers.
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    ticks = [low + step * index for index in range(round((high - low) / step) + 1)]
    return low, high, ticks


def x_labels_fit(ticks: Sequence[Tick]) -> bool:
    """Whether an x axis can read these labels: at most MAX_X_LABELS, none closer than the gap.

    Each label is centred on its tick. Widths are in view-box units at the largest axis font,
    and a chart is only ever scaled uniformly, so labels apart here are apart at every rendered
    size (a 390 px phone included).
    """
    ordered = sorted(ticks, key=lambda tick: tick.position)
    return len(ordered) <= MAX_X_LABELS and all(
        right.position - left.position
        >= (label_width(left.label) + label_width(right.label)) / 2 + X_LABEL_GAP
        for left, right in itertools.pairwise(ordered)
    )


def spaced_x_ticks(ticks: Sequence[Tick]) -> list[Tick]:
    """Every n-th tick counted back from the last one, the smallest n whose labels fit.

    The last tick (the latest day) always keeps its label.
    """
    for every in range(1, len(ticks) + 1):
        chosen = list(ticks[::-1][::every])[::-1]
        if x_labels_fit(chosen):
            return chosen
    return list(ticks[-1:])


def _x_ticks(days: Sequence[dt.date], xs: Sequence[float]) -> list[Tick]:
    return spaced_x_ticks(
        [Tick(position=x, label=f"{day:%b} {day.day}") for day, x in zip(days, xs, strict=True)]
    )


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
    labels = y_labels(ticks)
    chart.fit_y_labels(labels)
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

    chart.y_ticks = [
        Tick(position=y_of(tick), label=text) for tick, text in zip(ticks, labels, strict=True)
    ]
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
    labels = y_labels(ticks)
    chart.fit_y_labels(labels)
    span = chart.right - chart.left
    slot = span / max(len(series), 1)
    xs = [chart.left + slot * (index + 0.5) for index in range(len(series))]
    chart.x_ticks = _x_ticks(days, xs)
    chart.gaps = sum(1 for _, value in series if value is None)
    if not values:
        return chart
    plot_height = chart.baseline - PAD_TOP
    chart.y_ticks = [
        Tick(position=chart.baseline - (tick - low) / (high - low) * plot_height, label=text)
        for tick, text in zip(ticks, labels, strict=True)
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

"""Chart geometry: axis ticks people can read."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.template.loader import render_to_string

from analytics import charts
from analytics.insights import retention_chart


def _days(values: list[int | None]) -> list[tuple[dt.date, int | None]]:
    start = dt.date(2026, 11, 1)
    return [(start + dt.timedelta(days=index), value) for index, value in enumerate(values)]


def test_a_chart_of_small_counts_has_whole_number_ticks() -> None:
    # Posts published per day were drawn against 0, 0.5, 1, 1.5, 2.
    chart = charts.bar_chart(_days([0, 1, None, 2, 1]), label="Posts published", unit="posts")
    assert [tick.label for tick in chart.y_ticks] == ["0", "1", "2"]
    line = charts.line_chart(_days([3, 4, 4, 3]), label="Followers", unit="followers")
    assert [tick.label for tick in line.y_ticks] == ["3", "4"]


def test_a_chart_of_large_counts_keeps_its_round_steps() -> None:
    chart = charts.bar_chart(_days([1200, 17400, 9000]), label="Video views", unit="views")
    assert [tick.label for tick in chart.y_ticks] == ["0", "5K", "10K", "15K", "20K"]


def _march(days: int) -> list[tuple[dt.date, int | None]]:
    start = dt.date(2026, 3, 28) - dt.timedelta(days=days - 1)
    return [(start + dt.timedelta(days=index), 12_000 + index) for index in range(days)]


@pytest.mark.parametrize("days", [7, 13])
def test_every_axis_label_fits_inside_the_view_box(days: int) -> None:
    # The last label read "Mar 2": "Mar 28" was centred on the right edge and cut in half.
    for chart in (
        charts.line_chart(_march(days), label="Followers", unit="followers"),
        charts.bar_chart(_march(days), label="Video views", unit="views"),
        charts.line_chart(_days([102_500, 104_000]), label="Followers", unit="followers"),
    ):
        for tick in chart.x_ticks:
            half = charts.label_width(tick.label) / 2
            assert tick.position - half >= 0 and tick.position + half <= chart.width, tick
        for tick in chart.y_ticks:
            assert chart.y_label_x - charts.label_width(tick.label) >= 0, tick
    last = charts.line_chart(_march(days), label="Followers", unit="followers").x_ticks[-1]
    assert last.label == "Mar 28"


def test_the_chart_keeps_its_aspect_ratio_in_the_page_and_the_pdf() -> None:
    chart = charts.line_chart(_march(7), label="Followers", unit="followers")
    html = render_to_string("analytics/includes/chart.html", {"chart": chart, "name": "f"})
    svg = re.search(r"<svg[^>]*>", html)
    assert svg is not None
    # A stretched view box squashed the axis text and drew the points as ellipses.
    assert "preserveAspectRatio" not in svg.group()
    assert 'viewBox="0 0 640 220" width="640" height="220"' in svg.group()
    assert ">Mar 28</text>" in html
    assert f'font-size="{charts.AXIS_FONT}"' in html


def _labels_overlap(ticks: list[charts.Tick]) -> list[tuple[str, str]]:
    """Neighbouring x labels, each centred on its tick at the largest axis font, that touch."""
    ordered = sorted(ticks, key=lambda tick: tick.position)
    return [
        (left.label, right.label)
        for left, right in itertools.pairwise(ordered)
        if right.position - left.position
        < (charts.label_width(left.label) + charts.label_width(right.label)) / 2
    ]


def test_neighbouring_y_labels_differ_when_a_small_step_sits_on_large_values() -> None:
    # The followers chart read "15.1K, 15.1K, 15.2K, 15.2K" for 15,100-15,250.
    values: list[int | None] = [15_100, 15_130, 15_180, 15_250, 15_220]
    chart = charts.line_chart(_days(values), label="Followers", unit="followers")
    assert [tick.label for tick in chart.y_ticks] == ["15.10K", "15.15K", "15.20K", "15.25K"]
    for tick in chart.y_ticks:
        assert chart.y_label_x - charts.label_width(tick.label) >= 0, tick


@pytest.mark.parametrize(
    ("low", "high"),
    [(15_100, 15_250), (1_200_010, 1_200_090), (998, 1_004), (2_000_000, 2_600_000)],
)
def test_every_y_tick_is_a_distinct_whole_number(low: int, high: int) -> None:
    chart = charts.line_chart(_days([low, high]), label="Followers", unit="followers")
    labels = [tick.label for tick in chart.y_ticks]
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    _, _, ticks = charts._y_scale([float(low), float(high)], from_zero=False)
    assert all(float(tick).is_integer() for tick in ticks), ticks


def test_a_count_axis_never_steps_by_two_and_a_half() -> None:
    # A span of 10 split in four gave 0, 2.5, 5, 7.5, 10 posts.
    chart = charts.bar_chart(_days([0, 3, 10, 7]), label="Posts published", unit="posts")
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]


@pytest.mark.parametrize("days", [7, 14, 30, 31, 90])
def test_day_labels_never_overlap(days: int) -> None:
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=i), 5) for i in range(days)]
    for chart in (
        charts.line_chart(series, label="Followers", unit="followers"),
        charts.bar_chart(series, label="Video views", unit="views"),
    ):
        assert len(chart.x_ticks) >= 2
        assert _labels_overlap(chart.x_ticks) == []
        assert chart.x_ticks[-1].label == f"{series[-1][0]:%b} {series[-1][0].day}"


@pytest.mark.parametrize("duration", [3, 15, 16, 60, 100, 150, 600])
def test_retention_labels_never_overlap(duration: int) -> None:
    # TikTok's curve has a point every tenth of the video; every point was labelled, so
    # "90 s 105 s 120 s" ran into one another.
    step = max(1, duration // 10)
    points = [(float(s), 100.0 - s * 50 / duration) for s in range(0, duration + 1, step)]
    chart = retention_chart(points)
    labels = [tick.label for tick in chart.x_ticks]
    assert len(labels) >= 2 and labels[0] == "0 s", labels
    assert _labels_overlap(chart.x_ticks) == [], labels
    for tick in chart.x_ticks:
        half = charts.label_width(tick.label) / 2
        assert tick.position - half >= 0 and tick.position + half <= chart.width, tick


def test_retention_labels_fall_on_round_seconds() -> None:
    # Points at irregular seconds are not labelled as they come ("0 s 1 s 3 s 4 s ...").
    points = [(0.0, 100.0), (1.0, 90.0), (3.0, 80.0), (4.0, 75.0), (7.0, 60.0), (60.0, 20.0)]
    labels = [tick.label for tick in retention_chart(points).x_ticks]
    assert labels == ["0 s", "10 s", "20 s", "30 s", "40 s", "50 s", "60 s"]


@pytest.mark.parametrize("last", [-5.0, float("inf"), 1e9])
def test_a_strange_retention_curve_still_draws(last: float) -> None:
    chart = retention_chart([(0.0, 100.0), (last, 40.0)])
    assert _labels_overlap(chart.x_ticks) == []

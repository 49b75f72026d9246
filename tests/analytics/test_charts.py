"""Chart geometry: axis ticks people can read."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string

from analytics import charts


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

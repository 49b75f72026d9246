"""Chart geometry: axis ticks people can read."""

from __future__ import annotations

import datetime as dt

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

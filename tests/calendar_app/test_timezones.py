"""Wall-clock times never shift: DST gaps and folds are caught and resolved explicitly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calendar_app.timezones import (
    AmbiguousLocalTime,
    InvalidTimeZone,
    NonexistentLocalTime,
    TimeInPast,
    require_future,
    resolve_local_time,
)


@pytest.mark.parametrize(
    "local,tz,suggested",
    [
        (datetime(2026, 3, 29, 2, 30), "Europe/Paris", "2026-03-29T03:30"),
        (datetime(2026, 3, 8, 2, 15), "America/New_York", "2026-03-08T03:15"),
    ],
)
def test_skipped_times_offer_the_next_valid_time(local, tz, suggested):
    with pytest.raises(NonexistentLocalTime) as exc:
        resolve_local_time(local, tz)
    assert exc.value.details["suggested_local"] == suggested
    assert f"{local:%H:%M} is skipped on {local:%Y-%m-%d} in {tz}" in exc.value.message
    assert f"use {suggested[11:]}?" in exc.value.message


@pytest.mark.parametrize(
    "local,tz,first_utc,second_utc",
    [
        (
            datetime(2026, 10, 25, 2, 30),
            "Europe/Paris",
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
        (
            datetime(2026, 11, 1, 1, 30),
            "America/New_York",
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        ),
    ],
)
def test_repeated_times_require_a_choice(local, tz, first_utc, second_utc):
    with pytest.raises(AmbiguousLocalTime) as exc:
        resolve_local_time(local, tz)
    assert [c["fold"] for c in exc.value.details["choices"]] == [0, 1]
    assert resolve_local_time(local, tz, 0).utc == first_utc
    assert resolve_local_time(local, tz, 1).utc == second_utc
    assert resolve_local_time(local, tz, 1).local_iso == local.strftime("%Y-%m-%dT%H:%M")


def test_ordinary_times_ignore_fold():
    resolved = resolve_local_time(datetime(2026, 7, 1, 9, 0), "America/New_York", 1)
    assert resolved.utc == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


def test_unknown_zone():
    with pytest.raises(InvalidTimeZone):
        resolve_local_time(datetime(2026, 7, 1, 9, 0), "Europe/Atlantis")


def test_past_is_refused():
    resolved = resolve_local_time(datetime(2026, 7, 1, 9, 0), "UTC")
    with pytest.raises(TimeInPast):
        require_future(resolved, datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    require_future(resolved, datetime(2026, 7, 1, 8, 59, tzinfo=UTC))

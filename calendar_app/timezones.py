"""Wall-clock times in a zone: resolve to UTC without ever silently shifting a post.

A local time can be nonexistent (skipped by a DST jump) or ambiguous (repeated when clocks
go back). Both are errors the user resolves explicitly: we offer the first valid time after
a gap, and ask which occurrence of a repeated time they mean.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from later.errors import ValidationFailed


class InvalidTimeZone(ValidationFailed):
    code = "invalid_time_zone"


class NonexistentLocalTime(ValidationFailed):
    code = "nonexistent_local_time"


class AmbiguousLocalTime(ValidationFailed):
    code = "ambiguous_local_time"


class TimeInPast(ValidationFailed):
    code = "time_in_past"


@dataclass(frozen=True)
class ResolvedTime:
    utc: datetime
    local: datetime  # naive wall-clock
    tz_name: str

    @property
    def local_iso(self) -> str:
        return self.local.strftime("%Y-%m-%dT%H:%M")


def get_zone(tz_name: str) -> zoneinfo.ZoneInfo:
    try:
        if not tz_name or tz_name not in zoneinfo.available_timezones():
            raise zoneinfo.ZoneInfoNotFoundError(tz_name)
        return zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimeZone(
            f"“{tz_name}” is not a time zone we know; use an IANA name such as Europe/Paris.",
            details={"time_zone": tz_name},
        ) from exc


def _roundtrip(local: datetime, zone: zoneinfo.ZoneInfo, fold: int) -> datetime:
    return local.replace(tzinfo=zone, fold=fold).astimezone(UTC).astimezone(zone)


def resolve_local_time(local: datetime, tz_name: str, fold: int | None = None) -> ResolvedTime:
    """UTC instant for naive wall-clock `local` in `tz_name`.

    `fold` picks the occurrence of a repeated time: 0 = first (before clocks go back),
    1 = second. Without it an ambiguous time raises AmbiguousLocalTime.
    """
    zone = get_zone(tz_name)
    local = local.replace(second=0, microsecond=0, tzinfo=None)
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if _roundtrip(local, zone, 0).replace(tzinfo=None) != local:
        after = _roundtrip(local, zone, 0).replace(tzinfo=None)
        if after < local:  # zoneinfo maps gap times with fold=0 back; fold=1 moves forward
            after = _roundtrip(local, zone, 1).replace(tzinfo=None)
        raise NonexistentLocalTime(
            f"{local:%H:%M} is skipped on {local:%Y-%m-%d} in {tz_name} (the clocks jump forward): "
            f"use {after:%H:%M}?",
            details={"suggested_local": after.strftime("%Y-%m-%dT%H:%M"), "time_zone": tz_name},
        )
    if first.utcoffset() != second.utcoffset():
        if fold not in (0, 1):
            first_utc = first.astimezone(UTC)
            second_utc = second.astimezone(UTC)
            raise AmbiguousLocalTime(
                f"{local:%H:%M} happens twice on {local:%Y-%m-%d} in {tz_name} (the clocks go "
                "back): choose the first or the second occurrence.",
                details={
                    "time_zone": tz_name,
                    "choices": [
                        {"fold": 0, "utc": first_utc.isoformat(), "label": _label(first)},
                        {"fold": 1, "utc": second_utc.isoformat(), "label": _label(second)},
                    ],
                },
            )
        chosen = second if fold == 1 else first
    else:
        chosen = first
    return ResolvedTime(utc=chosen.astimezone(UTC), local=local, tz_name=tz_name)


def _label(aware: datetime) -> str:
    return f"{aware:%H:%M} {aware.tzname()} (UTC{_offset(aware.utcoffset())})"


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def require_future(resolved: ResolvedTime, now: datetime) -> None:
    if resolved.utc <= now:
        raise TimeInPast(
            f"{resolved.local:%Y-%m-%d %H:%M} ({resolved.tz_name}) is in the past; "
            "pick a time in the future.",
            details={"scheduled_local": resolved.local_iso},
        )


def parse_local(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"“{value}” is not a date and time like 2026-03-29T14:30.", code="invalid_datetime"
        ) from exc


# People and spreadsheets write a time of day as "9:00", "09:00:00", "9" or "2:30 PM".
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?)?\s*([AaPp][Mm])?")


def clock_time(raw: str) -> time:
    """A wall-clock time typed by a person; ValueError for anything else (25:00, 9:60, 13 PM)."""
    match = _CLOCK.fullmatch(raw.strip())
    if not match:
        raise ValueError(raw)
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(raw)
        hour = hour % 12 + (12 if match[4].lower() == "pm" else 0)
    return time(hour, minute, second)

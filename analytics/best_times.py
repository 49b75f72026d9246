"""Best time to post: a weekday-by-hour heatmap in the workspace's time zone, and suggestions.

Two sources, each scored as an index where 1.0 is "an ordinary slot" and kept apart so the
page can label them:

- **Your posts**: every video's views at 24 h (the first snapshot 24-27 h after publishing,
  as in the posts table) divided by the account's typical views at 24 h around that time (the
  geometric mean over its posts within ±28 days, which follows steady growth without bias),
  so a growing account's later posts do not drown its earlier ones and accounts of different
  sizes can be pooled. A slot's index is shrunk towards 1.0 by `PRIOR_POSTS` imaginary
  ordinary posts: one lucky video does not make a best slot. The figure is stored per video
  (`VideoViews24h`) by the snapshot writer, so the heatmap reads one row per video.
- **Audience activity** (Business accounts): TikTok's hourly `audience_activity` per day,
  each hour as a share of that day's activity (again size-free), averaged per weekday.

TikTok's lag (fact sheet, Corrections): Business daily metrics, `audience_activity` among them,
arrive 24-48 h late, so the newest days are simply not stored yet and count for nothing; a
video counts only once a snapshot inside its 24-27 h window settled it, never from a later
or estimated reading.

Each source is one SQL query whatever the history length (see `bench/best_times.py`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import TikTokAccount, Workspace

LOOKBACK_DAYS = 730
#: Audience habits change: TikTok keeps 60 days of activity; we weigh the last 120 we stored.
ACTIVITY_LOOKBACK_DAYS = 120
BASELINE_WINDOW_DAYS = 28
PRIOR_POSTS = 3.0
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS = tuple(range(24))

#: (minimum amount of data, confidence) from the highest; below the last one: too thin.
POSTS_CONFIDENCE = ((90, "high"), (30, "medium"), (8, "low"))
ACTIVITY_CONFIDENCE = ((28, "high"), (14, "medium"), (7, "low"))
CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.6, "low": 0.3}


@dataclass(frozen=True)
class Cell:
    weekday: int  # 0 = Monday, as datetime.weekday()
    hour: int
    index: float
    samples: int
    #: Your posts: the mean views at 24 h of the posts in this slot.
    mean_views: float | None = None

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"


@dataclass
class Source:
    key: str  # posts | audience_activity
    label: str
    confidence: str  # high | medium | low | insufficient | unavailable
    samples: int
    sample_unit: str
    explanation: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    first: dt.date | None = None
    last: dt.date | None = None

    @property
    def usable(self) -> bool:
        return self.confidence in CONFIDENCE_WEIGHT

    @property
    def max_index(self) -> float:
        return max((cell.index for cell in self.cells.values()), default=1.0)

    def rows(self) -> list[tuple[str, list[tuple[int, Cell | None, float]]]]:
        """For templates: per weekday, per hour, the cell and its shade from 0 to 1."""
        top = self.max_index
        low = min((cell.index for cell in self.cells.values()), default=0.0)
        span = (top - low) or 1.0
        return [
            (
                name,
                [
                    (
                        hour,
                        cell := self.cells.get((weekday, hour)),
                        0.0 if cell is None else round(0.12 + 0.88 * (cell.index - low) / span, 2),
                    )
                    for hour in HOURS
                ],
            )
            for weekday, name in enumerate(WEEKDAYS)
        ]

    def best(self, count: int = 3) -> list[Cell]:
        return sorted(self.cells.values(), key=lambda c: (-c.index, c.weekday, c.hour))[:count]


@dataclass(frozen=True)
class Slot:
    weekday: int
    hour: int
    score: float
    sources: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"


@dataclass
class BestTimes:
    workspace: Workspace
    account: TikTokAccount | None
    time_zone: str
    sources: list[Source]
    slots: list[Slot]

    @property
    def enough_data(self) -> bool:
        return any(source.usable for source in self.sources)

    @property
    def confidence(self) -> str:
        usable = [source.confidence for source in self.sources if source.usable]
        for level in ("high", "medium", "low"):
            if level in usable:
                return level
        return "insufficient"


@dataclass(frozen=True)
class SuggestedTime:
    at: dt.datetime  # aware, in the workspace's time zone
    score: float
    confidence: str
    sources: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.at:%a} {self.at:%b} {self.at.day}, {self.at:%H:%M}"


def _confidence(amount: int, ladder: tuple[tuple[int, str], ...]) -> str:
    for minimum, level in ladder:
        if amount >= minimum:
            return level
    return "insufficient"


# Views at 24 h are stored per video when the snapshot that settles them is written
# (`VideoViews24h`): one row per video read in (account, posted_at) order from its index, no
# probe into the snapshots, no sort. The baseline is the mean
# of ln(views + 1) over the account's posts within ±28 days, read as two running sums: a frame
# that starts at the partition's first row only grows, so PostgreSQL adds each row once,
# where a sliding ±28-day frame is summed again for every post. The sum up to 28 days (and
# 1 µs) before comes off, which keeps the lower bound inclusive as in the Python reading.
_POSTS_SQL = """
WITH measured AS (
    SELECT account_id, posted_at, views, LN(views + 1) AS ln_views
    FROM analytics_videoviews24h
    WHERE workspace_id = %(workspace)s AND posted_at >= %(since)s
      AND (%(account)s::uuid IS NULL OR account_id = %(account)s::uuid)
), scored AS (
    SELECT posted_at, views AS views_24h,
        EXP((SUM(ln_views) OVER through_after - COALESCE(SUM(ln_views) OVER before, 0))
            / (COUNT(*) OVER through_after - COUNT(*) OVER before)) - 1 AS baseline
    FROM measured
    WINDOW through_after AS (PARTITION BY account_id ORDER BY posted_at
                             RANGE BETWEEN UNBOUNDED PRECEDING AND %(window)s FOLLOWING),
           before AS (PARTITION BY account_id ORDER BY posted_at
                      RANGE BETWEEN UNBOUNDED PRECEDING AND %(before)s PRECEDING)
)
SELECT EXTRACT(ISODOW FROM posted_at AT TIME ZONE %(tz)s)::int - 1 AS weekday,
       EXTRACT(HOUR FROM posted_at AT TIME ZONE %(tz)s)::int AS hour,
       COUNT(*) AS posts,
       SUM(views_24h::float / baseline) AS index_sum,
       AVG(views_24h) AS mean_views,
       MIN(posted_at) AS first, MAX(posted_at) AS last
FROM scored
WHERE baseline > 0
GROUP BY 1, 2
"""

# `audience_activity` is stored as 24 counts, index = UTC hour (see `activity_hours`). Shares
# are summed per date and UTC hour first, so only those few thousand instants are moved into
# the workspace's time zone (each one, so a DST change lands every hour where it belongs).
_ACTIVITY_SQL = """
WITH days AS MATERIALIZED (
    SELECT s.date, s.audience_activity,
        (SELECT SUM(x::float) FROM jsonb_array_elements_text(s.audience_activity) x) AS total
    FROM analytics_accountdailysnapshot s
    WHERE s.workspace_id = %(workspace)s AND s.date >= %(since_date)s
      AND (%(account)s::uuid IS NULL OR s.account_id = %(account)s::uuid)
      AND jsonb_typeof(s.audience_activity) = 'array'
      AND jsonb_array_length(s.audience_activity) = 24
), per_hour AS (
    SELECT d.date, e.n, SUM(e.c::float / d.total) AS share, COUNT(*) AS days
    FROM days d
    CROSS JOIN LATERAL jsonb_array_elements_text(d.audience_activity) WITH ORDINALITY e(c, n)
    WHERE d.total > 0
    GROUP BY d.date, e.n
), located AS (
    SELECT date, share, days,
        ((date + (n - 1) * INTERVAL '1 hour') AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s
            AS local_at
    FROM per_hour
)
SELECT EXTRACT(ISODOW FROM local_at)::int - 1 AS weekday,
       EXTRACT(HOUR FROM local_at)::int AS hour,
       SUM(share) * 24 / SUM(days)::float AS index,
       SUM(days)::int AS days,
       MIN(date) AS first, MAX(date) AS last
FROM located
GROUP BY 1, 2
"""


def activity_hours(pairs: Iterable[tuple[int, int]]) -> list[int]:
    """TikTok's [{hour, count}] as 24 counts by UTC hour; an hour TikTok left out is 0."""
    counts = [0] * 24
    for hour, count in pairs:
        if 0 <= hour < 24 and count >= 0:
            counts[hour] += count
    return counts if any(counts) else []


def _params(
    *, workspace: Workspace, account: TikTokAccount | None, now: dt.datetime
) -> dict[str, Any]:
    since = now - dt.timedelta(days=LOOKBACK_DAYS)
    return {
        "workspace": workspace.pk,
        "account": account.pk if account is not None else None,
        "since": since,
        "since_date": (now - dt.timedelta(days=ACTIVITY_LOOKBACK_DAYS)).date(),
        "tz": workspace.time_zone,
        "window": dt.timedelta(days=BASELINE_WINDOW_DAYS),
        "before": dt.timedelta(days=BASELINE_WINDOW_DAYS, microseconds=1),
    }


def _as_date(value: dt.datetime | dt.date | None, tz: dt.tzinfo) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).date()
    return value


def _posts_rows(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(weekday, hour, posts, index_sum, mean_views, first, last) per local hour of the week."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_POSTS_SQL, params)
            return list(cursor.fetchall())
    return _posts_rows_python(params)


def _activity_rows(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(weekday, hour, index, days, first, last) per local hour of the week."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_ACTIVITY_SQL, params)
            return list(cursor.fetchall())
    return _activity_rows_python(params)


# The same two readings in Python, for the quick start's SQLite (no LATERAL, no time zones,
# no jsonb). The hand-computed tests run both readings on the same rows.


def _posts_rows_python(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    from zoneinfo import ZoneInfo

    from analytics.models import VideoViews24h

    settled = VideoViews24h.objects.for_workspace(params["workspace"]).filter(
        posted_at__gte=params["since"]
    )
    if params["account"] is not None:
        settled = settled.filter(account_id=params["account"])
    by_account: dict[Any, list[tuple[dt.datetime, int]]] = {}
    for account_id, posted, views in settled.values_list("account_id", "posted_at", "views"):
        by_account.setdefault(account_id, []).append((posted, views))
    tz, window = ZoneInfo(params["tz"]), params["window"]
    cells: dict[tuple[int, int], list[Any]] = {}
    for measured in by_account.values():
        for posted, views in measured:
            around = [math.log(v + 1) for p, v in measured if abs(p - posted) <= window]
            baseline = math.exp(sum(around) / len(around)) - 1
            if baseline <= 0:
                continue
            local = posted.astimezone(tz)
            cell = cells.setdefault((local.weekday(), local.hour), [0, 0.0, 0, posted, posted])
            cell[0] += 1
            cell[1] += views / baseline
            cell[2] += views
            cell[3], cell[4] = min(cell[3], posted), max(cell[4], posted)
    return [
        (weekday, hour, n, index_sum, total / n, first, last)
        for (weekday, hour), (n, index_sum, total, first, last) in cells.items()
    ]


def _activity_rows_python(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    from zoneinfo import ZoneInfo

    from analytics.models import AccountDailySnapshot

    days = AccountDailySnapshot.objects.for_workspace(params["workspace"]).filter(
        date__gte=params["since_date"]
    )
    if params["account"] is not None:
        days = days.filter(account_id=params["account"])
    tz = ZoneInfo(params["tz"])
    cells: dict[tuple[int, int], list[Any]] = {}
    for day, counts in days.values_list("date", "audience_activity"):
        if not isinstance(counts, list) or len(counts) != 24:
            continue
        total = sum(float(c) for c in counts)
        if total <= 0:
            continue
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        for utc_hour, count in enumerate(counts):
            local = (midnight + dt.timedelta(hours=utc_hour)).astimezone(tz)
            cell = cells.setdefault((local.weekday(), local.hour), [0.0, 0, day, day])
            cell[0] += float(count) / total
            cell[1] += 1
            cell[2], cell[3] = min(cell[2], day), max(cell[3], day)
    return [
        (weekday, hour, share * 24 / n, n, first, last)
        for (weekday, hour), (share, n, first, last) in cells.items()
    ]


def posts_source(
    *, workspace: Workspace, account: TikTokAccount | None, now: dt.datetime
) -> Source:
    rows = _posts_rows(_params(workspace=workspace, account=account, now=now))
    cells: dict[tuple[int, int], Cell] = {}
    total = 0
    firsts: list[dt.date] = []
    lasts: list[dt.date] = []
    for weekday, hour, posts, index_sum, mean_views, first, last in rows:
        total += posts
        cells[(weekday, hour)] = Cell(
            weekday=weekday,
            hour=hour,
            index=(index_sum + PRIOR_POSTS) / (posts + PRIOR_POSTS),
            samples=posts,
            mean_views=float(mean_views),
        )
        firsts.append(_as_date(first, workspace.tz) or dt.date.max)
        lasts.append(_as_date(last, workspace.tz) or dt.date.min)
    confidence = _confidence(total, POSTS_CONFIDENCE)
    return Source(
        key="posts",
        label="Your posts",
        confidence=confidence,
        samples=total,
        sample_unit="post",
        explanation=(
            "Views at 24 hours of each video, compared with the account's typical views at "
            f"24 hours within {BASELINE_WINDOW_DAYS} days of it (1.0 is typical)."
        ),
        cells=cells,
        first=min(firsts, default=None),
        last=max(lasts, default=None),
    )


def audience_activity_source(
    *, workspace: Workspace, account: TikTokAccount | None, now: dt.datetime, business: bool
) -> Source:
    source = Source(
        key="audience_activity",
        label="Audience activity (TikTok)",
        confidence="unavailable",
        samples=0,
        sample_unit="day",
        explanation=(
            "When your followers were on TikTok, hour by hour, as TikTok reports it for "
            "Business accounts (1.0 is an average hour)."
        ),
    )
    if not business:
        return source
    rows = _activity_rows(_params(workspace=workspace, account=account, now=now))
    cell_days = 0
    firsts: list[dt.date] = []
    lasts: list[dt.date] = []
    for weekday, hour, index, days, first, last in rows:
        cell_days += days
        source.cells[(weekday, hour)] = Cell(
            weekday=weekday, hour=hour, index=float(index), samples=days
        )
        firsts.append(first)
        lasts.append(last)
    # Every stored day has all 24 hours, each landing in exactly one cell.
    total = cell_days // 24
    source.samples = total
    source.confidence = _confidence(total, ACTIVITY_CONFIDENCE)
    source.first = min(firsts, default=None)
    source.last = max(lasts, default=None)
    return source


def _combine(sources: Iterable[Source]) -> list[Slot]:
    """Every slot any usable source scored, by the confidence-weighted mean of its indexes."""
    totals: dict[tuple[int, int], list[float]] = {}
    keys: dict[tuple[int, int], list[str]] = {}
    for source in sources:
        if not source.usable:
            continue
        weight = CONFIDENCE_WEIGHT[source.confidence]
        for slot, cell in source.cells.items():
            pair = totals.setdefault(slot, [0.0, 0.0])
            pair[0] += weight * cell.index
            pair[1] += weight
            keys.setdefault(slot, []).append(source.key)
    slots = [
        Slot(weekday=w, hour=h, score=total / weight, sources=tuple(keys[(w, h)]))
        for (w, h), (total, weight) in totals.items()
    ]
    return sorted(slots, key=lambda s: (-s.score, s.weekday, s.hour))


def best_times_build(
    *,
    workspace: Workspace,
    account: TikTokAccount | None = None,
    accounts: Iterable[TikTokAccount] | None = None,
    now: dt.datetime | None = None,
) -> BestTimes:
    """The heatmap of one account, or of the whole workspace when `account` is None."""
    now = now or timezone.now()
    if account is not None:
        business = account.is_business
    else:
        scope = (
            list(accounts)
            if accounts is not None
            else list(TikTokAccount.objects.for_workspace(workspace))
        )
        business = any(acc.is_business for acc in scope)
    sources = [
        posts_source(workspace=workspace, account=account, now=now),
        audience_activity_source(workspace=workspace, account=account, now=now, business=business),
    ]
    return BestTimes(
        workspace=workspace,
        account=account,
        time_zone=workspace.time_zone,
        sources=sources,
        slots=_combine(sources),
    )


def _taken_hours(
    *, workspace: Workspace, account: TikTokAccount | None, start: dt.datetime, end: dt.datetime
) -> set[dt.datetime]:
    # analytics never imports calendar_app: the calendar answers through a settings-named hook.
    busy_times: Callable[..., Iterable[dt.datetime]] = import_string(settings.BEST_TIMES_BUSY_TIMES)
    times = busy_times(
        workspace=workspace,
        account_id=account.pk if account is not None else None,
        start=start - dt.timedelta(hours=1),
        end=end,
    )
    tz = workspace.tz
    return {at.astimezone(tz).replace(minute=0, second=0, microsecond=0) for at in times}


def best_times_suggest(
    *,
    workspace: Workspace,
    account: TikTokAccount | None = None,
    count: int = 3,
    days: int = 7,
    now: dt.datetime | None = None,
    taken: Iterable[dt.datetime] = (),
    data: BestTimes | None = None,
) -> list[SuggestedTime]:
    """The best free hours in the next `days` days, at most one per day, best first.

    Free: no post of the account (of the workspace when `account` is None) is scheduled in that
    hour, and the hour is not in `taken` (times a caller is about to fill). Empty when the data
    is too thin to say anything: callers show no suggestion rather than a guess.
    Three queries: the two sources and the scheduled posts.
    """
    now = now or timezone.now()
    data = data or best_times_build(workspace=workspace, account=account, now=now)
    if not data.slots:
        return []
    tz = workspace.tz
    start = now.astimezone(tz)
    end = start + dt.timedelta(days=days)
    busy = _taken_hours(workspace=workspace, account=account, start=start, end=end)
    busy |= {t.astimezone(tz).replace(minute=0, second=0, microsecond=0) for t in taken}
    score = {(slot.weekday, slot.hour): slot for slot in data.slots}
    candidates: list[tuple[float, dt.datetime, Slot]] = []
    first_day = start.date()
    for offset in range(days + 1):
        day = first_day + dt.timedelta(days=offset)
        for hour in HOURS:
            at = dt.datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            # A wall-clock hour skipped by a DST change does not exist: no suggestion there.
            if at.astimezone(dt.UTC).astimezone(tz).hour != hour:
                continue
            slot = score.get((day.weekday(), hour))
            if slot is None or at <= start or at >= end or at in busy:
                continue
            candidates.append((slot.score, at, slot))
    candidates.sort(key=lambda item: (-item[0], item[1]))
    chosen: list[SuggestedTime] = []
    days_used: set[dt.date] = set()
    for value, at, slot in candidates:
        if at.date() in days_used:
            continue
        days_used.add(at.date())
        chosen.append(
            SuggestedTime(at=at, score=value, confidence=data.confidence, sources=slot.sources)
        )
        if len(chosen) >= count:
            break
    return chosen

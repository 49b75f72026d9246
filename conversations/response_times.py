"""Response times: how fast the team answers, per account and per member, for a period.

A thread's first response is stored on its root (`Comment.first_response_at`, `_by`) when our
reply is confirmed or when the sync sees a reply written in TikTok's own app, so these are
plain aggregates. The analytics report reads the same selector.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, FloatField, Q
from django.db.models.functions import Extract
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount, User, Workspace
from conversations.models import Comment
from later.errors import ValidationFailed

PERIODS = (7, 30, 90)
# A chosen period (from, to: whole days in the workspace's time zone) spans at most this.
MAX_PERIOD_DAYS = 366
UNANSWERED_AFTER = dt.timedelta(hours=24)


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY expr)."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, percentile: float, **extra: Any) -> None:
        super().__init__(expression, percentile=float(percentile), **extra)


@dataclass
class Figures:
    threads: int = 0
    answered: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    questions: int = 0
    questions_answered: int = 0
    unanswered_questions_over_24h: int = 0

    @property
    def questions_answered_share(self) -> float | None:
        return self.questions_answered / self.questions if self.questions else None


@dataclass
class Row:
    key: str
    name: str
    figures: Figures


@dataclass
class ResponseTimes:
    period: Period
    overall: Figures
    by_account: list[Row] = field(default_factory=list)
    by_member: list[Row] = field(default_factory=list)

    @property
    def since(self) -> dt.datetime:
        return self.period.since

    @property
    def until(self) -> dt.datetime:
        return self.period.until


def period_days(days: int | str | None) -> int:
    try:
        value = int(days or 7)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"Choose a period of {', '.join(map(str, PERIODS))} days.") from exc
    if value not in PERIODS:
        raise ValidationFailed(f"Choose a period of {', '.join(map(str, PERIODS))} days.")
    return value


@dataclass(frozen=True)
class Period:
    """Threads started in [since, until). A preset (`days`) is the last days up to now; a
    chosen period (`days` None) runs from the start of `start` to the end of `end`, whole days
    in the workspace's time zone (query parameters `start`, `end`)."""

    since: dt.datetime
    until: dt.datetime
    start: dt.date
    end: dt.date
    days: int | None = None

    @classmethod
    def last(cls, *, workspace: Workspace, days: int, now: dt.datetime | None = None) -> Period:
        now = now or timezone.now()
        since = now - dt.timedelta(days=days)
        tz = workspace.tz
        return cls(
            since=since,
            until=now,
            start=since.astimezone(tz).date(),
            end=now.astimezone(tz).date(),
            days=days,
        )

    @classmethod
    def chosen(cls, *, workspace: Workspace, start: dt.date, end: dt.date) -> Period:
        tz = workspace.tz
        return cls(
            since=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
            start=start,
            end=end,
        )

    @property
    def query(self) -> dict[str, str]:
        """The period as query parameters (what `period_parse` reads back)."""
        if self.days is not None:
            return {"days": str(self.days)}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def slug(self) -> str:
        """For file names: "7d", or "2026-11-01-to-2026-11-15"."""
        if self.days is not None:
            return f"{self.days}d"
        return f"{self.start.isoformat()}-to-{self.end.isoformat()}"


def period_parse(
    *,
    workspace: Workspace,
    days: str | None,
    start: str | None,
    end: str | None,
    now: dt.datetime | None = None,
) -> Period:
    """The period a request names: `start` and `end` (YYYY-MM-DD, whole days in the workspace's
    time zone) when either is given, else a preset of `days`. ValidationFailed on bad input."""
    if not (start or "").strip() and not (end or "").strip():
        return Period.last(workspace=workspace, days=period_days(days), now=now)
    try:
        first = dt.date.fromisoformat((start or "").strip())
        last = dt.date.fromisoformat((end or "").strip())
    except ValueError as exc:
        raise ValidationFailed(
            "Give the period a start and an end date (YYYY-MM-DD).",
            code="invalid_period",
            details={"start": start, "end": end},
        ) from exc
    today = (now or timezone.now()).astimezone(workspace.tz).date()
    if first > last:
        raise ValidationFailed(
            "The start date must be on or before the end date.", code="invalid_period"
        )
    if last > today:
        raise ValidationFailed(
            f"The period cannot end after today ({today.isoformat()}).", code="invalid_period"
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            f"A period can span at most {MAX_PERIOD_DAYS} days.", code="invalid_period"
        )
    return Period.chosen(workspace=workspace, start=first, end=last)


def _threads(
    *, workspace: Workspace, since: dt.datetime, until: dt.datetime, account_id: uuid.UUID | None
) -> Any:
    qs = Comment.objects.for_workspace(workspace).filter(
        parent__isnull=True,
        is_own=False,
        deleted_at__isnull=True,
        created_at_tiktok__gte=since,
        created_at_tiktok__lt=until,
    )
    if account_id:
        qs = qs.filter(account_id=account_id)
    wait = ExpressionWrapper(
        F("first_response_at") - F("created_at_tiktok"), output_field=DurationField()
    )
    if connection.vendor != "postgresql":
        # SQLite (the quick start) cannot extract an epoch from an interval; it returns the
        # difference as a timedelta, and _grouped computes the percentiles in Python.
        return qs.annotate(wait=wait)
    return qs.annotate(wait=Extract(wait, "epoch"))


def _percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation, as percentile_cont does (for databases without it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _counts(now: dt.datetime) -> dict[str, Any]:
    answered = Q(first_response_at__isnull=False)
    return {
        "threads": Count("pk"),
        "answered": Count("pk", filter=answered),
        "questions": Count("pk", filter=Q(is_question=True)),
        "questions_answered": Count("pk", filter=Q(is_question=True) & answered),
        "unanswered_questions_over_24h": Count(
            "pk",
            filter=Q(
                is_question=True,
                first_response_at__isnull=True,
                handled_at__isnull=True,
                created_at_tiktok__lt=now - UNANSWERED_AFTER,
            ),
        ),
    }


def _grouped(qs: Any, group: str | None, now: dt.datetime) -> dict[Any, Figures]:
    """Figures per value of `group` (or one row under None)."""
    threads = qs
    if group:
        qs = qs.values(group)
    aggregates = _counts(now)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        aggregates["median_seconds"] = PercentileCont("wait", percentile=0.5)
        aggregates["p90_seconds"] = PercentileCont("wait", percentile=0.9)
    rows = list(qs.annotate(**aggregates)) if group else [qs.aggregate(**aggregates)]
    result: dict[Any, Figures] = {}
    for row in rows:
        key = row.get(group) if group else None
        result[key] = Figures(
            threads=row["threads"] or 0,
            answered=row["answered"] or 0,
            median_seconds=row.get("median_seconds"),
            p90_seconds=row.get("p90_seconds"),
            questions=row["questions"] or 0,
            questions_answered=row["questions_answered"] or 0,
            unanswered_questions_over_24h=row["unanswered_questions_over_24h"] or 0,
        )
    if not on_postgres:
        waits: dict[Any, list[float]] = {}
        # From the rows themselves: after .values(group) the wait annotation is only an
        # alias there, which Django refuses to select.
        values = threads.filter(first_response_at__isnull=False).values_list(group or "pk", "wait")
        for key, wait in values:
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            waits.setdefault(key if group else None, []).append(seconds)
        for key, figures in result.items():
            figures.median_seconds = _percentile(waits.get(key, []), 0.5)
            figures.p90_seconds = _percentile(waits.get(key, []), 0.9)
    return result


SUMMARY_CACHE_SECONDS = 60


def response_time_summary_cached(*, workspace: Workspace, days: int = 7) -> Figures:
    """The inbox header's figures, recomputed at most once a minute per workspace: the
    percentiles read every thread of the week, which costs more than the page itself."""
    key = f"conversations:response-summary:{workspace.pk}:{days}"
    figures = cache.get(key)
    if not isinstance(figures, Figures):
        figures = response_time_summary(workspace=workspace, days=days)
        cache.set(key, figures, SUMMARY_CACHE_SECONDS)
    return figures


def response_time_summary(
    *, workspace: Workspace, days: int = 7, now: dt.datetime | None = None
) -> Figures:
    """The workspace's figures alone (one query)."""
    now = now or timezone.now()
    qs = _threads(
        workspace=workspace, since=now - dt.timedelta(days=days), until=now, account_id=None
    )
    return _grouped(qs, None, now).get(None, Figures())


def report_figures(
    *,
    workspace: Workspace,
    since: dt.datetime,
    until: dt.datetime,
    account_id: uuid.UUID | None = None,
) -> Figures:
    """Threads started in [since, until): what analytics' client report shows (named by
    settings.REPORT_RESPONSE_TIMES)."""
    qs = _threads(workspace=workspace, since=since, until=until, account_id=account_id)
    return _grouped(qs, None, until).get(None, Figures())


def _by_account(*, workspace: Workspace, qs: Any, now: dt.datetime) -> list[Row]:
    accounts = {
        a.pk: a.handle for a in TikTokAccount.objects.for_workspace(workspace).only("username")
    }
    rows = [
        Row(key=str(key), name=accounts.get(key, "Removed account"), figures=figures)
        for key, figures in _grouped(qs, "account_id", now).items()
    ]
    rows.sort(key=lambda r: r.name)
    return rows


@dataclass
class AnalyticsResponseTimes:
    """What Analytics' overview shows (settings.ANALYTICS_RESPONSE_TIMES): the figures overall
    and per account, and where the per-member figures and the CSV are."""

    overall: Figures
    by_account: list[Row]
    page_url: str
    csv_url: str


def analytics_figures(
    *,
    workspace: Workspace,
    since: dt.datetime,
    until: dt.datetime,
    account_id: uuid.UUID | None = None,
) -> AnalyticsResponseTimes | None:
    """Threads started in [since, until), for Analytics' overview; None when there are none
    (one query then, three otherwise). A question counts as unanswered for over 24 h at the
    end of the period, or now if that is sooner."""
    now = min(until, timezone.now())
    qs = _threads(workspace=workspace, since=since, until=until, account_id=account_id)
    overall = _grouped(qs, None, now).get(None, Figures())
    if not overall.threads:
        return None
    # The page and the CSV open on the same days (up to today: a period there cannot end later).
    tz = workspace.tz
    last_day = min(until.astimezone(tz).date() - dt.timedelta(days=1), now.astimezone(tz).date())
    params = {"start": since.astimezone(tz).date().isoformat(), "end": last_day.isoformat()}
    if account_id:
        params["account"] = str(account_id)
    query = "?" + urlencode(params)
    return AnalyticsResponseTimes(
        overall=overall,
        by_account=_by_account(workspace=workspace, qs=qs, now=now),
        page_url=reverse("conversations:response_times", args=[workspace.pk]) + query,
        csv_url=reverse("conversations:response_times_csv", args=[workspace.pk]) + query,
    )


def response_times(
    *,
    workspace: Workspace,
    days: int = 7,
    period: Period | None = None,
    account_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> ResponseTimes:
    """Threads started in `period` (default: the last `days` up to now). A question counts as
    unanswered for over 24 h at the end of the period, or now if that is sooner."""
    period = period or Period.last(workspace=workspace, days=days, now=now)
    now = min(period.until, now or timezone.now())
    qs = _threads(
        workspace=workspace, since=period.since, until=period.until, account_id=account_id
    )
    overall = _grouped(qs, None, now).get(None, Figures())
    by_account = _by_account(workspace=workspace, qs=qs, now=now)
    answered = qs.filter(first_response_at__isnull=False)
    member_figures = _grouped(answered, "first_response_by", now)
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=[k for k in member_figures if k is not None]).only(
            "email", "first_name", "last_name", "public_id"
        )
    }
    by_member = [
        Row(
            key=str(users[key].public_id) if key in users else "",
            name=(users[key].get_full_name() or users[key].email) if key in users else "TikTok app",
            figures=figures,
        )
        for key, figures in member_figures.items()
    ]
    by_member.sort(key=lambda r: (r.key == "", r.name))
    return ResponseTimes(period=period, overall=overall, by_account=by_account, by_member=by_member)


def humanize_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


CSV_HEADER = (
    "scope",
    "name",
    "threads",
    "answered",
    "median_first_response_seconds",
    "p90_first_response_seconds",
    "questions",
    "questions_answered_share",
    "unanswered_questions_over_24h",
)


def _csv_row(scope: str, name: str, f: Figures) -> list[str]:
    def num(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    share = f.questions_answered_share
    return [
        scope,
        name,
        str(f.threads),
        str(f.answered),
        num(f.median_seconds),
        num(f.p90_seconds),
        str(f.questions),
        "" if share is None else f"{share:.3f}",
        str(f.unanswered_questions_over_24h),
    ]


def response_times_csv(report: ResponseTimes) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    rows: Iterable[list[str]] = [
        _csv_row("workspace", "All accounts", report.overall),
        # "@" opens a formula in some spreadsheets: accounts go by their bare username.
        *(_csv_row("account", r.name.removeprefix("@"), r.figures) for r in report.by_account),
        *(_csv_row("member", r.name, r.figures) for r in report.by_member),
    ]
    for row in rows:
        # Names come from TikTok and members: never let a spreadsheet read them as formulas.
        writer.writerow([("'" + v) if v[:1] in ("=", "+", "-", "@") else v for v in row])
    return out.getvalue()

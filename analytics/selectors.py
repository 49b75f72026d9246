"""Reads: date ranges, the overview rollup, the posts table and one video's history.

Everything here runs a fixed number of queries whatever the history length: daily rows are
grouped by date in SQL, view velocity comes from correlated subqueries on the snapshot index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from analytics.models import AccountDailySnapshot, VideoSnapshot
from later.errors import ValidationFailed

RANGE_CHOICES = ("7", "30", "90", "custom")
MAX_CUSTOM_DAYS = 366
AUDIENCE_MIN_FOLLOWERS = 100
BUSINESS_LAG_DAYS = 2
BUSINESS_WINDOW_DAYS = 60

#: Views at 24 h: the first snapshot in [posted + 24 h, posted + 27 h). Also stored per video
#: (`VideoViews24h`) for the best-time heatmap.
VIEWS_24H_MARK = (dt.timedelta(hours=24), dt.timedelta(hours=3))
#: (label, time after publishing, how long after the mark a measurement still counts)
VELOCITY_MARKS: tuple[tuple[str, dt.timedelta, dt.timedelta], ...] = (
    ("views_1h", dt.timedelta(hours=1), dt.timedelta(hours=1)),
    ("views_24h", *VIEWS_24H_MARK),
    ("views_7d", dt.timedelta(days=7), dt.timedelta(days=1)),
)

SORTS = {
    "views": "latest_views",
    "likes": "latest_likes",
    "comments": "latest_comments",
    "shares": "latest_shares",
    "engagement": "engagement_rate",
    "posted": "posted_at",
    "views_1h": "views_1h",
    "views_24h": "views_24h",
    "views_7d": "views_7d",
    "reach": "reach",
    "watch_time": "average_time_watched",
    "full_watch": "full_video_watched_rate",
    "new_followers": "new_followers",
    "for_you": "for_you_share",
    "new_viewers": "new_viewer_share",
    "retention_mid": "retention_mid_share",
}
DEFAULT_SORT = "-views"


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date
    key: str = "30"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        end = self.start - dt.timedelta(days=1)
        return DateRange(start=end - dt.timedelta(days=self.days - 1), end=end, key=self.key)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=offset) for offset in range(self.days)]


def local_today(workspace: Workspace) -> dt.date:
    return timezone.now().astimezone(workspace.tz).date()


def date_range_parse(
    *, workspace: Workspace, range_key: str | None, start: str | None, end: str | None
) -> DateRange:
    """A range ending today (workspace time) or a custom one; ValidationFailed on bad input."""
    today = local_today(workspace)
    key = range_key or "30"
    if key not in RANGE_CHOICES:
        raise ValidationFailed("Choose a range of 7, 30 or 90 days, or a custom range.")
    if key != "custom":
        days = int(key)
        return DateRange(start=today - dt.timedelta(days=days - 1), end=today, key=key)
    try:
        start_date = dt.date.fromisoformat(start or "")
        end_date = dt.date.fromisoformat(end or "")
    except ValueError as exc:
        raise ValidationFailed(
            "Give the custom range a start and an end date (YYYY-MM-DD).",
            details={"start": start, "end": end},
        ) from exc
    if start_date > end_date:
        raise ValidationFailed("The start date must be on or before the end date.")
    if (end_date - start_date).days + 1 > MAX_CUSTOM_DAYS:
        raise ValidationFailed(f"A custom range can span at most {MAX_CUSTOM_DAYS} days.")
    return DateRange(start=start_date, end=end_date, key="custom")


def accounts_for_analytics(*, workspace: Workspace) -> QuerySet[TikTokAccount]:
    return TikTokAccount.objects.for_workspace(workspace).order_by("display_name", "username")


def account_resolve(
    *, accounts: list[TikTokAccount], account_id: str | None
) -> TikTokAccount | None:
    """The account named in the request among the workspace's, or None for all accounts."""
    if not account_id:
        return None
    for account in accounts:
        if str(account.pk) == account_id:
            return account
    raise ValidationFailed("That TikTok account is not connected to this workspace.")


# --------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    kind: str = "count"  # count | rate
    headline: bool = False
    note: str = ""
    days_with_data: int = 0
    #: For a level summed across accounts: the current total over only the accounts that
    #: also have a previous value, so the change never counts an account joining or leaving.
    compared_value: float | int | None = None
    level: bool = False
    excluded: tuple[str, ...] = ()

    @property
    def _current_for_change(self) -> float | int | None:
        return self.compared_value if self.level else self.value

    @property
    def change(self) -> float | int | None:
        current = self._current_for_change
        if current is None or self.previous is None:
            return None
        return current - self.previous

    @property
    def change_percent(self) -> float | None:
        current = self._current_for_change
        if current is None or self.previous in (None, 0):
            return None
        assert self.previous is not None
        return (current - self.previous) / self.previous * 100


@dataclass(frozen=True)
class AccountSeries:
    account: TikTokAccount
    points: list[tuple[dt.date, int | None]]


@dataclass(frozen=True)
class AccountComparison:
    """One account's figures for the period, measured the same way as the cards."""

    account: TikTokAccount
    video_views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    profile_views: int | None
    followers: int | None
    engagement_rate: float | None
    posts: int


@dataclass
class Overview:
    period: DateRange
    previous: DateRange
    account: TikTokAccount | None
    accounts: list[TikTokAccount]
    cards: list[Card]
    #: Followers summed only on days when every drawn account has a measurement, else None.
    followers_series: list[tuple[dt.date, int | None]]
    followers_by_account: list[AccountSeries]
    views_series: list[tuple[dt.date, int | None]]
    posts_series: list[tuple[dt.date, int]]
    audience: dict[str, Any]
    has_history: bool
    empty_reasons: list[str] = field(default_factory=list)
    comparison: list[AccountComparison] = field(default_factory=list)

    @property
    def headline(self) -> Card:
        return next(card for card in self.cards if card.headline)


#: Activity on one day: adding accounts together is meaningful on every day.
DAILY_SUM_FIELDS = (
    "video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "reach",
    "new_followers",
    "lost_followers",
    "net_followers",
)
#: Lifetime counters: a sum is only comparable over the same set of accounts.
LEVEL_FIELDS = ("followers", "following", "likes_total", "video_count")

AccountRows = dict[Any, dict[dt.date, dict[str, Any]]]


def _account_rows(
    *, workspace: Workspace, account: TikTokAccount | None, start: dt.date, end: dt.date
) -> AccountRows:
    """Per account, per day, the snapshot's values (one row per account and day)."""
    qs = AccountDailySnapshot.objects.for_workspace(workspace).filter(date__range=(start, end))
    if account is not None:
        qs = qs.filter(account=account)
    per_account: AccountRows = {}
    for row in qs.values("account_id", "date", *DAILY_SUM_FIELDS, *LEVEL_FIELDS).order_by():
        per_account.setdefault(row["account_id"], {})[row["date"]] = row
    return per_account


def _daily_sums(per_account: AccountRows) -> dict[dt.date, dict[str, Any]]:
    """Flow metrics summed per day; a field nobody measured that day stays None."""
    days: dict[dt.date, dict[str, Any]] = {}
    for rows in per_account.values():
        for day, row in rows.items():
            total = days.setdefault(day, {name: None for name in DAILY_SUM_FIELDS})
            for name in DAILY_SUM_FIELDS:
                if row[name] is not None:
                    total[name] = (total[name] or 0) + row[name]
    return days


def _first_dates(*, workspace: Workspace, account: TikTokAccount | None) -> dict[Any, dt.date]:
    history = AccountDailySnapshot.objects.for_workspace(workspace)
    if account is not None:
        history = history.filter(account=account)
    rows = history.values("account_id").annotate(first=Min("date")).order_by()
    return {row["account_id"]: row["first"] for row in rows}


def _short_date(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _level_card(
    *,
    key: str,
    label: str,
    scope: list[TikTokAccount],
    per_account: AccountRows,
    first_dates: dict[Any, dt.date],
    period: DateRange,
    previous: DateRange,
) -> Card:
    """Value: today's total over every account. Change: only accounts measured at both ends."""
    value: int | None = None
    compared_now: int | None = None
    compared_before: int | None = None
    excluded: list[str] = []
    for acc in scope:
        rows = per_account.get(acc.pk, {})
        now = _period_last(rows, period, key)
        before = _period_last(rows, previous, key)
        if now is not None:
            value = (value or 0) + now
        if now is not None and before is not None:
            compared_now = (compared_now or 0) + now
            compared_before = (compared_before or 0) + before
        elif now is not None:
            first = first_dates.get(acc.pk)
            if first is not None and first > previous.end:
                reason = f"no history before {_short_date(first)}"
            else:
                reason = "no measurement in the previous period"
            excluded.append(f"{acc.handle} is excluded from the change: {reason}")
        elif before is not None:
            excluded.append(f"{acc.handle} is excluded from the change: no measurement this period")
    return Card(
        key=key,
        label=label,
        value=value,
        previous=compared_before,
        compared_value=compared_now,
        level=True,
        # With nobody comparable the card already says there is no previous data.
        excluded=tuple(excluded) if compared_before is not None else (),
    )


def _period_sum(
    rows: dict[dt.date, dict[str, Any]], period: DateRange, name: str
) -> tuple[int | None, int]:
    values = [
        rows[day][name] for day in period.dates() if day in rows and rows[day][name] is not None
    ]
    return (sum(values) if values else None), len(values)


def _period_last(rows: dict[dt.date, dict[str, Any]], period: DateRange, name: str) -> int | None:
    for day in reversed(period.dates()):
        if day in rows and rows[day][name] is not None:
            return int(rows[day][name])
    return None


def _complete_day_sums(
    lines: list[AccountSeries], days: list[dt.date]
) -> list[tuple[dt.date, int | None]]:
    """A day's total only when every account has a value that day: no mid-range jumps."""
    if not lines:
        return [(day, None) for day in days]
    totals: list[tuple[dt.date, int | None]] = []
    for index, day in enumerate(days):
        values = [line.points[index][1] for line in lines]
        totals.append((day, None if None in values else sum(v for v in values if v is not None)))
    return totals


def _rate(numerator: int | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator * 100


def _posts_per_day(
    *, workspace: Workspace, account: TikTokAccount | None, start: dt.date, end: dt.date
) -> dict[dt.date, int]:
    tz = workspace.tz
    lower = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    qs = TikTokVideo.objects.for_workspace(workspace).filter(
        posted_at__gte=lower, posted_at__lt=upper
    )
    if account is not None:
        qs = qs.filter(account=account)
    rows = (
        qs.annotate(day=TruncDate("posted_at", tzinfo=tz))
        .values("day")
        .annotate(post_count=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["post_count"] for row in rows}


def _posts_per_account(*, workspace: Workspace, period: DateRange) -> dict[Any, int]:
    tz = workspace.tz
    rows = (
        TikTokVideo.objects.for_workspace(workspace)
        .filter(
            posted_at__gte=dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
            posted_at__lt=dt.datetime.combine(
                period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz
            ),
        )
        .values("account_id")
        .annotate(post_count=Count("pk"))
        .order_by()
    )
    return {row["account_id"]: row["post_count"] for row in rows}


def overview_build(
    *,
    workspace: Workspace,
    period: DateRange,
    accounts: list[TikTokAccount],
    account: TikTokAccount | None,
    previous: DateRange | None = None,
) -> Overview:
    previous = previous or period.previous()
    per_account = _account_rows(
        workspace=workspace, account=account, start=previous.start, end=period.end
    )
    rows = _daily_sums(per_account)
    posts = _posts_per_day(
        workspace=workspace, account=account, start=previous.start, end=period.end
    )
    first_dates = _first_dates(workspace=workspace, account=account)
    has_history = bool(first_dates)
    history = AccountDailySnapshot.objects.for_workspace(workspace)
    if account is not None:
        history = history.filter(account=account)
    audience_row = (
        history.exclude(audience={}).order_by("-date").values_list("audience", flat=True).first()
    )

    scope = [account] if account is not None else accounts
    any_business = any(acc.is_business for acc in scope)
    business_note = "" if any_business else "Needs a TikTok Business account"

    def summed(key: str, label: str, *, headline: bool = False, note: str = "") -> Card:
        value, days = _period_sum(rows, period, key)
        prev_value, _ = _period_sum(rows, previous, key)
        return Card(
            key=key,
            label=label,
            value=value,
            previous=prev_value,
            headline=headline,
            note=note if value is None else "",
            days_with_data=days,
        )

    views_card = summed("video_views", "Video views", headline=True)
    likes, _ = _period_sum(rows, period, "likes")
    comments, _ = _period_sum(rows, period, "comments")
    shares, _ = _period_sum(rows, period, "shares")
    p_likes, _ = _period_sum(rows, previous, "likes")
    p_comments, _ = _period_sum(rows, previous, "comments")
    p_shares, _ = _period_sum(rows, previous, "shares")

    def engagement(
        likes_: int | None, comments_: int | None, shares_: int | None, views: float | None
    ) -> float | None:
        if likes_ is None and comments_ is None and shares_ is None:
            return None
        return _rate((likes_ or 0) + (comments_ or 0) + (shares_ or 0), views)

    posts_now = sum(count for day, count in posts.items() if period.start <= day <= period.end)
    posts_before = sum(
        count for day, count in posts.items() if previous.start <= day <= previous.end
    )
    cards = [
        views_card,
        _level_card(
            key="followers",
            label="Followers",
            scope=scope,
            per_account=per_account,
            first_dates=first_dates,
            period=period,
            previous=previous,
        ),
        summed("profile_views", "Profile views", note=business_note),
        summed("likes", "Likes"),
        summed("comments", "Comments", note=business_note),
        summed("shares", "Shares", note=business_note),
        # TikTok's daily_total_followers: the net change per day, summed over the period.
        summed("net_followers", "Net follower change", note=business_note),
        Card(
            key="engagement_rate",
            label="Engagement rate",
            value=engagement(likes, comments, shares, views_card.value),
            previous=engagement(p_likes, p_comments, p_shares, views_card.previous),
            kind="rate",
        ),
        Card(key="posts", label="Posts published", value=posts_now, previous=posts_before),
    ]

    reasons: list[str] = []
    if not accounts:
        reasons.append("no_accounts")
    elif not has_history:
        reasons.append("just_connected")
    if accounts and not any_business:
        reasons.append("personal_account")
        if any(not account.account_type_reported for account in accounts):
            # Only the Business app's `user.account.type` tells the type (fact sheet).
            reasons.append("type_unknown")
    if any_business:
        # TikTok's Business metrics lag 1-2 days and reach back at most 60 days (Corrections):
        # say so rather than let the missing days read as zeros.
        today = local_today(workspace)
        if period.end >= today - dt.timedelta(days=BUSINESS_LAG_DAYS):
            reasons.append("business_lag")
        if period.start < today - dt.timedelta(days=BUSINESS_WINDOW_DAYS):
            reasons.append("business_window")
    followers_now = cards[1].value
    if (
        not audience_row
        and accounts
        and (followers_now is not None and followers_now < AUDIENCE_MIN_FOLLOWERS)
    ):
        reasons.append("audience_under_100")

    followers_by_account = [
        AccountSeries(
            account=acc,
            points=[
                (day, per_account.get(acc.pk, {}).get(day, {}).get("followers"))
                for day in period.dates()
            ],
        )
        for acc in scope
    ]
    followers_by_account = [
        line for line in followers_by_account if any(v is not None for _, v in line.points)
    ]

    comparison = []
    posts_by_account = _posts_per_account(workspace=workspace, period=period)
    for acc in scope:
        rows_of = per_account.get(acc.pk, {})
        sums = {name: _period_sum(rows_of, period, name)[0] for name in DAILY_SUM_FIELDS}
        comparison.append(
            AccountComparison(
                account=acc,
                video_views=sums["video_views"],
                likes=sums["likes"],
                comments=sums["comments"],
                shares=sums["shares"],
                profile_views=sums["profile_views"],
                followers=_period_last(rows_of, period, "followers"),
                engagement_rate=engagement(
                    sums["likes"], sums["comments"], sums["shares"], sums["video_views"]
                ),
                posts=posts_by_account.get(acc.pk, 0),
            )
        )

    return Overview(
        comparison=comparison,
        period=period,
        previous=previous,
        account=account,
        accounts=accounts,
        cards=cards,
        followers_series=_complete_day_sums(followers_by_account, period.dates()),
        followers_by_account=followers_by_account,
        views_series=[
            (day, rows[day]["video_views"] if day in rows else None) for day in period.dates()
        ],
        posts_series=[(day, posts.get(day, 0)) for day in period.dates()],
        audience=audience_row or {},
        has_history=has_history,
        empty_reasons=reasons,
    )


# --------------------------------------------------------------------------- posts table


BUCKET_SPAN = dt.timedelta(hours=26)


def views_at(delta: dt.timedelta, tolerance: dt.timedelta, field_name: str = "views") -> Subquery:
    """The first measurement at or after the mark (`field_name` of that snapshot: its views, or
    when it was captured); none inside the window means unknown."""
    return Subquery(
        VideoSnapshot.objects.filter(
            workspace=OuterRef("workspace"),
            video=OuterRef("pk"),
            captured_at__gte=OuterRef("posted_at") + Value(delta),
            captured_at__lt=OuterRef("posted_at") + Value(delta + tolerance),
            # The same window on the partition key (a bucket starts at most a local day, 25 h
            # with DST, before its capture): a partitioned table reads only those months.
            bucket_at__gt=OuterRef("posted_at") + Value(delta - BUCKET_SPAN),
            bucket_at__lt=OuterRef("posted_at") + Value(delta + tolerance),
        )
        .order_by("captured_at")
        .values(field_name)[:1]
    )


def _latest(field_name: str) -> Subquery:
    return Subquery(
        VideoSnapshot.objects.filter(workspace=OuterRef("workspace"), video=OuterRef("pk"))
        .order_by("-captured_at")
        .values(field_name)[:1]
    )


class _Share(Func):
    """A percent read from a Business breakdown: `{name: share}` (first of `keys` present) or,
    without keys, the retention curve's middle point (`[[second, share], ...]` spans the
    whole video, so that is about half-way). TikTok sends 0-1 fractions or 0-100 percents;
    as the post page reads it (insights._percentages), a breakdown with no value above 1 is
    in fractions."""

    output_field = FloatField()

    def __init__(self, field_name: str, *keys: str) -> None:
        super().__init__(F(field_name))
        self.keys = keys

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        assert not params, "a plain column takes no parameters"
        if self.keys:
            value = "COALESCE(" + ", ".join(f"{column} ->> %s" for _ in self.keys) + ")"
            value_params = list(self.keys)
            above_one = "'$.* ? (@ > 1)'"
        else:
            value = f"({column} -> (jsonb_array_length({column}) / 2) ->> 1)"
            value_params = []
            above_one = "'$[*][1] ? (@ > 1)'"
        sql = (
            f"CASE WHEN jsonb_path_exists({column}, {above_one}) THEN ({value})::float"
            f" ELSE ({value})::float * 100 END"
        )
        return sql, [*value_params, *value_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        """The same reading with SQLite's JSON functions (the quick start's database)."""
        column, params = compiler.compile(self.source_expressions[0])
        assert not params, "a plain column takes no parameters"
        if self.keys:
            found = [f"json_extract({column}, '$.' || json_quote(%s))" for _ in self.keys]
            # SQLite's COALESCE wants two arguments at least.
            value = found[0] if len(found) == 1 else "COALESCE(" + ", ".join(found) + ")"
            value_params = list(self.keys)
            # `column` is the compiled column name; the keys travel as parameters.
            above_one = f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value > 1)"  # noqa: S608
        else:
            value = f"json_extract({column}, '$[' || (json_array_length({column}) / 2) || '][1]')"
            value_params = []
            above_one = (
                f"EXISTS (SELECT 1 FROM json_each({column}) "  # noqa: S608 (a column name)
                "WHERE json_extract(value, '$[1]') > 1)"
            )
        sql = (
            f"CASE WHEN {above_one} THEN CAST({value} AS REAL) ELSE CAST({value} AS REAL) * 100 END"
        )
        return sql, [*value_params, *value_params]


def _latest_share(field_name: str, *keys: str) -> Subquery:
    # From the latest snapshot that carried this breakdown (TikTok reports it 24-48 h late).
    empty: dict[str, Any] | list[Any] = [] if not keys else {}
    return Subquery(
        VideoSnapshot.objects.filter(workspace=OuterRef("workspace"), video=OuterRef("pk"))
        .exclude(**{field_name: empty})
        .order_by("-captured_at")
        .annotate(share=_Share(field_name, *keys))
        .values("share")[:1],
        output_field=FloatField(),
    )


def videos_with_metrics(*, workspace: Workspace) -> QuerySet[TikTokVideo]:
    """Videos annotated with their figures as of the latest snapshot, and measured_at.

    Every analytics surface (card, posts table, snapshot rows, CSV, API) reads these, so one
    video's figures agree everywhere. TikTokVideo's own counters are refreshed by other syncs
    (the comment sync re-lists videos every few minutes) without a snapshot; shown beside a
    snapshot row they disagreed ("96 comments on the card, 42 in the snapshot"). They are only
    a fallback, labelled with their own time, for a video with no snapshot yet.
    """
    qs = (
        TikTokVideo.objects.for_workspace(workspace)
        .select_related("account")
        .annotate(
            latest_views=Coalesce(_latest("views"), F("view_count")),
            latest_likes=Coalesce(_latest("likes"), F("like_count")),
            latest_comments=Coalesce(_latest("comments"), F("comment_count")),
            latest_shares=Coalesce(_latest("shares"), F("share_count")),
            measured_at=Coalesce(_latest("captured_at"), F("last_synced_at")),
            measured_by_snapshot=ExpressionWrapper(
                Q(pk__in=VideoSnapshot.objects.filter(workspace=workspace).values("video_id")),
                output_field=BooleanField(),
            ),
        )
        .annotate(
            engagement_rate=ExpressionWrapper(
                Cast(F("latest_likes") + F("latest_comments") + F("latest_shares"), FloatField())
                * 100.0
                / NullIf(F("latest_views"), 0),
                output_field=FloatField(),
            ),
            reach=_latest("reach"),
            average_time_watched=_latest("average_time_watched"),
            full_video_watched_rate=_latest("full_video_watched_rate"),
            new_followers=_latest("new_followers"),
            for_you_share=_latest_share("impression_sources", "For You", "FOR_YOU"),
            new_viewer_share=_latest_share("audience_types", "NEW_VIEWER"),
            retention_mid_share=_latest_share("retention"),
        )
    )
    for label, delta, tolerance in VELOCITY_MARKS:
        qs = qs.annotate(**{label: views_at(delta, tolerance)})
    return qs


@dataclass(frozen=True)
class VideoFigures:
    """One video's headline counters as every analytics surface shows them, and when measured."""

    views: int
    likes: int
    comments: int
    shares: int
    measured_at: dt.datetime | None
    by_snapshot: bool


_FIGURES = (
    "latest_views",
    "latest_likes",
    "latest_comments",
    "latest_shares",
    "measured_at",
    "measured_by_snapshot",
)


def video_figures(*, workspace: Workspace, video: TikTokVideo) -> VideoFigures:
    """`videos_with_metrics`' figures for one video, in one query (only these columns are
    selected). Other apps show them through `settings.VIDEO_FIGURES` (Conversations' Post view),
    so a video cannot show 96 comments there and 42 in Analytics."""
    row = videos_with_metrics(workspace=workspace).filter(pk=video.pk).values(*_FIGURES).get()
    return VideoFigures(
        views=row["latest_views"],
        likes=row["latest_likes"],
        comments=row["latest_comments"],
        shares=row["latest_shares"],
        measured_at=row["measured_at"],
        by_snapshot=row["measured_by_snapshot"],
    )


def videos_for_period(
    *,
    workspace: Workspace,
    period: DateRange,
    account: TikTokAccount | None,
    sort: str | None = None,
) -> QuerySet[TikTokVideo]:
    tz = workspace.tz
    lower = dt.datetime.combine(period.start, dt.time.min, tzinfo=tz)
    upper = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    qs = videos_with_metrics(workspace=workspace).filter(posted_at__gte=lower, posted_at__lt=upper)
    if account is not None:
        qs = qs.filter(account=account)
    key = sort_parse(sort)
    column = SORTS[key.lstrip("-")]
    ordering = (
        F(column).desc(nulls_last=True) if key.startswith("-") else F(column).asc(nulls_last=True)
    )
    return qs.order_by(ordering, "-posted_at", "pk")


def sort_parse(sort: str | None) -> str:
    if sort and sort.lstrip("-") in SORTS:
        return sort
    return DEFAULT_SORT


def video_get(*, workspace: Workspace, video_id: Any) -> TikTokVideo:
    from later.errors import NotFound

    try:
        return videos_with_metrics(workspace=workspace).get(pk=video_id)
    except (TikTokVideo.DoesNotExist, ValueError) as exc:
        raise NotFound("This video is not in this workspace.") from exc


def video_snapshots(*, video: TikTokVideo) -> list[VideoSnapshot]:
    return list(
        VideoSnapshot.objects.for_workspace(video.workspace_id)
        .filter(video=video)
        .order_by("captured_at")
    )

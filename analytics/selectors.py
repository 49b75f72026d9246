"""Reads: date ranges, the overview rollup, the posts table and one video's history.

Everything here runs a fixed number of queries whatever the history length: daily rows are
grouped by date in SQL, view velocity comes from correlated subqueries on the snapshot index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, NullIf, TruncDate
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from analytics.models import AccountDailySnapshot, VideoSnapshot
from later.errors import ValidationFailed

RANGE_CHOICES = ("7", "30", "90", "custom")
MAX_CUSTOM_DAYS = 366
AUDIENCE_MIN_FOLLOWERS = 100

#: (label, time after publishing, how long after the mark a measurement still counts)
VELOCITY_MARKS: tuple[tuple[str, dt.timedelta, dt.timedelta], ...] = (
    ("views_1h", dt.timedelta(hours=1), dt.timedelta(hours=1)),
    ("views_24h", dt.timedelta(hours=24), dt.timedelta(hours=3)),
    ("views_7d", dt.timedelta(days=7), dt.timedelta(days=1)),
)

SORTS = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
    "engagement": "engagement_rate",
    "posted": "posted_at",
    "views_1h": "views_1h",
    "views_24h": "views_24h",
    "views_7d": "views_7d",
    "reach": "reach",
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

    @property
    def change(self) -> float | int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_percent(self) -> float | None:
        if self.value is None or self.previous in (None, 0):
            return None
        assert self.previous is not None
        return (self.value - self.previous) / self.previous * 100


@dataclass
class Overview:
    period: DateRange
    previous: DateRange
    account: TikTokAccount | None
    accounts: list[TikTokAccount]
    cards: list[Card]
    followers_series: list[tuple[dt.date, int | None]]
    views_series: list[tuple[dt.date, int | None]]
    posts_series: list[tuple[dt.date, int]]
    audience: dict[str, Any]
    has_history: bool
    empty_reasons: list[str] = field(default_factory=list)

    @property
    def headline(self) -> Card:
        return next(card for card in self.cards if card.headline)


DAILY_SUM_FIELDS = (
    "followers",
    "video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "reach",
    "new_followers",
    "lost_followers",
)


def _daily_rows(
    *, workspace: Workspace, account: TikTokAccount | None, start: dt.date, end: dt.date
) -> dict[dt.date, dict[str, Any]]:
    qs = AccountDailySnapshot.objects.for_workspace(workspace).filter(date__range=(start, end))
    if account is not None:
        qs = qs.filter(account=account)
    rows = qs.values("date").annotate(**{name: Sum(name) for name in DAILY_SUM_FIELDS})
    return {row["date"]: dict(row) for row in rows}


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


def overview_build(
    *,
    workspace: Workspace,
    period: DateRange,
    accounts: list[TikTokAccount],
    account: TikTokAccount | None,
) -> Overview:
    previous = period.previous()
    rows = _daily_rows(workspace=workspace, account=account, start=previous.start, end=period.end)
    posts = _posts_per_day(
        workspace=workspace, account=account, start=previous.start, end=period.end
    )
    history = AccountDailySnapshot.objects.for_workspace(workspace)
    if account is not None:
        history = history.filter(account=account)
    has_history = history.exists()
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
        Card(
            key="followers",
            label="Followers",
            value=_period_last(rows, period, "followers"),
            previous=_period_last(rows, previous, "followers"),
        ),
        summed("profile_views", "Profile views", note=business_note),
        summed("likes", "Likes"),
        summed("comments", "Comments", note=business_note),
        summed("shares", "Shares", note=business_note),
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
    followers_now = cards[1].value
    if (
        not audience_row
        and accounts
        and (followers_now is not None and followers_now < AUDIENCE_MIN_FOLLOWERS)
    ):
        reasons.append("audience_under_100")

    return Overview(
        period=period,
        previous=previous,
        account=account,
        accounts=accounts,
        cards=cards,
        followers_series=[
            (day, rows[day]["followers"] if day in rows else None) for day in period.dates()
        ],
        views_series=[
            (day, rows[day]["video_views"] if day in rows else None) for day in period.dates()
        ],
        posts_series=[(day, posts.get(day, 0)) for day in period.dates()],
        audience=audience_row or {},
        has_history=has_history,
        empty_reasons=reasons,
    )


# --------------------------------------------------------------------------- posts table


def _views_at(delta: dt.timedelta, tolerance: dt.timedelta) -> Subquery:
    # The first measurement at or after the mark; none inside the window means unknown.
    return Subquery(
        VideoSnapshot.objects.filter(
            workspace=OuterRef("workspace"),
            video=OuterRef("pk"),
            captured_at__gte=OuterRef("posted_at") + Value(delta),
            captured_at__lt=OuterRef("posted_at") + Value(delta + tolerance),
        )
        .order_by("captured_at")
        .values("views")[:1]
    )


def _latest(field_name: str) -> Subquery:
    return Subquery(
        VideoSnapshot.objects.filter(workspace=OuterRef("workspace"), video=OuterRef("pk"))
        .order_by("-captured_at")
        .values(field_name)[:1]
    )


def videos_with_metrics(*, workspace: Workspace) -> QuerySet[TikTokVideo]:
    """Videos annotated with engagement rate, view velocity and the latest Business insights."""
    qs = (
        TikTokVideo.objects.for_workspace(workspace)
        .select_related("account")
        .annotate(
            engagement_rate=ExpressionWrapper(
                Cast(F("like_count") + F("comment_count") + F("share_count"), FloatField())
                * 100.0
                / NullIf(F("view_count"), 0),
                output_field=FloatField(),
            ),
            reach=_latest("reach"),
            average_time_watched=_latest("average_time_watched"),
            full_video_watched_rate=_latest("full_video_watched_rate"),
        )
    )
    for label, delta, tolerance in VELOCITY_MARKS:
        qs = qs.annotate(**{label: _views_at(delta, tolerance)})
    return qs


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

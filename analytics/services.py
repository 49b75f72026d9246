"""Writes: capture account and video snapshots from TikTok, backfill Business daily metrics.

Every write is an upsert on a natural key (`bulk_create(update_conflicts=True)`), so a task
that runs twice, or an hourly run on the same day, rewrites the same rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import AccountType, TikTokAccount, TikTokVideo
from accounts.tiktok import get_tiktok_client, tiktok_account_call
from accounts.tiktok.access import tiktok_business_call
from accounts.video_sync import FetchedVideo, tiktok_videos_fetch, tiktok_videos_upsert
from analytics.best_times import activity_hours
from analytics.models import AccountDailySnapshot, SnapshotSource, VideoSnapshot, VideoViews24h
from analytics.selectors import VIEWS_24H_MARK, views_at
from tiktok_client.client import TikTokClient, business_scopes_for_fields
from tiktok_client.schemas import BusinessAccount, BusinessDailyMetric, UserInfo

logger = logging.getLogger(__name__)

#: Videos get an hourly snapshot while this young, so views at 1 h / 24 h can be read back.
HOURLY_WINDOW = dt.timedelta(hours=48)
#: TikTok's business/get serves at most 60 days of daily metrics, ending yesterday (UTC).
BACKFILL_DAYS = 60
#: Business metrics lag 1-2 days, so each capture re-reads the last few days.
METRICS_RELOAD_DAYS = 3

#: API for Business calls one capture makes (`account_snapshot_capture`), which sizes the
#: hourly fan-out: one /business/get/ (profile, audience and the reloaded daily metrics) and
#: the /business/video/list/ pages of the last 90 days at 20 videos a page, five for an account
#: posting a video a day. A weekly poster makes 2, an account at MAX_VIDEOS 11; an hour dearer
#: than this estimate has its last captures deferred (TikTokAppBudgetSpent), not failed.
#: Personal accounts read the Display API, outside this budget.
CAPTURE_BUSINESS_CALLS = 6
#: A backfill (`account_backfill`) is one /business/get/ carrying 60 days of daily metrics.
BACKFILL_BUSINESS_CALLS = 1

STATS_SCOPE = "user.info.stats"
INSIGHTS_SCOPE = "user.insights"
DISPLAY_STATS_FIELDS = ("follower_count", "following_count", "likes_count", "video_count")
BUSINESS_PROFILE_FIELDS = (
    "is_business_account",
    "username",
    "display_name",
    "profile_image",
    "followers_count",
    "following_count",
    "total_likes",
    "videos_count",
    "audience_ages",
    "audience_genders",
    "audience_countries",
)
#: Daily metrics are asked for by name (there is no `metrics` field). `followers_count` makes
#: each row carry the day's total; `daily_total_followers` is the day's net change.
BUSINESS_METRIC_FIELDS = (
    "video_views",
    "unique_video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "followers_count",
    "daily_total_followers",
    "daily_new_followers",
    "daily_lost_followers",
    "engaged_audience",
    "audience_activity",
)

CAPTURE_FIELDS = [
    "captured_at",
    "followers",
    "following",
    "likes_total",
    "video_count",
    "video_views_total",
    "updated_at",
]
METRIC_FIELDS = [
    "video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "engaged_audience",
    "new_followers",
    "lost_followers",
    "audience_activity",
    "net_followers",
    "updated_at",
]
VIDEO_SNAPSHOT_FIELDS = [
    "captured_at",
    "date",
    "views",
    "likes",
    "comments",
    "shares",
    "reach",
    "average_time_watched",
    "full_video_watched_rate",
    "impression_sources",
    "total_time_watched",
    "new_followers",
    "retention",
    "audience_types",
    "updated_at",
]


@dataclass(frozen=True)
class CaptureResult:
    videos: int
    video_snapshots: int
    metric_days: int


def video_snapshot_bucket(
    *, posted_at: dt.datetime, captured_at: dt.datetime, tz: dt.tzinfo
) -> dt.datetime:
    """Hour bucket while the video is young, then the start of the local day."""
    if captured_at - posted_at < HOURLY_WINDOW:
        return captured_at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    local_day = captured_at.astimezone(tz).date()
    return dt.datetime.combine(local_day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)


def video_snapshots_record(
    *,
    account: TikTokAccount,
    videos: Sequence[TikTokVideo],
    fetched: Iterable[FetchedVideo],
    captured_at: dt.datetime,
) -> int:
    """Upsert one snapshot per video for the bucket `captured_at` falls in."""
    tz = account.workspace.tz
    by_id = {video.video_id: video for video in videos}
    rows = []
    for item in fetched:
        video = by_id.get(item.video_id)
        if video is None:
            continue
        rows.append(
            VideoSnapshot(
                workspace_id=account.workspace_id,
                video=video,
                bucket_at=video_snapshot_bucket(
                    posted_at=video.posted_at, captured_at=captured_at, tz=tz
                ),
                captured_at=captured_at,
                date=captured_at.astimezone(tz).date(),
                views=item.views,
                likes=item.likes,
                comments=item.comments,
                shares=item.shares,
                reach=item.reach,
                average_time_watched=item.average_time_watched,
                full_video_watched_rate=item.full_video_watched_rate,
                impression_sources=item.impression_sources,
                total_time_watched=item.total_time_watched,
                new_followers=item.new_followers,
                retention=item.retention,
                audience_types=item.audience_types,
            )
        )
    if not rows:
        return 0
    VideoSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["workspace", "video", "bucket_at"],
        update_fields=VIDEO_SNAPSHOT_FIELDS,
    )
    mark, tolerance = VIEWS_24H_MARK
    # Up to an hour past the window, a capture can rewrite the hourly bucket of the snapshot
    # that settled the figure (moving it out of the window): read those videos again too.
    settle_end = mark + tolerance + dt.timedelta(hours=1)
    video_views_24h_settle(
        workspace_id=account.workspace_id,
        video_ids=[
            row.video.pk for row in rows if mark <= captured_at - row.video.posted_at < settle_end
        ],
    )
    return len(rows)


def video_views_24h_settle(*, workspace_id: Any, video_ids: Collection[Any]) -> int:
    """Store these videos' views at 24 h, read from their snapshots as the posts table reads
    them, so the heatmap and the posts table agree. The snapshot writer calls it for every
    capture in the 24-27 h window: the first one settles the figure, a later one leaves it
    (unless it rewrote the same hourly bucket). A video with no snapshot in the window has no
    row. At most three queries."""
    if not video_ids:
        return 0
    mark, tolerance = VIEWS_24H_MARK
    measured = (
        TikTokVideo.objects.for_workspace(workspace_id)
        .filter(pk__in=list(video_ids))
        .annotate(
            settled_views=views_at(mark, tolerance),
            settled_at=views_at(mark, tolerance, field_name="captured_at"),
        )
        .filter(settled_views__isnull=False)
        .values_list("pk", "account_id", "posted_at", "settled_views", "settled_at")
    )
    rows = [
        VideoViews24h(
            workspace_id=workspace_id,
            video_id=pk,
            account_id=account_id,
            posted_at=posted_at,
            views=views,
            captured_at=at,
        )
        for pk, account_id, posted_at, views, at in measured
    ]
    unmeasured = set(video_ids) - {row.video_id for row in rows}
    if unmeasured:
        VideoViews24h.objects.for_workspace(workspace_id).filter(video__in=unmeasured).delete()
    if rows:
        VideoViews24h.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["workspace", "video"],
            update_fields=["posted_at", "views", "captured_at", "updated_at"],
        )
    return len(rows)


def _business_account(
    access_token: str,
    *,
    client: TikTokClient,
    business_id: str,
    fields: Sequence[str],
    start_date: dt.date | None,
    end_date: dt.date | None,
) -> BusinessAccount:
    return client.business_get_account(
        access_token=access_token,
        business_id=business_id,
        fields=fields,
        start_date=start_date,
        end_date=end_date,
    )


def _user_info(access_token: str, *, client: TikTokClient) -> UserInfo:
    return client.get_user_info(access_token=access_token, fields=DISPLAY_STATS_FIELDS)


def _granted_fields(account: TikTokAccount, fields: Sequence[str]) -> list[str]:
    # Business scopes are per field: asking for one the user unticked fails the whole call.
    return [f for f in fields if account.has_business_scope(business_scopes_for_fields([f])[0])]


def _fetch_business(
    *, account: TikTokAccount, fields: Sequence[str], start: dt.date | None, end: dt.date | None
) -> BusinessAccount:
    # Only the capture and backfill tasks read insights: background passes.
    return tiktok_business_call(
        account=account,
        call=functools.partial(
            _business_account,
            client=get_tiktok_client(background=True),
            business_id=account.business_id,
            fields=_granted_fields(account, fields),
            start_date=start,
            end_date=end,
        ),
    )


def _metric_rows(
    *, account: TikTokAccount, metrics: Iterable[BusinessDailyMetric]
) -> list[AccountDailySnapshot]:
    return [
        AccountDailySnapshot(
            workspace_id=account.workspace_id,
            account=account,
            date=metric.date,
            source=SnapshotSource.BUSINESS,
            # Only used when the day has no capture of ours (a missed day): an insert.
            followers=metric.followers_count,
            video_views=metric.video_views,
            profile_views=metric.profile_views,
            likes=metric.likes,
            comments=metric.comments,
            shares=metric.shares,
            engaged_audience=metric.engaged_audience,
            new_followers=metric.daily_new_followers,
            lost_followers=metric.daily_lost_followers,
            audience_activity=activity_hours(metric.audience_activity),
            net_followers=metric.daily_total_followers,
        )
        for metric in metrics
    ]


def account_metrics_upsert(
    *, account: TikTokAccount, metrics: Iterable[BusinessDailyMetric]
) -> int:
    """Write Business daily metrics; a day we captured keeps its own profile counters."""
    rows = _metric_rows(account=account, metrics=metrics)
    if not rows:
        return 0
    AccountDailySnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["workspace", "account", "date"],
        update_fields=METRIC_FIELDS,
    )
    return len(rows)


def has_business_insights(account: TikTokAccount) -> bool:
    return account.is_business and account.has_business_scope(INSIGHTS_SCOPE)


def _utc_yesterday(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date() - dt.timedelta(days=1)


def account_backfill(*, account: TikTokAccount) -> int:
    """Load up to 60 days of Business daily metrics. Returns the number of days written.

    Personal accounts have no Business API access, so there is nothing to backfill: their
    history starts with the first capture.
    """
    if not has_business_insights(account):
        return 0
    end = _utc_yesterday(timezone.now())
    start = end - dt.timedelta(days=BACKFILL_DAYS - 1)
    business = _fetch_business(account=account, fields=BUSINESS_METRIC_FIELDS, start=start, end=end)
    with transaction.atomic():
        return account_metrics_upsert(account=account, metrics=business.metrics)


def _audience(business: BusinessAccount) -> dict[str, Any]:
    audience: dict[str, Any] = {}
    for key, values in (
        ("ages", business.audience_ages),
        ("genders", business.audience_genders),
        ("countries", business.audience_countries),
    ):
        if values:
            audience[key] = [[label, share] for label, share in values]
    return audience


def _difference(current: int | None, previous: int | None) -> int | None:
    # A counter that went down (videos deleted, followers lost) is not negative activity.
    if current is None or previous is None:
        return None
    return current - previous if current >= previous else None


def account_type_refresh(*, account: TikTokAccount) -> None:
    """Re-read `is_business_account`: users can switch type in the TikTok app (Corrections)."""
    if not account.has_business_scope("user.account.type"):
        return
    business = _fetch_business(
        account=account, fields=["is_business_account"], start=None, end=None
    )
    _store_account_type(account=account, business=business)


def _store_account_type(*, account: TikTokAccount, business: BusinessAccount) -> None:
    if business.is_business_account is None:
        return
    account_type = AccountType.BUSINESS if business.is_business_account else AccountType.PERSONAL
    if account_type != account.account_type:
        account.account_type = account_type
        TikTokAccount.objects.for_workspace(account.workspace_id).filter(pk=account.pk).update(
            account_type=account_type
        )


def account_snapshot_capture(*, account: TikTokAccount) -> CaptureResult:
    """Capture today's profile counters and every recent video's counters for one account."""
    if not has_business_insights(account):
        account_type_refresh(account=account)
    now = timezone.now()
    tz = account.workspace.tz
    today = now.astimezone(tz).date()

    fetched = tiktok_videos_fetch(account=account)
    profile: dict[str, int | None] = {}
    audience: dict[str, Any] = {}
    metrics: tuple[BusinessDailyMetric, ...] = ()
    if has_business_insights(account):
        end = _utc_yesterday(now)
        business = _fetch_business(
            account=account,
            fields=BUSINESS_PROFILE_FIELDS + BUSINESS_METRIC_FIELDS,
            start=_metrics_reload_start(account=account, end=end),
            end=end,
        )
        profile = {
            "followers": business.followers_count,
            "following": business.following_count,
            "likes_total": business.total_likes,
            "video_count": business.videos_count,
        }
        audience = _audience(business)
        metrics = business.metrics
        _store_account_type(account=account, business=business)
    elif STATS_SCOPE in (account.scopes or []):
        info = tiktok_account_call(
            account=account,
            call=functools.partial(_user_info, client=get_tiktok_client(background=True)),
        )
        profile = {
            "followers": info.follower_count,
            "following": info.following_count,
            "likes_total": info.likes_count,
            "video_count": info.video_count,
        }

    with transaction.atomic():
        videos = tiktok_videos_upsert(account=account, videos=fetched)
        snapshots = video_snapshots_record(
            account=account, videos=videos, fetched=fetched, captured_at=now
        )
        metric_days = account_metrics_upsert(account=account, metrics=metrics)
        views_total = (
            TikTokVideo.objects.for_workspace(account.workspace_id)
            .filter(account=account)
            .aggregate(total=Sum("view_count"))["total"]
        )
        _capture_row_upsert(
            account=account,
            day=today,
            captured_at=now,
            profile=profile,
            views_total=views_total,
            audience=audience,
        )
        if profile.get("followers") is not None:
            TikTokAccount.objects.for_workspace(account.workspace_id).filter(pk=account.pk).update(
                follower_count=profile["followers"]
            )
    return CaptureResult(videos=len(videos), video_snapshots=snapshots, metric_days=metric_days)


def _metrics_reload_start(*, account: TikTokAccount, end: dt.date) -> dt.date:
    latest = (
        AccountDailySnapshot.objects.for_workspace(account.workspace_id)
        .filter(account=account, video_views__isnull=False, date__lte=end)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    floor = end - dt.timedelta(days=BACKFILL_DAYS - 1)
    if latest is None:
        return floor
    # Re-read the lagging days and anything missed since the last metrics we hold.
    return max(
        floor, min(latest + dt.timedelta(days=1), end) - dt.timedelta(days=METRICS_RELOAD_DAYS - 1)
    )


def _capture_row_upsert(
    *,
    account: TikTokAccount,
    day: dt.date,
    captured_at: dt.datetime,
    profile: dict[str, int | None],
    views_total: int | None,
    audience: dict[str, Any],
) -> None:
    previous = (
        AccountDailySnapshot.objects.for_workspace(account.workspace_id)
        .filter(account=account, date=day - dt.timedelta(days=1))
        .first()
    )
    row = AccountDailySnapshot(
        workspace_id=account.workspace_id,
        account=account,
        date=day,
        source=SnapshotSource.CAPTURE,
        captured_at=captured_at,
        followers=profile.get("followers"),
        following=profile.get("following"),
        likes_total=profile.get("likes_total"),
        video_count=profile.get("video_count"),
        video_views_total=views_total,
        audience=audience,
    )
    update_fields = list(CAPTURE_FIELDS)
    if audience:
        update_fields.append("audience")
    if not has_business_insights(account):
        # Without Business daily metrics, a day's activity is the growth of lifetime counters
        # since yesterday's row; after a missed day there is no honest figure, so none.
        row.video_views = _difference(views_total, previous.video_views_total if previous else None)
        row.likes = _difference(row.likes_total, previous.likes_total if previous else None)
        update_fields += ["video_views", "likes"]
    AccountDailySnapshot.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["workspace", "account", "date"],
        update_fields=update_fields,
    )

"""CSV exports of account metrics and post metrics, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from analytics.models import AccountDailySnapshot
from analytics.selectors import DateRange

# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ACCOUNT_COLUMNS = (
    "date",
    "account",
    "followers",
    "following",
    "likes_total",
    "video_count",
    "video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "reach",
    "new_followers",
    "lost_followers",
)
POST_COLUMNS = (
    "video_views",
    "posted_at",
    "account",
    "caption",
    "likes",
    "comments",
    "shares",
    "engagement_rate_percent",
    "views_1h",
    "views_24h",
    "views_7d",
    "reach",
    "average_time_watched_seconds",
    "full_video_watched_rate",
    "new_followers",
    "for_you_share_percent",
    "new_viewer_share_percent",
    "retention_mid_share_percent",
    "share_url",
    "tiktok_video_id",
    "measured_at",
)


def neutralise(value: Any) -> Any:
    """Text cells that a spreadsheet would evaluate get a leading apostrophe; numbers pass."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def account_metrics_csv(
    *, workspace: Workspace, period: DateRange, account: TikTokAccount | None
) -> str:
    qs = (
        AccountDailySnapshot.objects.for_workspace(workspace)
        .filter(date__range=(period.start, period.end))
        .select_related("account")
        .order_by("date", "account__username")
    )
    if account is not None:
        qs = qs.filter(account=account)
    return _csv(
        ACCOUNT_COLUMNS,
        (
            [
                row.date.isoformat(),
                row.account.handle,
                row.followers,
                row.following,
                row.likes_total,
                row.video_count,
                row.video_views,
                row.profile_views,
                row.likes,
                row.comments,
                row.shares,
                row.reach,
                row.new_followers,
                row.lost_followers,
            ]
            for row in qs
        ),
    )


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _measured(at: dt.datetime | None, tz: dt.tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def post_row(video: TikTokVideo, tz: dt.tzinfo) -> list[Any]:
    return [
        getattr(video, "latest_views", video.view_count),
        video.posted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        video.account.handle,
        video.caption,
        getattr(video, "latest_likes", video.like_count),
        getattr(video, "latest_comments", video.comment_count),
        getattr(video, "latest_shares", video.share_count),
        _round(getattr(video, "engagement_rate", None)),
        getattr(video, "views_1h", None),
        getattr(video, "views_24h", None),
        getattr(video, "views_7d", None),
        getattr(video, "reach", None),
        _round(getattr(video, "average_time_watched", None)),
        _round(getattr(video, "full_video_watched_rate", None), 4),
        getattr(video, "new_followers", None),
        _round(getattr(video, "for_you_share", None)),
        _round(getattr(video, "new_viewer_share", None)),
        _round(getattr(video, "retention_mid_share", None)),
        video.share_url,
        video.video_id,
        _measured(getattr(video, "measured_at", None), tz),
    ]


def post_metrics_csv(*, workspace: Workspace, videos: Iterable[TikTokVideo]) -> str:
    tz = workspace.tz
    return _csv(POST_COLUMNS, (post_row(video, tz) for video in videos))

"""Mirror a connected account's recent TikTok videos into `TikTokVideo` rows.

Business accounts are read through the Business API (`/business/video/list/`), which also
carries reach, watch time and traffic sources; other accounts through the Display API
(`/v2/video/list/`, scope `video.list`). Both page newest-first, so the walk stops at the
first video older than the look-back window or after `MAX_VIDEOS`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo
from accounts.tiktok import get_tiktok_client, tiktok_account_call
from accounts.tiktok.access import tiktok_business_call
from tiktok_client.client import TikTokClient
from tiktok_client.schemas import BusinessVideoPage, VideoPage

MAX_VIDEOS = 200
MAX_AGE = dt.timedelta(days=90)
PAGE_SIZE = 20
# A misbehaving cursor (one that never advances) must not loop forever.
MAX_PAGES = MAX_VIDEOS // PAGE_SIZE + 5

VIDEO_LIST_SCOPE = "video.list"
UPDATED_FIELDS = [
    "caption",
    "cover_image_url",
    "share_url",
    "duration_seconds",
    "posted_at",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
    "last_synced_at",
    "updated_at",
]


@dataclass(frozen=True)
class FetchedVideo:
    """One video as TikTok reported it, whichever API it came from."""

    video_id: str
    posted_at: dt.datetime
    caption: str = ""
    cover_image_url: str = ""
    share_url: str = ""
    duration_seconds: int | None = None
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    # Business API only; None means TikTok did not report it (not zero).
    reach: int | None = None
    average_time_watched: float | None = None
    full_video_watched_rate: float | None = None
    impression_sources: dict[str, float] = field(default_factory=dict)
    total_time_watched: float | None = None
    new_followers: int | None = None
    retention: list[list[float]] = field(default_factory=list)
    audience_types: dict[str, float] = field(default_factory=dict)


def _epoch(seconds: int | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds or 0, tz=dt.UTC)


def _clip(value: str | None, limit: int) -> str:
    # URLField max_length; a longer CDN link is useless truncated, so drop it instead.
    value = value or ""
    return value if len(value) <= limit else ""


def uses_business_api(account: TikTokAccount) -> bool:
    # Per-video insights need the Business token; its open_id is the business_id.
    return account.is_business and account.has_business_scope(VIDEO_LIST_SCOPE)


def can_list_videos(account: TikTokAccount) -> bool:
    # /v2/video/list/ needs the Login Kit grant, /business/video/list/ the Business one.
    return uses_business_api(account) or VIDEO_LIST_SCOPE in (account.scopes or [])


def _business_page(
    access_token: str, *, client: TikTokClient, business_id: str, cursor: int | None
) -> BusinessVideoPage:
    return client.business_list_videos(
        access_token=access_token, business_id=business_id, cursor=cursor, max_count=PAGE_SIZE
    )


def _display_page(access_token: str, *, client: TikTokClient, cursor: int | None) -> VideoPage:
    return client.list_videos(access_token=access_token, cursor=cursor, max_count=PAGE_SIZE)


def _fetch_business(
    *, account: TikTokAccount, client: TikTokClient, oldest: dt.datetime, limit: int
) -> list[FetchedVideo]:
    fetched: list[FetchedVideo] = []
    cursor: int | None = None
    for _page in range(MAX_PAGES):
        page = tiktok_business_call(
            account=account,
            call=functools.partial(
                _business_page, client=client, business_id=account.business_id, cursor=cursor
            ),
        )
        for video in page.videos:
            posted_at = _epoch(video.create_time)
            if posted_at < oldest or len(fetched) >= limit:
                return fetched
            fetched.append(
                FetchedVideo(
                    video_id=video.item_id,
                    posted_at=posted_at,
                    caption=video.caption or "",
                    cover_image_url=_clip(video.thumbnail_url, 2000),
                    share_url=_clip(video.share_url, 1000),
                    views=video.video_views or 0,
                    likes=video.likes or 0,
                    comments=video.comments or 0,
                    shares=video.shares or 0,
                    reach=video.reach,
                    average_time_watched=video.average_time_watched,
                    full_video_watched_rate=video.full_video_watched_rate,
                    impression_sources=dict(video.impression_sources),
                    total_time_watched=video.total_time_watched,
                    new_followers=video.new_followers,
                    retention=[[second, share] for second, share in video.video_view_retention],
                    audience_types=dict(video.audience_types),
                )
            )
        if not page.has_more or page.cursor == cursor:
            break
        cursor = page.cursor
    return fetched


def _fetch_display(
    *, account: TikTokAccount, client: TikTokClient, oldest: dt.datetime, limit: int
) -> list[FetchedVideo]:
    fetched: list[FetchedVideo] = []
    cursor: int | None = None
    for _page in range(MAX_PAGES):
        page = tiktok_account_call(
            account=account, call=functools.partial(_display_page, client=client, cursor=cursor)
        )
        for video in page.videos:
            posted_at = _epoch(video.create_time)
            if posted_at < oldest or len(fetched) >= limit:
                return fetched
            fetched.append(
                FetchedVideo(
                    video_id=video.id,
                    posted_at=posted_at,
                    caption=video.title or video.video_description or "",
                    cover_image_url=_clip(video.cover_image_url, 2000),
                    share_url=_clip(video.share_url, 1000),
                    duration_seconds=video.duration,
                    views=video.view_count or 0,
                    likes=video.like_count or 0,
                    comments=video.comment_count or 0,
                    shares=video.share_count or 0,
                )
            )
        if not page.has_more or page.cursor == cursor:
            break
        cursor = page.cursor
    return fetched


def tiktok_videos_fetch(
    *,
    account: TikTokAccount,
    max_videos: int = MAX_VIDEOS,
    max_age: dt.timedelta = MAX_AGE,
) -> list[FetchedVideo]:
    """The account's videos from the last `max_age`, newest first, read from TikTok by
    background work (the Business app's background share)."""
    if not can_list_videos(account):
        return []
    client = get_tiktok_client(background=True)
    oldest = timezone.now() - max_age
    if uses_business_api(account):
        return _fetch_business(account=account, client=client, oldest=oldest, limit=max_videos)
    return _fetch_display(account=account, client=client, oldest=oldest, limit=max_videos)


def tiktok_videos_upsert(
    *, account: TikTokAccount, videos: Sequence[FetchedVideo]
) -> list[TikTokVideo]:
    """Insert or update one row per (workspace, account, video_id); returns rows with pks.
    Records when the list was read (an empty one too). New rows' comments are due at once."""
    now = timezone.now()
    TikTokAccount.objects.for_workspace(account.workspace_id).filter(pk=account.pk).update(
        videos_listed_at=now
    )
    if not videos:
        return []
    unique: dict[str, FetchedVideo] = {video.video_id: video for video in videos if video.video_id}
    rows = [
        TikTokVideo(
            workspace_id=account.workspace_id,
            account=account,
            video_id=video.video_id,
            caption=video.caption,
            cover_image_url=video.cover_image_url,
            share_url=video.share_url,
            duration_seconds=video.duration_seconds,
            posted_at=video.posted_at,
            view_count=video.views,
            like_count=video.likes,
            comment_count=video.comments,
            share_count=video.shares,
            last_synced_at=now,
        )
        for video in unique.values()
    ]
    # The Business API has no duration; keep the one the Display API may have stored.
    update_fields = [
        name
        for name in UPDATED_FIELDS
        if not (name == "duration_seconds" and uses_business_api(account))
    ]
    TikTokVideo.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["workspace", "account", "video_id"],
        update_fields=update_fields,
    )
    # bulk_create keeps the fresh UUIDs it generated even for rows that already existed,
    # so read the rows back to hand callers the real primary keys.
    return list(
        TikTokVideo.objects.for_workspace(account.workspace_id).filter(
            account=account, video_id__in=list(unique)
        )
    )


def tiktok_videos_sync(*, account: TikTokAccount) -> int:
    """Upsert the account's recent videos (≤90 days, ≤200 videos). Returns how many."""
    return len(tiktok_videos_upsert(account=account, videos=tiktok_videos_fetch(account=account)))

"""Hand-built snapshot histories for the rollup, view and query-count tests."""

from __future__ import annotations

import datetime as dt

from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
from analytics.models import AccountDailySnapshot, VideoSnapshot

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def business_account(workspace: Workspace, username: str = "corner.cafe") -> TikTokAccount:
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=f"open-{username}",
        username=username,
        display_name=username,
        account_type=AccountType.BUSINESS,
        scopes=["video.list", "user.insights"],
    )


def day_row(account: TikTokAccount, day: dt.date, **values: int | None) -> AccountDailySnapshot:
    return AccountDailySnapshot(
        workspace_id=account.workspace_id, account=account, date=day, **values
    )


def video(
    account: TikTokAccount, video_id: str, posted_at: dt.datetime, **counts: int | str
) -> TikTokVideo:
    return TikTokVideo.objects.create(
        workspace_id=account.workspace_id,
        account=account,
        video_id=video_id,
        posted_at=posted_at,
        **counts,
    )


def snapshot(item: TikTokVideo, after: dt.timedelta, views: int, **counts: int) -> VideoSnapshot:
    at = item.posted_at + after
    return VideoSnapshot.objects.create(
        workspace_id=item.workspace_id,
        video=item,
        bucket_at=at,
        captured_at=at,
        date=at.date(),
        views=views,
        **counts,
    )


def seed_hand_computed(workspace: Workspace) -> tuple[TikTokAccount, TikTokVideo]:
    """Current 7-day range Mar 14-20 (Mar 17 missing), previous range Mar 7-13."""
    account = business_account(workspace)
    rows = []
    for offset in range(7):
        day = dt.date(2026, 3, 14) + dt.timedelta(days=offset)
        if day == dt.date(2026, 3, 17):
            continue
        rows.append(
            day_row(
                account,
                day,
                video_views=100,
                likes=10,
                comments=2,
                shares=1,
                followers=1100 + offset * 20,
                profile_views=7,
            )
        )
    for offset in range(7):
        day = dt.date(2026, 3, 7) + dt.timedelta(days=offset)
        rows.append(
            day_row(
                account,
                day,
                video_views=50,
                likes=5,
                comments=1,
                shares=0,
                followers=1000 - (6 - offset) * 10,
                profile_views=3,
            )
        )
    AccountDailySnapshot.objects.bulk_create(rows)
    first = video(
        account,
        "v-first",
        dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC),
        caption='=HYPERLINK("http://evil")',
        view_count=1000,
        like_count=50,
        comment_count=30,
        share_count=20,
    )
    snapshot(first, dt.timedelta(minutes=30), 10)
    snapshot(first, dt.timedelta(hours=1, minutes=10), 40)
    snapshot(first, dt.timedelta(hours=25), 300)
    snapshot(first, dt.timedelta(days=7, hours=2), 900)
    # The latest snapshot holds the counters the card, table, CSV and API show.
    snapshot(first, dt.timedelta(days=8, hours=2), 1000, likes=50, comments=30, shares=20)
    video(
        account,
        "v-second",
        dt.datetime(2026, 3, 18, 9, 0, tzinfo=dt.UTC),
        caption="@someone -5 +3",
        view_count=0,
    )
    video(account, "v-before", dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC), view_count=7)
    return account, first

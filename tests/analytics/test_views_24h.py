"""Views at 24 h are stored per video when the snapshot that settles them is written, and
always equal the posts table's reading (the first snapshot 24-27 h after publishing)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from accounts.models import TikTokVideo, Workspace
from accounts.video_sync import FetchedVideo
from analytics.models import VideoSnapshot, VideoViews24h
from analytics.selectors import videos_with_metrics
from analytics.services import video_snapshots_record
from tests.analytics.seed import business_account, video

pytestmark = pytest.mark.django_db

POSTED = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)


def _capture(item: TikTokVideo, after: dt.timedelta, views: int) -> None:
    video_snapshots_record(
        account=item.account,
        videos=[item],
        fetched=[FetchedVideo(video_id=item.video_id, posted_at=item.posted_at, views=views)],
        captured_at=item.posted_at + after,
    )


def _stored(item: TikTokVideo) -> int | None:
    row = VideoViews24h.objects.for_workspace(item.workspace_id).filter(video=item).first()
    return None if row is None else row.views


def _table(item: TikTokVideo) -> int | None:
    # The posts table's column (an annotation, which the type checker cannot see).
    return getattr(videos_with_metrics(workspace=item.workspace).get(pk=item.pk), "views_24h", 0)


def test_the_first_snapshot_in_the_window_settles_it(workspace: Workspace) -> None:
    item = video(business_account(workspace), "v1", POSTED)
    hours = dt.timedelta(hours=1)

    _capture(item, 23 * hours, 900)
    assert _stored(item) is None
    assert _table(item) is None

    _capture(item, 24 * hours + dt.timedelta(minutes=20), 1000)  # bucket 10:00 next day
    assert _stored(item) == _table(item) == 1000

    _capture(item, 25 * hours + dt.timedelta(minutes=40), 1500)  # a later bucket: stays
    assert _stored(item) == _table(item) == 1000

    # The same hourly bucket re-captured (a re-run): that row is still the first one.
    _capture(item, 24 * hours + dt.timedelta(minutes=25), 1100)
    assert _stored(item) == _table(item) == 1100

    _capture(item, 30 * hours, 2000)
    row = VideoViews24h.objects.for_workspace(workspace).get(video=item)
    assert (row.views, row.posted_at, row.account_id) == (1100, POSTED, item.account_id)
    assert row.captured_at == POSTED + 24 * hours + dt.timedelta(minutes=25)


def test_no_snapshot_in_the_window_stores_nothing(workspace: Workspace) -> None:
    item = video(business_account(workspace), "late", POSTED)
    _capture(item, dt.timedelta(hours=20), 800)
    _capture(item, dt.timedelta(hours=28), 1800)  # after the window: never an estimate
    assert _stored(item) is None
    assert _table(item) is None


def test_a_bucket_rewritten_past_the_window_unsettles_it(workspace: Workspace) -> None:
    """26 h 50 settles it; a re-run 30 minutes later rewrites that hourly bucket with a
    capture after the window, so the posts table has no reading any more, and neither do we."""
    item = video(business_account(workspace), "edge", POSTED)
    _capture(item, dt.timedelta(hours=26, minutes=50), 1200)
    assert _stored(item) == _table(item) == 1200

    _capture(item, dt.timedelta(hours=27, minutes=20), 1300)
    assert VideoSnapshot.objects.for_workspace(workspace).filter(video=item).count() == 1
    assert _stored(item) is None
    assert _table(item) is None


def test_the_migration_settles_videos_snapshotted_before_the_writer_did(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    migration = importlib.import_module("analytics.migrations.0005_video_views_24h")
    items = []
    for ws, offset in ((workspace, 0), (other_workspace, 1)):
        account = business_account(ws, f"shop{offset}")
        for index, after in enumerate((23.5, 24.5, 26.9, 27.1)):
            item = video(account, f"{offset}-{index}", POSTED + dt.timedelta(days=index))
            for hours, views in ((after, 100 * (index + 1)), (after + 0.5, 999)):
                at = item.posted_at + dt.timedelta(hours=hours)
                VideoSnapshot.objects.create(
                    workspace=ws,
                    video=item,
                    bucket_at=at,
                    captured_at=at,
                    date=at.date(),
                    views=views,
                )
            items.append(item)

    migration.settle_existing(apps, None)
    migration.settle_existing(apps, None)  # twice: the same rows

    for item in items:
        assert _stored(item) == _table(item)
    assert [_stored(item) for item in items[:4]] == [999, 200, 300, None]
    assert VideoViews24h.objects.for_workspace(other_workspace).count() == 3

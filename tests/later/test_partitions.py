"""Monthly partitioning of the snapshot tables, switched on while the table takes writes
(later/partitions.py, `manage.py partitions`), on real PostgreSQL. The comment table, which
other tables reference: tests/conversations/test_partitions.py."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
from analytics.models import VideoSnapshot
from later import tasks
from later.partitions import (
    default_boundary,
    is_partitioned,
    partitions_create_ahead,
    partitions_of,
    partitions_switch_off,
    table_named,
)
from tests.partition_switch import switch_while_writing

pytestmark = pytest.mark.django_db(transaction=True)

SPEC = table_named("analytics_videosnapshot")


def _snapshot(workspace: Workspace, video: TikTokVideo, at: dt.datetime) -> VideoSnapshot:
    return VideoSnapshot(
        workspace=workspace,
        video=video,
        bucket_at=at,
        captured_at=at,
        date=at.date(),
        views=1,
    )


class Writer(threading.Thread):
    """Inserts snapshots one by one (autocommit) until stopped; records what it stored."""

    def __init__(self, workspace: Workspace, video: TikTokVideo, start: dt.datetime) -> None:
        super().__init__(daemon=True)
        self.workspace, self.video, self.start_at = workspace, video, start
        self.stop = threading.Event()
        self.stored: list[uuid.UUID] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                row = _snapshot(self.workspace, self.video, self.start_at + dt.timedelta(seconds=n))
                row.save(force_insert=True)
                self.stored.append(row.pk)
                n += 1
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            connections.close_all()


@pytest.fixture
def video(workspace: Workspace) -> TikTokVideo:
    account = TikTokAccount.objects.create(
        workspace=workspace, open_id="part-biz", username="part", account_type=AccountType.BUSINESS
    )
    return TikTokVideo.objects.create(
        workspace=workspace, account=account, video_id="7300000000000000777",
        posted_at=timezone.now() - dt.timedelta(days=90),
    )  # fmt: skip


def test_switch_on_while_writes_continue_loses_nothing_and_queries_keep_working(
    workspace: Workspace, video: TikTokVideo
) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    history = [_snapshot(workspace, video, now - dt.timedelta(hours=h)) for h in range(1, 2001)]
    VideoSnapshot.objects.bulk_create(history)
    assert not is_partitioned(SPEC)

    writer = Writer(workspace, video, start=now + dt.timedelta(minutes=1))
    output = switch_while_writing(writer, "analytics_videosnapshot")
    try:
        assert not writer.errors, writer.errors
        assert "partitioned by month" in output
        assert is_partitioned(SPEC)
        boundary = default_boundary()
        names = partitions_of(SPEC)
        assert f"analytics_videosnapshot_before_y{boundary.year}m{boundary.month:02d}" in names
        assert f"analytics_videosnapshot_y{boundary.year}m{boundary.month:02d}" in names

        # No row lost: the history and every write the writer saw committed.
        scoped = VideoSnapshot.objects.for_workspace(workspace)
        assert scoped.count() == len(history) + len(writer.stored)
        assert scoped.filter(pk__in=writer.stored).count() == len(writer.stored)

        # Queries and the upsert on the natural key keep working; a row of a partitioned
        # month lands in its partition.
        later = dt.datetime(boundary.year, boundary.month, 3, 12, tzinfo=dt.UTC)
        VideoSnapshot.objects.bulk_create([_snapshot(workspace, video, later)])
        again = _snapshot(workspace, video, later)
        again.views = 42
        VideoSnapshot.objects.bulk_create(
            [again],
            update_conflicts=True,
            unique_fields=["workspace", "video", "bucket_at"],
            update_fields=["views"],
        )
        assert scoped.get(bucket_at=later).views == 42
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tableoid::regclass::text FROM analytics_videosnapshot WHERE bucket_at = %s",
                [later],
            )
            assert cursor.fetchone() == (
                f"analytics_videosnapshot_y{boundary.year}m{boundary.month:02d}",
            )
        month_rows = scoped.filter(bucket_at__gte=now - dt.timedelta(days=7), bucket_at__lt=now)
        assert month_rows.count() == 7 * 24

        # The beat task keeps months ahead: idempotent, only adds what is missing.
        assert tasks.create_future_partitions() == 0  # the switch created them already
        months_on = partitions_create_ahead(months=6)
        assert len(months_on) == 2 and months_on[0] not in names
        assert partitions_create_ahead(months=6) == []
        status = StringIO()
        call_command("partitions", stdout=status)
        assert "analytics_videosnapshot: partitioned on bucket_at" in status.getvalue()
        assert "analytics_accountdailysnapshot: one table" in status.getvalue()
        # Switching twice is a no-op.
        out = StringIO()
        call_command("partitions", "switch", "analytics_videosnapshot", stdout=out)
        assert "already partitioned" in out.getvalue()
    finally:
        partitions_switch_off(spec=SPEC)
    assert not is_partitioned(SPEC)
    assert (
        VideoSnapshot.objects.for_workspace(workspace).count()
        == len(history) + len(writer.stored) + 1
    )


def test_the_beat_task_does_nothing_while_no_table_is_partitioned() -> None:
    assert tasks.create_future_partitions() == 0


def test_the_command_refuses_unknown_tables_and_bad_months() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a partitionable table"):
        call_command("partitions", "switch", "conversations_label")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("partitions", "switch", "analytics_videosnapshot", "--boundary", "March")
    with pytest.raises(CommandError, match="needs a table"):
        call_command("partitions", "switch")


def test_account_snapshots_switch_on_their_date(workspace: Workspace, video: TikTokVideo) -> None:
    from analytics.models import AccountDailySnapshot

    spec = table_named("AccountDailySnapshot")
    today = timezone.now().date()
    rows = [
        AccountDailySnapshot(
            workspace=workspace, account=video.account, date=today - dt.timedelta(days=d)
        )
        for d in range(400)
    ]
    AccountDailySnapshot.objects.bulk_create(rows)
    call_command("partitions", "switch", "AccountDailySnapshot", stdout=StringIO())
    try:
        assert is_partitioned(spec)
        boundary = default_boundary()
        AccountDailySnapshot.objects.create(
            workspace=workspace, account=video.account, date=boundary
        )
        scoped = AccountDailySnapshot.objects.for_workspace(workspace)
        assert scoped.count() == 401
        assert scoped.filter(date__gte=today - dt.timedelta(days=30), date__lte=today).count() == 31
    finally:
        partitions_switch_off(spec=spec)
    assert not is_partitioned(spec)
    assert AccountDailySnapshot.objects.for_workspace(workspace).count() == 401

"""Snapshot capture and Business backfill against the simulator's evolving data.

`time_machine` moves `time.time()` for the whole process, so Django's clock and the
simulator's clock (real time plus its own offset) advance together, day by day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts.models import TikTokVideo, Workspace
from analytics import services, tasks
from analytics.models import AccountDailySnapshot, SnapshotSource, VideoSnapshot
from later.celery import app as celery_app
from later.models import ParkedRetry
from later.retries import retries_send_due
from tests.analytics.conftest import connect_sim_account
from tests.conftest import business_app_minute_elapses, spend_business_app_budget
from tiktok_client.simulator import SimulatorApp

pytestmark = pytest.mark.django_db


def _start() -> dt.datetime:
    # Noon UTC tomorrow: far from midnight in Europe/Paris, so "today" is unambiguous.
    now = timezone.now().astimezone(dt.UTC)
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)


def _rows(workspace: Workspace) -> dict[dt.date, AccountDailySnapshot]:
    return {row.date: row for row in AccountDailySnapshot.objects.for_workspace(workspace)}


def _counts(workspace: Workspace) -> tuple[int, int, int]:
    return (
        AccountDailySnapshot.objects.for_workspace(workspace).count(),
        VideoSnapshot.objects.for_workspace(workspace).count(),
        TikTokVideo.objects.for_workspace(workspace).count(),
    )


def test_business_backfill_capture_rerun_and_missed_day(
    sim_app: SimulatorApp, workspace: Workspace
) -> None:
    start = _start()
    state = sim_app.state
    state.settings.business_data_lag_hours = 24  # each day's data ready as soon as it ends
    with time_machine.travel(start, tick=False):
        account = connect_sim_account(
            sim_app, workspace, open_id="sim-cafe-business", business=True
        )
        creator = state.creators["sim-cafe-business"]

        assert services.account_backfill(account=account) == 60
        rows = _rows(workspace)
        yesterday = start.date() - dt.timedelta(days=1)
        assert min(rows) == yesterday - dt.timedelta(days=59)
        assert max(rows) == yesterday
        expected = state.daily_metric(creator, yesterday)
        assert rows[yesterday].video_views == expected["video_views"]
        # Corrections: the day's total is followers_count in the row; daily_total_followers is
        # the day's net change.
        assert rows[yesterday].followers == expected["followers_count"]
        assert rows[yesterday].net_followers == expected["daily_total_followers"]
        assert rows[yesterday].new_followers == expected["daily_new_followers"]
        assert rows[yesterday].source == SnapshotSource.BUSINESS

        result = services.account_snapshot_capture(account=account)
        listed = state.listed_videos("sim-cafe-business", public_only=False)
        assert result.videos == len(listed) == result.video_snapshots
        today = start.astimezone(workspace.tz).date()
        today_row = _rows(workspace)[today]
        assert today_row.followers == state.followers_on(creator, start.date())
        assert today_row.audience["genders"]
        newest = max(listed, key=lambda v: v.create_time)
        snap = VideoSnapshot.objects.for_workspace(workspace).get(video__video_id=newest.id)
        assert snap.views == state.video_stats(newest, start.timestamp())["view_count"]
        assert snap.reach is not None

        before = _counts(workspace)
        values_before = {s.pk: s.views for s in VideoSnapshot.objects.for_workspace(workspace)}
        services.account_snapshot_capture(account=account)
        assert _counts(workspace) == before
        assert {
            s.pk: s.views for s in VideoSnapshot.objects.for_workspace(workspace)
        } == values_before

    # Skip a whole day: no capture on start+1. Business daily metrics fill that day.
    later = start + dt.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        account.refresh_from_db()
        services.account_snapshot_capture(account=account)
        rows = _rows(workspace)
        missed = (start + dt.timedelta(days=1)).date()
        assert rows[missed].source == SnapshotSource.BUSINESS
        assert rows[missed].video_views == state.daily_metric(creator, missed)["video_views"]
        assert rows[missed].followers == state.followers_on(creator, missed)
        # The day we captured keeps our own counters even after metrics arrive for it.
        assert rows[today].source == SnapshotSource.CAPTURE
        assert rows[today].video_views == state.daily_metric(creator, today)["video_views"]
        assert later.astimezone(workspace.tz).date() in rows
        # Old videos get one snapshot per local day: a new day, a new row each.
        assert VideoSnapshot.objects.for_workspace(workspace).count() > before[1]


def test_personal_account_daily_views_from_counter_growth_and_gap(
    sim_app: SimulatorApp, workspace: Workspace
) -> None:
    start = _start()
    with time_machine.travel(start, tick=False):
        account = connect_sim_account(sim_app, workspace, open_id="sim-ava-public", business=False)
        assert services.account_backfill(account=account) == 0
        services.account_snapshot_capture(account=account)
    day0 = start.astimezone(workspace.tz).date()
    first = _rows(workspace)[day0]
    assert first.video_views is None  # nothing to compare with yet
    assert first.followers is not None and first.video_views_total

    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        account.refresh_from_db()
        services.account_snapshot_capture(account=account)
    second = _rows(workspace)[day0 + dt.timedelta(days=1)]
    assert second.video_views is not None and second.video_views_total is not None
    assert second.video_views == second.video_views_total - first.video_views_total
    assert second.video_views > 0

    with time_machine.travel(start + dt.timedelta(days=3), tick=False):
        account.refresh_from_db()
        services.account_snapshot_capture(account=account)
    rows = _rows(workspace)
    assert day0 + dt.timedelta(days=2) not in rows  # the missed day stays missing
    assert rows[day0 + dt.timedelta(days=3)].video_views is None  # no invented value


def test_young_videos_get_hourly_snapshots(workspace: Workspace) -> None:
    posted = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    tz = workspace.tz
    young = services.video_snapshot_bucket(
        posted_at=posted, captured_at=posted + dt.timedelta(hours=5, minutes=20), tz=tz
    )
    assert young == dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC)
    old_a = services.video_snapshot_bucket(
        posted_at=posted, captured_at=posted + dt.timedelta(days=3, hours=1), tz=tz
    )
    old_b = services.video_snapshot_bucket(
        posted_at=posted, captured_at=posted + dt.timedelta(days=3, hours=9), tz=tz
    )
    assert old_a == old_b  # same local day in Europe/Paris -> same row


def test_schedule_task_fans_out_and_backfills_new_accounts(
    sim_app: SimulatorApp, workspace: Workspace
) -> None:
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        _run_schedule_twice(sim_app, workspace)
    finally:
        celery_app.conf.task_always_eager = eager


def _run_schedule_twice(sim_app: SimulatorApp, workspace: Workspace) -> None:
    # A fixed lag: with TikTok's 24-48 h spread, whether yesterday is ready depends on the date.
    sim_app.state.settings.business_data_lag_hours = 24
    with time_machine.travel(_start(), tick=False):
        connect_sim_account(sim_app, workspace, open_id="sim-cafe-business", business=True)
        assert tasks.schedule_daily_snapshots.delay().get() == 1
        rows = AccountDailySnapshot.objects.for_workspace(workspace).count()
        assert rows == 61  # 60 backfilled days + today's capture
        tasks.schedule_daily_snapshots.delay().get()
        assert AccountDailySnapshot.objects.for_workspace(workspace).count() == rows


def test_a_capture_tiktok_cannot_serve_waits_in_postgresql_and_runs_when_due(
    sim_app: SimulatorApp,
    workspace: Workspace,
    broker_sent: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = connect_sim_account(sim_app, workspace, open_id="sim-cafe-business", business=True)
    ids = {"workspace_id": str(workspace.pk), "account_id": str(account.pk)}
    sim_app.faults.add("*", "http_500", count=None)
    assert tasks.capture_account_snapshot(**ids) == 0
    assert broker_sent == []  # no countdown message: the next try is a row
    row = ParkedRetry.objects.get(task=tasks.CAPTURE_TASK, subject=str(account.pk))
    assert row.label == "Analytics capture" and row.next_attempt_at is not None
    assert row.next_attempt_at > timezone.now() + dt.timedelta(seconds=29)  # 60 s, jittered

    # The hourly fan-out leaves the capture to its parked retry.
    assert tasks.schedule_daily_snapshots() == 1
    assert (tasks.CAPTURE_TASK, ids) not in broker_sent
    sim_app.faults.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=row.next_attempt_at) == 1
    assert broker_sent[-1] == (tasks.CAPTURE_TASK, ids)
    assert tasks.capture_account_snapshot(**ids) > 0
    assert not ParkedRetry.objects.filter(task=tasks.CAPTURE_TASK).exists()


@pytest.mark.parametrize(
    ("task", "name"),
    [
        (tasks.capture_account_snapshot, tasks.CAPTURE_TASK),
        (tasks.backfill_account, tasks.BACKFILL_TASK),
    ],
)
def test_without_room_in_the_apps_budget_analytics_wait_for_their_schedule_without_failing(
    task: Any,
    name: str,
    sim_app: SimulatorApp,
    workspace: Workspace,
    settings: Any,
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    # Background passes may fill 8 of the Business app's 10 calls a minute; others used them.
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 10
    account = connect_sim_account(sim_app, workspace, open_id="sim-cafe-business", business=True)
    ids = {"workspace_id": str(workspace.pk), "account_id": str(account.pk)}
    spend_business_app_budget(8)

    assert task(**ids) == 0
    # Deferred, not failed: nothing parked, nothing sent, TikTok never asked.
    assert not ParkedRetry.objects.filter(task=name).exists()
    assert broker_sent == []
    assert sim_app.counters.requests_to("/open_api/v1.3/business/get/") == 0
    assert not AccountDailySnapshot.objects.for_workspace(workspace).exists()

    business_app_minute_elapses()
    assert task(**ids) > 0
    assert not ParkedRetry.objects.filter(task=name).exists()

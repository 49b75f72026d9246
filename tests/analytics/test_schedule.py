"""The analytics fan-out (every minute): only accounts due, the longest waiting first, within a
minute's background share of the Business app's calls, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountType, BusinessStatus, TikTokAccount, Workspace
from analytics import tasks
from analytics.models import AccountDailySnapshot, SnapshotSource
from analytics.services import CAPTURE_BUSINESS_CALLS
from later.retries import retry_later

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def _into_the_hour() -> dt.timedelta:
    """How far into the current clock hour (UTC) it is: a capture that long ago was this hour's."""
    now = timezone.now()
    return now - now.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def sixty_calls_a_minute(settings: Any) -> int:
    """A background share of 60 Business calls a minute."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 60
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 1.0
    return 60


def _account(
    workspace: Workspace, *, connected_ago: dt.timedelta, business: bool = False
) -> TikTokAccount:
    n = next(_seq)
    account = TikTokAccount.objects.create(
        workspace=workspace,
        open_id=f"open-{n}",
        username=f"creator{n}",
        account_type=AccountType.BUSINESS if business else AccountType.PERSONAL,
        business_id=f"business-{n}" if business else "",
        business_status=BusinessStatus.CONNECTED if business else BusinessStatus.NONE,
        business_scopes=["user.insights", "video.list"] if business else [],
    )
    TikTokAccount.objects.unscoped().filter(pk=account.pk).update(
        created_at=timezone.now() - connected_ago
    )
    return account


def _captured(account: TikTokAccount, ago: dt.timedelta | None) -> TikTokAccount:
    """A snapshot row captured `ago` (None: a Business metrics row no capture of ours wrote)."""
    at = timezone.now() - (dt.timedelta(days=2) if ago is None else ago)
    AccountDailySnapshot.objects.unscoped().update_or_create(
        workspace_id=account.workspace_id,
        account=account,
        date=at.date(),
        defaults={
            "source": SnapshotSource.CAPTURE if ago is not None else SnapshotSource.BUSINESS,
            "captured_at": None if ago is None else at,
        },
    )
    return account


def _sent(broker_sent: list[tuple[str, dict[str, Any]]], task: str) -> list[str]:
    return [kwargs["account_id"] for name, kwargs in broker_sent if name == task]


def _ids(accounts: list[TikTokAccount]) -> list[str]:
    return [str(account.pk) for account in accounts]


def test_captures_go_to_the_longest_since_capture_first_within_the_minutes_calls(
    workspace: Workspace,
    sixty_calls_a_minute: int,
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    """60 calls a minute pay for 10 captures of 6 calls: never captured first (connected longest
    ago first; a row without a capture of ours is not a capture), then the longest since the
    last capture; accounts captured in this clock hour get nothing; the one left out goes next."""
    assert sixty_calls_a_minute // CAPTURE_BUSINESS_CALLS == 10
    day = dt.timedelta(days=1)
    into_the_hour = _into_the_hour()
    captured_at_the_hour = _captured(_account(workspace, connected_ago=9 * day), into_the_hour)
    captured_now = _captured(_account(workspace, connected_ago=9 * day), dt.timedelta(0))
    last_hour = _captured(_account(workspace, connected_ago=9 * day), into_the_hour + 5 * MINUTE)
    captured_2_h = _account(workspace, connected_ago=9 * day)
    _captured(captured_2_h, 26 * HOUR)  # yesterday's row: its latest capture is today's
    _captured(captured_2_h, 2 * HOUR)
    stale_hours = (7, 12, 9, 8, 11, 10)
    stale = [
        _captured(_account(workspace, connected_ago=9 * day), hours * HOUR) for hours in stale_hours
    ]
    by_capture_age = [a for _, a in sorted(zip(stale_hours, stale, strict=True), reverse=True)]
    never_new = _account(workspace, connected_ago=HOUR)
    never_old = _account(workspace, connected_ago=3 * day)
    metrics_only = _captured(_account(workspace, connected_ago=2 * day), None)

    assert tasks.schedule_daily_snapshots() == 10
    assert _sent(broker_sent, tasks.CAPTURE_TASK) == _ids(
        [never_old, metrics_only, never_new, *by_capture_age, captured_2_h]
    )
    assert _sent(broker_sent, tasks.BACKFILL_TASK) == []  # Personal: nothing to backfill

    # Those ten captured meanwhile; the next minute serves the one left waiting.
    for account in [never_old, metrics_only, never_new, *stale, captured_2_h]:
        _captured(account, dt.timedelta(0))
    broker_sent.clear()
    assert tasks.schedule_daily_snapshots() == 1
    assert _sent(broker_sent, tasks.CAPTURE_TASK) == _ids([last_hour])
    assert {str(captured_at_the_hour.pk), str(captured_now.pk)}.isdisjoint(
        _sent(broker_sent, tasks.CAPTURE_TASK)
    )


def test_backfills_go_first_to_new_business_accounts_and_captures_take_what_is_left(
    workspace: Workspace,
    sixty_calls_a_minute: int,
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    personal = _account(workspace, connected_ago=dt.timedelta(days=30))
    new_business = [
        _account(workspace, connected_ago=dt.timedelta(minutes=200 - n), business=True)
        for n in range(62)
    ]

    # 62 backfills of one call are due: the 60 connected longest ago take the minute.
    assert tasks.schedule_daily_snapshots() == 60
    assert _sent(broker_sent, tasks.BACKFILL_TASK) == _ids(new_business[:60])
    assert _sent(broker_sent, tasks.CAPTURE_TASK) == []

    # Backfilled meanwhile (metrics rows, no capture yet): the last two are backfilled next,
    # and the 58 calls left pay for 9 captures, those connected longest ago first.
    for account in new_business[:60]:
        _captured(account, None)
    broker_sent.clear()
    assert tasks.schedule_daily_snapshots() == 2 + 9
    assert _sent(broker_sent, tasks.BACKFILL_TASK) == _ids(new_business[60:])
    assert _sent(broker_sent, tasks.CAPTURE_TASK) == _ids([personal, *new_business[:8]])


def test_accounts_whose_retry_is_parked_are_left_to_it(
    workspace: Workspace, broker_sent: list[tuple[str, dict[str, Any]]]
) -> None:
    capture_parked = _account(workspace, connected_ago=HOUR, business=True)
    _captured(capture_parked, 3 * HOUR)
    backfill_parked = _account(workspace, connected_ago=HOUR, business=True)
    for task, account in (
        (tasks.CAPTURE_TASK, capture_parked),
        (tasks.BACKFILL_TASK, backfill_parked),
    ):
        ids = {"workspace_id": str(workspace.pk), "account_id": str(account.pk)}
        retry_later(
            task=task,
            subject=str(account.pk),
            kwargs=ids,
            label="Analytics",
            error="TikTok unavailable",
            policy=tasks.SNAPSHOT_RETRY,
            workspace_id=workspace.pk,
        )

    assert tasks.schedule_daily_snapshots() == 1
    # The account waiting for its backfill's retry is still captured: that is another task.
    assert broker_sent == [
        (
            tasks.CAPTURE_TASK,
            {"workspace_id": str(workspace.pk), "account_id": str(backfill_parked.pk)},
        )
    ]


def test_the_fan_out_costs_the_same_queries_for_three_accounts_as_for_thirty_three(
    workspace: Workspace, broker_sent: list[tuple[str, dict[str, Any]]]
) -> None:
    costs, new_and_stale = [], 0
    for count in (1, 10):
        for _ in range(count):
            _account(workspace, connected_ago=HOUR, business=True)
            _captured(_account(workspace, connected_ago=HOUR), 2 * HOUR)
            _captured(_account(workspace, connected_ago=HOUR), dt.timedelta(0))
        new_and_stale += 2 * count
        broker_sent.clear()
        with CaptureQueriesContext(connection) as queries:
            tasks.schedule_daily_snapshots()
        costs.append(len(queries.captured_queries))
        # The new account's backfill and capture, the stale one's capture; the fresh: nothing.
        assert len(broker_sent) == 3 * new_and_stale // 2
    assert costs[0] == costs[1] == 4  # two parked-retry reads, backfills, captures

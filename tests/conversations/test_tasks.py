"""Celery tasks: the fan-out picks business accounts only; the per-account task syncs, and
when TikTok rate-limits it or fails its next try waits in PostgreSQL (later/retries.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, TikTokAccount, TikTokVideo, Workspace
from conversations import sync, tasks
from conversations.models import Comment
from later.models import ParkedRetry
from later.retries import retries_send_due, retry_later
from tests.conftest import rate_holds_elapse
from tests.conversations.conftest import LIST_PATH, CommentSim
from tests.conversations.factories import make_account, make_video

pytestmark = pytest.mark.django_db


def test_fan_out_enqueues_one_task_per_eligible_account(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    eligible = make_account(workspace)
    make_account(workspace, status=AccountStatus.NEEDS_RECONNECT)
    make_account(workspace, account_type="personal")
    make_account(workspace, scopes=["user.info.basic"])
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.sync_account_comments, "delay", lambda **kw: sent.append(kw))

    assert tasks.schedule_comment_sync() == 1
    # Never listed: its video list is due, one call.
    assert sent == [{"workspace_id": str(workspace.pk), "account_id": str(eligible.pk), "calls": 1}]


def test_an_account_without_the_comment_scope_is_looked_at_daily_not_every_minute(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its due time cannot be met (it may not read comments): the fan-out puts it back a day
    instead of reading it at the head of the order every minute."""
    account = make_account(workspace, scopes=["user.info.basic"])
    make_video(account)
    sent = _capture(monkeypatch)

    assert tasks.schedule_comment_sync() == 0
    account.refresh_from_db()
    assert account.comments_due_at > timezone.now() + dt.timedelta(hours=23)
    assert sent == []


def _synced(video: TikTokVideo, at: dt.datetime) -> None:
    """What a finished pass over the video's comments writes (conversations.sync)."""
    video.comments_synced_at = at
    video.comments_due_at = sync.comments_next_due(posted_at=video.posted_at, synced_at=at)
    video.save(update_fields=["comments_synced_at", "comments_due_at"])


def _account_with_videos(
    workspace: Workspace,
    *,
    age: dt.timedelta,
    synced_ago: dt.timedelta | None,
    count: int = 1,
    listed_ago: dt.timedelta = dt.timedelta(0),
) -> TikTokAccount:
    """A Business account with `count` videos posted `age` ago, their comments synced
    `synced_ago` (None: just marked by TikTok's webhook, or just listed), its video list read
    `listed_ago`, and its due time as the sync leaves it."""
    now = timezone.now()
    account = make_account(workspace, videos_listed_at=now - listed_ago)
    for _ in range(count):
        video = make_video(account, posted_at=now - age, comments_due_at=now)
        if synced_ago is not None:
            _synced(video, now - synced_ago)
    sync.account_comments_due_refresh(account=account, now=now)
    return account


def _sync_allotted(allotted: list[dict[str, Any]], at: dt.datetime) -> None:
    """What each sent task does with its calls: the list when due, then its due videos, the
    longest waiting first."""
    for kwargs in allotted:
        account = TikTokAccount.objects.unscoped().get(pk=kwargs["account_id"])
        calls = kwargs["calls"]
        if (
            account.videos_listed_at is None
            or account.videos_listed_at <= at - sync.VIDEO_LIST_EVERY
        ):
            TikTokAccount.objects.unscoped().filter(pk=account.pk).update(videos_listed_at=at)
            calls -= 1
        for video in sync.videos_due(account=account, now=at, limit=calls):
            _synced(video, at)
        sync.account_comments_due_refresh(account=account, now=at)


def _capture(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.sync_account_comments, "delay", lambda **kw: sent.append(kw))
    return sent


def _calls(sent: list[dict[str, Any]]) -> dict[str, int]:
    return {kw["account_id"]: kw["calls"] for kw in sent}


def test_fan_out_sends_the_longest_waiting_accounts_first_within_the_apps_minute(
    workspace: Workspace, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More is due than the app's background calls of a minute allow: what waits longest goes
    first, accounts with nothing due get no task, and the rest keep their place for the next
    minute."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 3
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 1.0
    day, minute = dt.timedelta(days=1), dt.timedelta(minutes=1)
    overdue_9_min = _account_with_videos(workspace, age=day, synced_ago=10 * minute)
    overdue_1_min = _account_with_videos(workspace, age=day, synced_ago=2 * minute)
    marked_now = _account_with_videos(workspace, age=day, synced_ago=None)
    _account_with_videos(workspace, age=day, synced_ago=dt.timedelta(seconds=20))  # fresh
    _account_with_videos(workspace, age=20 * day, synced_ago=2 * 60 * minute)  # daily: fresh
    # Its comments are fresh, its list was due 10 minutes ago.
    stale_list = _account_with_videos(
        workspace, age=day, synced_ago=dt.timedelta(seconds=20), listed_ago=20 * minute
    )
    sent = _capture(monkeypatch)

    assert tasks.schedule_comment_sync() == 3
    assert [kw["account_id"] for kw in sent] == [
        str(stale_list.pk),
        str(overdue_9_min.pk),
        str(overdue_1_min.pk),
    ]
    assert [kw["calls"] for kw in sent] == [1, 1, 1]

    # Those three synced meanwhile; the next minute serves the one left waiting.
    _sync_allotted(sent, timezone.now())
    sent.clear()
    assert tasks.schedule_comment_sync() == 1
    assert sent == [
        {"workspace_id": str(workspace.pk), "account_id": str(marked_now.pk), "calls": 1}
    ]


def test_fan_out_fills_the_minute_by_calls_not_accounts(
    workspace: Workspace, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each due video is a call: three accounts with five due videos each share 12 calls, not
    12 tasks of unknown cost; the one waiting longest gets its five, the rest what is left."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 12
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 1.0
    day, minute = dt.timedelta(days=1), dt.timedelta(minutes=1)
    first = _account_with_videos(workspace, age=day, synced_ago=9 * minute, count=5)
    second = _account_with_videos(workspace, age=day, synced_ago=8 * minute, count=5)
    third = _account_with_videos(workspace, age=day, synced_ago=7 * minute, count=5)
    sent = _capture(monkeypatch)

    assert tasks.schedule_comment_sync() == 3
    # Round one: at most a quarter of the minute each (3); round two tops up in order.
    assert _calls(sent) == {str(first.pk): 5, str(second.pk): 4, str(third.pk): 3}
    assert sum(kw["calls"] for kw in sent) == 12


def test_a_busy_account_is_capped_so_the_others_get_their_calls(
    workspace: Workspace, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 young videos of one account waited longest: it still leaves room for six accounts
    with one due video each, and takes what they leave."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 12
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 1.0
    day, minute = dt.timedelta(days=1), dt.timedelta(minutes=1)
    busy = _account_with_videos(workspace, age=day, synced_ago=30 * minute, count=30)
    quiet = [_account_with_videos(workspace, age=day, synced_ago=2 * minute) for _ in range(6)]
    sent = _capture(monkeypatch)

    assert tasks.schedule_comment_sync() == 7
    assert _calls(sent) == {str(busy.pk): 6, **{str(a.pk): 1 for a in quiet}}


def test_nobody_is_starved_across_minutes_by_a_busy_account(
    workspace: Workspace, settings: Any, monkeypatch: pytest.MonkeyPatch, time_machine: Any
) -> None:
    """A busy account whose young videos are due again every minute, beside ten accounts with
    one due video each and a minute of 8 calls: each quiet account is served within two
    minutes, and the busy one keeps getting its share meanwhile."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 8
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 1.0
    day, minute = dt.timedelta(days=1), dt.timedelta(minutes=1)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    busy = _account_with_videos(workspace, age=day, synced_ago=20 * minute, count=30)
    quiet = {
        str(_account_with_videos(workspace, age=day, synced_ago=(10 - n) * minute).pk)
        for n in range(10)
    }
    sent = _capture(monkeypatch)
    served: dict[str, int] = {}
    busy_calls = []
    for n in range(3):
        at = start + n * minute
        time_machine.move_to(at, tick=False)
        tasks.schedule_comment_sync()
        calls = _calls(sent)
        assert sum(calls.values()) <= 8
        busy_calls.append(calls.get(str(busy.pk), 0))
        for account_id in calls:
            served.setdefault(account_id, n)
        _sync_allotted(sent, at)
        sent.clear()
    assert quiet <= set(served)
    assert max(served[a] for a in quiet) <= 1
    assert all(busy_calls) and busy_calls[0] <= 2


def test_a_parked_retry_whose_subject_is_not_an_account_id_cannot_break_the_fan_out(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account(workspace)
    retry_later(
        task=tasks.SYNC_TASK,
        subject="written-by-an-older-version",
        kwargs={},
        label="Comment sync",
        error="TikTok unavailable",
        policy=tasks.SYNC_RETRY,
        workspace_id=workspace.pk,
    )
    sent: list[str] = []
    monkeypatch.setattr(
        tasks.sync_account_comments, "delay", lambda **kw: sent.append(kw["account_id"])
    )
    assert tasks.schedule_comment_sync() == 1
    assert sent == [str(account.pk)]


def test_fan_out_costs_the_same_queries_whatever_the_accounts_and_videos(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.sync_account_comments, "delay", lambda **kw: None)
    costs = []
    for accounts, videos in ((2, 1), (18, 12)):
        for _ in range(accounts):
            _account_with_videos(workspace, age=dt.timedelta(days=1), synced_ago=None, count=videos)
        # Nothing due after all for one of them: it is put back at its true time.
        _account_with_videos(workspace, age=dt.timedelta(days=1), synced_ago=dt.timedelta(0))
        TikTokAccount.objects.unscoped().update(comments_due_at=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            tasks.schedule_comment_sync()
        costs.append(len(queries.captured_queries))
    assert costs[0] == costs[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own row counters")
def test_fan_out_reads_only_due_videos_not_every_video(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 accounts with 40 videos each, 3 videos due: the fan-out reads the due rows (and one
    for each due account's next due time) through the indexes, not all 800 videos."""
    monkeypatch.setattr(tasks.sync_account_comments, "delay", lambda **kw: None)
    day = dt.timedelta(days=1)
    accounts = [
        _account_with_videos(workspace, age=day, synced_ago=dt.timedelta(0), count=40)
        for _ in range(20)
    ]
    due = [TikTokVideo.objects.unscoped().filter(account=a).first() for a in accounts[:3]]
    now = timezone.now()
    TikTokVideo.objects.unscoped().filter(pk__in=[v.pk for v in due if v]).update(
        comments_due_at=now - dt.timedelta(minutes=5)
    )
    TikTokAccount.objects.unscoped().filter(pk__in=[a.pk for a in accounts[:3]]).update(
        comments_due_at=now - dt.timedelta(minutes=5)
    )
    table = TikTokVideo._meta.db_table
    with connection.cursor() as cursor:
        # The test tables are too small for the planner to prefer its indexes on its own.
        cursor.execute("SET LOCAL enable_seqscan = off")
        before = _rows_read(cursor, table)
        assert tasks.schedule_comment_sync() == 3
        read = _rows_read(cursor, table) - before
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert read <= 3 * 2


def _rows_read(cursor: Any, table: str) -> int:
    cursor.execute(
        "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
        "FROM pg_stat_xact_user_tables WHERE relname = %s",
        [table],
    )
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def test_a_rate_limited_sync_waits_in_postgresql_then_syncs(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    monkeypatch: pytest.MonkeyPatch,
    broker_sent: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Only the two seeded videos: keep the account's video list as the test made it.
    monkeypatch.setattr(tasks, "_refresh_videos", lambda account: None)
    ids: dict[str, Any] = {
        "workspace_id": str(business_account.workspace_id),
        "account_id": str(business_account.pk),
    }
    csim.fault(LIST_PATH, "http_429")

    before = timezone.now()
    assert tasks.sync_account_comments(**ids) is None
    assert broker_sent == []  # no countdown message: the next try is a row
    row = ParkedRetry.objects.get(task=tasks.SYNC_TASK, subject=ids["account_id"])
    assert row.label == "Comment sync" and row.workspace_id == business_account.workspace_id
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= before + dt.timedelta(seconds=1)  # TikTok's Retry-After
    assert tasks.schedule_comment_sync() == 0  # the minute's fan-out leaves it to its retry
    assert broker_sent == []

    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=row.next_attempt_at) == 1
    assert broker_sent == [(tasks.SYNC_TASK, ids)]
    rate_holds_elapse()
    tasks.sync_account_comments(**broker_sent[0][1])
    expected = sum(csim.visible_comments(v.video_id) for v in videos)
    assert Comment.objects.for_workspace(business_account.workspace).count() == expected
    assert not ParkedRetry.objects.filter(task=tasks.SYNC_TASK).exists()  # done: forgotten


def test_a_sync_tiktok_keeps_failing_gives_up_after_the_bound_and_says_so(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    monkeypatch: pytest.MonkeyPatch,
    broker_sent: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
    owner: Any,
    client_for: Any,
) -> None:
    monkeypatch.setattr(tasks, "_refresh_videos", lambda account: None)
    ids: dict[str, Any] = {
        "workspace_id": str(business_account.workspace_id),
        "account_id": str(business_account.pk),
    }
    csim.app.faults.add(LIST_PATH, "http_500", count=None)
    page = reverse("accounts:tiktok_accounts", args=[business_account.workspace_id])
    tasks.sync_account_comments(**ids)
    for retry in range(1, tasks.SYNC_RETRY.max_attempts + 1):
        row = ParkedRetry.objects.get(task=tasks.SYNC_TASK)
        assert row.gave_up_at is None and row.next_attempt_at is not None
        shown = client_for(owner).get(page).content.decode()
        assert "Comment sync failed" in shown and f"(retry {retry} of 5)" in shown
        with django_capture_on_commit_callbacks(execute=True):
            assert retries_send_due(now=row.next_attempt_at) == 1
        tasks.sync_account_comments(**broker_sent[-1][1])
    assert len(broker_sent) == tasks.SYNC_RETRY.max_attempts
    row = ParkedRetry.objects.get(task=tasks.SYNC_TASK)
    assert row.gave_up_at is not None and row.next_attempt_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert "gave up after 5 retries" in client_for(owner).get(page).content.decode()
    # Given up, the account is back on the minute's schedule like any other.
    assert tasks.schedule_comment_sync() == 1


def test_account_task_is_a_no_op_for_a_deleted_account(workspace: Workspace) -> None:
    result = tasks.sync_account_comments.apply(
        kwargs={
            "workspace_id": str(workspace.pk),
            "account_id": "00000000-0000-0000-0000-000000000000",
        }
    )
    assert result.result is None


def test_account_task_survives_a_refused_video_refresh(
    csim: CommentSim, workspace: Workspace
) -> None:
    import datetime as dt

    from tests.conversations.conftest import connect_business_account

    # Without video.insights TikTok refuses the video list; known videos still sync.
    account = connect_business_account(
        csim, workspace, scopes=("user.info.basic", "comment.list", "comment.list.manage")
    )
    sim_video = next(v for v in csim.state.videos.values() if v.open_id == account.open_id)
    TikTokVideo.objects.create(
        workspace=workspace,
        account=account,
        video_id=sim_video.id,
        posted_at=dt.datetime.fromtimestamp(sim_video.create_time, tz=dt.UTC),
    )
    tasks.sync_account_comments.apply(
        kwargs={"workspace_id": str(workspace.pk), "account_id": str(account.pk)}
    )
    assert Comment.objects.for_workspace(workspace).count() == csim.visible_comments(sim_video.id)


SQLITE_FAN_OUT = """
import datetime as dt, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.utils import timezone
from accounts.models import Workspace
from conversations import sync, tasks
from tests.conversations.factories import make_account, make_video
now = timezone.now()
workspace = Workspace.objects.create(name="Quick start")
busy = make_account(workspace, videos_listed_at=now)
for _ in range(5):
    make_video(busy, comments_due_at=now - dt.timedelta(minutes=5))
quiet = make_account(workspace, videos_listed_at=now)
make_video(quiet, comments_due_at=now - dt.timedelta(minutes=1))
done = make_account(workspace, videos_listed_at=now)
make_video(done, comments_due_at=now + dt.timedelta(seconds=55))  # synced just now
for account in (busy, quiet, done):
    sync.account_comments_due_refresh(account=account, now=now)
sent = []
tasks.sync_account_comments.delay = lambda **kw: sent.append(kw)
tasks.schedule_comment_sync()
names = {str(busy.pk): "busy", str(quiet.pk): "quiet"}
print(sorted((names[kw["account_id"]], kw["calls"]) for kw in sent))
"""


@pytest.mark.slow
def test_the_fan_out_runs_on_the_sqlite_quick_start(tmp_path: Any) -> None:
    """The quick start's SQLite: the migration fills and indexes the due times there too, and
    the fan-out shares out its calls (4 a minute here: a quarter each in round one)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quick.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "later.settings",
        "REDIS_URL": "",
        "TIKTOK_BUSINESS_APP_RATE_LIMIT": "4",
        "TIKTOK_BUSINESS_BACKGROUND_SHARE": "1.0",
    }
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_FAN_OUT],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[('busy', 3), ('quiet', 1)]"

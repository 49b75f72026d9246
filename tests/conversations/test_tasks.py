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
from conversations import tasks
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
    sent: list[dict[str, str]] = []
    monkeypatch.setattr(tasks.sync_account_comments, "delay", lambda **kw: sent.append(kw))

    assert tasks.schedule_comment_sync() == 1
    assert sent == [{"workspace_id": str(workspace.pk), "account_id": str(eligible.pk)}]


def _account_with_video(
    workspace: Workspace, *, age: dt.timedelta, synced_ago: dt.timedelta | None
) -> TikTokAccount:
    """A Business account with one video posted `age` ago, its comments synced `synced_ago`
    (None: never, or TikTok's webhook said they changed) and its video list just refreshed."""
    now = timezone.now()
    account = make_account(workspace)
    make_video(
        account,
        posted_at=now - age,
        comments_synced_at=None if synced_ago is None else now - synced_ago,
        last_synced_at=now,
    )
    return account


def test_fan_out_sends_the_longest_waiting_accounts_first_within_the_apps_minute(
    workspace: Workspace, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More accounts are due than the app's background calls of a minute allow: those waiting
    longest go first (never synced or marked by the webhook, then the most overdue), accounts
    with nothing due get no task, and the rest keep their place for the next minute."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = 3
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 1.0
    day, minute = dt.timedelta(days=1), dt.timedelta(minutes=1)
    overdue_9_min = _account_with_video(workspace, age=day, synced_ago=10 * minute)
    overdue_1_min = _account_with_video(workspace, age=day, synced_ago=2 * minute)
    never_synced = _account_with_video(workspace, age=day, synced_ago=None)
    _account_with_video(workspace, age=day, synced_ago=dt.timedelta(seconds=20))  # fresh
    _account_with_video(workspace, age=20 * day, synced_ago=2 * 60 * minute)  # daily: fresh
    stale_list = _account_with_video(workspace, age=day, synced_ago=dt.timedelta(seconds=20))
    TikTokVideo.objects.for_workspace(workspace).filter(account=stale_list).update(
        last_synced_at=timezone.now() - 20 * minute  # its list was due 10 minutes ago
    )
    sent: list[str] = []
    monkeypatch.setattr(
        tasks.sync_account_comments, "delay", lambda **kw: sent.append(kw["account_id"])
    )

    assert tasks.schedule_comment_sync() == 3
    assert sent == [str(never_synced.pk), str(stale_list.pk), str(overdue_9_min.pk)]

    # Those three synced meanwhile; the next minute serves the one left waiting.
    TikTokVideo.objects.for_workspace(workspace).filter(
        account__in=[never_synced, stale_list, overdue_9_min]
    ).update(comments_synced_at=timezone.now(), last_synced_at=timezone.now())
    sent.clear()
    assert tasks.schedule_comment_sync() == 1
    assert sent == [str(overdue_1_min.pk)]


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


def test_fan_out_costs_the_same_queries_for_two_accounts_as_for_twenty(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.sync_account_comments, "delay", lambda **kw: None)
    costs = []
    for count in (2, 18):
        for _ in range(count):
            _account_with_video(workspace, age=dt.timedelta(days=1), synced_ago=None)
        with CaptureQueriesContext(connection) as queries:
            tasks.schedule_comment_sync()
        costs.append(len(queries.captured_queries))
    assert costs[0] == costs[1]


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
    ids = {
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
    ids = {
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

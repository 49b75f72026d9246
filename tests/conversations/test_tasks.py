"""Celery tasks: the fan-out picks business accounts only; the per-account task syncs, and
when TikTok rate-limits it or fails its next try waits in PostgreSQL (later/retries.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, TikTokAccount, TikTokVideo, Workspace
from conversations import tasks
from conversations.models import Comment
from later.models import ParkedRetry
from later.retries import retries_send_due
from tests.conftest import rate_holds_elapse
from tests.conversations.conftest import LIST_PATH, CommentSim
from tests.conversations.factories import make_account

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

"""Celery tasks: the fan-out picks business accounts only; the per-account task syncs and
backs off when TikTok rate-limits it."""

from __future__ import annotations

import pytest

from accounts.models import AccountStatus, TikTokAccount, TikTokVideo, Workspace
from conversations import tasks
from conversations.models import Comment
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


def test_account_task_syncs_and_retries_after_a_rate_limit(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Only the two seeded videos: keep the account's video list as the test made it.
    monkeypatch.setattr(tasks, "_refresh_videos", lambda account: None)
    retries: list[float] = []
    original_retry = tasks.sync_account_comments.retry

    def record_retry(*args, **kwargs):
        retries.append(kwargs["countdown"])
        rate_holds_elapse()  # eager retries run at once; the countdown would have waited
        return original_retry(*args, **kwargs)

    monkeypatch.setattr(tasks.sync_account_comments, "retry", record_retry)
    csim.fault(LIST_PATH, "http_429")

    tasks.sync_account_comments.apply(
        kwargs={
            "workspace_id": str(business_account.workspace_id),
            "account_id": str(business_account.pk),
        }
    )

    assert retries and retries[0] >= 1
    expected = sum(csim.visible_comments(v.video_id) for v in videos)
    assert Comment.objects.for_workspace(business_account.workspace).count() == expected


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

"""The per-account CallBudget is our own cap, kept well below what TikTok tolerates: when it
refuses a call, the sync did not fail. It stops where it is, keeps its cursor, counts no retry,
shows nothing on the Accounts page, and the next minute's run carries on from there."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from conversations import sync, tasks
from conversations.models import Comment, CommentSyncState
from later.models import ParkedRetry
from tests.conversations.conftest import CommentSim, connect_business_account, seed_videos

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_account_budgets() -> Iterator[None]:
    """The per-account budget lives in this process (REDIS_URL is empty under `csim`)."""
    sync._memory_limiter.clear()
    yield
    sync._memory_limiter.clear()


@pytest.fixture(autouse=True)
def known_videos_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep each account's video list as the test made it."""
    monkeypatch.setattr(tasks, "_refresh_videos", lambda account: None)


def _run(account: TikTokAccount) -> Any:
    return tasks.sync_account_comments(
        workspace_id=str(account.workspace_id), account_id=str(account.pk)
    )


def _accounts_page(client_for: Any, user: Any, workspace_id: Any) -> str:
    page = reverse("accounts:tiktok_accounts", args=[workspace_id])
    response = client_for(user).get(page)
    assert response.status_code == 200
    return str(response.content.decode())


def test_a_spent_minute_defers_the_sync_without_a_failure(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    owner: Any,
    client_for: Any,
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    # Other runs have used the account's whole minute of comment calls.
    for _ in range(sync.CALLS_PER_MINUTE):
        assert not sync._memory_limiter.acquire(
            access_token=business_account.open_id, family=sync.BUDGET_FAMILY
        )

    assert _run(business_account) is None

    assert not ParkedRetry.objects.exists()
    assert not CommentSyncState.objects.unscoped().exclude(last_error="").exists()
    # Still due: nothing was skipped, only put off.
    assert len(sync.videos_due(account=business_account, now=timezone.now())) == len(videos)
    shown = _accounts_page(client_for, owner, business_account.workspace_id)
    assert 'data-testid="retry"' not in shown
    assert "Comment sync" not in shown and "failed" not in shown
    # The minute's fan-out runs it again like any other account.
    ids = {
        "workspace_id": str(business_account.workspace_id),
        "account_id": str(business_account.pk),
        "calls": 1 + len(videos),  # its video list (never read here) and each due video
    }
    assert tasks.schedule_comment_sync() == 1
    assert broker_sent[-1] == (tasks.SYNC_TASK, ids)


def test_a_run_cut_short_keeps_its_cursor_and_the_next_run_continues(
    csim: CommentSim,
    workspace: Workspace,
    owner: Any,
    client_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    # The cafe account's video carries 36 comments (two list pages) and many reply threads:
    # three calls a run cannot finish it in one.
    cafe = connect_business_account(csim, workspace, open_id="sim-cafe-business", username="cafe")
    video = seed_videos(cafe, limit=1, skip=5)[0]
    expected = csim.visible_comments(video.video_id)
    stored = Comment.objects.for_workspace(workspace).filter(video=video)
    state = CommentSyncState.objects.for_workspace(workspace)
    monkeypatch.setattr(tasks, "CallBudget", functools.partial(sync.CallBudget, max_calls=3))
    listed_at: list[int | None] = []
    list_comments = sync._list_comments

    def recorded(token: str, **kwargs: Any) -> Any:
        listed_at.append(kwargs["cursor"])
        return list_comments(token, **kwargs)

    monkeypatch.setattr(sync, "_list_comments", recorded)
    # Its video list (never read here) and its one due video.
    ids = {"workspace_id": str(workspace.pk), "account_id": str(cafe.pk), "calls": 2}

    _run(cafe)
    assert 0 < stored.count() < expected
    assert not ParkedRetry.objects.exists()
    assert state.get(video=video).last_error == ""
    shown = _accounts_page(client_for, owner, workspace.pk)
    assert 'data-testid="retry"' not in shown and "failed" not in shown

    resumed_at: list[int] = []
    runs = 1
    while True:
        saved = state.get(video=video).pass_cursor
        # Each deferred run is followed by the minute's fan-out, not by a parked retry.
        broker_sent.clear()
        assert tasks.schedule_comment_sync() == 1
        assert [kwargs for name, kwargs in broker_sent if name == tasks.SYNC_TASK] == [ids]
        first_list_call = len(listed_at)
        _run(cafe)
        runs += 1
        if saved is not None and len(listed_at) > first_list_call:
            assert listed_at[first_list_call] == saved  # not back to the top
            resumed_at.append(saved)
        assert not ParkedRetry.objects.exists()
        if state.get(video=video).full_pass_at is not None:
            break
        assert runs < 40, "the sync made no progress"
    assert 30 in resumed_at  # a run started at the second page
    assert stored.count() == expected
    finished = state.get(video=video)
    assert finished.pass_cursor is None and finished.last_error == ""


def test_the_first_sync_of_an_account_with_many_threads_stays_under_tiktoks_limit(
    csim: CommentSim, workspace: Workspace, owner: Any, client_for: Any
) -> None:
    # TikTok answers 40100 past ~40 calls a minute per account and endpoint; the budget let a run
    # make 60 reply/list calls, so the quick start's cafe showed "Comment sync failed (40100…)"
    # on its first minute, every minute, until the threads were done.
    cafe = connect_business_account(csim, workspace, open_id="sim-cafe-business", username="cafe")
    seed_videos(cafe, limit=8)
    assert _run(cafe) is None
    assert not ParkedRetry.objects.exists()
    assert not CommentSyncState.objects.unscoped().exclude(last_error="").exists()
    shown = _accounts_page(client_for, owner, workspace.pk)
    assert "Comment sync" not in shown and "failed" not in shown


def test_a_run_makes_no_more_calls_than_the_fan_out_allotted_it(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    """The fan-out counted 3 calls for this account: the run stops at 3, not at its own
    per-minute budget, and what it did not reach stays due for the next minute."""
    from tests.conversations.conftest import LIST_PATH, REPLIES_PATH

    def comment_calls() -> int:
        return csim.calls(LIST_PATH) + csim.calls(REPLIES_PATH)

    tasks.sync_account_comments(
        workspace_id=str(business_account.workspace_id),
        account_id=str(business_account.pk),
        calls=3,
    )
    assert comment_calls() == 3
    assert not ParkedRetry.objects.exists()
    assert sync.videos_due(account=business_account, now=timezone.now())  # left for later
    business_account.refresh_from_db()
    assert business_account.comments_due_at <= timezone.now()

    broker_sent.clear()
    assert tasks.schedule_comment_sync() == 1
    tasks.sync_account_comments(**broker_sent[-1][1])
    assert comment_calls() > 3  # the next minute carries on

"""Comment sync is background work: it stops at its share of the TikTok API for Business app's
per-minute budget (across all accounts) and waits for its next run, neither failing nor meeting
TikTok's 40100; people's actions keep the rest of the budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from conversations import services, sync, tasks
from conversations.models import Comment, CommentSyncState
from later.errors import ExternalServiceError
from later.models import ParkedRetry
from later.retries import retries_send_due
from tests.conftest import rate_holds_elapse, spend_business_app_budget
from tests.conversations.conftest import LIST_PATH, CommentSim, connect_business_account
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

APP_LIMIT = 15
BACKGROUND_CEILING = 12  # TIKTOK_BUSINESS_BACKGROUND_SHARE 0.8
CREATORS = (
    ("sim-tiny-bakery", "tiny.bakery"),
    ("sim-dance-business", "dance.studio"),
    ("sim-cafe-business", "corner.cafe"),
)


@pytest.fixture
def limited(csim: CommentSim, settings: Any) -> CommentSim:
    """TikTok's app allows APP_LIMIT Business calls a minute, and so does our budget."""
    settings.TIKTOK_BUSINESS_APP_RATE_LIMIT = APP_LIMIT
    settings.TIKTOK_BUSINESS_BACKGROUND_SHARE = 0.8
    csim.app.state.settings.business_app_rate_limit = APP_LIMIT
    sync._memory_limiter.clear()  # the per-account sync budget of earlier tests' accounts
    return csim


def _business_answers(sim: CommentSim) -> tuple[int, int]:
    """(requests, successes) over every Business endpoint, as the simulator counted them."""
    counters = sim.app.counters
    paths = [path for path in list(counters.requests) if path.startswith("/open_api/v1.3/")]
    return (
        sum(counters.requests_to(path) for path in paths),
        sum(counters.successes(path) for path in paths),
    )


def _run(account: TikTokAccount) -> Any:
    return tasks.sync_account_comments(
        workspace_id=str(account.workspace_id), account_id=str(account.pk)
    )


def test_a_sync_over_many_accounts_never_meets_tiktoks_app_limit_and_defers_quietly(
    limited: CommentSim,
    workspace: Workspace,
    owner: Any,
    client_for: Any,
    broker_sent: list[tuple[str, dict[str, Any]]],
) -> None:
    accounts = [
        connect_business_account(limited, ws, open_id=open_id, username=username)
        for ws in (workspace, WorkspaceFactory.create(name="Second client"))
        for open_id, username in CREATORS
    ]
    for account in accounts:
        _run(account)

    # TikTok saw exactly background work's share of the minute and answered every call.
    assert _business_answers(limited) == (BACKGROUND_CEILING, BACKGROUND_CEILING)
    # Deferred, not failed: no retry parked, no error stored, nothing shown on the page.
    assert not ParkedRetry.objects.exists()
    assert not CommentSyncState.objects.unscoped().exclude(last_error="").exists()
    page = reverse("accounts:tiktok_accounts", args=[workspace.pk])
    assert 'data-testid="retry"' not in client_for(owner).get(page).content.decode()
    # The next fan-out sends the five accounts the budget deferred, not the one it finished.
    assert not sync.videos_due(account=accounts[0], now=timezone.now())
    broker_sent.clear()
    assert tasks.schedule_comment_sync() == len(accounts) - 1
    assert {kwargs["account_id"] for _, kwargs in broker_sent} == {str(a.pk) for a in accounts[1:]}

    # A person's reply still finds room in the app's minute.
    comment = Comment.objects.for_workspace(workspace).filter(is_own=False).first()
    assert comment is not None
    services.comment_reply(comment=comment, text="Thank you!", user=owner)
    assert _business_answers(limited) == (BACKGROUND_CEILING + 1, BACKGROUND_CEILING + 1)

    # A minute later the syncs resume, still inside TikTok's limit.
    limited.app.clock.advance(61)
    rate_holds_elapse()
    for account in accounts:
        _run(account)
    requests, successes = _business_answers(limited)
    assert requests == successes and requests > BACKGROUND_CEILING + 1


def test_a_reply_meets_tiktoks_rate_limited_error_only_when_the_whole_budget_is_spent(
    limited: CommentSim, business_account: TikTokAccount, owner: Any
) -> None:
    video = TikTokVideo.objects.for_workspace(business_account.workspace).create(
        workspace=business_account.workspace,
        account=business_account,
        video_id=next(
            v.id for v in limited.state.videos.values() if v.open_id == business_account.open_id
        ),
        posted_at=timezone.now() - dt.timedelta(hours=1),
    )
    sync.comment_sync_account(account=business_account)
    comment = Comment.objects.for_workspace(business_account.workspace).filter(video=video).first()
    assert comment is not None
    spent = _business_answers(limited)[0]
    spend_business_app_budget(APP_LIMIT - spent)

    with pytest.raises(ExternalServiceError) as refused:
        services.comment_set_hidden(comment=comment, hidden=True, user=owner)
    assert refused.value.code == "tiktok_rate_limited"
    assert "Try again in a minute" in refused.value.message
    assert _business_answers(limited)[0] == spent  # never sent


def test_a_parked_retry_that_is_deferred_gets_its_try_back(
    limited: CommentSim,
    business_account: TikTokAccount,
    videos: Any,
    monkeypatch: pytest.MonkeyPatch,
    broker_sent: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(tasks, "_refresh_videos", lambda account: None)
    limited.fault(LIST_PATH, "http_429")
    _run(business_account)  # TikTok said 429: a retry is parked
    row = ParkedRetry.objects.get(task=tasks.SYNC_TASK)
    assert row.next_attempt_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=row.next_attempt_at) == 1
    row.refresh_from_db()
    assert row.attempts == 1

    rate_holds_elapse()  # TikTok's Retry-After has run out; the app's minute is spent
    spend_business_app_budget(BACKGROUND_CEILING)
    before = timezone.now()
    _run(business_account)
    row.refresh_from_db()
    assert row.attempts == 0 and row.gave_up_at is None
    assert row.next_attempt_at is not None
    assert before < row.next_attempt_at <= before + dt.timedelta(seconds=66)

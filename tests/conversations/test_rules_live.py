"""A moderation rule acting on a comment that arrives by webhook, end to end and timed.

The simulator's own sender signs and posts TikTok's `comment.update` to the live server; a real
Celery worker (the subprocess the publishing fault tests run, `tests.celery_worker`) processes
the event, syncs the video and runs the rules, which hide the comment on TikTok. The issue asks
for this "within seconds of arrival": the test measures webhook receipt to the hide the
simulator counts, and holds it to a generous bound on a shared machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

import accounts.tasks  # noqa: F401 - registers the webhook task the live server queues
from accounts.models import TikTokAccount, TikTokVideo, TikTokWebhookEvent, User, Workspace
from conversations import rules
from conversations.models import Comment, RuleAction, RuleRun, RuleRunStatus
from conversations.sync import comment_sync_account
from tests.celery_worker import CeleryWorker, worker_env
from tests.conversations.conftest import HIDE_PATH, CommentSim, roomy_budget
from tests.e2e.helpers import wait_until
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID

pytestmark = pytest.mark.django_db(transaction=True)

# Webhook receipt to the comment hidden on TikTok. Typically well under 2 s (the worker's
# webhook task, the sync of one video, the rules task); generous for 2 shared, loaded cores.
ARRIVAL_TO_HIDDEN_BOUND_SECONDS = 10.0


@pytest.fixture
def worker(csim: CommentSim, tmp_path: Path) -> Iterator[CeleryWorker]:
    """A live worker on this test's simulator, booting while the test sets up. Killed before
    the database is flushed (a sync it still runs would hold row locks through the flush)."""
    env = worker_env(
        sim_base_url=csim.base_url, media_root=str(tmp_path), TIKTOK_TIMEOUT_SECONDS="5"
    )
    w = CeleryWorker(env, tmp_path, name="convo-live")
    w.launch()
    yield w
    w.kill()


def _hidden(csim: CommentSim, comment_id: str) -> bool:
    with csim.state.lock:
        return csim.state.comments[comment_id].status == "HIDDEN"


def test_a_rule_hides_a_comment_that_arrives_by_webhook_within_seconds_then_undo(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    workspace: Workspace,
    editor: User,
    worker: CeleryWorker,
    live_server: Any,
    api_client_for: Callable[[User], APIClient],
) -> None:
    comment_sync_account(account=business_account, budget=roomy_budget(business_account))
    data = rules.RuleInput.clean(
        name="No spam",
        action=RuleAction.HIDE,
        label=None,
        account=None,
        blocked_words="free followers",
        block_links=False,
        blocked_authors="",
        is_enabled=True,
    )
    rule = rules.moderation_rule_create(workspace=workspace, data=data, user=None)
    answer = httpx.post(
        csim.base_url + "/_sim/webhooks/config",
        json={
            "client_key": DEFAULT_BUSINESS_APP_ID,
            "callback_url": live_server.url + reverse("accounts:tiktok_business_webhook"),
        },
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    worker.wait_ready(timeout=120)
    hides_before = csim.calls(HIDE_PATH)

    # A fan comments; TikTok tells us by webhook. Nothing in this process syncs or runs rules.
    spam_id = csim.fan_comment(videos[0].video_id, "Get FREE followers now!!")
    fine_id = csim.fan_comment(videos[0].video_id, "love this choreo")
    hidden_at = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _hidden(csim, spam_id):
            hidden_at = time.time()
            break
        time.sleep(0.05)
    assert hidden_at is not None, f"not hidden within 60 s; worker log: {worker.log_text()[-3000:]}"

    received = (
        TikTokWebhookEvent.objects.filter(event="comment.update").order_by("created_at").first()
    )
    assert received is not None and received.processed_at is not None
    took = hidden_at - received.created_at.timestamp()
    print(f"\nwebhook receipt -> hidden on TikTok: {took:.2f} s")
    assert 0 < took < ARRIVAL_TO_HIDDEN_BOUND_SECONDS, took
    assert csim.calls(HIDE_PATH) == hides_before + 1
    assert not _hidden(csim, fine_id)
    spam = Comment.objects.for_workspace(workspace).get(comment_id=spam_id)
    runs = RuleRun.objects.for_workspace(workspace).filter(comment=spam)
    # The worker records the hide after TikTok answered it: the simulator can show the comment
    # hidden a moment before the worker's transaction commits.
    wait_until(
        lambda: runs.filter(status=RuleRunStatus.DONE).exists(),
        timeout=10,
        interval=0.05,
        what="rule run recorded as done",
    )
    run = runs.get()
    spam.refresh_from_db()
    assert spam.is_hidden and (run.rule, run.status) == (rule, RuleRunStatus.DONE)

    # Undo (the API, as the thread's button does through the same service) unhides it on TikTok.
    api = api_client_for(editor)
    url = reverse("conversations:api_rule_run_undo", args=[workspace.pk, run.pk])
    undone = api.post(url)
    assert undone.status_code == 200, undone.content
    assert undone.json()["status"] == RuleRunStatus.UNDONE
    wait_until(lambda: not _hidden(csim, spam_id), timeout=5, interval=0.05, what="unhidden")
    spam.refresh_from_db()
    assert not spam.is_hidden
    # The unhide is itself a `comment.update`: its sync must not hide the comment again.
    assert csim.state.webhooks.flush(timeout=20)
    time.sleep(3)
    assert not _hidden(csim, spam_id)
    assert RuleRun.objects.for_workspace(workspace).get(pk=run.pk).status == RuleRunStatus.UNDONE

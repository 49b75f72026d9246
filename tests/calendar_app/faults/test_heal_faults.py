"""Issue 20's faults on a real Celery worker: TikTok refuses the token mid-publish, the rate
limiter's Redis fails, the database drops right after init, the broker is away for a while.

Counted on what the simulator received: exactly one init per post, and the post ends
published, or failed / unconfirmed with TikTok's own reason. test_publishing_heal.py has the
same cases in-process.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import AccountStatus, TikTokAccount, Workspace
from accounts.tiktok import signals
from calendar_app.models import Post, PostStatus
from calendar_app.publishing import dispatch
from tests.calendar_app.faults.conftest import WORKER_APP, Worker
from tests.calendar_app.faults.outage import Outage
from tests.calendar_app.publishing_factories import (
    CREATOR_INFO,
    INIT,
    UPLOAD,
    Sim,
    connect_account,
    make_post,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TERMINAL = {PostStatus.PUBLISHED, PostStatus.UNCONFIRMED, PostStatus.FAILED}
SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")


def _post(post: Post) -> Post:
    return Post.objects.for_workspace(post.workspace_id).get(pk=post.pk)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _beat() -> None:
    """What beat runs: the dispatcher tick (new posts, due polls) and the lease sweeper."""
    dispatch.posts_dispatch_tick()
    dispatch.posts_sweep_stale()


def _ticking(check: Callable[[], bool]) -> Callable[[], bool]:
    """`check`, with beat ticking before each look, as the worker needs it to make progress."""

    def tick() -> bool:
        _beat()
        return check()

    return tick


def _settle(posts: list[Post], timeout: float = 60.0) -> list[Post]:
    def settled() -> bool:
        _beat()
        return all(_post(p).status in TERMINAL for p in posts)

    _wait(settled, timeout, "the posts to settle")
    return [_post(p) for p in posts]


def _inits_per_post(sim: Sim, posts: list[Post]) -> dict[str, int]:
    """Accepted inits per post, as TikTok counted them."""
    by_title = sim.publishes_by_title()
    return {p.caption: len(by_title.get(p.caption, [])) for p in posts}


def _kinds(post: Post) -> list[str]:
    return list(post.events.order_by("created_at").values_list("kind", flat=True))


@pytest.fixture
def redis_outage() -> Iterator[Outage]:
    outage = Outage(os.environ["REDIS_URL"])
    yield outage
    outage.close()


def test_token_refused_mid_publish_is_unconfirmed_then_polled_again_after_reconnect(
    fault_sim: Sim, worker: Worker, workspace: Workspace
) -> None:
    """The creator removes the app's access while TikTok holds the posts: they cannot be
    checked, so they say so (TikTok's refusal in the account's reason), and the reconnect
    brings back status polling, never init. TikTok failed the posts it was still processing
    when the access went (§2.7 auth_removed), which polling then reports in words."""
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    posts = [make_post(account, caption=f"token refused mid-publish {n}") for n in range(2)]
    fault_sim.app.faults.add(UPLOAD, "latency", seconds=1.5, count=2)
    _wait(
        _ticking(lambda: fault_sim.state.counters.requests_to(UPLOAD) >= 2),
        30,
        "both uploads",
    )
    with fault_sim.state.lock:
        fault_sim.state.revoke_grant(open_id=account.open_id)

    stuck = _settle(posts)
    assert {p.status for p in stuck} == {PostStatus.UNCONFIRMED}, [p.fail_message for p in stuck]
    assert all(p.publish_id for p in stuck)
    assert all("TikTok had already received this post" in p.fail_message for p in stuck)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert account.status_reason  # TikTok's own refusal, shown on the Accounts page

    _reconnect(fault_sim, account)
    settled = _settle(posts)
    assert {p.status for p in settled} == {PostStatus.FAILED}
    assert all("removed this app's access" in p.fail_message for p in settled)
    assert _inits_per_post(fault_sim, posts) == {p.caption: 1 for p in posts}
    assert fault_sim.state.counters.requests_to(INIT) == 2


def _reconnect(sim: Sim, account: TikTokAccount) -> None:
    """What the OAuth callback stores for a reconnect (accounts.tiktok.connection)."""
    with sim.state.lock:
        tokens = sim.state.issue_tokens(open_id=account.open_id, scopes=SCOPES)
    now = timezone.now()
    with transaction.atomic():
        account.access_token_encrypted = encrypt_token(tokens["access_token"])
        account.refresh_token_encrypted = encrypt_token(tokens["refresh_token"])
        account.access_token_expires_at = now + dt.timedelta(seconds=tokens["expires_in"])
        account.refresh_token_expires_at = now + dt.timedelta(seconds=tokens["refresh_expires_in"])
        account.status, account.status_reason = AccountStatus.CONNECTED, ""
        account.save()
        signals.account_reconnected.send(sender=TikTokAccount, account=account, previous_label="")


def test_rate_limiter_redis_failing_before_init_is_never_sent_and_retried(
    fault_sim: Sim,
    worker_with: Callable[..., Worker],
    workspace: Workspace,
    redis_outage: Outage,
) -> None:
    """The worker's rate budget lives in a Redis that goes away between creator_info and
    init (the broker stays up): init never left, so the post is retried, not unconfirmed."""
    worker_with(REDIS_URL=redis_outage.url, CELERY_BROKER_URL=os.environ["REDIS_URL"])
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption="rate budget unreachable at init")
    fault_sim.app.faults.add(CREATOR_INFO, "latency", seconds=1.5)
    _wait(
        _ticking(lambda: fault_sim.state.counters.requests_to(CREATOR_INFO) >= 1),
        30,
        "creator_info",
    )
    redis_outage.down()  # creator_info is in flight; init's budget cannot be asked
    _wait(
        lambda: _post(post).events.filter(kind="retry_scheduled").exists(),
        30,
        "the retry",
    )
    assert fault_sim.state.counters.requests_to(INIT) == 0
    assert redis_outage.refused > 0
    redis_outage.up()

    [post] = _settle([post])
    assert post.status == PostStatus.PUBLISHED, post.fail_message
    assert "unconfirmed" not in _kinds(post)
    retry = post.events.filter(kind="retry_scheduled").first()
    assert retry is not None and retry.data.get("code") == "rate_budget_unavailable"
    assert _inits_per_post(fault_sim, [post]) == {post.caption: 1}
    assert fault_sim.state.counters.requests_to(INIT) == 1


def test_database_dropped_right_after_init_keeps_the_publish_id_on_a_real_worker(
    fault_sim: Sim, worker: Worker, workspace: Workspace
) -> None:
    """TikTok accepts init while PostgreSQL drops the worker's connections: the publish_id
    is stored on a fresh connection, and the post publishes with that one init."""
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption="database gone while init was answered")
    fault_sim.app.faults.add(INIT, "latency", seconds=1.5)
    _wait(
        _ticking(lambda: fault_sim.state.counters.requests_to(INIT) >= 1),
        30,
        "init",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP],
        )
        assert cursor.fetchall(), "the worker had no connection to drop"

    [post] = _settle([post])
    assert post.status == PostStatus.PUBLISHED, post.fail_message
    [publish] = fault_sim.publishes_by_title()[post.caption]
    assert post.publish_id == publish.publish_id
    assert fault_sim.state.counters.requests_to(INIT) == 1


def test_broker_away_for_a_while_the_worker_comes_back_by_itself_and_publishes_once(
    fault_sim: Sim,
    worker_with: Callable[..., Worker],
    workspace: Workspace,
    redis_outage: Outage,
) -> None:
    """The worker loses its broker for 8 s while posts come due and beat keeps ticking: no
    restart, and every post publishes once when the broker is back."""
    worker = worker_with(CELERY_BROKER_URL=redis_outage.url)
    assert worker.proc is not None
    pid = worker.proc.pid
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    redis_outage.down()
    posts = [make_post(account, caption=f"broker away {n}") for n in range(3)]
    away_until = time.monotonic() + 8.0
    while time.monotonic() < away_until:
        _beat()
        time.sleep(0.5)
    assert fault_sim.state.counters.requests_to(INIT) == 0
    assert {_post(p).status for p in posts} == {PostStatus.QUEUED}
    redis_outage.up()

    published = _settle(posts, timeout=90)
    assert {p.status for p in published} == {PostStatus.PUBLISHED}
    assert worker.alive and worker.proc is not None and worker.proc.pid == pid
    assert _inits_per_post(fault_sim, posts) == {p.caption: 1 for p in posts}
    assert fault_sim.state.counters.requests_to(INIT) == 3

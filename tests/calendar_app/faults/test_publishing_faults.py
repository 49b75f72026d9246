"""Fault tests: real Celery workers SIGKILLed mid-step, Redis emptied, TikTok faults.

Every assertion about duplicates is made on what the simulator received, not on our rows.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from typing import Any

import pytest
from django.db import connection

from accounts.models import Workspace
from calendar_app.models import Post, PostStatus
from calendar_app.publishing import dispatch, run
from tests.calendar_app.faults.conftest import WORKER_APP, Worker
from tests.calendar_app.publishing_factories import (
    CREATOR_INFO,
    INIT,
    STATUS,
    UPLOAD,
    Sim,
    connect_account,
    flush_rate_limits,
    make_post,
    make_video,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TERMINAL = {
    PostStatus.PUBLISHED,
    PostStatus.UNCONFIRMED,
    PostStatus.FAILED,
    PostStatus.SENT_TO_INBOX,
}


def _post(post: Post) -> Post:
    return Post.objects.for_workspace(post.workspace_id).get(pk=post.pk)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _settled(post: Post) -> bool:
    dispatch.posts_dispatch_tick()  # beat does this every 5 s: resumes due status polls
    return _post(post).status in TERMINAL


def _wait_terminal(post: Post, timeout: float = 40.0) -> Post:
    _wait(lambda: _settled(post), timeout, f"post {post.pk} to settle")
    return _post(post)


def _recover(worker: Worker) -> None:
    """What production does after a crash: a worker comes back, beat runs the sweeper."""
    worker.start()
    dispatch.posts_sweep_stale(stale_after=dt.timedelta(0))
    dispatch.posts_dispatch_due()


def _assert_once(sim: Sim, post: Post) -> Any:
    publishes = sim.publishes_by_title().get(post.caption, [])
    # Refused inits (500/429) created nothing; only accepted ones count as posts.
    assert sim.state.counters.successes(INIT) == 1, "TikTok must accept exactly one init"
    assert len(publishes) == 1
    return publishes[0]


@pytest.mark.parametrize(
    ("step", "endpoint", "expected"),
    [
        ("creator_info", CREATOR_INFO, PostStatus.PUBLISHED),
        ("init", INIT, PostStatus.UNCONFIRMED),
        ("upload", UPLOAD, PostStatus.PUBLISHED),
        ("status", STATUS, PostStatus.PUBLISHED),
    ],
)
def test_worker_sigkilled_mid_step_never_duplicates_nor_loses_the_post(
    fault_sim: Sim, worker: Worker, workspace: Workspace, step: str, endpoint: str, expected: str
) -> None:
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption=f"sigkill during {step}")
    fault_sim.app.faults.add(endpoint, "latency", seconds=3.0)

    dispatch.posts_dispatch_due()
    _wait(
        lambda: fault_sim.state.counters.requests_to(endpoint) >= 1,
        30,
        f"the worker to reach {step}",
    )
    worker.kill()
    killed = _post(post)
    assert killed.status == PostStatus.PUBLISHING
    time.sleep(3.2)  # let the simulator finish what it was doing for the dead worker

    _recover(worker)
    post = _wait_terminal(post)
    assert post.status == expected, post.fail_message
    if expected == PostStatus.UNCONFIRMED:
        # init reached TikTok but its answer died with the worker: a person decides.
        assert post.init_started_at is not None and post.publish_id == ""
        assert fault_sim.state.counters.requests_to(INIT) == 1
    else:
        publish = _assert_once(fault_sim, post)
        assert publish.status == "PUBLISH_COMPLETE"
        assert post.publish_id == publish.publish_id


def test_redis_emptied_after_dispatch_the_sweeper_still_publishes_once(
    fault_sim: Sim, worker: Worker, workspace: Workspace
) -> None:
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    worker.kill()
    post = make_post(account, caption="lost in redis")
    dispatch.posts_dispatch_due()
    flush_rate_limits()  # FLUSHDB on the broker's database: the publish message is gone
    assert _post(post).status == PostStatus.QUEUED
    _recover(worker)
    post = _wait_terminal(post)
    assert post.status == PostStatus.PUBLISHED
    _assert_once(fault_sim, post)


def test_database_connections_dropped_mid_step_the_post_still_publishes_once(
    fault_sim: Sim, worker: Worker, workspace: Workspace
) -> None:
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption="postgres dropped us")
    fault_sim.app.faults.add(STATUS, "latency", seconds=2.0)
    dispatch.posts_dispatch_due()
    _wait(lambda: fault_sim.state.counters.requests_to(STATUS) >= 1, 30, "the status poll")
    with connection.cursor() as cursor:
        # Only the worker's: the live server and this test keep their connections.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP],
        )
        assert cursor.fetchall(), "the worker had no connection to drop"
    time.sleep(2.5)  # the worker's next write fails on its dead connection
    assert _post(post).status == PostStatus.PUBLISHING
    dispatch.posts_sweep_stale(stale_after=dt.timedelta(0))
    post = _wait_terminal(post)
    assert post.status == PostStatus.PUBLISHED
    _assert_once(fault_sim, post)


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        (CREATOR_INFO, "http_500"),
        (CREATOR_INFO, "timeout"),
        (INIT, "http_500"),
        (INIT, "http_429"),
        (UPLOAD, "http_500"),
        (UPLOAD, "drop_after_accept"),
        (STATUS, "http_429"),
        (STATUS, "drop_after_accept"),
    ],
)
def test_tiktok_faults_on_a_real_worker_yield_no_duplicates(
    fault_sim: Sim, worker: Worker, workspace: Workspace, endpoint: str, kind: str
) -> None:
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption=f"{kind} on {endpoint}")
    fault_sim.app.faults.add(endpoint, kind, seconds=1.0 if kind != "timeout" else 2.5)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if _settled(post):
            break
        time.sleep(0.3)
    post = _post(post)
    assert post.status == PostStatus.PUBLISHED, post.fail_message
    _assert_once(fault_sim, post)


def test_200_posts_due_together_across_50_accounts_publish_exactly_once(
    fault_sim: Sim, workspace: Workspace, monkeypatch: Any
) -> None:
    """In-process: two racing dispatchers and eight publishing threads on the real DB."""
    from calendar_app import tasks

    accounts = []
    for n in range(50):
        fault_sim.add_creator(f"bulk-{n:02d}")
        accounts.append(connect_account(fault_sim, workspace, f"bulk-{n:02d}"))
    media = make_video(workspace)
    posts = [
        make_post(accounts[n % 50], media=media, caption=f"bulk post {n:03d}") for n in range(200)
    ]

    work: queue.Queue[tuple[str, str] | None] = queue.Queue()
    monkeypatch.setattr(
        tasks.publish_post, "apply_async", lambda args, **options: work.put(tuple(args))
    )
    claims: list[Any] = []

    def dispatcher() -> None:
        try:
            for _ in range(10):
                claims.extend(dispatch.posts_dispatch_due(limit=40))
        finally:
            connection.close()

    def publisher() -> None:
        try:
            while (item := work.get()) is not None:
                run.post_publish(post_id=item[0], claim_token=item[1])
        finally:
            connection.close()

    racing = [threading.Thread(target=dispatcher) for _ in range(2)]
    pool = [threading.Thread(target=publisher) for _ in range(8)]
    for t in racing + pool:
        t.start()
    for t in racing:
        t.join()
    assert len(claims) == 200
    assert len({pk for pk, _ in claims}) == 200  # no post claimed by both dispatchers

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not Post.objects.for_workspace(workspace).exclude(status__in=TERMINAL).exists():
            break
        dispatch.posts_resume_due_polls()  # beat's tick: parked status polls come back
        time.sleep(0.5)
    for _ in pool:
        work.put(None)
    for t in pool:
        t.join()

    statuses = set(Post.objects.for_workspace(workspace).values_list("status", flat=True))
    assert statuses == {PostStatus.PUBLISHED}
    by_title = fault_sim.publishes_by_title()
    assert all(len(by_title[p.caption]) == 1 for p in posts)
    assert fault_sim.state.counters.requests_to(INIT) == 200


def test_unreadable_init_answer_on_a_real_worker_never_inits_twice(
    fault_sim: Sim, worker: Worker, workspace: Workspace
) -> None:
    """TikTok accepts init and answers a complete 200 OK that is not JSON (issue 20)."""
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption="init accepted, answer unreadable")
    fault_sim.app.faults.add(INIT, "unparseable_after_accept")
    post = _wait_terminal(post)
    assert post.status == PostStatus.UNCONFIRMED, post.fail_message
    for _ in range(3):  # beat keeps ticking: nothing calls init again
        dispatch.posts_sweep_stale(stale_after=dt.timedelta(0))
        dispatch.posts_dispatch_tick()
        time.sleep(0.3)
    assert fault_sim.state.counters.requests_to(INIT) == 1
    assert len(fault_sim.publishes_by_title()[post.caption]) == 1


def test_a_killed_workers_claim_expires_with_its_lease(
    fault_sim: Sim, worker: Worker, workspace: Workspace, settings: Any
) -> None:
    """No forced sweep: beat's sweeper re-offers the post once the dead worker's lease ends,
    so it publishes within the lease plus a dispatch interval, with one init."""
    account = connect_account(fault_sim, workspace, "sim-ava-public")
    post = make_post(account, caption="worker killed mid-upload, lease expires")
    fault_sim.app.faults.add(UPLOAD, "latency", seconds=3.0)
    dispatch.posts_dispatch_due()
    _wait(lambda: fault_sim.state.counters.requests_to(UPLOAD) >= 1, 30, "the upload")
    worker.kill()
    killed_at = time.monotonic()
    worker.start()
    lease = float(settings.PUBLISHING_CLAIM_LEASE_SECONDS)
    deadline = killed_at + lease + 5 + 15  # lease, one beat interval, upload and processing
    while time.monotonic() < deadline:
        dispatch.posts_sweep_stale()  # beat: every 5 s, default lease
        if _settled(post):
            break
        time.sleep(1.0)
    post = _post(post)
    assert post.status == PostStatus.PUBLISHED, (post.status, post.fail_message)
    _assert_once(fault_sim, post)

"""The publishing pipeline against the simulator, run in-process (one eager test per task)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AccountStatus, Notification, TikTokVideo, Workspace
from calendar_app.models import Post, PostMode, PostStatus
from calendar_app.publishing import actions, dispatch, run, state
from calendar_app.tasks import (
    dispatch_due_posts,
    publish_post,
    resolve_public_post_id,
    sweep_stale_posts,
)
from later.celery import app as celery_app
from later.data_version import data_version
from later.errors import Conflict
from tests.calendar_app.publishing_factories import (
    CREATOR_INFO,
    INBOX_INIT,
    INIT,
    STATUS,
    UPLOAD,
    Sim,
    connect_account,
    flush_rate_limits,
    make_post,
    make_video,
    pub_sim,
    run_until_settled,
)

__all__ = ["pub_sim"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(settings: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _refresh(post: Post) -> Post:
    return Post.objects.for_workspace(post.workspace_id).get(pk=post.pk)


def _kinds(post: Post) -> list[str]:
    return list(post.events.values_list("kind", flat=True))


def _run_once(post: Post) -> state.PublishResult | None:
    """Claim `post` through the dispatcher and run one publish pass in-process."""
    claimed = dict(dispatch.posts_dispatch_due())
    assert post.pk in claimed
    return run.post_publish(post_id=post.pk, claim_token=claimed[post.pk])


def _run_to_end(post: Post, *, passes: int = 10) -> Post:
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    run_until_settled(post, token, passes=passes)
    return _refresh(post)


def _later_tick() -> None:
    """Beat's tick seen from 10 s ahead, so parked polls and link lookups are due."""
    dispatch.posts_dispatch_tick(now=timezone.now() + dt.timedelta(seconds=10))


# ------------------------------------------------------------------ tasks (eager)


def test_dispatch_task_publishes_due_post_end_to_end(
    pub_sim: Sim, workspace: Workspace, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account, privacy_level="PUBLIC_TO_EVERYONE", allow_comment=True)
    future = make_post(account, scheduled_at=timezone.now() + dt.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_posts.delay().get() == 1
    for _ in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            _later_tick()

    post = _refresh(post)
    assert post.status == PostStatus.PUBLISHED
    assert post.publish_id and post.init_started_at and post.published_at
    assert post.upload_url == ""  # TikTok's upload token is not kept once the post settled
    assert pub_sim.state.counters.requests_to(INIT) == 1
    assert [p.post_info["title"] for p in pub_sim.state.publishes.values()] == [post.caption]
    kinds = _kinds(post)
    assert kinds[:2] == ["queued", "checking"]
    assert {"initiated", "uploading", "processing", "published", "public"} <= set(kinds)
    video = TikTokVideo.objects.for_workspace(workspace).get()
    assert post.video == video and video.video_id == post.tiktok_post_id
    assert post.tiktok_share_url.endswith(f"/video/{video.video_id}")
    assert _refresh(future).status == PostStatus.SCHEDULED  # never enqueued ahead of time


def test_publish_post_task_ignores_a_stale_or_foreign_claim(
    pub_sim: Sim, workspace: Workspace, eager: None
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    dispatch.posts_dispatch_due()
    assert publish_post.delay(str(post.pk), "00000000-0000-0000-0000-000000000000").get() is None
    assert pub_sim.state.counters.requests_to(INIT) == 0
    assert _refresh(post).status == PostStatus.QUEUED


def test_sweep_task_reoffers_each_kind_of_stale_post(
    pub_sim: Sim, workspace: Workspace, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    before_init, after_init, initiated = (make_post(account) for _ in range(3))
    claimed = dict(dispatch.posts_dispatch_due())
    # Run `initiated` to the point where TikTok has its publish_id, then "kill" it.
    pub_sim.app.faults.add(STATUS, "latency", seconds=0.0)
    run.take_ownership(initiated.pk, claimed[initiated.pk])
    post = (
        state.pipeline_posts().select_related("account", "media", "workspace").get(pk=initiated.pk)
    )
    assert run.start(post, claimed[initiated.pk]) is None
    Post.objects.for_workspace(workspace).filter(pk=after_init.pk).update(
        status=PostStatus.PUBLISHING, init_started_at=timezone.now()
    )
    old = timezone.now() - dt.timedelta(minutes=10)
    Post.objects.for_workspace(workspace).update(heartbeat_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        counts = sweep_stale_posts.delay().get()
    for n in range(1, 11):  # the dispatcher resumes the parked status polls
        with django_capture_on_commit_callbacks(execute=True):
            dispatch.posts_resume_due_polls(now=timezone.now() + dt.timedelta(seconds=10 * n))

    assert counts == {"rescheduled": 1, "repolled": 1, "unconfirmed": 1}
    # Sent again at once under a new claim (eager here: it ran), ahead of fresh posts.
    assert _refresh(before_init).status == PostStatus.PUBLISHED
    assert _refresh(after_init).status == PostStatus.UNCONFIRMED
    assert _refresh(initiated).status == PostStatus.PUBLISHED  # resumed: upload + poll
    # One init each for `initiated` and `before_init`; none again for `after_init`.
    assert pub_sim.state.counters.requests_to(INIT) == 2


def test_sweeper_sends_a_dead_workers_posts_ahead_and_waits_for_an_inits_answer(
    pub_sim: Sim,
    workspace: Workspace,
    monkeypatch: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    before_init, in_init = make_post(account), make_post(account)
    dispatch.posts_dispatch_due()
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS)
    lapsed = now - lease - dt.timedelta(seconds=1)
    Post.objects.for_workspace(workspace).update(status=PostStatus.PUBLISHING, heartbeat_at=lapsed)
    Post.objects.for_workspace(workspace).filter(pk=in_init.pk).update(init_started_at=lapsed)
    sent: list[tuple[Any, int]] = []
    monkeypatch.setattr(
        dispatch,
        "_send",
        lambda task, messages, *, priority: sent.extend((m[0], priority) for m in messages),
    )

    with django_capture_on_commit_callbacks(execute=True):
        counts = dispatch.posts_sweep_stale(now=now)

    # Its lease lapsed, but init's answer may still reach a live run (TikTok's timeout).
    assert counts == {"rescheduled": 1, "repolled": 0, "unconfirmed": 0}
    assert _refresh(in_init).status == PostStatus.PUBLISHING
    assert sent == [(str(before_init.pk), dispatch.RECOVER_PRIORITY)]
    assert dispatch.RESUME_PRIORITY < dispatch.RECOVER_PRIORITY < dispatch.FRESH_PRIORITY
    assert _refresh(before_init).status == PostStatus.QUEUED
    past_window = lapsed + dispatch.init_answer_window() + dt.timedelta(seconds=1)
    assert dispatch.posts_sweep_stale(now=past_window)["unconfirmed"] == 1
    assert _refresh(in_init).status == PostStatus.UNCONFIRMED


def test_resolve_public_post_id_task_links_the_video_once_it_is_public(
    pub_sim: Sim, workspace: Workspace, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    pub_sim.state.settings.moderation_delay = 3600.0
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account, privacy_level="PUBLIC_TO_EVERYONE")
    celery_app.conf.task_always_eager = False  # keep any follow-up task out of this run
    with django_capture_on_commit_callbacks(execute=False):
        post = _run_to_end(post)
    assert post.status == PostStatus.PUBLISHED and post.tiktok_post_id == ""
    celery_app.conf.task_always_eager = True
    pub_sim.state.clock.advance(3601.0)
    resolve_public_post_id.delay(str(post.pk)).get()
    post = _refresh(post)
    assert post.tiktok_post_id and post.video is not None
    assert "public" in _kinds(post)


# ------------------------------------------------------------------ steps and outcomes


def test_inbox_mode_ends_in_sent_to_inbox_with_instructions(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = _run_to_end(make_post(account, post_mode=PostMode.INBOX))
    assert post.status == PostStatus.SENT_TO_INBOX
    assert post.upload_url == ""
    assert pub_sim.state.counters.requests_to(INBOX_INIT) == 1
    assert pub_sim.state.counters.requests_to(CREATOR_INFO) == 0
    assert post.events.get(kind="sent_to_inbox").message == run.INBOX_INSTRUCTIONS


def test_a_file_up_to_64_million_bytes_goes_up_in_one_chunk(
    pub_sim: Sim, workspace: Workspace
) -> None:
    # Corrections: TikTok refused multi-chunk plans from about 2026-08; one chunk when possible.
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    media = make_video(workspace, size=21 * 1024 * 1024)
    post = _run_to_end(make_post(account, media=media))
    assert post.status == PostStatus.PUBLISHED
    assert (post.chunks_uploaded, post.chunks_total) == (1, 1)
    assert post.bytes_uploaded == post.bytes_total == 21 * 1024 * 1024
    messages = list(post.events.filter(kind="uploading").values_list("message", flat=True))
    assert messages == ["Uploading 1/1"]
    # "Only me" posts never get a public id, so nothing keeps polling TikTok for one.
    assert "no_public_link" in _kinds(post) and post.video is None


@pytest.mark.parametrize(
    ("edit", "code", "words"),
    [
        # §2.10 item 3: TikTok's own words for branded content that is private.
        (
            {"brand_content": True, "privacy_level": "SELF_ONLY"},
            "branded_private",
            "branded content visibility cannot be set to private",
        ),
        ({"brand_content": False, "brand_organic": False}, "commercial_content_incomplete", ""),
        ({"privacy_level": ""}, "privacy_required", "no default"),
    ],
)
def test_a_post_edited_behind_the_composers_back_is_refused_before_init(
    pub_sim: Sim, workspace: Workspace, edit: dict[str, Any], code: str, words: str
) -> None:
    """The composer's rules (calendar_app/preflight.py) hold again just before init: a row
    changed by other means (an admin, a script, a bug) never reaches TikTok's init."""
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(
        account,
        privacy_level="PUBLIC_TO_EVERYONE",
        commercial_content=True,
        brand_organic=True,
    )
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(**edit)
    post = _run_to_end(post)
    assert post.status == PostStatus.FAILED
    assert post.fail_code == code
    assert words in post.fail_message and "Edit the post and retry." in post.fail_message
    assert pub_sim.state.counters.requests_to(INIT) == 0
    assert post.init_started_at is None
    assert actions.post_can_retry(post)


def test_creator_setting_disabled_since_planning_fails_before_init(
    pub_sim: Sim, workspace: Workspace, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    account = connect_account(pub_sim, workspace, "sim-quiet-chef")
    post = make_post(account, allow_comment=True)
    post = _run_to_end(post)
    assert post.status == PostStatus.FAILED
    assert post.fail_code == "creator_settings_changed"
    assert "turned comments off" in post.fail_message
    assert pub_sim.state.counters.requests_to(INIT) == 0
    assert actions.post_can_retry(post)
    notes = Notification.objects.for_workspace(workspace).filter(kind="post_failed")
    assert notes.count() == 2  # editors and up: owner and editor
    assert all("failed" in n.title for n in notes)


def test_posting_ban_fails_with_tiktoks_reason_in_plain_words(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-paused-poster")
    post = _run_to_end(make_post(account))
    assert post.status == PostStatus.FAILED
    assert post.fail_code == "spam_risk_user_banned_from_posting"
    assert "temporarily blocked this account from posting" in post.fail_message
    assert pub_sim.state.counters.successes(INIT) == 0


def test_daily_cap_refusal_is_a_clear_failure_and_retry_is_safe(
    pub_sim: Sim, workspace: Workspace
) -> None:
    pub_sim.state.settings.daily_post_cap = 0
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = _run_to_end(make_post(account))
    assert post.status == PostStatus.FAILED
    assert post.fail_code == "spam_risk_too_many_posts"
    assert "Try again tomorrow" in post.fail_message
    assert actions.post_can_retry(post)


def test_5xx_before_init_retries_with_backoff_then_publishes(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(CREATOR_INFO, "http_500", count=2)
    for _ in range(2):
        assert _run_once(post).status == PostStatus.SCHEDULED  # type: ignore[union-attr]
        post = _refresh(post)
        assert post.next_attempt_at is not None and post.init_started_at is None
        Post.objects.for_workspace(workspace).filter(pk=post.pk).update(next_attempt_at=None)
    post = _run_to_end(post)
    assert post.status == PostStatus.PUBLISHED and post.attempts == 2
    assert pub_sim.state.counters.requests_to(INIT) == 1
    assert _kinds(post).count("retry_scheduled") == 2


@pytest.mark.parametrize("kind", ["http_500", "http_429"])
def test_refused_init_is_retried_without_duplicates(
    pub_sim: Sim, workspace: Workspace, kind: str
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(INIT, kind, seconds=2.0)
    assert _run_once(post).status == PostStatus.SCHEDULED  # type: ignore[union-attr]
    post = _refresh(post)
    assert post.init_started_at is None
    wait = (post.next_attempt_at - timezone.now()).total_seconds()  # type: ignore[operator]
    if kind == "http_429":
        assert 1.5 <= wait <= 4.5  # Retry-After honoured, plus jitter
        flush_rate_limits()  # as if Retry-After (held per token and endpoint) had elapsed
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(next_attempt_at=None)
    post = _run_to_end(post)
    assert post.status == PostStatus.PUBLISHED
    assert pub_sim.state.counters.successes(INIT) == 1
    assert len(pub_sim.publishes_by_title()[post.caption]) == 1


@pytest.mark.parametrize("kind", ["drop_after_accept", "timeout"])
def test_lost_init_response_becomes_unconfirmed_never_a_second_init(
    pub_sim: Sim, workspace: Workspace, kind: str
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(INIT, kind, seconds=3.0)
    assert _run_once(post).status == PostStatus.UNCONFIRMED  # type: ignore[union-attr]
    post = _refresh(post)
    assert post.status == PostStatus.UNCONFIRMED and post.fail_code == "init_unconfirmed"
    assert "tell us whether it was published" in post.fail_message
    assert not actions.post_can_retry(post)
    # Neither the dispatcher nor the sweeper touches it again.
    assert dispatch.posts_dispatch_due() == []
    assert dispatch.posts_sweep_stale(stale_after=dt.timedelta(0)) == {
        "rescheduled": 0,
        "repolled": 0,
        "unconfirmed": 0,
    }
    assert pub_sim.state.counters.requests_to(INIT) == 1
    assert len(pub_sim.publishes_by_title().get(post.caption, [])) == (
        1 if kind == "drop_after_accept" else 0
    )


def test_dropped_upload_and_status_responses_still_publish_once(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account, media=make_video(workspace, size=21 * 1024 * 1024))
    pub_sim.app.faults.add(UPLOAD, "drop_after_accept", count=1)
    pub_sim.app.faults.add(STATUS, "http_500", count=2)
    pub_sim.app.faults.add(STATUS, "http_429", count=1, seconds=1.0)
    post = _run_to_end(post)
    assert post.status == PostStatus.PUBLISHED
    assert pub_sim.state.counters.requests_to(INIT) == 1
    (publish,) = pub_sim.publishes_by_title()[post.caption]
    assert publish.status == "PUBLISH_COMPLETE" and publish.chunks_received == 1


def test_tiktok_failed_status_is_explained_and_retry_posts_once_more(
    pub_sim: Sim, workspace: Workspace, owner: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(INIT, "publish_fail", fail_reason="frame_rate_check_failed")
    post = _run_to_end(post)
    assert post.status == PostStatus.FAILED and post.fail_code == "frame_rate_check_failed"
    assert "23 to 60 frames per second" in post.fail_message
    assert actions.post_can_retry(post)

    actions.post_publish_retry(workspace=workspace, post_id=post.pk, actor=owner)
    post = _run_to_end(_refresh(post))
    assert post.status == PostStatus.PUBLISHED
    assert pub_sim.state.counters.successes(INIT) == 2  # one failed on TikTok, one posted


def test_revoked_account_fails_with_reconnect_reason_and_no_retry(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    with pub_sim.state.lock:
        pub_sim.state.revoke_grant(open_id="sim-ava-public")
    post = _run_to_end(make_post(account))
    assert post.status == PostStatus.FAILED and post.fail_code == "account_needs_reconnect"
    assert "needs to be reconnected" in post.fail_message
    assert post.attempts == 0
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert pub_sim.state.counters.requests_to(INIT) == 0


def test_email_and_in_app_notification_on_failure(
    pub_sim: Sim, workspace: Workspace, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    account = connect_account(pub_sim, workspace, "sim-paused-poster")
    with django_capture_on_commit_callbacks(execute=True):
        post = _run_to_end(make_post(account))
    assert post.status == PostStatus.FAILED
    assert len(mail.outbox) == 1
    assert "failed" in mail.outbox[0].subject
    assert set(mail.outbox[0].to) == {"owner@example.com", "editor@example.com"}
    assert Notification.objects.for_workspace(workspace).filter(kind="post_failed").exists()


# ------------------------------------------------------------------ dispatcher details


def test_dispatcher_claims_each_due_post_once_and_respects_backoff(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    due = [make_post(account) for _ in range(3)]
    backing_off = make_post(account, next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    make_post(account, status=PostStatus.DRAFT)
    before = data_version(workspace.pk)
    claimed = dispatch.posts_dispatch_due()
    assert {pk for pk, _ in claimed} == {p.pk for p in due}
    assert dispatch.posts_dispatch_due() == []
    assert _refresh(backing_off).status == PostStatus.SCHEDULED
    post = _refresh(due[0])
    assert post.status == PostStatus.QUEUED and post.claim_token and post.heartbeat_at
    # One statement wrote each row its own claim; "queued" shows on the pages.
    stored = Post.objects.for_workspace(workspace).filter(pk__in=[p.pk for p in due])
    assert {p.pk: p.claim_token for p in stored} == dict(claimed)
    assert len({token for _pk, token in claimed}) == 3
    assert data_version(workspace.pk) != before


def test_resuming_a_parked_status_poll_changes_nothing_a_page_shows(
    pub_sim: Sim, workspace: Workspace
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    at = timezone.now()
    parked = make_post(
        account,
        status=PostStatus.PUBLISHING,
        publish_id="v_pub_parked",
        init_started_at=at - dt.timedelta(seconds=5),
        next_attempt_at=at - dt.timedelta(seconds=1),
    )
    before = data_version(workspace.pk)
    assert dispatch.posts_resume_due_polls() == 1
    resumed = _refresh(parked)
    assert resumed.claim_token and resumed.next_attempt_at is None
    # Its run takes the claim over: a lease, not a change of status.
    assert run.take_ownership(resumed.pk, resumed.claim_token) is not None
    assert data_version(workspace.pk) == before


# ------------------------------------------------------------------ user actions


def test_cancel_before_init_stops_a_claimed_post(
    pub_sim: Sim, workspace: Workspace, owner: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    actions.post_publish_cancel(workspace=workspace, post_id=post.pk, actor=owner)
    assert run.post_publish(post_id=post.pk, claim_token=token) is None
    assert _refresh(post).status == PostStatus.CANCELLED
    assert pub_sim.state.counters.requests_to(INIT) == 0


def test_cancel_and_retry_refused_once_tiktok_may_have_the_post(
    pub_sim: Sim, workspace: Workspace, owner: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(INIT, "drop_after_accept")
    _run_once(post)
    with pytest.raises(Conflict):
        actions.post_publish_cancel(workspace=workspace, post_id=post.pk, actor=owner)
    with pytest.raises(Conflict):
        actions.post_publish_retry(workspace=workspace, post_id=post.pk, actor=owner)


def test_resolving_unconfirmed_not_published_posts_again(
    pub_sim: Sim, workspace: Workspace, owner: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(INIT, "timeout", seconds=3.0)
    _run_once(post)
    actions.post_publish_resolve(
        workspace=workspace, post_id=post.pk, actor=owner, outcome="not_published"
    )
    post = _refresh(post)
    assert post.status == PostStatus.SCHEDULED and post.init_started_at is None
    post = _run_to_end(post)
    assert post.status == PostStatus.PUBLISHED
    assert "resolved_not_published" in _kinds(post)


def test_resolving_unconfirmed_as_published(pub_sim: Sim, workspace: Workspace, owner: Any) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    pub_sim.app.faults.add(INIT, "drop_after_accept")
    _run_once(post)
    actions.post_publish_resolve(
        workspace=workspace, post_id=post.pk, actor=owner, outcome="published"
    )
    post = _refresh(post)
    assert post.status == PostStatus.PUBLISHED and post.fail_message == ""
    assert pub_sim.state.counters.requests_to(INIT) == 1


def test_one_beat_tick_drains_every_due_batch_at_fresh_priority(
    workspace: Workspace, settings: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.factories import TikTokAccountFactory

    settings.PUBLISHING_DISPATCH_BATCH = 2
    sent: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        publish_post, "apply_async", lambda args, **options: sent.append((args, options))
    )
    account = TikTokAccountFactory.create(workspace=workspace)
    posts = [make_post(account) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.posts_dispatch_all_due() == 5
    assert sorted(args[0] for args, _ in sent) == sorted(str(p.pk) for p in posts)
    assert {options["priority"] for _, options in sent} == {dispatch.FRESH_PRIORITY}


def test_a_pending_poll_is_parked_in_the_database_not_the_broker(
    pub_sim: Sim,
    workspace: Workspace,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    sent: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        publish_post, "apply_async", lambda args, **options: sent.append((args, options))
    )
    pub_sim.app.faults.add(STATUS, "http_429", count=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_post.run(str(post.pk), str(token)) == PostStatus.PUBLISHING
    assert sent == []  # nothing waits in the broker
    parked = _refresh(post)
    assert parked.claim_token is None and parked.next_attempt_at is not None
    assert parked.next_attempt_at > timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.posts_resume_due_polls() == 0  # not due yet
        assert dispatch.posts_resume_due_polls(now=parked.next_attempt_at) == 1
        assert dispatch.posts_resume_due_polls(now=parked.next_attempt_at) == 0  # once
    resumed = _refresh(post)
    assert [(args, options["priority"]) for args, options in sent] == [
        ((str(post.pk), str(resumed.claim_token)), dispatch.RESUME_PRIORITY)
    ]


def test_a_short_poll_wait_parks_in_the_database_not_in_the_broker(
    pub_sim: Sim,
    workspace: Workspace,
    monkeypatch: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # However short the wait, the next poll is a time in PostgreSQL under no claim, never a
    # delayed message (Redis' visibility timeout would run it twice); the dispatcher resumes it.
    settings.PUBLISHING_POLL_IN_TASK_SECONDS = 0.0
    pub_sim.state.settings.min_processing_seconds = 60.0
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    sent: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        publish_post, "apply_async", lambda args, **options: sent.append((args, options))
    )
    assert publish_post.run(str(post.pk), str(token)) == PostStatus.PUBLISHING
    parked = _refresh(post)
    assert parked.claim_token is None and parked.next_attempt_at is not None
    assert parked.tiktok_status == "PROCESSING_UPLOAD" and "processing" in _kinds(parked)
    assert sent == []
    assert publish_post.run(str(post.pk), str(token)) is None  # the old claim is void
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.posts_resume_due_polls(now=parked.next_attempt_at) == 1
    ((args, options),) = sent
    assert "countdown" not in options and "eta" not in options
    pub_sim.state.settings.min_processing_seconds = 0.0
    pub_sim.state.clock.advance(61.0)
    assert publish_post.run(*args) == PostStatus.PUBLISHED
    assert pub_sim.state.counters.requests_to(INIT) == 1


def test_without_the_brokers_answer_the_sweeper_guesses_from_the_order_posts_started(
    pub_sim: Sim, workspace: Workspace, monkeypatch: Any
) -> None:
    # The quick start's filesystem broker (or an unreachable Redis) cannot be read.
    monkeypatch.setattr(dispatch, "publishing_messages", lambda queue, wanted: None)
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    for _ in range(3):
        make_post(account)
    dispatch.posts_dispatch_due()
    claimed_at: dict[Any, dt.datetime] = {
        p.pk: p.claimed_at
        for p in Post.objects.for_workspace(workspace).order_by("claimed_at")
        if p.claimed_at is not None
    }
    assert len(set(claimed_at.values())) == 3  # the order the messages were sent
    claims = dict(Post.objects.for_workspace(workspace).values_list("pk", "claim_token"))
    later = timezone.now() + dt.timedelta(seconds=60)  # past the queued grace
    # The pool is busy (a post elsewhere was just written to) and has started none of these:
    # they are a backlog, not lost.
    busy = make_post(account, status=PostStatus.PUBLISHED, claimed_at=timezone.now())
    Post.objects.for_workspace(workspace).filter(pk=busy.pk).update(
        heartbeat_at=later, claimed_at=min(claimed_at.values()) - dt.timedelta(seconds=1)
    )
    assert dispatch.posts_sweep_stale(now=later)["rescheduled"] == 0
    # The pool started the last one: the messages sent before it are gone.
    ordered = sorted(claimed_at, key=claimed_at.__getitem__)
    Post.objects.for_workspace(workspace).filter(pk=ordered[-1]).update(
        status=PostStatus.PUBLISHING, heartbeat_at=later
    )
    assert dispatch.posts_sweep_stale(now=later)["rescheduled"] == 2
    rows = {p.pk: p for p in Post.objects.for_workspace(workspace)}
    reoffered = [pk for pk in ordered[:-1] if rows[pk].claim_token != claims[pk]]
    assert len(reoffered) == 2
    assert {rows[pk].status for pk in reoffered} == {PostStatus.QUEUED}
    # Their place in the order stays: the pool starting one is no sign the backlog is lost.
    assert all(rows[pk].claimed_at == claimed_at[pk] for pk in reoffered)
    # An idle pool holds no backlog: a queued post past its grace is re-offered.
    Post.objects.for_workspace(workspace).exclude(pk__in=reoffered).delete()
    much_later = later + dt.timedelta(seconds=60)
    assert dispatch.posts_sweep_stale(now=much_later)["rescheduled"] == 2


def _broker() -> Any:
    """The Redis client and the publishing queue's lists, as the sweeper reads them."""
    from calendar_app.publishing.broker import _queue_keys

    conn = celery_app.connection_for_write()
    channel = conn.default_channel
    return conn, channel, _queue_keys(channel, "publishing")


def _queued_messages(channel: Any, keys: list[str]) -> dict[str, bytes]:
    """Message id (the claim token) -> raw message, for every message in the lists."""
    return {
        json.loads(raw)["headers"]["id"]: raw
        for key in keys
        for raw in channel.client.lrange(key, 0, -1)
    }


def test_sweeper_leaves_a_message_waiting_in_the_broker_and_reoffers_a_lost_one(
    pub_sim: Sim, workspace: Workspace, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Real messages in Redis' publishing queue (db of this test run), and no worker: a pool
    # that has not started yet. Nothing was started or written for the grace, so the order
    # guess alone would call the pool idle and re-offer all three at every sweep.
    conn, channel, keys = _broker()
    with conn:
        account = connect_account(pub_sim, workspace, "sim-ava-public")
        posts = [make_post(account) for _ in range(3)]
        with django_capture_on_commit_callbacks(execute=True):
            tokens = dict(dispatch.posts_dispatch_due())
        queued = _queued_messages(channel, keys)
        assert set(queued) == {str(t) for t in tokens.values()}  # each message's id: its claim
        later = timezone.now() + dt.timedelta(seconds=60)  # well past the queued grace
        grace = dt.timedelta(seconds=settings.PUBLISHING_QUEUED_GRACE_SECONDS)
        assert dispatch._queued_order_guess(at=later, grace=grace) is None  # "idle": all

        for _ in range(3):  # sweep after sweep
            with django_capture_on_commit_callbacks(execute=True):
                assert dispatch.posts_sweep_stale(now=later)["rescheduled"] == 0
        assert len(_queued_messages(channel, keys)) == 3  # no duplicate behind them
        assert {_refresh(p).status for p in posts} == {PostStatus.QUEUED}

        # One message is lost (dropped by the broker): that post alone is offered again.
        lost = posts[0]
        for key in keys:
            channel.client.lrem(key, 0, queued[str(tokens[lost.pk])])
        with django_capture_on_commit_callbacks(execute=True):
            assert dispatch.posts_sweep_stale(now=later)["rescheduled"] == 1
        reoffered = _refresh(lost)
        assert reoffered.status == PostStatus.QUEUED and reoffered.claim_token != tokens[lost.pk]
        assert [_refresh(p).claim_token for p in posts[1:]] == [tokens[p.pk] for p in posts[1:]]
        now_queued = _queued_messages(channel, keys)
        assert len(now_queued) == 3  # one message per post again
        assert str(reoffered.claim_token) in now_queued

        # A message a worker took and never started (its worker was killed): the order guess
        # decides, and an idle pool holds no backlog.
        taken = posts[1]
        raw = queued[str(tokens[taken.pk])]
        for key in keys:
            channel.client.lrem(key, 0, raw)
        channel.client.hset(
            channel.unacked_key, "tag-1", json.dumps([json.loads(raw), "", "publishing"])
        )
        try:
            assert dispatch.posts_sweep_stale(now=later)["rescheduled"] == 1
            assert _refresh(taken).claim_token != tokens[taken.pk]
        finally:
            channel.client.hdel(channel.unacked_key, "tag-1")
            for key in keys:
                channel.client.delete(key)


def test_beat_ticks_the_dispatcher_every_second_and_it_sends_nothing_for_later(
    pub_sim: Sim,
    workspace: Workspace,
    monkeypatch: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # A post due in 3 s stays in PostgreSQL until a tick finds it due: no ETA message.
    assert settings.CELERY_BEAT_SCHEDULE["dispatch-due-posts"]["schedule"].seconds == 1.0
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    soon = make_post(account, scheduled_at=timezone.now() + dt.timedelta(seconds=3))
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(dispatch_due_posts, "apply_async", lambda *a, **kw: sent.append(kw))
    monkeypatch.setattr(publish_post, "apply_async", lambda *a, **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_posts.run() == 0
    assert sent == []
    Post.objects.for_workspace(workspace).filter(pk=soon.pk).update(
        scheduled_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_posts.run() == 1
    assert [options.get("eta", options.get("countdown")) for options in sent] == [None]


def test_photo_post_without_an_https_public_base_fails_clearly_without_calling_tiktok(
    pub_sim: Sim, workspace: Workspace, settings: Any
) -> None:
    # TikTok pulls photos over https only (fact sheet §2.6): say so instead of asking it.
    settings.MEDIA_PUBLIC_BASE_URL = "http://127.0.0.1:8000/public-media/"
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    media = make_video(workspace)
    media.kind = "image"
    media.save(update_fields=["kind"])
    post = _run_to_end(make_post(account, media=media))
    assert post.status == PostStatus.FAILED and post.fail_code == "public_media_not_https"
    assert "MEDIA_PUBLIC_BASE_URL" in post.fail_message
    assert pub_sim.state.counters.requests_to(INIT) == 0
    assert pub_sim.state.counters.requests_to("/v2/post/publish/content/init/") == 0

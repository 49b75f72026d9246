"""The publishing pipeline: claim due posts, publish each exactly once, settle by status.

Invariants (see docs/architecture.md and style.md, "Celery and the publishing pipeline"):
- PostgreSQL decides what is due; the dispatcher claims rows with FOR UPDATE SKIP LOCKED.
- Every step is persisted before the next one starts, and every write is conditional on the
  claim token, so a worker whose claim was taken over stops at its next step.
- `init_started_at` is committed before TikTok's init is called and, from then on, init is
  never called again for that post unless TikTok explicitly refused it. A lost init response
  becomes the visible "unconfirmed" state that a person resolves.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from calendar_app.models import (
    MediaKind,
    Post,
    PostEvent,
    PostMode,
    PostStatus,
    PrivacyLevel,
)
from later.errors import Conflict, NotFound, ValidationFailed
from tiktok_client.chunks import DEFAULT_CHUNK_SIZE, plan_chunks
from tiktok_client.errors import (
    TikTokError,
    TikTokRateLimited,
    TikTokUnavailable,
    TikTokUploadError,
)
from tiktok_client.schemas import ChunkPlan, CreatorInfo, PostInfo, PublishStatus

logger = logging.getLogger("calendar_app.publishing")

T = TypeVar("T")

SWEEP_BATCH = 500
STALE_AFTER = timedelta(minutes=3)
# Redis serves lower numbers first: posts TikTok already has (polls, resumes) go ahead of a
# backlog of fresh ones, so a burst finishes posts instead of starting all of them at once.
RESUME_PRIORITY = 0
FRESH_PRIORITY = 6
LINK_PRIORITY = 9
POLL_GIVE_UP_AFTER = timedelta(hours=2)
PUBLIC_ID_WAIT = timedelta(minutes=15)
FIRST_LINK_LOOKUP = timedelta(seconds=5)
LINK_LEASE = timedelta(minutes=10)
MAX_UPLOAD_RESYNCS = 3

ACTIVE_STATUSES = (PostStatus.QUEUED, PostStatus.PUBLISHING)
# TikTok's status-fetch fail_reason values in plain words, with what to do next.
FAIL_REASONS: dict[str, str] = {
    "file_format_check_failed": "TikTok could not read the video format. Export it as MP4 "
    "(H.264) and post again.",
    "duration_check_failed": "The video is longer than this account may post. Trim it and "
    "post again.",
    "frame_rate_check_failed": "TikTok needs 23 to 60 frames per second. Re-export the video "
    "and post again.",
    "picture_size_check_failed": "TikTok needs 360 to 4096 pixels per side. Re-export the "
    "video and post again.",
    "internal": "TikTok had an internal problem processing the video. Retry the post.",
    "video_pull_failed": "TikTok could not download the video. Retry the post.",
    "publish_cancelled": "The publication was cancelled on TikTok's side. Retry the post.",
    "auth_removed": "The account removed this app's access on TikTok. Reconnect the account, "
    "then retry.",
    "spam_risk_too_many_posts": "TikTok's daily post limit for this account was reached. "
    "Retry tomorrow.",
    "spam_risk_user_banned_from_posting": "TikTok has blocked this account from posting for "
    "now. Check the TikTok app.",
    "spam_risk_text": "TikTok flagged the caption as spam. Edit the caption and retry.",
    "spam_risk": "TikTok flagged this post as spam risk. Edit it and retry later.",
}
INBOX_INSTRUCTIONS = (
    "The video is waiting in the creator's TikTok inbox. Open the TikTok app, tap the "
    "notification, then add the caption, choose who can watch and post it."
)


class LostClaim(Exception):
    """Another run (the sweeper, a cancel) took the post over; this run must stop."""


class InitOutcomeUnknown(Exception):
    """The init request may have reached TikTok but its answer was lost."""


@dataclass
class PublishResult:
    status: str
    poll_again_in: float | None = None


# ------------------------------------------------------------------ small helpers


def _now() -> datetime:
    return timezone.now()


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter; attempt 1 waits up to the base."""
    base = float(settings.PUBLISHING_RETRY_BASE_SECONDS)
    ceiling = min(float(settings.PUBLISHING_RETRY_CAP_SECONDS), base * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def post_event_add(*, post: Post, kind: str, message: str, **data: Any) -> PostEvent:
    return PostEvent.objects.create(
        workspace_id=post.workspace_id, post=post, kind=kind, message=message[:500], data=data
    )


def post_url(post: Post) -> str:
    try:
        return reverse(
            "publishing:post_publishing",
            kwargs={"workspace_id": post.workspace_id, "post_id": post.id},
        )
    except NoReverseMatch:
        return ""


def _posts() -> Any:
    # The pipeline works across workspaces by design (a periodic fan-out): named bypass.
    return Post.objects.unscoped()


def _request_never_sent(exc: TikTokUnavailable) -> bool:
    """True when the connection failed before any byte of the request left this host."""
    cause = exc.__cause__
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


# ------------------------------------------------------------------ dispatcher and sweeper


def posts_dispatch_due(*, now: datetime | None = None, limit: int | None = None) -> list[tuple]:
    """Claim due posts and enqueue one publish task per post once the claim is committed.

    Returns the (post_id, claim_token) pairs claimed. Concurrent dispatchers skip each
    other's locked rows, so a post is never claimed twice.
    """
    from calendar_app.tasks import publish_post

    now = now or _now()
    batch = limit or int(settings.PUBLISHING_DISPATCH_BATCH)
    claimed: list[tuple] = []
    with transaction.atomic():
        due = list(
            _posts()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(status=PostStatus.SCHEDULED, scheduled_at__lte=now)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("scheduled_at")[:batch]
        )
        if not due:
            return []
        events = []
        for post in due:
            post.status = PostStatus.QUEUED
            post.claim_token = uuid.uuid4()
            post.claimed_at = now
            post.heartbeat_at = now
            claimed.append((post.id, post.claim_token))
            lateness = (now - post.scheduled_at).total_seconds() if post.scheduled_at else 0.0
            events.append(
                PostEvent(
                    workspace_id=post.workspace_id,
                    post=post,
                    kind="queued",
                    message="Queued for publishing.",
                    data={"lateness_seconds": round(lateness, 3), "attempt": post.attempts + 1},
                )
            )
        _posts().bulk_update(due, ["status", "claim_token", "claimed_at", "heartbeat_at"])
        PostEvent.objects.bulk_create(events)

        def enqueue() -> None:
            for post_id, token in claimed:
                publish_post.apply_async(args=(str(post_id), str(token)), priority=FRESH_PRIORITY)

        transaction.on_commit(enqueue)
    return claimed


def posts_dispatch_all_due(*, now: datetime | None = None, max_batches: int = 10) -> int:
    """One beat tick: claim batch after batch so a burst of due posts is not spread over ticks."""
    batch = int(settings.PUBLISHING_DISPATCH_BATCH)
    total = 0
    for _ in range(max_batches):
        claimed = len(posts_dispatch_due(now=now, limit=batch))
        total += claimed
        if claimed < batch:
            break
    return total


def posts_resume_due_polls(*, now: datetime | None = None) -> int:
    """Claim posts TikTok already has whose next status poll is due; one task each."""
    from calendar_app.tasks import publish_post

    now = now or _now()
    with transaction.atomic():
        due = list(
            _posts()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=PostStatus.PUBLISHING, claim_token__isnull=True, next_attempt_at__lte=now
            )
            .order_by("next_attempt_at")[: int(settings.PUBLISHING_DISPATCH_BATCH)]
        )
        for post in due:
            post.claim_token = uuid.uuid4()
            post.heartbeat_at = now
            post.next_attempt_at = None
        _posts().bulk_update(due, ["claim_token", "heartbeat_at", "next_attempt_at"])
        claimed = [(str(post.id), str(post.claim_token)) for post in due]

        def enqueue() -> None:
            for args in claimed:
                publish_post.apply_async(args=args, priority=RESUME_PRIORITY)

        transaction.on_commit(enqueue)
    return len(claimed)


def posts_resolve_due_links(*, now: datetime | None = None) -> int:
    """Enqueue the public-link lookups that are due (published posts without a TikTok id)."""
    from calendar_app.tasks import resolve_public_post_id

    now = now or _now()
    with transaction.atomic():
        due = list(
            _posts()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(status=PostStatus.PUBLISHED, tiktok_post_id="", next_attempt_at__lte=now)
            .order_by("next_attempt_at")[: int(settings.PUBLISHING_DISPATCH_BATCH)]
        )
        for post in due:
            # A lease, not a clear: if the message is lost the lookup comes due again.
            post.next_attempt_at = now + LINK_LEASE
        _posts().bulk_update(due, ["next_attempt_at"])
        post_ids = [str(post.id) for post in due]

        def enqueue() -> None:
            for post_id in post_ids:
                resolve_public_post_id.apply_async(args=(post_id,), priority=LINK_PRIORITY)

        transaction.on_commit(enqueue)
    return len(post_ids)


def posts_dispatch_tick(*, now: datetime | None = None) -> dict[str, int]:
    """What beat runs every few seconds: new posts, due status polls, due link lookups."""
    return {
        "dispatched": posts_dispatch_all_due(now=now),
        "polls": posts_resume_due_polls(now=now),
        "links": posts_resolve_due_links(now=now),
    }


def posts_sweep_stale(
    *, now: datetime | None = None, stale_after: timedelta | None = None
) -> dict[str, int]:
    """Re-offer posts whose claim went stale (worker killed, broker emptied, DB dropped)."""
    from calendar_app.tasks import publish_post

    now = now or _now()
    stale_before = now - (stale_after if stale_after is not None else STALE_AFTER)
    counts = {"rescheduled": 0, "repolled": 0, "unconfirmed": 0}
    with transaction.atomic():
        stale = list(
            _posts()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace", "account")
            .filter(status__in=ACTIVE_STATUSES)
            .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
            .exclude(claim_token__isnull=True, next_attempt_at__gt=now)
            .order_by("heartbeat_at")[:SWEEP_BATCH]
        )
        to_poll: list[tuple] = []
        for post in stale:
            if post.init_started_at is None:
                # Nothing can have reached TikTok: hand it back to the dispatcher.
                post.status = PostStatus.SCHEDULED
                post.claim_token = None
                post.next_attempt_at = None
                post.save(update_fields=["status", "claim_token", "next_attempt_at", "updated_at"])
                post_event_add(
                    post=post,
                    kind="requeued",
                    message="The worker publishing this post stopped; it was queued again.",
                )
                counts["rescheduled"] += 1
            elif post.publish_id:
                post.claim_token = uuid.uuid4()
                post.status = PostStatus.PUBLISHING
                post.heartbeat_at = now
                post.save(update_fields=["claim_token", "status", "heartbeat_at", "updated_at"])
                post_event_add(
                    post=post,
                    kind="resumed",
                    message="The worker stopped; checking the post's status with TikTok.",
                )
                to_poll.append((post.id, post.claim_token))
                counts["repolled"] += 1
            else:
                _mark_unconfirmed_locked(post=post, now=now)
                counts["unconfirmed"] += 1

        def enqueue() -> None:
            for post_id, token in to_poll:
                publish_post.apply_async(args=(str(post_id), str(token)), priority=RESUME_PRIORITY)

        transaction.on_commit(enqueue)
    return counts


# ------------------------------------------------------------------ state transitions


def _guarded_update(post: Post, token: uuid.UUID, **fields: Any) -> None:
    """Persist `fields` only while this run still owns the claim; else raise LostClaim."""
    fields.setdefault("heartbeat_at", _now())
    fields["updated_at"] = _now()
    updated = (
        _posts().filter(pk=post.pk, claim_token=token, status__in=ACTIVE_STATUSES).update(**fields)
    )
    if not updated:
        raise LostClaim(str(post.pk))
    for name, value in fields.items():
        setattr(post, name, value)


UNCONFIRMED_MESSAGE = (
    "We asked TikTok to publish this post but never received TikTok's answer, and TikTok "
    "offers no way to look a post up by our request. Check the account on TikTok, then "
    "tell us whether it was published. We will not post it again on our own."
)


def _finish_unconfirmed(post: Post, token: uuid.UUID, *, message: str = "") -> PublishResult:
    """End this run with the post unconfirmed, if the run still owns its claim."""
    with transaction.atomic():
        locked = _posts().select_for_update().get(pk=post.pk)
        if locked.claim_token != token:
            raise LostClaim(str(post.pk))
        _mark_unconfirmed_locked(post=locked, now=_now(), message=message)
    return PublishResult(status=PostStatus.UNCONFIRMED)


def _mark_unconfirmed_locked(*, post: Post, now: datetime, message: str = "") -> None:
    post.status = PostStatus.UNCONFIRMED
    post.claim_token = None
    post.fail_code = "init_unconfirmed"
    post.fail_message = message or UNCONFIRMED_MESSAGE
    post.needs_attention = "Check on TikTok whether this post went out."
    post.save(
        update_fields=[
            "status",
            "claim_token",
            "fail_code",
            "fail_message",
            "needs_attention",
            "updated_at",
        ]
    )
    post_event_add(post=post, kind="unconfirmed", message=post.fail_message)
    _notify(
        post=post,
        title=f"Check whether a post reached TikTok ({post.account})",
        body=post.fail_message,
    )


def _notify(*, post: Post, title: str, body: str) -> None:
    from accounts.services import notification_notify_members

    notification_notify_members(
        workspace=post.workspace,
        kind="post_failed",
        title=title,
        body=body,
        url=post_url(post),
        email=True,
    )


def _finish_failed(*, post: Post, token: uuid.UUID, code: str, message: str) -> PublishResult:
    with transaction.atomic():
        _guarded_update(
            post,
            token,
            status=PostStatus.FAILED,
            claim_token=None,
            fail_code=code[:64],
            fail_message=message,
            # "Failed" always means TikTok does not have the post (refused, reported FAILED,
            # or never got the whole upload); anything less certain is "unconfirmed".
            init_started_at=None,
            upload_url="",
        )
        post_event_add(post=post, kind="failed", message=message, code=code)
        _notify(post=post, title=f"A post to {post.account} failed", body=message)
    return PublishResult(status=PostStatus.FAILED)


def _reschedule(
    *, post: Post, token: uuid.UUID, delay: float, reason: str, code: str
) -> PublishResult:
    attempts = post.attempts + 1
    if attempts >= int(settings.PUBLISHING_MAX_ATTEMPTS):
        return _finish_failed(
            post=post,
            token=token,
            code=code,
            message=f"{reason} We tried {attempts} times and gave up; retry when TikTok is back.",
        )
    retry_at = _now() + timedelta(seconds=delay)
    with transaction.atomic():
        _guarded_update(
            post,
            token,
            status=PostStatus.SCHEDULED,
            claim_token=None,
            attempts=attempts,
            next_attempt_at=retry_at,
            init_started_at=None,
        )
        post_event_add(
            post=post,
            kind="retry_scheduled",
            message=f"{reason} Trying again in {max(1, round(delay))} s.",
            code=code,
            attempt=attempts,
            retry_at=retry_at.isoformat(),
        )
    return PublishResult(status=PostStatus.SCHEDULED)


# ------------------------------------------------------------------ the publish run


def _take_ownership(post_id: Any, token: uuid.UUID) -> Post | None:
    updated = (
        _posts()
        .filter(pk=post_id, claim_token=token, status__in=ACTIVE_STATUSES)
        .update(status=PostStatus.PUBLISHING, heartbeat_at=_now(), updated_at=_now())
    )
    if not updated:
        return None
    return _posts().select_related("workspace", "account", "media").get(pk=post_id)


def _client() -> Any:
    from accounts.tiktok import get_tiktok_client

    return get_tiktok_client()


def _account_call(account: TikTokAccount, call: Callable[[str], T]) -> T:
    from accounts.tiktok import tiktok_account_call

    return tiktok_account_call(account=account, call=call)


def chunk_plan_for(video_size: int) -> ChunkPlan:
    """Multi-chunk from 2 x 10 MB up, so uploads resume per chunk and show progress."""
    if video_size >= 2 * DEFAULT_CHUNK_SIZE:
        return ChunkPlan(
            video_size=video_size,
            chunk_size=DEFAULT_CHUNK_SIZE,
            total_chunk_count=video_size // DEFAULT_CHUNK_SIZE,
        )
    return plan_chunks(video_size)


def _creator_settings_problem(post: Post, info: CreatorInfo) -> str | None:
    if post.privacy_level and post.privacy_level not in info.privacy_level_options:
        offered = ", ".join(info.privacy_level_options) or "none"
        return (
            f"The audience “{post.get_privacy_level_display()}” is no longer available for "
            f"{post.account} (TikTok now offers: {offered}). Edit the post and pick another."
        )
    if post.allow_comment and info.comment_disabled:
        return (
            f"{post.account} has turned comments off in TikTok since this post was planned. "
            "Edit the post and untick “Allow comments”, or turn comments back on in TikTok."
        )
    if post.allow_duet and info.duet_disabled:
        return (
            f"{post.account} has turned duets off in TikTok since this post was planned. "
            "Edit the post and untick “Allow duet”."
        )
    if post.allow_stitch and info.stitch_disabled:
        return (
            f"{post.account} has turned stitches off in TikTok since this post was planned. "
            "Edit the post and untick “Allow stitch”."
        )
    duration = post.media.duration_seconds if post.media else None
    if duration and duration > info.max_video_post_duration_sec:
        return (
            f"The video lasts {round(duration)} s but {post.account} may post at most "
            f"{info.max_video_post_duration_sec} s. Trim the video and post again."
        )
    return None


def _post_info(post: Post) -> PostInfo:
    return PostInfo(
        title=post.caption,
        privacy_level=post.privacy_level or "SELF_ONLY",
        disable_comment=not post.allow_comment,
        disable_duet=not post.allow_duet,
        disable_stitch=not post.allow_stitch,
        video_cover_timestamp_ms=post.cover_timestamp_ms,
        brand_content_toggle=post.commercial_content and post.brand_content,
        brand_organic_toggle=post.commercial_content and post.brand_organic,
        is_aigc=post.is_aigc,
    )


def _read_range(post: Post, start: int, end_inclusive: int) -> bytes:
    assert post.media is not None and post.media.file.name
    with post.media.file.storage.open(post.media.file.name, "rb") as fh:
        fh.seek(start)
        data: bytes = fh.read(end_inclusive - start + 1)
    return data


def post_publish(*, post_id: Any, claim_token: Any) -> PublishResult | None:
    """One run of the pipeline for one post. Safe to run twice with the same claim."""
    token = uuid.UUID(str(claim_token))
    post = _take_ownership(post_id, token)
    if post is None:
        return None
    try:
        result = _run(post, token)
        if result.poll_again_in is not None:
            _park_for_poll(post, token, result.poll_again_in)
        return result
    except LostClaim:
        logger.info("post %s: claim taken over, stopping", post_id)
        return None


def _park_for_poll(post: Post, token: uuid.UUID, wait: float) -> None:
    """Release the claim until the next status poll is due; the dispatcher resumes it then.

    The database, not the broker, holds when: a delayed broker message would be redelivered
    under Redis' visibility timeout and is lost when Redis restarts empty.
    """
    _guarded_update(post, token, claim_token=None, next_attempt_at=_now() + timedelta(seconds=wait))


def _run(post: Post, token: uuid.UUID) -> PublishResult:
    from accounts.tiktok import AccountNeedsReconnect

    try:
        if not post.publish_id:
            if post.init_started_at is not None:
                # A previous run committed init_started_at and never stored a publish_id.
                return _finish_unconfirmed(post, token)
            result = _prepare_and_init(post, token)
            if result is not None:
                return result
        if post.chunks_uploaded < post.chunks_total:
            result = _upload(post, token)
            if result is not None:
                return result
        return _poll(post, token)
    except AccountNeedsReconnect as exc:
        if post.publish_id or post.init_started_at:
            # TikTok may already be processing it; we just cannot look any more.
            return _finish_unconfirmed(
                post,
                token,
                message=(
                    f"{exc.message} TikTok had already received this post, so we could "
                    "not confirm whether it was published. Check on TikTok and tell us."
                ),
            )
        return _finish_failed(post=post, token=token, code=exc.code, message=exc.message)


def _prepare_and_init(post: Post, token: uuid.UUID) -> PublishResult | None:
    from accounts.tiktok import AccountNeedsReconnect, tiktok_account_access_token

    client = _client()
    if post.media is None or not post.media.file:
        return _finish_failed(
            post=post,
            token=token,
            code="no_media",
            message="This post has no video attached. Edit the post, add a video and retry.",
        )
    if post.media.kind != MediaKind.VIDEO:
        # Photo posts need PULL_FROM_URL from a verified domain, which this pipeline lacks.
        return _finish_failed(
            post=post,
            token=token,
            code="photo_not_supported",
            message="Automatic publishing handles videos only. Attach a video and retry.",
        )
    try:
        post_event_add(post=post, kind="checking", message="Checking the TikTok account.")
        # Refresh first (exactly once across workers) so init itself never races expiry.
        tiktok_account_access_token(account=post.account)
        if post.post_mode == PostMode.DIRECT:
            info = _account_call(post.account, lambda t: client.query_creator_info(access_token=t))
            problem = _creator_settings_problem(post, info)
            if problem:
                return _finish_failed(
                    post=post, token=token, code="creator_settings_changed", message=problem
                )
    except TikTokRateLimited as exc:
        return _reschedule(
            post=post,
            token=token,
            delay=exc.retry_after + random.uniform(0, 2),
            reason="TikTok asked us to slow down.",
            code=exc.code,
        )
    except TikTokUnavailable as exc:
        return _reschedule(
            post=post,
            token=token,
            delay=backoff_seconds(post.attempts + 1),
            reason="TikTok did not respond.",
            code=exc.code,
        )
    except TikTokError as exc:
        return _finish_failed(post=post, token=token, code=exc.code, message=_tiktok_sentence(exc))

    plan = chunk_plan_for(post.media.size_bytes)
    # Commit the intent before calling init: from here on init is never called again for
    # this post unless TikTok explicitly refuses it.
    now = _now()
    updated = (
        _posts()
        .filter(
            pk=post.pk,
            claim_token=token,
            status=PostStatus.PUBLISHING,
            init_started_at__isnull=True,
        )
        .update(
            init_started_at=now,
            heartbeat_at=now,
            bytes_total=plan.video_size,
            chunks_total=plan.total_chunk_count,
            bytes_uploaded=0,
            chunks_uploaded=0,
            updated_at=now,
        )
    )
    if not updated:
        raise LostClaim(str(post.pk))
    post.init_started_at = now
    post.bytes_total, post.chunks_total = plan.video_size, plan.total_chunk_count
    post.bytes_uploaded = post.chunks_uploaded = 0
    try:
        if post.post_mode == PostMode.INBOX:
            init = _account_call(
                post.account,
                lambda t: client.init_inbox_video(access_token=t, chunk_plan=plan),
            )
        else:
            init = _account_call(
                post.account,
                lambda t: client.init_video_post(
                    access_token=t, post_info=_post_info(post), chunk_plan=plan
                ),
            )
    except AccountNeedsReconnect as exc:
        # TikTok answered 401 to init, even after a refresh: it refused, nothing was created.
        return _finish_failed(post=post, token=token, code=exc.code, message=exc.message)
    except TikTokRateLimited as exc:
        return _reschedule(
            post=post,
            token=token,
            delay=exc.retry_after + random.uniform(0, 2),
            reason="TikTok asked us to slow down.",
            code=exc.code,
        )
    except TikTokUnavailable as exc:
        if exc.http_status is not None or _request_never_sent(exc):
            # TikTok answered with an error (or the request never left): nothing was accepted.
            return _reschedule(
                post=post,
                token=token,
                delay=backoff_seconds(post.attempts + 1),
                reason="TikTok was unavailable.",
                code=exc.code,
            )
        return _finish_unconfirmed(post, token)
    except TikTokError as exc:
        return _finish_failed(post=post, token=token, code=exc.code, message=_tiktok_sentence(exc))
    # Store publish_id before anything else: it is the only handle on the TikTok post.
    with transaction.atomic():
        _guarded_update(
            post,
            token,
            publish_id=init.publish_id,
            upload_url=init.upload_url or "",
            tiktok_status="PROCESSING_UPLOAD",
        )
        post_event_add(
            post=post,
            kind="initiated",
            message="TikTok accepted the post; uploading the video.",
            publish_id=init.publish_id,
        )
    return None


def _tiktok_sentence(exc: TikTokError) -> str:
    return (
        f"{exc.user_message} (TikTok said: {exc.code}{': ' + exc.message if exc.message else ''})"
    )


def _upload(post: Post, token: uuid.UUID) -> PublishResult | None:
    client = _client()
    plan = chunk_plan_for(post.bytes_total)
    ranges = list(plan.ranges())
    resyncs = 0
    # After an interrupted run a chunk may have landed unrecorded; TikTok then answers 416
    # and the resync below moves on from TikTok's own byte counter.
    index = post.chunks_uploaded
    while index < len(ranges):
        start, end = ranges[index]
        try:
            client.upload_chunk(
                upload_url=post.upload_url,
                data=_read_range(post, start, end),
                start=start,
                end_inclusive=end,
                total=plan.video_size,
                content_type=(post.media.content_type if post.media else "") or "video/mp4",
            )
        except (TikTokUnavailable, TikTokUploadError, TikTokRateLimited) as exc:
            if isinstance(exc, TikTokUploadError) and exc.code == "upload_url_expired":
                return _upload_lost(post, token)
            resyncs += 1
            if resyncs > MAX_UPLOAD_RESYNCS:
                return _upload_lost(post, token)
            if isinstance(exc, TikTokRateLimited):
                time.sleep(min(exc.retry_after, 5.0))
            try:
                resumed = _resync_upload(post, token, plan)
            except _StatusUnknown:
                # Maybe the last chunk landed and TikTok is publishing: never call it failed.
                _guarded_update(post, token)
                return PublishResult(status=PostStatus.PUBLISHING, poll_again_in=backoff_seconds(2))
            if resumed is None:
                return _upload_lost(post, token)
            index = resumed
            continue
        index += 1
        with transaction.atomic():
            _guarded_update(post, token, chunks_uploaded=index, bytes_uploaded=end + 1)
            post_event_add(
                post=post,
                kind="uploading",
                message=f"Uploading {index}/{len(ranges)}",
                chunks_uploaded=index,
                chunks_total=len(ranges),
                bytes_uploaded=end + 1,
            )
    return None


class _StatusUnknown(Exception):
    """TikTok's status could not be read right now; try this step again later."""


def _resync_upload(post: Post, token: uuid.UUID, plan: ChunkPlan) -> int | None:
    """The chunk index to continue from according to TikTok, or None when resume is unsafe."""
    client = _client()
    for attempt in range(3):
        try:
            status = _account_call(
                post.account,
                lambda t: client.fetch_publish_status(access_token=t, publish_id=post.publish_id),
            )
            break
        except TikTokRateLimited as exc:
            if exc.retry_after > 5 or attempt == 2:
                raise _StatusUnknown from exc
            time.sleep(exc.retry_after)
        except TikTokUnavailable as exc:
            if attempt == 2:
                raise _StatusUnknown from exc
            time.sleep(0.5 * 2**attempt)
    if status.status != "PROCESSING_UPLOAD" or status.uploaded_bytes >= plan.video_size:
        _guarded_update(
            post, token, chunks_uploaded=plan.total_chunk_count, bytes_uploaded=plan.video_size
        )
        return plan.total_chunk_count
    if status.uploaded_bytes % plan.chunk_size:
        return None
    index = status.uploaded_bytes // plan.chunk_size
    _guarded_update(post, token, chunks_uploaded=index, bytes_uploaded=status.uploaded_bytes)
    return index


def _upload_lost(post: Post, token: uuid.UUID) -> PublishResult:
    # TikTok only publishes a video whose upload completed; an abandoned upload never posts.
    return _finish_failed(
        post=post,
        token=token,
        code="upload_incomplete",
        message=(
            "The video upload to TikTok was interrupted and could not be resumed, so TikTok "
            "did not publish it. Retry to upload it again."
        ),
    )


def _poll(post: Post, token: uuid.UUID) -> PublishResult:
    client = _client()
    ceiling = float(settings.PUBLISHING_POLL_MAX_INTERVAL)
    # Back off across runs too: TikTok allows 30 status fetches a minute per account.
    age = (_now() - post.init_started_at).total_seconds() if post.init_started_at else 0.0
    interval = min(ceiling, max(float(settings.PUBLISHING_POLL_FIRST_INTERVAL), age / 4))
    deadline = time.monotonic() + float(settings.PUBLISHING_POLL_IN_TASK_SECONDS)
    if not post.events.filter(kind="processing").exists():
        post_event_add(post=post, kind="processing", message="TikTok is processing the video.")
    while True:
        wait = interval
        try:
            status = _account_call(
                post.account,
                lambda t: client.fetch_publish_status(access_token=t, publish_id=post.publish_id),
            )
        except TikTokRateLimited as exc:
            wait = max(exc.retry_after, interval)
        except TikTokUnavailable:
            pass
        except TikTokError as exc:
            logger.warning("post %s: status fetch refused: %s", post.pk, exc)
        else:
            if status.is_terminal:
                return _settle(post, token, status)
            if status.status != post.tiktok_status:
                _guarded_update(post, token, tiktok_status=status.status[:32])
        if post.init_started_at and _now() - post.init_started_at > POLL_GIVE_UP_AFTER:
            return _finish_unconfirmed(
                post,
                token,
                message=(
                    "TikTok has been processing this post for over two hours without a "
                    "result. Check the account on TikTok and tell us whether it was published."
                ),
            )
        _guarded_update(post, token)  # heartbeat
        if time.monotonic() + wait > deadline:
            return PublishResult(status=PostStatus.PUBLISHING, poll_again_in=wait)
        time.sleep(wait)
        interval = min(interval * 2, ceiling)


def _settle(post: Post, token: uuid.UUID, status: PublishStatus) -> PublishResult:
    if status.status == "FAILED":
        reason = status.fail_reason or "unknown"
        words = FAIL_REASONS.get(reason, "TikTok could not publish the video. Retry the post.")
        with transaction.atomic():
            _guarded_update(post, token, tiktok_status="FAILED")
        # TikTok reported FAILED for this publish_id: it will never go live, so retry is safe.
        return _finish_failed(
            post=post, token=token, code=reason, message=f"{words} (TikTok said: {reason})"
        )
    now = _now()
    if status.status == "SEND_TO_USER_INBOX":
        with transaction.atomic():
            _guarded_update(
                post,
                token,
                status=PostStatus.SENT_TO_INBOX,
                tiktok_status=status.status,
                claim_token=None,
                published_at=now,
                upload_url="",  # it carries TikTok's upload token; nothing needs it any more
            )
            post_event_add(post=post, kind="sent_to_inbox", message=INBOX_INSTRUCTIONS)
        return PublishResult(status=PostStatus.SENT_TO_INBOX)
    post_id_on_tiktok = (
        status.publicly_available_post_ids[0] if status.publicly_available_post_ids else ""
    )
    with transaction.atomic():
        _guarded_update(
            post,
            token,
            status=PostStatus.PUBLISHED,
            tiktok_status=status.status,
            claim_token=None,
            published_at=now,
            upload_url="",  # it carries TikTok's upload token; nothing needs it any more
        )
        post_event_add(post=post, kind="published", message="Published on TikTok.")
        if post_id_on_tiktok:
            _link_video(post, post_id_on_tiktok)
        elif post.privacy_level != PrivacyLevel.PUBLIC_TO_EVERYONE:
            # TikTok only gives public ids to public posts: polling for one would be wasted.
            post_event_add(
                post=post,
                kind="no_public_link",
                message=(
                    f"Visible to “{post.get_privacy_level_display() or 'Only me'}”, so TikTok "
                    "gives no public link. The video appears under the account's videos after "
                    "the next sync."
                ),
            )
        else:
            _posts().filter(pk=post.pk).update(next_attempt_at=now + FIRST_LINK_LOOKUP)
    return PublishResult(status=PostStatus.PUBLISHED)


def _link_video(post: Post, video_id: str) -> None:
    share_url = f"https://www.tiktok.com/@{post.account.username}/video/{video_id}"
    video, _ = TikTokVideo.objects.for_workspace(post.workspace_id).get_or_create(
        workspace_id=post.workspace_id,
        account=post.account,
        video_id=video_id,
        defaults={
            "caption": post.caption,
            "share_url": share_url,
            "posted_at": post.published_at or _now(),
        },
    )
    _posts().filter(pk=post.pk).update(
        tiktok_post_id=video_id, tiktok_share_url=video.share_url or share_url, video=video
    )
    post.tiktok_post_id, post.tiktok_share_url, post.video = video_id, share_url, video
    post_event_add(
        post=post,
        kind="public",
        message="The video is live on TikTok.",
        video_id=video_id,
        share_url=video.share_url or share_url,
    )


def post_resolve_public_id(*, post_id: Any) -> float | None:
    """Look for the public post id of a published post and record when to ask again.

    Returns the seconds until the next lookup, or None when there is nothing more to ask.
    """
    wait = _public_id_lookup(post_id)
    next_at = _now() + timedelta(seconds=wait) if wait is not None else None
    _posts().filter(pk=post_id, status=PostStatus.PUBLISHED).update(next_attempt_at=next_at)
    return wait


def _public_id_lookup(post_id: Any) -> float | None:
    post = (
        _posts()
        .select_related("workspace", "account")
        .filter(pk=post_id, status=PostStatus.PUBLISHED, tiktok_post_id="")
        .exclude(publish_id="")
        .first()
    )
    if post is None or post.published_at is None:
        return None
    client = _client()
    try:
        status = _account_call(
            post.account,
            lambda t: client.fetch_publish_status(access_token=t, publish_id=post.publish_id),
        )
    except TikTokRateLimited as exc:
        return exc.retry_after
    except Exception:  # any failure here only delays the link, never loses the post
        logger.warning("post %s: public id lookup failed", post_id, exc_info=True)
        status = None
    if status and status.publicly_available_post_ids:
        with transaction.atomic():
            _link_video(post, status.publicly_available_post_ids[0])
        return None
    if _now() - post.published_at > PUBLIC_ID_WAIT:
        post_event_add(
            post=post,
            kind="public_pending",
            message=(
                "TikTok has not given a public link yet (private posts never get one). "
                "The video will appear under the account's videos after the next sync."
            ),
        )
        return None
    # Moderation usually takes under a minute, sometimes hours: ask less and less often.
    age = (_now() - post.published_at).total_seconds()
    return min(120.0, max(5.0, age / 4))


# ------------------------------------------------------------------ user actions


def _post_for_action(*, workspace: Workspace, post_id: Any) -> Post:
    try:
        return (
            Post.objects.for_workspace(workspace)
            .select_for_update(of=("self",))
            .select_related("account")
            .get(pk=post_id)
        )
    except (Post.DoesNotExist, ValueError) as exc:
        raise NotFound("Post not found.") from exc


def post_can_retry(post: Post) -> bool:
    return post.status == PostStatus.FAILED and post.init_started_at is None


def post_can_cancel(post: Post) -> bool:
    return (
        post.status
        in (
            PostStatus.SCHEDULED,
            PostStatus.QUEUED,
            PostStatus.PUBLISHING,
        )
        and post.init_started_at is None
    )


def _reset_pipeline(post: Post) -> list[str]:
    post.claim_token = None
    post.claimed_at = post.heartbeat_at = post.next_attempt_at = post.init_started_at = None
    post.attempts = 0
    post.publish_id = post.upload_url = post.tiktok_status = ""
    post.bytes_total = post.bytes_uploaded = post.chunks_total = post.chunks_uploaded = 0
    post.fail_code = post.fail_message = post.needs_attention = ""
    return [
        "claim_token",
        "claimed_at",
        "heartbeat_at",
        "next_attempt_at",
        "init_started_at",
        "attempts",
        "publish_id",
        "upload_url",
        "tiktok_status",
        "bytes_total",
        "bytes_uploaded",
        "chunks_total",
        "chunks_uploaded",
        "fail_code",
        "fail_message",
        "needs_attention",
    ]


@transaction.atomic
def post_publish_retry(*, workspace: Workspace, post_id: Any, actor: Any) -> Post:
    post = _post_for_action(workspace=workspace, post_id=post_id)
    if not post_can_retry(post):
        raise Conflict(
            "This post cannot be retried: it is not failed, or TikTok may already have it "
            "(retrying could post it twice)."
        )
    fields = _reset_pipeline(post)
    post.status = PostStatus.SCHEDULED
    post.scheduled_at = _now()
    post.save(update_fields=[*fields, "status", "scheduled_at", "updated_at"])
    post_event_add(post=post, kind="retry", message=f"Retry requested by {actor}.")
    return post


@transaction.atomic
def post_publish_cancel(*, workspace: Workspace, post_id: Any, actor: Any) -> Post:
    post = _post_for_action(workspace=workspace, post_id=post_id)
    if not post_can_cancel(post):
        raise Conflict(
            "This post can no longer be cancelled: it has already been sent to TikTok "
            "or is finished."
        )
    post.status = PostStatus.CANCELLED
    post.claim_token = None  # a running worker loses its claim at its next step
    post.save(update_fields=["status", "claim_token", "updated_at"])
    post_event_add(post=post, kind="cancelled", message=f"Cancelled by {actor}.")
    return post


RESOLVE_OUTCOMES = ("published", "not_published")


@transaction.atomic
def post_publish_resolve(*, workspace: Workspace, post_id: Any, actor: Any, outcome: str) -> Post:
    post = _post_for_action(workspace=workspace, post_id=post_id)
    if outcome not in RESOLVE_OUTCOMES:
        raise ValidationFailed("Choose whether the post was published or not.")
    if post.status != PostStatus.UNCONFIRMED:
        raise Conflict("Only a post whose outcome is unconfirmed can be resolved.")
    if outcome == "published":
        post.status = PostStatus.PUBLISHED
        post.published_at = post.init_started_at or _now()
        post.fail_code = post.fail_message = post.needs_attention = ""
        post.save(
            update_fields=[
                "status",
                "published_at",
                "fail_code",
                "fail_message",
                "needs_attention",
                "updated_at",
            ]
        )
        post_event_add(
            post=post, kind="resolved_published", message=f"{actor} confirmed it was published."
        )
        return post
    fields = _reset_pipeline(post)
    post.status = PostStatus.SCHEDULED
    post.scheduled_at = _now()
    post.save(update_fields=[*fields, "status", "scheduled_at", "updated_at"])
    post_event_add(
        post=post,
        kind="resolved_not_published",
        message=f"{actor} confirmed it was not published; posting it again now.",
    )
    return post


def post_timeline(*, workspace: Workspace, post_id: Any) -> tuple[Post, list[PostEvent]]:
    try:
        post = (
            Post.objects.for_workspace(workspace)
            .select_related("account", "video", "media")
            .get(pk=post_id)
        )
    except (Post.DoesNotExist, ValueError) as exc:
        raise NotFound("Post not found.") from exc
    return post, list(post.events.all())

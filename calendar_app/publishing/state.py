"""Guarded writes of the pipeline: every change a run makes is conditional on its claim.

Also the ways a run ends other than success (failed, unconfirmed, rescheduled) and the
reset that hands a post back to the dispatcher as if it had never been tried.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Post, PostEvent, PostStatus
from later.tenancy import TenantQuerySet

ACTIVE_STATUSES = (PostStatus.QUEUED, PostStatus.PUBLISHING)

UNCONFIRMED_MESSAGE = (
    "We asked TikTok to publish this post but never received TikTok's answer, and TikTok "
    "offers no way to look a post up by our request. Check the account on TikTok, then "
    "tell us whether it was published. We will not post it again on our own."
)


class LostClaim(Exception):
    """Another run (the sweeper, a cancel) took the post over; this run must stop."""


@dataclass
class PublishResult:
    status: str
    poll_again_in: float | None = None


def now() -> datetime:
    return timezone.now()


def pipeline_posts() -> TenantQuerySet[Post]:
    # The pipeline works across workspaces by design (a periodic fan-out): named bypass.
    return Post.objects.unscoped()


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
    return reverse(
        "publishing:post_publishing",
        kwargs={"workspace_id": post.workspace_id, "post_id": post.id},
    )


def guarded_update(post: Post, token: uuid.UUID, **fields: Any) -> None:
    """Persist `fields` only while this run still owns the claim; else raise LostClaim."""
    fields.setdefault("heartbeat_at", now())
    fields["updated_at"] = now()
    updated = (
        pipeline_posts()
        .filter(pk=post.pk, claim_token=token, status__in=ACTIVE_STATUSES)
        .update(**fields)
    )
    if not updated:
        raise LostClaim(str(post.pk))
    for name, value in fields.items():
        setattr(post, name, value)


def finish_unconfirmed(post: Post, token: uuid.UUID, *, message: str = "") -> PublishResult:
    """End this run with the post unconfirmed, if the run still owns its claim."""
    with transaction.atomic():
        locked = pipeline_posts().select_for_update().get(pk=post.pk)
        if locked.claim_token != token:
            raise LostClaim(str(post.pk))
        mark_unconfirmed_locked(post=locked, at=now(), message=message)
    return PublishResult(status=PostStatus.UNCONFIRMED)


def mark_unconfirmed_locked(*, post: Post, at: datetime, message: str = "") -> None:
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


def finish_failed(*, post: Post, token: uuid.UUID, code: str, message: str) -> PublishResult:
    with transaction.atomic():
        guarded_update(
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


def reschedule(
    *, post: Post, token: uuid.UUID, delay: float, reason: str, code: str
) -> PublishResult:
    attempts = post.attempts + 1
    if attempts >= int(settings.PUBLISHING_MAX_ATTEMPTS):
        return finish_failed(
            post=post,
            token=token,
            code=code,
            message=f"{reason} We tried {attempts} times and gave up; retry when TikTok is back.",
        )
    retry_at = now() + timedelta(seconds=delay)
    with transaction.atomic():
        guarded_update(
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


def post_can_retry(post: Post) -> bool:
    """Failed, and TikTok cannot have it: publishing again cannot post it twice."""
    return post.status == PostStatus.FAILED and post.init_started_at is None


def post_pipeline_reset(post: Post) -> list[str]:
    """Clear the pipeline's fields on `post` (unsaved); returns the field names to save."""
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

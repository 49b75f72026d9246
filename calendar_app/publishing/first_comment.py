"""The optional first comment: posted from the account through the Business comment API
(`/business/comment/create/`, fact sheet §4.5) once TikTok names the published post.

It is its own small pipeline beside the post's: its outcome lives in `first_comment_status`
and the post's timeline, and a failure is reported without touching the post's status. The
comment reaches Conversations through `accounts.tiktok.signals.comment_event` (the signal a
`comment.update` webhook sends), so this feature never imports another.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from accounts.tiktok import AccountNeedsReconnect, signals
from calendar_app.models import FirstCommentStatus, Post, PostStatus
from calendar_app.publishing.client import business_call, tiktok
from calendar_app.publishing.state import now, pipeline_posts, post_event_add, post_url
from tiktok_client.errors import TikTokError, TikTokRateLimited

logger = logging.getLogger("calendar_app.publishing")

MAX_RATE_LIMIT_WAITS = 3
# A pending first comment whose task message was lost (broker restarted) is queued again.
REQUEUE_AFTER = timedelta(minutes=2)
REQUEUE_BATCH = 100
NEEDS_BUSINESS = (
    "A first comment is posted through the TikTok API for Business: connect the account's "
    "Business side with the permission to manage comments."
)


def account_can_first_comment(account: Any) -> bool:
    return bool(account.has_business_scope("comment.list.manage"))


def first_comment_queue(post: Post) -> None:
    """TikTok named the post (`link_video`): post its first comment once this commits."""
    if not post.first_comment or post.first_comment_status not in ("", FirstCommentStatus.PENDING):
        return
    pipeline_posts().filter(pk=post.pk).update(first_comment_status=FirstCommentStatus.PENDING)
    post.first_comment_status = FirstCommentStatus.PENDING
    post_id = str(post.pk)

    def enqueue() -> None:
        from calendar_app.tasks import post_first_comment

        post_first_comment.delay(post_id)

    transaction.on_commit(enqueue)


def first_comments_requeue(*, now_at: datetime | None = None) -> int:
    """Beat's tick: queue again the pending first comments nobody took for a while. The
    task's conditional claim makes a duplicate message harmless."""
    at = now_at or now()
    with transaction.atomic():
        ids = [
            str(pk)
            for pk in pipeline_posts()
            .select_for_update(skip_locked=True)
            .filter(
                status=PostStatus.PUBLISHED,
                first_comment_status=FirstCommentStatus.PENDING,
                updated_at__lt=at - REQUEUE_AFTER,
            )
            .exclude(tiktok_post_id="")
            .values_list("pk", flat=True)[:REQUEUE_BATCH]
        ]
        if not ids:
            return 0
        pipeline_posts().filter(pk__in=ids).update(updated_at=at)

        def enqueue() -> None:
            from calendar_app.tasks import post_first_comment

            for post_id in ids:
                post_first_comment.delay(post_id)

        transaction.on_commit(enqueue)
    return len(ids)


def first_comment_skip_not_public(post: Post) -> None:
    """TikTok gives no public id for this post, so there is nothing to comment on."""
    if not post.first_comment or post.first_comment_status:
        return
    _fail(
        post,
        code="post_not_public",
        message=(
            "The first comment was not posted: TikTok gives no public link for this post "
            "(it is not public). The post itself is published."
        ),
    )


def _fail(post: Post, *, code: str, message: str) -> None:
    from accounts.services import notification_notify_members

    with transaction.atomic():
        pipeline_posts().filter(pk=post.pk).update(
            first_comment_status=FirstCommentStatus.FAILED, updated_at=now()
        )
        post.first_comment_status = FirstCommentStatus.FAILED
        post_event_add(post=post, kind="first_comment_failed", message=message, code=code)
        notification_notify_members(
            workspace=post.workspace,
            kind="post_failed",
            title=f"The first comment on a post to {post.account} was not posted",
            body=message,
            url=post_url(post),
        )


def post_first_comment_send(*, post_id: Any) -> str | None:
    """Post the first comment of a published post, exactly once (a conditional claim)."""
    claimed = (
        pipeline_posts()
        .filter(
            pk=post_id,
            status=PostStatus.PUBLISHED,
            first_comment_status=FirstCommentStatus.PENDING,
        )
        .exclude(tiktok_post_id="")
        .exclude(first_comment="")
        .update(first_comment_status=FirstCommentStatus.POSTING, updated_at=now())
    )
    if not claimed:
        return None
    post = pipeline_posts().select_related("workspace", "account").get(pk=post_id)
    account = post.account
    if not account_can_first_comment(account):
        _fail(post, code="business_not_connected", message=f"{NEEDS_BUSINESS} {account}")
        return FirstCommentStatus.FAILED
    client = tiktok()
    comment = None
    for attempt in range(MAX_RATE_LIMIT_WAITS + 1):
        try:
            comment = business_call(
                account,
                lambda t: client.business_create_comment(
                    access_token=t,
                    business_id=account.business_id,
                    video_id=post.tiktok_post_id,
                    text=post.first_comment,
                ),
            )
            break
        except TikTokRateLimited as exc:
            if attempt == MAX_RATE_LIMIT_WAITS:
                return _failed_by_tiktok(post, exc)
            time.sleep(min(exc.retry_after, 10.0))
        except (TikTokError, AccountNeedsReconnect) as exc:
            return _failed_by_tiktok(post, exc)
    assert comment is not None
    with transaction.atomic():
        pipeline_posts().filter(pk=post.pk).update(
            first_comment_status=FirstCommentStatus.POSTED,
            first_comment_id=comment.comment_id[:64],
            updated_at=now(),
        )
        post_event_add(
            post=post,
            kind="first_comment",
            message=f"First comment posted: “{post.first_comment}”",
            comment_id=comment.comment_id,
        )
        video_id, comment_id = post.tiktok_post_id, comment.comment_id
        transaction.on_commit(
            lambda: signals.comment_event.send(
                sender=Post, account=account, video_id=video_id, comment_id=comment_id
            )
        )
    return FirstCommentStatus.POSTED


def _failed_by_tiktok(post: Post, exc: TikTokError | AccountNeedsReconnect) -> str:
    if isinstance(exc, AccountNeedsReconnect):
        words = exc.message
    else:
        said = f"{exc.code}{': ' + exc.message if exc.message else ''}"
        words = f"{exc.user_message} (TikTok said: {said})"
    logger.info("post %s: first comment refused: %s", post.pk, words)
    _fail(
        post,
        code=getattr(exc, "code", "tiktok_error"),
        message=f"The first comment was not posted. {words} The post itself is published.",
    )
    return FirstCommentStatus.FAILED

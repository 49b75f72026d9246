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
from later.errors import Conflict, ExternalServiceError, NotFound
from tiktok_client.errors import TikTokError, TikTokRateLimited
from tiktok_client.schemas import CommentPage

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


# --- settling a first comment a person asks about ---------------------------------------------

# A live send takes at most TikTok's timeout plus the rate-limit waits: older "posting" rows
# are a worker that died mid-send, and nobody else will ever settle them.
STUCK_AFTER = timedelta(minutes=10)
# Comments are read oldest first; ours was made before the row's last change, so one made
# an hour after that proves the rest of the list is newer and ours is not in it.
NEWER_THAN_OURS = timedelta(hours=1)
MAX_PAGES = 20


def first_comment_can_settle(post: Post, *, now_at: datetime | None = None) -> bool:
    """A failed first comment, or one stuck in "posting", on a published post."""
    if not post.first_comment or post.status != PostStatus.PUBLISHED or not post.tiktok_post_id:
        return False
    if post.first_comment_status == FirstCommentStatus.FAILED:
        return True
    stuck_before = (now_at or now()) - STUCK_AFTER
    return post.first_comment_status == FirstCommentStatus.POSTING and (
        post.updated_at < stuck_before
    )


def _find_on_tiktok(post: Post) -> tuple[bool, Any]:
    """(certain, comment): our first comment among the account's own comments on the video,
    read through the Business comment list oldest first. `certain` is False when the list
    was too long to read to a point where ours would have been."""
    account = post.account
    client = tiktok()
    wanted = post.first_comment.strip()
    newest_possible = int((post.updated_at + NEWER_THAN_OURS).timestamp())
    cursor: int | None = None
    for _ in range(MAX_PAGES):

        def read(token: str, at: int | None = cursor) -> CommentPage:
            return client.business_list_comments(
                access_token=token,
                business_id=account.business_id,
                video_id=post.tiktok_post_id,
                cursor=at,
                status="ALL",  # a hidden comment is still on TikTok
                sort_order="asc",
            )

        page = business_call(account, read)
        for comment in page.comments:
            if (
                comment.owner
                and comment.parent_comment_id is None
                and comment.text.strip() == wanted
            ):
                return True, comment
            if comment.create_time > newest_possible:
                return True, None
        if not page.has_more:
            return True, None
        cursor = page.cursor
    return False, None


def first_comment_settle(*, workspace: Any, post_id: Any, actor: Any) -> str:
    """A person's "check TikTok and post it if it is missing" for a first comment that failed
    or is stuck in "posting" (its worker died mid-send). Found on TikTok: it is marked posted.
    Certainly absent: it is queued to post again, once. Never posted twice: nothing is sent
    unless the list proves it is not there, and the row only moves by conditional updates."""
    post = (
        Post.objects.for_workspace(workspace)
        .filter(pk=post_id)
        .select_related("workspace", "account")
        .first()
    )
    if post is None:
        raise NotFound("Post not found.")
    if not first_comment_can_settle(post):
        if post.first_comment_status == FirstCommentStatus.POSTING:
            raise Conflict(
                "The first comment is being posted right now; check again in a few minutes."
            )
        raise Conflict("Only a failed first comment, or one stuck while posting, can be checked.")
    if not account_can_first_comment(post.account):
        raise Conflict(f"{NEEDS_BUSINESS} {post.account}")
    seen = (post.first_comment_status, post.updated_at)
    try:
        certain, found = _find_on_tiktok(post)  # outside any transaction: TikTok may be slow
    except AccountNeedsReconnect as exc:
        raise Conflict(exc.message) from exc
    except TikTokError as exc:
        raise ExternalServiceError(
            f"TikTok could not list the post's comments: {exc.user_message} Try again later."
        ) from exc
    unchanged = pipeline_posts().filter(
        pk=post.pk, first_comment_status=seen[0], updated_at=seen[1]
    )
    if found is not None:
        with transaction.atomic():
            if not unchanged.update(
                first_comment_status=FirstCommentStatus.POSTED,
                first_comment_id=found.comment_id[:64],
                updated_at=now(),
            ):
                raise Conflict("The first comment changed meanwhile; reload the page.")
            post_event_add(
                post=post,
                kind="first_comment",
                message=f"{actor} checked: the first comment is on TikTok.",
                comment_id=found.comment_id,
            )
            account, video_id, comment_id = post.account, post.tiktok_post_id, found.comment_id
            transaction.on_commit(
                lambda: signals.comment_event.send(
                    sender=Post, account=account, video_id=video_id, comment_id=comment_id
                )
            )
        return FirstCommentStatus.POSTED
    if not certain:
        raise Conflict(
            "This video has too many comments to be sure the first comment is not among them. "
            "Look for it in TikTok; nothing was posted."
        )
    with transaction.atomic():
        if not unchanged.update(first_comment_status=FirstCommentStatus.PENDING, updated_at=now()):
            raise Conflict("The first comment changed meanwhile; reload the page.")
        post_event_add(
            post=post,
            kind="first_comment_retry",
            message=f"{actor} checked: the first comment is not on TikTok; posting it again.",
        )
        post_id_text = str(post.pk)

        def enqueue() -> None:
            from calendar_app.tasks import post_first_comment

            post_first_comment.delay(post_id_text)

        transaction.on_commit(enqueue)
    return FirstCommentStatus.PENDING

"""What a person does to a post in the pipeline: retry it, cancel it, resolve an unconfirmed one."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Workspace
from calendar_app.models import Post, PostStatus
from calendar_app.publishing.state import now, post_can_retry, post_event_add, post_pipeline_reset
from later.errors import Conflict, NotFound, ValidationFailed

RESOLVE_OUTCOMES = ("published", "not_published")

__all__ = [
    "RESOLVE_OUTCOMES",
    "post_can_cancel",
    "post_can_retry",
    "post_publish_cancel",
    "post_publish_resolve",
    "post_publish_retry",
]


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


@transaction.atomic
def post_publish_retry(*, workspace: Workspace, post_id: Any, actor: Any) -> Post:
    post = _post_for_action(workspace=workspace, post_id=post_id)
    if not post_can_retry(post):
        raise Conflict(
            "This post cannot be retried: it is not failed, or TikTok may already have it "
            "(retrying could post it twice)."
        )
    fields = post_pipeline_reset(post)
    post.status = PostStatus.SCHEDULED
    post.scheduled_at = now()
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


@transaction.atomic
def post_publish_resolve(*, workspace: Workspace, post_id: Any, actor: Any, outcome: str) -> Post:
    post = _post_for_action(workspace=workspace, post_id=post_id)
    if outcome not in RESOLVE_OUTCOMES:
        raise ValidationFailed("Choose whether the post was published or not.")
    if post.status != PostStatus.UNCONFIRMED:
        raise Conflict("Only a post whose outcome is unconfirmed can be resolved.")
    if outcome == "published":
        post.status = PostStatus.PUBLISHED
        post.published_at = post.init_started_at or now()
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
    fields = post_pipeline_reset(post)
    post.status = PostStatus.SCHEDULED
    post.scheduled_at = now()
    post.save(update_fields=[*fields, "status", "scheduled_at", "updated_at"])
    post_event_add(
        post=post,
        kind="resolved_not_published",
        message=f"{actor} confirmed it was not published; posting it again now.",
    )
    return post

"""Celery entry points of the publishing pipeline. Ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from calendar_app import publishing


@shared_task(name="calendar_app.tasks.dispatch_due_posts", ignore_result=True)
def dispatch_due_posts() -> int:
    """Beat, every 5 s: claim due posts and enqueue one publish_post per post."""
    return publishing.posts_dispatch_all_due()


@shared_task(name="calendar_app.tasks.publish_post", ignore_result=True)
def publish_post(post_id: str, claim_token: str) -> str | None:
    result = publishing.post_publish(post_id=post_id, claim_token=claim_token)
    if result is None:
        return None
    if result.poll_again_in is not None:
        # Only an already-initiated post is ever re-enqueued, and only to poll its status;
        # if this message is lost the sweeper picks the post up from its stale heartbeat.
        publish_post.apply_async(
            args=(post_id, claim_token),
            countdown=result.poll_again_in,
            priority=publishing.RESUME_PRIORITY,
        )
    return str(result.status)


@shared_task(name="calendar_app.tasks.sweep_stale_posts", ignore_result=True)
def sweep_stale_posts() -> dict[str, int]:
    """Beat, every 60 s: re-offer posts whose claim went stale."""
    return publishing.posts_sweep_stale()


@shared_task(name="calendar_app.tasks.resolve_public_post_id", ignore_result=True)
def resolve_public_post_id(post_id: str) -> None:
    wait = publishing.post_resolve_public_id(post_id=post_id)
    if wait is not None:
        resolve_public_post_id.apply_async(
            args=(post_id,), countdown=wait, priority=publishing.LINK_PRIORITY
        )

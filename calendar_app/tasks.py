"""Celery entry points of the publishing pipeline. Ids in, one service call, safe to run twice.

The `name=` strings are the wire names of queued messages: they stay fixed when code moves.
"""

from __future__ import annotations

from celery import shared_task

from calendar_app.publishing import dispatch, first_comment, links, run, state


@shared_task(name="calendar_app.tasks.dispatch_due_posts", ignore_result=True)
def dispatch_due_posts() -> int:
    """Beat, every second: enqueue one task per due post, due status poll and due link lookup.

    PostgreSQL holds every "when"; nothing due later waits in the broker (no ETA message), so
    the tick's cadence bounds how late a post is claimed.
    """
    return sum(dispatch.posts_dispatch_tick().values())


@shared_task(name="calendar_app.tasks.publish_post", ignore_result=True)
def publish_post(post_id: str, claim_token: str) -> str | None:
    result = run.post_publish(post_id=post_id, claim_token=claim_token)
    return None if result is None else str(result.status)


@shared_task(name="calendar_app.tasks.sweep_stale_posts", ignore_result=True)
def sweep_stale_posts() -> dict[str, int]:
    """Beat, every 2 s: re-offer posts whose claim lease expired."""
    return dispatch.posts_sweep_stale()


@shared_task(name="calendar_app.tasks.reconcile_unconfirmed_posts", ignore_result=True)
def reconcile_unconfirmed_posts() -> int:
    """Beat, every minute: settle unconfirmed posts that the account's synced videos prove
    published (the video list changes with the sync, not with every sweep)."""
    return state.posts_reconcile_from_videos()


@shared_task(name="calendar_app.tasks.resolve_public_post_id", ignore_result=True)
def resolve_public_post_id(post_id: str) -> None:
    links.post_resolve_public_id(post_id=post_id)


@shared_task(name="calendar_app.tasks.warn_review_deadlines", ignore_result=True)
def warn_review_deadlines() -> dict[str, int]:
    """Beat, every minute: warn once before a post in review is due, once when it is missed."""
    from calendar_app.approvals.reminders import review_deadlines_check

    return review_deadlines_check()


@shared_task(name="calendar_app.tasks.post_first_comment", ignore_result=True)
def post_first_comment(post_id: str) -> str | None:
    """Post a published post's first comment (claimed once; a failure leaves the post be)."""
    return first_comment.post_first_comment_send(post_id=post_id)

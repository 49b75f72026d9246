"""Deadline warnings for posts still in review (run by beat: calendar_app.tasks).

Each warning is sent once: the row is locked (SKIP LOCKED, so two beats never take the same
post) and its `review_warned_at` / `review_missed_at` is set in the same transaction as the
notifications; e-mails go out on commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendar_app.approvals.services import MISSED_MESSAGE, deadline_notify
from calendar_app.models import PostStatus
from calendar_app.publishing.state import pipeline_posts, post_event_add

BATCH = 200


def warning_lead() -> timedelta:
    return timedelta(minutes=float(settings.APPROVAL_WARNING_MINUTES))


def posts_hold_unapproved(*, now: datetime | None = None) -> int:
    """Scheduled posts of approval workspaces with no approval (a retry, a race with the
    switch) go to review, where they are visible and warned about, instead of waiting silently
    (the dispatcher skips them either way)."""
    at = now or timezone.now()
    with transaction.atomic():
        rows = list(
            pipeline_posts()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=PostStatus.SCHEDULED,
                approved_at__isnull=True,
                workspace__approval_required=True,
            )[:BATCH]
        )
        for post in rows:
            post.status = PostStatus.IN_REVIEW
            post.updated_at = at
            post_event_add(
                post=post, kind="sent_to_review", message="Waiting for approval before it can go."
            )
        pipeline_posts().bulk_update(rows, ["status", "updated_at"])
    return len(rows)


def review_deadlines_check(*, now: datetime | None = None) -> dict[str, int]:
    at = now or timezone.now()
    held = posts_hold_unapproved(now=at)
    with transaction.atomic():
        soon = list(
            pipeline_posts()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace", "account", "created_by")
            .filter(
                status=PostStatus.IN_REVIEW,
                review_warned_at__isnull=True,
                review_missed_at__isnull=True,
                scheduled_at__gt=at,
                scheduled_at__lte=at + warning_lead(),
            )
            .order_by("scheduled_at")[:BATCH]
        )
        for post in soon:
            post.review_warned_at = at
            post.save(update_fields=["review_warned_at", "updated_at"])
            local = timezone.localtime(post.scheduled_at, post.workspace.tz)
            deadline_notify(
                post=post,
                title=f"Waiting for approval: post for {post.account} at {local:%H:%M}",
                body=(
                    f"The post for {post.account} planned for {local:%A %d %B, %H:%M} "
                    f"({post.workspace.time_zone}) is still in review. It will not be "
                    "published unless someone approves it before then."
                ),
            )
            post_event_add(post=post, kind="review_warning", message="Approvers were warned.")
    with transaction.atomic():
        missed = list(
            pipeline_posts()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace", "account", "created_by")
            .filter(Q(status=PostStatus.IN_REVIEW), review_missed_at__isnull=True)
            .filter(scheduled_at__lte=at)
            .order_by("scheduled_at")[:BATCH]
        )
        for post in missed:
            post.review_missed_at = at
            post.needs_attention = MISSED_MESSAGE
            post.save(update_fields=["review_missed_at", "needs_attention", "updated_at"])
            deadline_notify(
                post=post,
                title=f"Not published: post for {post.account} was not approved in time",
                body=(
                    f"The post for {post.account} was still in review when its time came, so "
                    "it was not published. Move it to a new time and approve it to publish it."
                ),
            )
            post_event_add(post=post, kind="review_missed", message=MISSED_MESSAGE)
    return {"held": held, "warned": len(soon), "missed": len(missed)}

"""The activity log: who created, edited, approved, rescheduled, published or deleted what."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User, Workspace
from calendar_app.models import ActivityEntry, ActivityVerb, Post

SYSTEM_NAME = "Later (publishing)"


def post_subject(post: Post) -> str:
    """How an entry names its post: the account and the start of the caption."""
    caption = " ".join((post.caption or "").split())
    if len(caption) > 60:
        caption = caption[:59] + "…"
    return f"{post.account} · {caption or 'post without caption'}"[:200]


def activity_record(
    *,
    workspace: Workspace | Any,
    verb: str,
    post: Post | None = None,
    actor: User | None = None,
    actor_name: str = "",
    subject: str = "",
    detail: str = "",
) -> ActivityEntry:
    """Append one entry; call it inside the write's transaction so both commit together."""
    name = actor_name or (actor.display_name if actor is not None else SYSTEM_NAME)
    return ActivityEntry.objects.create(
        workspace_id=getattr(workspace, "pk", workspace),
        actor=actor,
        actor_name=name[:200],
        verb=verb,
        post=post,
        subject=(subject or (post_subject(post) if post is not None else ""))[:200],
        detail=detail[:500],
    )


def activity_list(
    *, workspace: Workspace, verb: str | None = None, post_id: Any = None
) -> QuerySet[ActivityEntry]:
    """Newest first; unknown filter values are ignored rather than refused."""
    qs = ActivityEntry.objects.for_workspace(workspace).select_related("post")
    if verb and verb in ActivityVerb.values:
        qs = qs.filter(verb=verb)
    if post_id:
        qs = qs.filter(post_id=post_id)
    return qs.order_by("-created_at", "-id")

"""The activity log hears about publishing through the post's own timeline (PostEvent), so the
pipeline needs no knowledge of it."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from calendar_app.approvals.activity import activity_record
from calendar_app.models import ActivityVerb, PostEvent

PUBLISHED_EVENTS = {
    "published": "Published on TikTok.",
    "sent_to_inbox": "Sent to the creator's TikTok inbox.",
    "resolved_published": "Marked as published after checking TikTok.",
}


@receiver(post_save, sender=PostEvent)
def log_publishing(*, instance: PostEvent, created: bool, **_: Any) -> None:
    if not created or instance.kind not in PUBLISHED_EVENTS:
        return
    activity_record(
        workspace=instance.workspace_id,
        verb=ActivityVerb.PUBLISHED,
        post=instance.post,
        detail=PUBLISHED_EVENTS[instance.kind],
    )

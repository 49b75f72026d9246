"""conversations' reaction to TikTok's `comment.update` webhook (sent by accounts.tiktok)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo
from accounts.tiktok import signals


@receiver(signals.comment_event)
def sync_video_comments_now(*, account: TikTokAccount, video_id: str, **_: Any) -> None:
    """Make the video's comments due and run the account's sync now, not at the next poll."""
    from conversations.tasks import sync_account_comments

    now = timezone.now()
    updated = (
        TikTokVideo.objects.for_workspace(account.workspace_id)
        .filter(account=account, video_id=video_id)
        .update(comments_synced_at=None, comments_due_at=now)
    )
    if not updated:
        # A video we have not listed yet: let the sync refresh the video list first.
        cache.delete(f"comment-sync:videos:{account.pk}")
    # Should the task below find no room this minute, the fan-out sees the account as due.
    TikTokAccount.objects.for_workspace(account.workspace_id).filter(
        pk=account.pk, comments_due_at__gt=now
    ).update(comments_due_at=now)
    transaction.on_commit(
        lambda: sync_account_comments.delay(
            workspace_id=str(account.workspace_id), account_id=str(account.pk)
        )
    )

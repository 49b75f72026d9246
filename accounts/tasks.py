"""Celery tasks for TikTok accounts. Ids in, services do the work; safe to run twice."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from accounts.models import AccountStatus, TikTokAccount, Workspace
from accounts.tiktok import AccountNeedsReconnect
from later.tenancy import workspace_task
from tiktok_client.errors import TikTokError, TikTokRateLimited

#: Proactive refresh window; wide enough that a 10-minute beat never lets a token lapse.
REFRESH_AHEAD = timedelta(hours=1)
MAX_RETRIES = 5


@shared_task(name="accounts.tasks.refresh_expiring_tokens", ignore_result=True)
def refresh_expiring_tokens() -> int:
    """Enqueue one refresh per connected account whose access token expires within the hour."""
    due = (
        # Fan-out over every workspace is this task's job.
        TikTokAccount.objects.unscoped()
        .filter(
            status=AccountStatus.CONNECTED,
            access_token_expires_at__lt=timezone.now() + REFRESH_AHEAD,
        )
        .values_list("id", "workspace_id")
    )
    count = 0
    for account_id, workspace_id in due:
        refresh_account_token.delay(account_id=str(account_id), workspace_id=str(workspace_id))
        count += 1
    return count


@shared_task(
    name="accounts.tasks.refresh_account_token",
    bind=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def refresh_account_token(self: Any, *, account_id: str, workspace_id: str) -> None:
    try:
        _refresh(account_id=account_id, workspace_id=workspace_id)
    except TikTokRateLimited as exc:
        raise self.retry(exc=exc, countdown=exc.retry_after) from exc
    except TikTokError as exc:
        if not exc.retryable:
            raise
        countdown = min(2**self.request.retries * 30, 1800) * random.uniform(0.5, 1.5)
        raise self.retry(exc=exc, countdown=countdown) from exc


@workspace_task
def _refresh(*, account_id: str, workspace: Workspace) -> None:
    from accounts.tiktok.access import tiktok_account_refresh_token

    account = TikTokAccount.objects.for_workspace(workspace).filter(pk=account_id).first()
    if account is None or account.status != AccountStatus.CONNECTED:
        return
    try:
        tiktok_account_refresh_token(account=account, min_validity=REFRESH_AHEAD)
    except AccountNeedsReconnect:
        return  # already marked, members told, posts flagged

"""Celery tasks for TikTok accounts. Ids in, services do the work; safe to run twice."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from accounts.models import AccountStatus, BusinessStatus, TikTokAccount, Workspace
from accounts.tiktok import AccountNeedsReconnect
from accounts.tiktok.access import tiktok_account_refresh_token, tiktok_business_refresh_token
from later.tenancy import workspace_task
from tiktok_client.errors import TikTokError, TikTokRateLimited

#: Proactive refresh window; wide enough that a 10-minute beat never lets a token lapse.
REFRESH_AHEAD = timedelta(hours=1)
MAX_RETRIES = 5


@shared_task(name="accounts.tasks.refresh_expiring_tokens", ignore_result=True)
def refresh_expiring_tokens() -> int:
    """Enqueue one refresh per connected app link (Login Kit, Business) expiring within the hour."""
    soon = timezone.now() + REFRESH_AHEAD
    # Fan-out over every workspace is this task's job.
    connected = TikTokAccount.objects.unscoped().filter(status=AccountStatus.CONNECTED)
    due = [
        (False, connected.filter(access_token_expires_at__lt=soon)),
        (
            True,
            connected.filter(
                business_status=BusinessStatus.CONNECTED, business_access_token_expires_at__lt=soon
            ),
        ),
    ]
    count = 0
    for business, rows in due:
        for account_id, workspace_id in rows.values_list("id", "workspace_id"):
            kwargs: dict[str, Any] = {
                "account_id": str(account_id),
                "workspace_id": str(workspace_id),
            }
            if business:
                kwargs["business"] = True
            refresh_account_token.delay(**kwargs)
            count += 1
    return count


@shared_task(
    name="accounts.tasks.refresh_account_token",
    bind=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def refresh_account_token(
    self: Any, *, account_id: str, workspace_id: str, business: bool = False
) -> None:
    try:
        _refresh(account_id=account_id, workspace_id=workspace_id, business=business)
    except TikTokRateLimited as exc:
        raise self.retry(exc=exc, countdown=exc.retry_after) from exc
    except TikTokError as exc:
        if not exc.retryable:
            raise
        countdown = min(2**self.request.retries * 30, 1800) * random.uniform(0.5, 1.5)
        raise self.retry(exc=exc, countdown=countdown) from exc


@workspace_task
def _refresh(*, account_id: str, workspace: Workspace, business: bool) -> None:
    account = TikTokAccount.objects.for_workspace(workspace).filter(pk=account_id).first()
    if account is None or account.status != AccountStatus.CONNECTED:
        return
    refresh = tiktok_business_refresh_token if business else tiktok_account_refresh_token
    if business and not account.business_connected:
        return
    try:
        refresh(account=account, min_validity=REFRESH_AHEAD)
    except AccountNeedsReconnect:
        return  # already marked, members told, posts flagged


@shared_task(
    name="accounts.tasks.process_tiktok_webhook",
    bind=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def process_tiktok_webhook(self: Any, *, event_id: str) -> None:
    """Apply one recorded TikTok webhook event; a repeat of the task does nothing."""
    from accounts.tiktok.webhooks import webhook_event_process

    try:
        webhook_event_process(event_id=event_id)
    except TikTokError as exc:
        if not exc.retryable:
            raise
        raise self.retry(exc=exc, countdown=30 * random.uniform(0.5, 1.5)) from exc

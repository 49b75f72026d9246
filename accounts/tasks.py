"""Celery tasks for TikTok accounts. Ids in, services do the work; safe to run twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from accounts.models import AccountStatus, BusinessStatus, TikTokAccount, Workspace
from accounts.tiktok import AccountNeedsReconnect
from accounts.tiktok.access import tiktok_account_refresh_token, tiktok_business_refresh_token
from accounts.tiktok.webhooks import MAX_PROCESSING_ATTEMPTS
from later.errors import ExternalServiceError
from later.retries import RetryPolicy, retry_done, retry_later, retry_pending_subjects
from later.tenancy import workspace_task
from tiktok_client.errors import TikTokError, TikTokRateLimited

#: Proactive refresh window; wide enough that a 10-minute beat never lets a token lapse.
REFRESH_AHEAD = timedelta(hours=1)
REFRESH_TASK = "accounts.tasks.refresh_account_token"
WEBHOOK_TASK = "accounts.tasks.process_tiktok_webhook"
# Retries are parked in PostgreSQL (later/retries.py), never a countdown in the broker.
REFRESH_RETRY = RetryPolicy(base=30.0, cap=1800.0)
WEBHOOK_RETRY = RetryPolicy(base=30.0, cap=600.0, max_attempts=MAX_PROCESSING_ATTEMPTS - 1)


def refresh_subject(account_id: Any, *, business: bool) -> str:
    return f"{account_id}:business" if business else str(account_id)


@shared_task(name="accounts.tasks.refresh_expiring_tokens", ignore_result=True)
def refresh_expiring_tokens() -> int:
    """Enqueue one refresh per connected app link (Login Kit, Business) expiring within the
    hour, except those whose retry is parked (later.retries sends those when due)."""
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
    retrying = retry_pending_subjects(REFRESH_TASK)
    count = 0
    for business, rows in due:
        for account_id, workspace_id in rows.values_list("id", "workspace_id"):
            if refresh_subject(account_id, business=business) in retrying:
                continue
            kwargs: dict[str, Any] = {
                "account_id": str(account_id),
                "workspace_id": str(workspace_id),
            }
            if business:
                kwargs["business"] = True
            refresh_account_token.delay(**kwargs)
            count += 1
    return count


@shared_task(name=REFRESH_TASK, ignore_result=True)
def refresh_account_token(*, account_id: str, workspace_id: str, business: bool = False) -> None:
    subject = refresh_subject(account_id, business=business)
    kwargs: dict[str, Any] = {"account_id": account_id, "workspace_id": workspace_id}
    if business:
        kwargs["business"] = True
    try:
        _refresh(account_id=account_id, workspace_id=workspace_id, business=business)
    except (TikTokError, ExternalServiceError) as exc:
        # The refresh reports TikTok's failures as ExternalServiceError (a sentence for
        # people) with TikTok's error as its cause; a lock held too long has none.
        cause = exc if isinstance(exc, TikTokError) else exc.__cause__
        if isinstance(cause, TikTokError) and not _transient(cause):
            retry_done(task=REFRESH_TASK, subject=subject)
            raise
        retry_later(
            task=REFRESH_TASK,
            subject=subject,
            kwargs=kwargs,
            label="Business token refresh" if business else "Token refresh",
            error=cause or exc,
            policy=REFRESH_RETRY,
            retry_after=cause.retry_after if isinstance(cause, TikTokRateLimited) else None,
            workspace_id=workspace_id,
        )
        return
    retry_done(task=REFRESH_TASK, subject=subject)


def _transient(exc: TikTokError) -> bool:
    return exc.retryable or isinstance(exc, TikTokRateLimited)


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


@shared_task(name=WEBHOOK_TASK, ignore_result=True)
def process_tiktok_webhook(*, event_id: str) -> None:
    """Apply one recorded TikTok webhook event; a repeat of the task does nothing."""
    from accounts.tiktok.webhooks import webhook_event_give_up, webhook_event_process

    try:
        webhook_event_process(event_id=event_id)
    except TikTokError as exc:
        if not _transient(exc):
            retry_done(task=WEBHOOK_TASK, subject=event_id)
            webhook_event_give_up(event_id=event_id, error=exc)
            raise
        retry_later(
            task=WEBHOOK_TASK,
            subject=event_id,
            kwargs={"event_id": event_id},
            label="TikTok webhook event",
            error=exc,
            policy=WEBHOOK_RETRY,
            retry_after=exc.retry_after if isinstance(exc, TikTokRateLimited) else None,
        )
        return
    retry_done(task=WEBHOOK_TASK, subject=event_id)


@shared_task(name="accounts.tasks.sweep_unprocessed_webhooks", ignore_result=True)
def sweep_unprocessed_webhooks() -> dict[str, int]:
    """Beat, every minute: queue again stored webhook events whose message was lost."""
    from accounts.tiktok.webhooks import webhook_events_requeue

    return webhook_events_requeue()

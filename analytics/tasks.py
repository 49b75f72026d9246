"""Celery: hourly fan-out of snapshot captures, one task per connected account (ids only)."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task

from accounts.models import AccountStatus, TikTokAccount, Workspace
from accounts.tiktok import AccountNeedsReconnect
from analytics import reporting, services
from analytics.models import AccountDailySnapshot
from later.tenancy import workspace_task
from tiktok_client.errors import TikTokRateLimited, TikTokUnavailable

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


def _connected_account(*, workspace: Workspace, account_id: str) -> TikTokAccount | None:
    return (
        TikTokAccount.objects.for_workspace(workspace)
        .select_related("workspace")
        .filter(pk=account_id, status=AccountStatus.CONNECTED)
        .first()
    )


def _retry_delay(task: Task, exc: Exception) -> float:
    if isinstance(exc, TikTokRateLimited) and exc.retry_after:
        return float(exc.retry_after)
    return float(min(60 * 2**task.request.retries, 3600) * random.uniform(0.8, 1.2))


@shared_task(bind=True, max_retries=MAX_RETRIES)
def schedule_daily_snapshots(self: Task) -> int:
    """Beat entry point: enqueue a capture per connected account, a backfill for new ones."""
    accounts = list(
        TikTokAccount.objects.unscoped()
        .filter(status=AccountStatus.CONNECTED)
        .values_list("pk", "workspace_id")
    )
    with_history = set(
        AccountDailySnapshot.objects.unscoped()
        .filter(account_id__in=[pk for pk, _ in accounts])
        .values_list("account_id", flat=True)
        .distinct()
    )
    for account_id, workspace_id in accounts:
        if account_id not in with_history:
            backfill_account.delay(workspace_id=str(workspace_id), account_id=str(account_id))
        capture_account_snapshot.delay(workspace_id=str(workspace_id), account_id=str(account_id))
    return len(accounts)


@shared_task(bind=True, max_retries=MAX_RETRIES)
@workspace_task
def capture_account_snapshot(self: Task, *, workspace: Workspace, account_id: str) -> int:
    account = _connected_account(workspace=workspace, account_id=account_id)
    if account is None:
        return 0
    try:
        result = services.account_snapshot_capture(account=account)
    except AccountNeedsReconnect:
        logger.info("analytics capture skipped: account %s needs reconnecting", account_id)
        return 0
    except (TikTokRateLimited, TikTokUnavailable) as exc:
        raise self.retry(exc=exc, countdown=_retry_delay(self, exc)) from exc
    return result.video_snapshots


@shared_task(bind=True, max_retries=MAX_RETRIES)
@workspace_task
def backfill_account(self: Task, *, workspace: Workspace, account_id: str) -> int:
    account = _connected_account(workspace=workspace, account_id=account_id)
    if account is None:
        return 0
    try:
        return services.account_backfill(account=account)
    except AccountNeedsReconnect:
        return 0
    except (TikTokRateLimited, TikTokUnavailable) as exc:
        raise self.retry(exc=exc, countdown=_retry_delay(self, exc)) from exc


@shared_task
def dispatch_due_reports() -> int:
    """Beat entry point: create each finished period's delivery once, enqueue the waiting ones."""
    waiting = reporting.reports_dispatch_due()
    for workspace_id, delivery_id in waiting:
        send_report_delivery.delay(workspace_id=workspace_id, delivery_id=delivery_id)
    return len(waiting)


@shared_task
@workspace_task
def send_report_delivery(*, workspace: Workspace, delivery_id: str) -> bool:
    return reporting.report_delivery_send(workspace=workspace, delivery_id=delivery_id)

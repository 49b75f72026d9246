"""Celery: the per-minute fan-out of snapshot captures and backfills (ids only), their tasks, and
client reports."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.models import AccountStatus, TikTokAccount, Workspace
from accounts.tiktok import AccountNeedsReconnect, background_calls_per_minute
from analytics import reporting, schedule, services
from later.retries import (
    RetryPolicy,
    retry_defer,
    retry_done,
    retry_later,
    retry_pending_ids,
)
from later.tenancy import workspace_task
from tiktok_client.errors import TikTokAppBudgetSpent, TikTokRateLimited, TikTokUnavailable

logger = logging.getLogger(__name__)


def _connected_account(*, workspace: Workspace, account_id: str) -> TikTokAccount | None:
    return (
        TikTokAccount.objects.for_workspace(workspace)
        .select_related("workspace")
        .filter(pk=account_id, status=AccountStatus.CONNECTED)
        .first()
    )


CAPTURE_TASK = "analytics.tasks.capture_account_snapshot"
BACKFILL_TASK = "analytics.tasks.backfill_account"
# A capture TikTok answered with 429 or 5xx waits in PostgreSQL (later/retries.py), never as a
# countdown message in the broker.
SNAPSHOT_RETRY = RetryPolicy(base=60.0, cap=3600.0)


@shared_task(name="analytics.tasks.schedule_daily_snapshots")
def schedule_daily_snapshots() -> int:
    """Beat, every minute: a backfill to each new Business account and a capture to each account
    not captured for an hour, the longest waiting first, no more than the background share of
    the app's Business calls of a minute pays for (analytics.schedule), and none for an account
    whose retry of that task is parked (later.retries sends it when due). Returns how many
    accounts were sent a task."""
    backfills, captures = schedule.accounts_due(
        now=timezone.now(),
        calls=background_calls_per_minute(),
        backfilling=retry_pending_ids(BACKFILL_TASK),
        capturing=retry_pending_ids(CAPTURE_TASK),
    )
    for workspace_id, account_id in backfills:
        backfill_account.delay(workspace_id=str(workspace_id), account_id=str(account_id))
    for workspace_id, account_id in captures:
        capture_account_snapshot.delay(workspace_id=str(workspace_id), account_id=str(account_id))
    return len({account_id for _, account_id in backfills + captures})


def _retry(task: str, label: str, exc: TikTokRateLimited | TikTokUnavailable, **ids: str) -> None:
    retry_later(
        task=task,
        subject=ids["account_id"],
        kwargs=ids,
        label=label,
        error=exc,
        policy=SNAPSHOT_RETRY,
        retry_after=exc.retry_after if isinstance(exc, TikTokRateLimited) else None,
        workspace_id=ids["workspace_id"],
    )


def _defer(task: str, exc: TikTokAppBudgetSpent, *, account_id: str) -> None:
    # Background work's share of the app's budget is spent: no failure; the fan-out of a
    # minute later runs it again (nothing written yet: a capture writes once it has read
    # everything).
    retry_defer(task=task, subject=account_id, wait=exc.retry_after)
    logger.info("%s of %s deferred: %s", task, account_id, exc)


@shared_task(name=CAPTURE_TASK)
def capture_account_snapshot(*, workspace_id: str, account_id: str) -> int:
    try:
        captured = _capture(workspace_id=workspace_id, account_id=account_id) or 0
    except TikTokAppBudgetSpent as exc:
        _defer(CAPTURE_TASK, exc, account_id=account_id)
        return 0
    except (TikTokRateLimited, TikTokUnavailable) as exc:
        _retry(
            CAPTURE_TASK, "Analytics capture", exc, workspace_id=workspace_id, account_id=account_id
        )
        return 0
    retry_done(task=CAPTURE_TASK, subject=account_id)
    return captured


@workspace_task
def _capture(*, workspace: Workspace, account_id: str) -> int:
    account = _connected_account(workspace=workspace, account_id=account_id)
    if account is None:
        return 0
    try:
        result = services.account_snapshot_capture(account=account)
    except AccountNeedsReconnect:
        logger.info("analytics capture skipped: account %s needs reconnecting", account_id)
        return 0
    return result.video_snapshots


@shared_task(name=BACKFILL_TASK)
def backfill_account(*, workspace_id: str, account_id: str) -> int:
    try:
        filled = _backfill(workspace_id=workspace_id, account_id=account_id) or 0
    except TikTokAppBudgetSpent as exc:
        _defer(BACKFILL_TASK, exc, account_id=account_id)
        return 0
    except (TikTokRateLimited, TikTokUnavailable) as exc:
        _retry(
            BACKFILL_TASK,
            "Analytics backfill",
            exc,
            workspace_id=workspace_id,
            account_id=account_id,
        )
        return 0
    retry_done(task=BACKFILL_TASK, subject=account_id)
    return filled


@workspace_task
def _backfill(*, workspace: Workspace, account_id: str) -> int:
    account = _connected_account(workspace=workspace, account_id=account_id)
    if account is None:
        return 0
    try:
        return services.account_backfill(account=account)
    except AccountNeedsReconnect:
        return 0


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

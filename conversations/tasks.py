"""Celery: the per-minute fan-out and one comment sync per business account."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from accounts.models import TikTokAccount, Workspace
from accounts.tiktok import AccountNeedsReconnect, background_calls_per_minute
from conversations.ingest import comments_triage, comments_triage_backlog
from conversations.rules import moderation_rules_apply
from conversations.sync import (
    CALLS_PER_MINUTE,
    VIDEO_LIST_EVERY,
    CallBudget,
    CallBudgetSpent,
    accounts_due_for_comment_sync,
    comment_sync_account,
)
from later.retries import (
    RetryPolicy,
    retry_defer,
    retry_done,
    retry_later,
    retry_pending_ids,
)
from later.tenancy import workspace_task
from tiktok_client.errors import (
    TikTokAppBudgetSpent,
    TikTokError,
    TikTokRateLimited,
    TikTokUnavailable,
)

logger = logging.getLogger(__name__)

LOCK_SECONDS = 300
VIDEO_REFRESH_SECONDS = int(VIDEO_LIST_EVERY.total_seconds())


SYNC_TASK = "conversations.tasks.sync_account_comments"
# A sync that TikTok answered with 429 or 5xx waits in PostgreSQL (later/retries.py), never as
# a countdown message in the broker.
SYNC_RETRY = RetryPolicy(base=15.0, cap=600.0)


# One account's share of a minute when others are waiting too (a quarter of the minute at
# most, so a busy account never takes all of a small installation's minute); what the others
# leave tops it up to its own comment budget (sync.CALLS_PER_MINUTE).
ACCOUNT_SHARE_OF_MINUTE = 0.25


def account_calls_per_minute(calls: int) -> int:
    return max(1, min(CALLS_PER_MINUTE, int(calls * ACCOUNT_SHARE_OF_MINUTE)))


@shared_task(name="conversations.tasks.schedule_comment_sync")
def schedule_comment_sync() -> int:
    """Beat, every minute: the app's background calls of a minute shared out, in calls, among
    the Business accounts with comments or a video list due, the longest waiting first, each
    capped (sync.accounts_due_for_comment_sync); one task (ids and its calls) per account,
    none for accounts whose retry is parked (later.retries sends it when due). Returns how
    many tasks were sent."""
    calls = background_calls_per_minute()
    due = accounts_due_for_comment_sync(
        now=timezone.now(),
        calls=calls,
        per_account=account_calls_per_minute(calls),
        video_list_every=VIDEO_LIST_EVERY,
        exclude=retry_pending_ids(SYNC_TASK),
    )
    for allotted in due:
        sync_account_comments.delay(
            workspace_id=str(allotted.workspace_id),
            account_id=str(allotted.account_id),
            calls=allotted.calls,
        )
    return len(due)


def _refresh_videos(account: TikTokAccount) -> bool:
    """Keep the account's video list current, at most every ten minutes. True when it asked
    TikTok."""
    try:
        from accounts.video_sync import tiktok_videos_sync
    except ImportError:  # pragma: no cover - the analytics side ships it
        return False
    key = f"comment-sync:videos:{account.pk}"
    if not cache.add(key, 1, timeout=VIDEO_REFRESH_SECONDS):
        return False
    try:
        tiktok_videos_sync(account=account)
    except TikTokRateLimited:
        cache.delete(key)  # not refreshed: the next run tries again
        raise
    except TikTokError as exc:
        # Comments of the videos we already know can still be synced.
        logger.warning("video refresh for comment sync of %s failed: %s", account.pk, exc)
    return True


@workspace_task
def _sync(*, workspace: Workspace, account_id: str, calls: int | None) -> dict[str, int] | None:
    account = TikTokAccount.objects.for_workspace(workspace).filter(pk=account_id).first()
    if account is None:
        return None
    listed = _refresh_videos(account)
    budget = CallBudget(account=account)
    if calls is not None:
        # The fan-out's allotment, the list counted as one call.
        budget.max_calls = max(0, min(budget.max_calls, calls - (1 if listed else 0)))
    stats = comment_sync_account(account=account, budget=budget)
    return {"videos": stats.videos, "created": stats.created, "updated": stats.updated}


@shared_task(name=SYNC_TASK)
def sync_account_comments(*, workspace_id: str, account_id: str, calls: int | None = None) -> Any:
    """One account's comment sync: at most `calls` TikTok calls when the fan-out allotted it
    that many (None: sent by a webhook or a parked retry, the account's own budget bounds it)."""
    lock = f"comment-sync:lock:{account_id}"
    # Beat fires every minute; a long sync must not run twice for one account.
    if not cache.add(lock, 1, timeout=LOCK_SECONDS):
        return None
    try:
        result = _sync(workspace_id=workspace_id, account_id=account_id, calls=calls)
    except (TikTokAppBudgetSpent, CallBudgetSpent) as exc:
        # Our own budget refused the call (the app's background share, or the account's comment
        # calls): nothing failed and TikTok was not asked; the next beat resumes at the saved
        # cursor.
        retry_defer(task=SYNC_TASK, subject=account_id, wait=exc.retry_after)
        logger.info("comment sync of %s deferred: %s", account_id, exc)
        return None
    except (TikTokRateLimited, TikTokUnavailable) as exc:
        retry = retry_later(
            task=SYNC_TASK,
            subject=account_id,
            kwargs={"workspace_id": workspace_id, "account_id": account_id},
            label="Comment sync",
            error=exc,
            policy=SYNC_RETRY,
            retry_after=exc.retry_after if isinstance(exc, TikTokRateLimited) else None,
            workspace_id=workspace_id,
        )
        logger.info(
            "comment sync of %s: %s; next try %s",
            account_id,
            exc,
            retry.next_attempt_at or "none (gave up, the schedule tries again)",
        )
        return None
    except AccountNeedsReconnect:
        result = None
    except TikTokError as exc:
        # Not retryable (scope withdrawn, request refused): the next beat tries again.
        logger.warning("comment sync of %s refused by TikTok: %s", account_id, exc)
        result = None
    finally:
        cache.delete(lock)
    retry_done(task=SYNC_TASK, subject=account_id)
    return result


@workspace_task
def _apply_rules(*, workspace: Workspace, comment_ids: list[str]) -> int:
    return len(moderation_rules_apply(workspace=workspace, comment_ids=comment_ids))


@shared_task(name="conversations.tasks.apply_moderation_rules")
def apply_moderation_rules(*, workspace_id: str, comment_ids: list[str]) -> int | None:
    """Moderation rules on comments the sync (or a webhook) just stored. Safe to run twice:
    each rule acts on a comment at most once."""
    try:
        result: int | None = _apply_rules(workspace_id=workspace_id, comment_ids=comment_ids)
        return result
    except AccountNeedsReconnect:
        return None


# Triage after the write (conversations/ingest.py): a lost task leaves rows pending; the sweep
# reads those that have waited longer than this.
TRIAGE_SWEEP_AFTER = dt.timedelta(seconds=60)


@workspace_task
def _triage(*, workspace: Workspace, comment_ids: list[str]) -> int:
    return comments_triage(workspace_id=workspace.pk, comment_ids=comment_ids)


@shared_task(name="conversations.tasks.triage_comments")
def triage_comments(*, workspace_id: str, comment_ids: list[str]) -> int | None:
    """Question, sentiment and language of comments the sync just stored, in bulk. Safe to run
    twice: only rows still pending are read."""
    return _triage(workspace_id=workspace_id, comment_ids=comment_ids)


@shared_task(name="conversations.tasks.triage_backlog")
def triage_backlog() -> int:
    """Beat, every minute: read comments still pending after TRIAGE_SWEEP_AFTER."""
    return comments_triage_backlog(older_than=TRIAGE_SWEEP_AFTER)

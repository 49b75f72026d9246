"""Retry waits parked in PostgreSQL, never in the broker (docs/style.md, "Celery and
publishing"): what tasks use instead of Celery's `self.retry(countdown=...)`.

A task that meets a transient failure calls `retry_later(...)`: the next try becomes a row of
`ParkedRetry` with its time (exponential backoff with jitter, or TikTok's Retry-After). Beat's
`later.tasks.send_due_retries` claims due rows with FOR UPDATE SKIP LOCKED and sends one
message each once the claim is committed; a try that never answers (its worker was killed, the
broker lost it) is sent again after `IN_FLIGHT`. After `max_attempts` tries the row gives up
and stays, for people to see, until the task next succeeds (`retry_done` deletes it).

A task stopped because a shared budget is spent (`retry_defer`) did not fail: it counts no
try, shows nothing, and its schedule runs it again.

The tasks stay safe to run twice: a repeat failure updates the one row of its task and subject.
Fan-outs that run the same task on a schedule skip subjects with a retry pending
(`retry_pending_subjects`), so a parked try is not overtaken by the next beat; once a row has
given up, the schedule runs the task again as before and a further failure leaves it given up.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from later.models import ParkedRetry

logger = logging.getLogger(__name__)

#: A sent try that has not answered after this long is sent again (it outlives the tasks'
#: hard time limit and a queue's ordinary wait).
IN_FLIGHT = timedelta(minutes=15)
SEND_BATCH = 200


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of one kind of task: `base` seconds before the first retry, doubling up to
    `cap`, each wait jittered to between half and one and a half of it; at most `max_attempts`
    retries."""

    base: float
    cap: float
    max_attempts: int = 5

    def wait(self, retries_sent: int, retry_after: float | None = None) -> float:
        if retry_after:  # TikTok said when (429): honour it, with a little spread
            return float(retry_after) + random.uniform(0.0, 5.0)
        return min(self.cap, self.base * 2**retries_sent) * random.uniform(0.5, 1.5)


def retry_later(
    *,
    task: str,
    subject: str,
    kwargs: Mapping[str, Any],
    label: str,
    error: object,
    policy: RetryPolicy,
    retry_after: float | None = None,
    workspace_id: Any = None,
    now: datetime | None = None,
) -> ParkedRetry:
    """Park the next try of `task(**kwargs)` (or give up once `policy.max_attempts` tries were
    sent). Returns the row; its `gave_up_at` says which."""
    at = now or timezone.now()
    message = str(error)[:500] or type(error).__name__
    with transaction.atomic():
        row, _ = ParkedRetry.objects.select_for_update().get_or_create(
            task=task,
            subject=subject,
            defaults={
                "kwargs": dict(kwargs),
                "label": label,
                "workspace_id": workspace_id,
                "max_attempts": policy.max_attempts,
            },
        )
        row.last_error = message
        if row.gave_up_at is not None:
            # Given up already: a scheduled run failed again. Say so; no new chain of tries.
            row.save(update_fields=["last_error", "updated_at"])
            return row
        row.kwargs = dict(kwargs)
        row.max_attempts = policy.max_attempts
        if row.attempts >= row.max_attempts:
            row.next_attempt_at = None
            row.gave_up_at = at
            logger.warning(
                "%s of %s: gave up after %d retries: %s", label, subject, row.attempts, message
            )
        else:
            row.next_attempt_at = at + timedelta(seconds=policy.wait(row.attempts, retry_after))
        row.save()
    return row


def retry_defer(*, task: str, subject: str, wait: float, now: datetime | None = None) -> None:
    """The task stopped for want of a shared budget (TikTok's per-app budget, kept on our side):
    not a failure. Its schedule runs it again; if this was a parked retry, that retry moves to
    `wait` seconds from now and gets back the try the sweeper counted for it."""
    at = now or timezone.now()
    ParkedRetry.objects.filter(
        task=task, subject=subject, gave_up_at__isnull=True, attempts__gt=0
    ).update(
        attempts=F("attempts") - 1,
        next_attempt_at=at + timedelta(seconds=wait + random.uniform(0.0, 5.0)),
        updated_at=at,
    )


def retry_done(*, task: str, subject: str) -> None:
    """The task succeeded (or has nothing left to do): forget its parked try, if any."""
    ParkedRetry.objects.filter(task=task, subject=subject).delete()


def retry_pending_subjects(task: str) -> set[str]:
    """Subjects of `task` whose next try is parked or out: a fan-out leaves them to it."""
    return set(
        ParkedRetry.objects.filter(task=task, gave_up_at__isnull=True).values_list(
            "subject", flat=True
        )
    )


def retry_pending_ids(task: str) -> set[uuid.UUID]:
    """`retry_pending_subjects` of a task whose subjects are primary keys, as UUIDs, for a
    fan-out's `exclude(pk__in=...)`: a subject that is not one (written by hand, or by an older
    version) cannot break the fan-out's query."""
    ids = set()
    for subject in retry_pending_subjects(task):
        try:
            ids.add(uuid.UUID(subject))
        except ValueError:
            continue
    return ids


def retries_send_due(*, now: datetime | None = None, limit: int = SEND_BATCH) -> int:
    """Beat: send every parked try that is due, once its claim is committed; give up those
    whose last allowed try never answered. Returns how many were sent."""
    from later.celery import app

    at = now or timezone.now()
    with transaction.atomic():
        rows = list(
            ParkedRetry.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=at)
            .order_by("next_attempt_at")[:limit]
        )
        send: list[ParkedRetry] = []
        for row in rows:
            row.updated_at = at
            if row.attempts >= row.max_attempts:
                row.next_attempt_at = None
                row.gave_up_at = at
                row.last_error = f"No answer from the last try. {row.last_error}"[:500]
            else:
                row.attempts += 1
                row.next_attempt_at = at + IN_FLIGHT
                send.append(row)
        ParkedRetry.objects.bulk_update(
            rows, ["attempts", "next_attempt_at", "gave_up_at", "last_error", "updated_at"]
        )
        messages = [(row.task, row.kwargs) for row in send]

        def publish() -> None:
            for name, kwargs in messages:
                app.send_task(name, kwargs=kwargs)

        transaction.on_commit(publish)
    return len(send)


def retries_for(*, workspace_id: Any, subjects: Iterable[str]) -> list[ParkedRetry]:
    """The parked tries of these subjects in one workspace, for the pages that show them."""
    return list(
        ParkedRetry.objects.filter(workspace_id=workspace_id, subject__in=list(subjects)).order_by(
            "label", "subject"
        )
    )

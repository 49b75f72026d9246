"""Housekeeping of the shared machinery."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from later.models import IdempotencyRecord
from later.partitions import partitions_create_ahead
from later.retries import retries_send_due


@shared_task(name="later.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Idempotency keys are kept 24 hours; older ones are forgotten."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


@shared_task(name="later.tasks.create_future_partitions")
def create_future_partitions() -> int:
    """Beat: keep the next months' partitions of every switched-on table created
    (later/partitions.py; nothing to do while no table is partitioned)."""
    return len(partitions_create_ahead())


@shared_task(name="later.tasks.send_due_retries", ignore_result=True)
def send_due_retries() -> int:
    """Beat, every 5 s: send the tries that failed tasks parked in PostgreSQL and that are now
    due (later/retries.py); nothing waits in the broker as a countdown."""
    return retries_send_due()

"""Retry waits parked in PostgreSQL (later/retries.py): a failure parks the next try, the
sweeper sends it when due (never as a delayed broker message), a try that never answers is
sent again, and the chain gives up after its bound."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from later.models import ParkedRetry
from later.retries import (
    IN_FLIGHT,
    RetryPolicy,
    retries_send_due,
    retry_done,
    retry_later,
    retry_pending_subjects,
)

TASK = "tests.example_task"
POLICY = RetryPolicy(base=10.0, cap=40.0, max_attempts=3)
Sent = list[tuple[str, dict[str, Any]]]


def _fail(subject: str = "account-1", *, retry_after: float | None = None) -> ParkedRetry:
    return retry_later(
        task=TASK,
        subject=subject,
        kwargs={"account_id": subject},
        label="Example sync",
        error="TikTok is unavailable",
        policy=POLICY,
        retry_after=retry_after,
    )


def _row(subject: str = "account-1") -> ParkedRetry:
    return ParkedRetry.objects.get(task=TASK, subject=subject)


@pytest.mark.django_db
def test_a_failure_parks_the_next_try_with_backoff_or_tiktoks_retry_after() -> None:
    before = timezone.now()
    row = _fail()
    assert row.attempts == 0 and row.gave_up_at is None and row.last_error
    assert row.next_attempt_at is not None
    wait = (row.next_attempt_at - before).total_seconds()
    assert 5.0 <= wait <= 15.5  # base 10 s, jittered to half to one and a half

    # A 429's Retry-After is honoured (with a few seconds of spread), not the backoff.
    later = _fail("account-2", retry_after=120)
    assert later.next_attempt_at is not None
    assert 120 <= (later.next_attempt_at - before).total_seconds() <= 126
    # Running twice keeps one row per task and subject.
    _fail()
    assert ParkedRetry.objects.filter(task=TASK).count() == 2


@pytest.mark.django_db
def test_the_sweep_sends_each_due_try_once_and_gives_up_after_the_bound(
    broker_sent: Sent, django_capture_on_commit_callbacks: Any
) -> None:
    row = _fail()
    assert retry_pending_subjects(TASK) == {"account-1"}
    assert row.next_attempt_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=row.next_attempt_at - dt.timedelta(seconds=1)) == 0
    assert broker_sent == []  # not due: nothing waits in the broker meanwhile

    for retry in range(1, POLICY.max_attempts + 1):
        due = _row().next_attempt_at
        assert due is not None
        with django_capture_on_commit_callbacks(execute=True):
            assert retries_send_due(now=due) == 1
            assert retries_send_due(now=due) == 0  # sent once: it is out now
        assert broker_sent[-1] == (TASK, {"account_id": "account-1"})
        assert _row().attempts == retry
        row = _fail()  # the retry failed too
    assert len(broker_sent) == POLICY.max_attempts

    # The bound: after max_attempts retries it gives up, visibly, and sends nothing more.
    assert row.gave_up_at is not None and row.next_attempt_at is None
    assert retry_pending_subjects(TASK) == set()  # the usual schedule runs it again
    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    # A scheduled run that fails again says so, without a new chain of retries.
    again = retry_later(
        task=TASK,
        subject="account-1",
        kwargs={"account_id": "account-1"},
        label="Example sync",
        error="still unavailable",
        policy=POLICY,
    )
    assert again.gave_up_at == row.gave_up_at and again.next_attempt_at is None
    assert again.last_error == "still unavailable"
    # A success forgets it.
    retry_done(task=TASK, subject="account-1")
    assert not ParkedRetry.objects.filter(task=TASK).exists()


@pytest.mark.django_db
def test_a_try_that_never_answers_is_sent_again_and_counts_toward_the_bound(
    broker_sent: Sent, django_capture_on_commit_callbacks: Any
) -> None:
    row = _fail()
    at = row.next_attempt_at
    assert at is not None
    for retry in range(1, POLICY.max_attempts + 1):
        with django_capture_on_commit_callbacks(execute=True):
            assert retries_send_due(now=at) == 1
        assert _row().attempts == retry
        at = at + IN_FLIGHT  # the worker was killed: no answer, no failure recorded
        with django_capture_on_commit_callbacks(execute=True):
            assert retries_send_due(now=at - dt.timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert retries_send_due(now=at) == 0
    gave_up = _row()
    assert gave_up.gave_up_at == at and gave_up.next_attempt_at is None
    assert gave_up.last_error.startswith("No answer from the last try.")
    assert len(broker_sent) == POLICY.max_attempts


@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_a_try_another_sweeper_holds(broker_sent: Sent) -> None:
    row = _fail()
    due = row.next_attempt_at
    assert due is not None
    locked, release = threading.Event(), threading.Event()

    def other_sweeper() -> None:
        try:
            with transaction.atomic():
                list(ParkedRetry.objects.select_for_update().filter(pk=row.pk))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sweeper)
    thread.start()
    try:
        assert locked.wait(10)
        assert retries_send_due(now=due) == 0  # SKIP LOCKED: not sent twice
    finally:
        release.set()
        thread.join()
    assert retries_send_due(now=due) == 1
    assert broker_sent == [(TASK, {"account_id": "account-1"})]

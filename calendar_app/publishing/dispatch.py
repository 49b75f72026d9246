"""What beat runs: claim due posts, due status polls and due link lookups; sweep stale claims.

PostgreSQL decides what is due. Rows are claimed with FOR UPDATE SKIP LOCKED, so concurrent
dispatchers skip each other's rows, and a task is enqueued only once its claim is committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Q, QuerySet

from calendar_app.models import Post, PostEvent, PostStatus
from calendar_app.publishing.broker import publishing_messages
from calendar_app.publishing.first_comment import first_comments_requeue
from calendar_app.publishing.state import (
    ACTIVE_STATUSES,
    mark_unconfirmed_locked,
    pipeline_posts,
    post_event_add,
)
from calendar_app.publishing.state import (
    now as current_time,
)
from later.data_version import data_changed, quiet

SWEEP_BATCH = 500
# Redis serves lower numbers first: posts TikTok already has (polls, resumes) go ahead of a
# backlog of fresh ones, so a burst finishes posts instead of starting all of them at once.
RESUME_PRIORITY = 0
# A post whose worker died before init is late already: it goes ahead of the fresh backlog.
RECOVER_PRIORITY = 3
FRESH_PRIORITY = 6
LINK_PRIORITY = 9
LINK_LEASE = timedelta(minutes=10)


def claim_lease() -> timedelta:
    """How long a claim lives without renewal: a live run renews it every third of this."""
    return timedelta(seconds=float(settings.PUBLISHING_CLAIM_LEASE_SECONDS))


def init_answer_window() -> timedelta:
    """How long after its last heartbeat a run may still be waiting for init's answer (the
    request's timeout) and storing it: only past this is a lost answer called unconfirmed, so
    a run whose lease lapsed while it was alive never has its post called unconfirmed."""
    return claim_lease() + timedelta(seconds=float(settings.TIKTOK_TIMEOUT_SECONDS))


def _batch() -> int:
    return int(settings.PUBLISHING_DISPATCH_BATCH)


def _claim_due(
    due: QuerySet[Post],
    *,
    limit: int,
    claim: Callable[[Post], None],
    fields: Sequence[str],
    task: Task,
    task_args: Callable[[Post], tuple[str, ...]],
    priority: int,
) -> list[Post]:
    """Lock up to `limit` due rows (skipping rows others hold), `claim` each, save `fields`
    in one statement, and enqueue one task per row once that is committed.

    Must run inside a transaction: the row locks last until it commits.
    """
    locked = due.select_for_update(skip_locked=True, of=("self",))
    rows = list(locked.only("workspace_id", "scheduled_at", "attempts", *fields)[:limit])
    if not rows:
        return []
    for post in rows:
        claim(post)
    _write_claims(rows, fields)
    messages = [task_args(post) for post in rows]
    transaction.on_commit(lambda: _send(task, messages, priority=priority))
    return rows


def _message_id(args: Sequence[str]) -> str | None:
    """A publish message's Celery task id is its claim token (post id, claim token): the
    sweeper looks for it in the broker (broker.publishing_messages). Others get Celery's."""
    return args[1] if len(args) == 2 else None


def _write_claims(rows: list[Post], fields: Sequence[str]) -> None:
    """Save `fields` of every claimed row in one UPDATE from arrays of the new values.

    Not `bulk_update`: its CASE of one branch per row and field took about 30 ms of CPU per
    batch of 200, most of the dispatcher's time for a burst. Raw SQL, so it tells the pages'
    data version itself (later/data_version.py)."""
    if connection.vendor != "postgresql":
        pipeline_posts().bulk_update(rows, list(fields))
        return
    columns = [f for f in Post._meta.concrete_fields if f.name in fields]
    quote = connection.ops.quote_name
    names = [quote(str(f.column)) for f in columns]
    sql = "UPDATE {table} AS p SET {assign} FROM unnest(%s::uuid[], {arrays}) AS v(id, {names}) "
    sql += "WHERE p.id = v.id"
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(
                table=quote(Post._meta.db_table),
                assign=", ".join(f"{name} = v.{name}" for name in names),
                arrays=", ".join(f"%s::{f.db_type(connection)}[]" for f in columns),
                names=", ".join(names),
            ),
            [
                [post.pk for post in rows],
                *(
                    [f.get_db_prep_save(getattr(post, f.attname), connection) for post in rows]
                    for f in columns
                ),
            ],
        )
    if not quiet(Post, fields):
        data_changed(*{post.workspace_id for post in rows})


def _send(task: Task, messages: Sequence[tuple[str, ...]], *, priority: int) -> None:
    """One message per claimed row, written to the broker in pipelined batches (kombu's
    producer batch) over one producer, not one round trip and pool checkout each.

    The arguments are ids, so their display form (`argsrepr`) is their plain repr: Celery's
    own safe repr of every message was a tenth of a 2,000-post burst's sending CPU."""
    with task.app.producer_or_acquire() as producer, producer.batch():
        for args in messages:
            task.apply_async(
                args=args,
                priority=priority,
                producer=producer,
                task_id=_message_id(args),
                **_display(args),
            )


def _display(args: Sequence[str]) -> dict[str, Any]:
    return {"argsrepr": repr(tuple(args)), "kwargsrepr": "{}"}


# pg_try_advisory_xact_lock key: "later:dispatch" (any constant no other code uses).
DISPATCH_LOCK_KEY = 0x6C61746572_6470


@contextmanager
def _one_dispatcher() -> Iterator[None]:
    """One dispatcher claims and sends at a time (beat's ticks overlap when claiming a burst
    outlasts the interval): the others wait until its claims are committed and their
    messages sent, then claim what is left.

    Concurrent claims would be safe (SKIP LOCKED) but would send their messages out of the
    order claimed_at records, and the sweeper reads the broker's order from claimed_at. A
    session lock, so it also covers the sends after the commit; a dropped connection releases
    it. PostgreSQL only (SQLite serialises writers anyway)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [DISPATCH_LOCK_KEY])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [DISPATCH_LOCK_KEY])
        except DatabaseError:
            pass  # the connection is gone, and the lock with it


def posts_dispatch_due(
    *, now: datetime | None = None, limit: int | None = None
) -> list[tuple[Any, uuid.UUID]]:
    """Claim due posts and enqueue one publish task per post once the claim is committed.

    Returns the (post_id, claim_token) pairs claimed. Concurrent dispatchers skip each
    other's locked rows, so a post is never claimed twice.
    """
    from calendar_app.tasks import publish_post

    tokens: list[tuple[Any, uuid.UUID]] = []

    def claim(post: Post) -> None:
        post.status = PostStatus.QUEUED
        post.claim_token = uuid.uuid4()
        # One microsecond apart in the order the messages are sent: the sweeper reads the
        # broker's FIFO order from claimed_at (posts_sweep_stale).
        post.claimed_at = at + timedelta(microseconds=len(tokens))
        post.heartbeat_at = at
        tokens.append((post.id, post.claim_token))

    with _one_dispatcher(), transaction.atomic():
        at = now or current_time()  # after the lock: claimed_at follows the order sent
        claimed = _claim_due(
            pipeline_posts()
            .filter(status=PostStatus.SCHEDULED, scheduled_at__lte=at)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
            # Approvals: a workspace that requires them publishes approved posts only.
            .exclude(workspace__approval_required=True, approved_at__isnull=True)
            .order_by("scheduled_at"),
            limit=limit or _batch(),
            claim=claim,
            fields=["status", "claim_token", "claimed_at", "heartbeat_at"],
            task=publish_post,
            task_args=lambda post: (str(post.id), str(post.claim_token)),
            priority=FRESH_PRIORITY,
        )
        PostEvent.objects.bulk_create(
            PostEvent(
                workspace_id=post.workspace_id,
                post=post,
                kind="queued",
                message="Queued for publishing.",
                data={
                    "lateness_seconds": round(
                        (at - post.scheduled_at).total_seconds() if post.scheduled_at else 0.0, 3
                    ),
                    "attempt": post.attempts + 1,
                },
            )
            for post in claimed
        )
    return tokens


def posts_dispatch_all_due(*, now: datetime | None = None, max_batches: int = 10) -> int:
    """One beat tick: claim batch after batch so a burst of due posts is not spread over ticks."""
    batch = _batch()
    total = 0
    for _ in range(max_batches):
        claimed = len(posts_dispatch_due(now=now, limit=batch))
        total += claimed
        if claimed < batch:
            break
    return total


def posts_resume_due_polls(*, now: datetime | None = None) -> int:
    """Claim posts TikTok already has whose next status poll is due; one task each."""
    from calendar_app.tasks import publish_post

    at = now or current_time()

    def claim(post: Post) -> None:
        post.claim_token = uuid.uuid4()
        post.heartbeat_at = at
        post.next_attempt_at = None

    with transaction.atomic():
        claimed = _claim_due(
            pipeline_posts()
            .filter(status=PostStatus.PUBLISHING, claim_token__isnull=True, next_attempt_at__lte=at)
            .order_by("next_attempt_at"),
            limit=_batch(),
            claim=claim,
            fields=["claim_token", "heartbeat_at", "next_attempt_at"],
            task=publish_post,
            task_args=lambda post: (str(post.id), str(post.claim_token)),
            priority=RESUME_PRIORITY,
        )
    return len(claimed)


def posts_resolve_due_links(*, now: datetime | None = None) -> int:
    """Enqueue the public-link lookups that are due (published posts without a TikTok id)."""
    from calendar_app.tasks import resolve_public_post_id

    at = now or current_time()

    def claim(post: Post) -> None:
        # A lease, not a clear: if the message is lost the lookup comes due again.
        post.next_attempt_at = at + LINK_LEASE

    with transaction.atomic():
        claimed = _claim_due(
            pipeline_posts()
            .filter(status=PostStatus.PUBLISHED, tiktok_post_id="", next_attempt_at__lte=at)
            .order_by("next_attempt_at"),
            limit=_batch(),
            claim=claim,
            fields=["next_attempt_at"],
            task=resolve_public_post_id,
            task_args=lambda post: (str(post.id),),
            priority=LINK_PRIORITY,
        )
    return len(claimed)


def posts_dispatch_tick(*, now: datetime | None = None) -> dict[str, int]:
    """What beat runs every few seconds: new posts, due status polls, due link lookups."""
    return {
        "dispatched": posts_dispatch_all_due(now=now),
        "polls": posts_resume_due_polls(now=now),
        "links": posts_resolve_due_links(now=now),
        "first_comments": first_comments_requeue(now_at=now),
    }


STARTED_STATUSES = (
    PostStatus.PUBLISHING,
    PostStatus.PUBLISHED,
    PostStatus.SENT_TO_INBOX,
    PostStatus.FAILED,
    PostStatus.UNCONFIRMED,
)


def _queued_order_guess(*, at: datetime, grace: timedelta) -> Q | None:
    """Which queued posts (past their grace) seem to have no message coming, guessed from the
    order posts were started in; None: all. For when the broker cannot be read.

    Its message is taken to be gone when the pool has started a post claimed after it (fresh
    messages are served in the order they were sent, which claimed_at records), when no post
    was started or written to for the grace (an idle or dead pool holds no backlog), or after
    PUBLISHING_QUEUED_MAX_WAIT_SECONDS whatever else. A pool that starts slowly looks idle to
    this guess: that is why the broker's own answer comes first.
    """
    max_wait = timedelta(seconds=float(settings.PUBLISHING_QUEUED_MAX_WAIT_SECONDS))
    recent = pipeline_posts().filter(status__in=STARTED_STATUSES, heartbeat_at__gte=at - max_wait)
    if not recent.filter(heartbeat_at__gte=at - grace).exists():
        return None
    latest_started = recent.aggregate(at=Max("claimed_at"))["at"]
    gone = Q(heartbeat_at__lt=at - max_wait)
    if latest_started is not None:
        gone |= Q(claimed_at__lt=latest_started)
    return gone


def _publishing_queue() -> str:
    from calendar_app.tasks import publish_post

    route = publish_post.app.amqp.router.route({}, publish_post.name)
    return str(route["queue"].name)


def _queued_message_gone(*, at: datetime, grace: timedelta) -> Q | None:
    """Which queued posts (past their grace) no longer have a message coming; None: all.

    Asks the broker first (broker.publishing_messages), by the claim token each message
    carries as its id:
    - still in the publishing queue: waiting its turn (a busy or slowly starting pool), so
      it stays; re-offering it would only queue a duplicate behind it;
    - in neither the queue nor a worker's hands: gone, re-offered;
    - taken by a worker but not started: that worker may have been killed, so the order
      guess decides (`_queued_order_guess`), as it does when the broker cannot be read.
    """
    tokens = [
        str(token)
        for token in pipeline_posts()
        .filter(status=PostStatus.QUEUED, heartbeat_at__lt=at - grace)
        .order_by("heartbeat_at")
        .values_list("claim_token", flat=True)[:SWEEP_BATCH]
        if token is not None
    ]
    if not tokens:
        return None  # no queued post is past its grace
    held = publishing_messages(_publishing_queue(), tokens)
    if held is None:
        return _queued_order_guess(at=at, grace=grace)
    lost = [t for t in tokens if t not in held.waiting and t not in held.taken]
    if held.complete:
        gone = Q(claim_token__in=lost)
    else:  # a very long queue, read in part: a post not found may be further in
        max_wait = timedelta(seconds=float(settings.PUBLISHING_QUEUED_MAX_WAIT_SECONDS))
        gone = Q(claim_token__in=lost, heartbeat_at__lt=at - max_wait)
    if held.taken:
        guess = _queued_order_guess(at=at, grace=grace)
        gone |= Q(claim_token__in=sorted(held.taken)) & (guess if guess is not None else Q())
    return gone


def posts_sweep_stale(
    *, now: datetime | None = None, stale_after: timedelta | None = None
) -> dict[str, int]:
    """Re-offer posts whose claim lease expired (worker killed, broker emptied, DB dropped).

    A running post's lease is its heartbeat plus PUBLISHING_CLAIM_LEASE_SECONDS (the run
    renews it); a queued post waiting in the broker gets PUBLISHING_QUEUED_GRACE_SECONDS.
    Posts TikTok may have are polled, never initiated again; the others are sent again at
    once under a new claim, ahead of the fresh backlog. `stale_after` (tests, a person
    forcing it) treats every claim older than that as dead, whatever the init window.
    """
    from calendar_app.tasks import publish_post

    at = now or current_time()
    lease = stale_after if stale_after is not None else claim_lease()
    grace = (
        stale_after
        if stale_after is not None
        else timedelta(seconds=float(settings.PUBLISHING_QUEUED_GRACE_SECONDS))
    )
    answer_window = init_answer_window() if stale_after is None else lease
    counts = {"rescheduled": 0, "repolled": 0, "unconfirmed": 0}
    queued_stale = Q(status=PostStatus.QUEUED, heartbeat_at__lt=at - grace)
    gone = _queued_message_gone(at=at, grace=grace) if stale_after is None else None
    if gone is not None:
        queued_stale &= gone
    with transaction.atomic():
        stale = list(
            pipeline_posts()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace", "account")
            .filter(status__in=ACTIVE_STATUSES)
            .filter(
                Q(status=PostStatus.PUBLISHING, heartbeat_at__lt=at - lease)
                | queued_stale
                | Q(heartbeat_at__isnull=True)
            )
            .exclude(claim_token__isnull=True, next_attempt_at__gt=at)
            .order_by("heartbeat_at")[:SWEEP_BATCH]
        )
        to_poll: list[tuple[str, str]] = []
        to_offer: list[tuple[str, str]] = []
        for post in stale:
            if post.init_started_at is None:
                # Nothing can have reached TikTok: offer it again now, under a new claim.
                # It keeps claimed_at, its place in the fresh messages' order that
                # _queued_order_guess reads, although its message now jumps the backlog.
                post.status = PostStatus.QUEUED
                post.claim_token = uuid.uuid4()
                post.heartbeat_at = at
                post.next_attempt_at = None
                post.save(
                    update_fields=[
                        "status",
                        "claim_token",
                        "heartbeat_at",
                        "next_attempt_at",
                        "updated_at",
                    ]
                )
                post_event_add(
                    post=post,
                    kind="requeued",
                    message="The worker publishing this post stopped; it was queued again.",
                )
                to_offer.append((str(post.id), str(post.claim_token)))
                counts["rescheduled"] += 1
            elif post.publish_id:
                post.claim_token = uuid.uuid4()
                post.status = PostStatus.PUBLISHING
                post.heartbeat_at = at
                post.save(update_fields=["claim_token", "status", "heartbeat_at", "updated_at"])
                post_event_add(
                    post=post,
                    kind="resumed",
                    message="The worker stopped; checking the post's status with TikTok.",
                )
                to_poll.append((str(post.id), str(post.claim_token)))
                counts["repolled"] += 1
            elif post.heartbeat_at is not None and post.heartbeat_at >= at - answer_window:
                continue  # init's answer may still be on its way to a live run
            else:
                mark_unconfirmed_locked(post=post, at=at)
                counts["unconfirmed"] += 1

        def send() -> None:
            _send(publish_post, to_poll, priority=RESUME_PRIORITY)
            _send(publish_post, to_offer, priority=RECOVER_PRIORITY)

        transaction.on_commit(send)
    return counts

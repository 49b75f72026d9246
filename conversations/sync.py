"""Comment sync: mirror the comments of a business account's recent videos into `Comment`.

Each due video is read newest-first through `/business/comment/list/` until the page that
reaches the previous pass's newest comment (the watermark); once an hour a full pass walks
everything to catch reply-count changes on older threads. Replies are fetched only for
threads whose reply count changed. A pass writes its first page at once and the rest in
groups (`PassWriter`). Rows are upserted on (workspace, TikTok comment id), and rows whose
content did not change are not written at all, so a re-run writes nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from accounts.models import AccountStatus, AccountType, BusinessStatus, TikTokAccount, TikTokVideo
from accounts.tiktok import get_tiktok_client
from accounts.tiktok.access import tiktok_business_call
from conversations import ingest
from conversations.models import PENDING_ID_PREFIX, Comment, CommentSyncState, ModerationRule
from conversations.services import comment_confirm, thread_first_response_record
from conversations.triage import Triage, triage
from tiktok_client import schemas
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokError, TikTokInvalidRequest, TikTokRateLimited
from tiktok_client.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter

logger = logging.getLogger(__name__)
T = TypeVar("T")

COMMENT_READ_SCOPE = "comment.list"
PAGE_SIZE = 30  # TikTok's maximum for comment lists
MAX_PAGES_PER_THREAD = 20
# Newer videos get most of the comments, so they are polled far more often.
POLL_TIERS: tuple[tuple[dt.timedelta, dt.timedelta], ...] = (
    (dt.timedelta(days=2), dt.timedelta(seconds=55)),
    (dt.timedelta(days=14), dt.timedelta(hours=1)),
)
OLD_VIDEO_POLL = dt.timedelta(days=1)
FULL_PASS_EVERY = dt.timedelta(hours=1)
# The comment sync reads the account's video list (new videos) at most this often.
VIDEO_LIST_EVERY = dt.timedelta(minutes=10)
# Below TikTok's ~40 calls a minute per account and endpoint (docs/tiktok-api.md, "Business
# limits"): one budget for all comment calls of an account, shared by every worker through Redis,
# so even a run that is all reply/list calls waits for its next run instead of being refused. The
# client also keeps every Business call within TikTok's limit (tiktok_client/ratelimit.py).
CALLS_PER_MINUTE = 36
MAX_CALLS_PER_RUN = CALLS_PER_MINUTE
# Well inside the Celery soft time limit and the per-account lock, even when calls are slow.
MAX_SECONDS_PER_RUN = 120.0
BUDGET_FAMILY = "business_comments"

TRIAGE_FIELDS = ["is_question", "sentiment", "sentiment_score", "language"]
SYNCED_FIELDS = [
    "parent",
    "parent_created_at_tiktok",
    "author_username",
    "author_display_name",
    "author_avatar_url",
    "text",
    "like_count",
    "reply_count",
    "is_hidden",
    "is_pinned",
    "is_own",
    "liked",
]

_memory_limiter = InMemoryRateLimiter({BUDGET_FAMILY: CALLS_PER_MINUTE})


def comment_rate_limiter() -> RateLimiter:
    redis_url = getattr(settings, "REDIS_URL", "") or ""
    if redis_url:
        return RedisRateLimiter(
            redis_url,
            {BUDGET_FAMILY: CALLS_PER_MINUTE},
            key_prefix="tiktok:ratelimit:comments",
        )
    return _memory_limiter


class CallBudgetSpent(TikTokRateLimited):
    """Refused here, never sent: the run's call cap or the account's per-minute comment budget
    (`CallBudget`, our own margin below TikTok's limits) has no room for this call. The sync
    keeps its cursor and waits for its next run; it is not a failure."""

    def __init__(self, message: str = "", *, retry_after: float = 60.0) -> None:
        super().__init__(
            message, code="comment_sync_budget_spent", retry_after=retry_after, local=True
        )


class CallBudget:
    """Counts this run's TikTok calls and takes a slot of the account's per-minute budget."""

    def __init__(
        self,
        *,
        account: TikTokAccount,
        limiter: RateLimiter | None = None,
        max_calls: int = MAX_CALLS_PER_RUN,
        max_seconds: float = MAX_SECONDS_PER_RUN,
    ) -> None:
        self.account = account
        self.limiter = limiter or comment_rate_limiter()
        self.max_calls = max_calls
        self.deadline = time.monotonic() + max_seconds
        self.calls = 0

    def call(self, fn: Callable[[str], T]) -> T:
        if self.calls >= self.max_calls or time.monotonic() >= self.deadline:
            raise CallBudgetSpent("comment sync run budget used up", retry_after=60.0)
        # The key is the account, not its token: a refresh must not reset the budget.
        wait = self.limiter.acquire(access_token=self.account.open_id, family=BUDGET_FAMILY)
        if wait > 0:
            raise CallBudgetSpent("comment sync budget exhausted", retry_after=wait)
        self.calls += 1
        return tiktok_business_call(account=self.account, call=fn)


@dataclass
class SyncStats:
    videos: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    calls: int = 0
    created_ids: list[str] = field(default_factory=list)

    def add(self, other: SyncStats) -> None:
        self.videos += other.videos
        self.fetched += other.fetched
        self.created += other.created
        self.updated += other.updated
        self.created_ids += other.created_ids


def account_can_sync_comments(account: TikTokAccount) -> bool:
    return (
        account.account_type == AccountType.BUSINESS
        and account.status == AccountStatus.CONNECTED
        and account.has_business_scope(COMMENT_READ_SCOPE)
    )


def comments_next_due(*, posted_at: dt.datetime, synced_at: dt.datetime) -> dt.datetime:
    """The first moment at which the poll interval of the video's age at that moment (POLL_TIERS,
    then OLD_VIDEO_POLL) has passed since the sync at `synced_at`. Intervals only grow with
    age, so the time computed at the sync stays right as the video ages: nothing has to
    revisit it at an age step."""
    younger_than = posted_at
    for max_age, interval in POLL_TIERS:
        due = max(synced_at + interval, younger_than)
        if due < posted_at + max_age:
            return due
        younger_than = posted_at + max_age
    return max(synced_at + OLD_VIDEO_POLL, younger_than)


@dataclass(frozen=True)
class SyncAllotment:
    """One account's share of the minute: `calls` TikTok calls (its video list when due, then
    a first page for each due video, the longest waiting first)."""

    workspace_id: uuid.UUID
    account_id: uuid.UUID
    calls: int


@dataclass
class _DueAccount:
    workspace_id: uuid.UUID
    account_id: uuid.UUID
    list_due: bool
    due_videos: int
    next_due: dt.datetime
    calls: int = 0

    @property
    def wants(self) -> int:
        return int(self.list_due) + self.due_videos


_NEVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
# How many due accounts one fan-out reads per call of its budget (accounts found with nothing
# due after all are put back at their true due time, so this only bounds one minute's reading).
SCAN_ACCOUNTS_PER_CALL = 2


def accounts_due_for_comment_sync(
    *,
    now: dt.datetime,
    calls: int,
    per_account: int,
    video_list_every: dt.timedelta,
    exclude: Iterable[uuid.UUID] = (),
) -> list[SyncAllotment]:
    """The minute's comment sync, counted in TikTok calls: at most `calls` in all, shared out
    among the Business accounts whose video list or videos are due (one call for the list,
    one for each due video), the accounts waiting longest first.

    Two rounds, so that one busy account cannot starve the others: first each account gets
    at most `per_account` calls, then what is left of the minute tops up the accounts that
    still have due work, up to CALLS_PER_MINUTE (its own comment budget). What an account is
    not allotted stays due and keeps its place: next minute it is among the longest waiting.

    One query reads the due accounts through the partial index on `comments_due_at` (only
    accounts that can sync are in it) and counts each one's due videos through the index on
    (account, comments_due_at): only due rows are read, whatever the number of videos. An
    account whose stored due time was early (its due video was synced meanwhile) is put back
    at its true one in a second statement."""
    if calls <= 0:
        return []
    videos = TikTokVideo.objects.unscoped().filter(account=OuterRef("pk")).order_by()
    rows = (
        TikTokAccount.objects.unscoped()
        .filter(
            account_type=AccountType.BUSINESS,
            status=AccountStatus.CONNECTED,
            business_status=BusinessStatus.CONNECTED,
            comments_due_at__lte=now,
        )
        .exclude(pk__in=list(exclude))
        .annotate(
            due_videos=Coalesce(
                Subquery(
                    videos.filter(comments_due_at__lte=now)
                    .values("account")
                    .annotate(n=Count("pk"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            next_video_due=Subquery(
                videos.order_by("comments_due_at").values("comments_due_at")[:1],
                output_field=DateTimeField(),
            ),
        )
        .order_by("comments_due_at", "pk")
        .values_list(
            "workspace_id",
            "pk",
            "business_scopes",
            "videos_listed_at",
            "due_videos",
            "next_video_due",
        )
    )
    due: list[_DueAccount] = []
    put_back: dict[uuid.UUID, dt.datetime] = {}
    for workspace_id, account_id, scopes, listed_at, due_videos, next_video_due in rows[
        : calls * SCAN_ACCOUNTS_PER_CALL
    ]:
        list_due_at = listed_at + video_list_every if listed_at else now
        if COMMENT_READ_SCOPE not in (scopes or []):
            # Scopes are checked here, not in SQL: JSON containment is PostgreSQL-only and the
            # quick start runs on SQLite. Such an account cannot sync: it is looked at daily.
            put_back[account_id] = now + OLD_VIDEO_POLL
            continue
        account = _DueAccount(
            workspace_id=workspace_id,
            account_id=account_id,
            list_due=list_due_at <= now,
            due_videos=due_videos,
            next_due=min(list_due_at, next_video_due or _NEVER),
        )
        if account.wants:
            due.append(account)
        else:
            put_back[account_id] = account.next_due
    left = calls
    for cap in (per_account, CALLS_PER_MINUTE):
        for account in due:
            take = min(account.wants, cap) - account.calls
            take = max(0, min(take, left))
            account.calls += take
            left -= take
    if put_back:
        TikTokAccount.objects.unscoped().bulk_update(
            [TikTokAccount(pk=pk, comments_due_at=at) for pk, at in put_back.items()],
            ["comments_due_at"],
        )
    return [
        SyncAllotment(workspace_id=a.workspace_id, account_id=a.account_id, calls=a.calls)
        for a in due
        if a.calls
    ]


def account_comments_due_refresh(
    *,
    account: TikTokAccount,
    now: dt.datetime,
    video_list_every: dt.timedelta = VIDEO_LIST_EVERY,
) -> None:
    """Store the account's exact next due time (its earliest video, or its video list), after
    a sync moved its videos' due times. One statement, so a webhook's mark committed before it
    is never overwritten with a later time."""
    first_video = (
        TikTokVideo.objects.for_workspace(account.workspace_id)
        .filter(account=OuterRef("pk"))
        .order_by("comments_due_at")
        .values("comments_due_at")[:1]
    )
    list_due = ExpressionWrapper(F("videos_listed_at") + video_list_every, DateTimeField())
    TikTokAccount.objects.for_workspace(account.workspace_id).filter(pk=account.pk).update(
        comments_due_at=Least(
            Coalesce(Subquery(first_video, output_field=DateTimeField()), Value(_NEVER)),
            Coalesce(list_due, Value(now)),  # never listed: the list is due now
        )
    )


def videos_due(
    *, account: TikTokAccount, now: dt.datetime, limit: int | None = None
) -> list[TikTokVideo]:
    """The account's videos whose comments are due, the longest waiting first."""
    videos = (
        TikTokVideo.objects.for_workspace(account.workspace_id)
        .filter(account=account, comments_due_at__lte=now)
        .order_by("comments_due_at", "pk")
    )
    return list(videos if limit is None else videos[:limit])


# --------------------------------------------------------------------------- upsert


def _row(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    item: schemas.Comment,
    parent: tuple[uuid.UUID, dt.datetime] | None,
    now: dt.datetime,
) -> Comment:
    return Comment(
        workspace_id=account.workspace_id,
        video=video,
        account=account,
        comment_id=item.comment_id,
        parent_id=parent[0] if parent else None,
        parent_created_at_tiktok=parent[1] if parent else None,
        author_key=item.unique_identifier[:128],
        author_username=item.username[:128],
        author_display_name=item.display_name[:256],
        author_avatar_url=item.profile_image if len(item.profile_image) <= 2000 else "",
        text=item.text,
        created_at_tiktok=ingest.tiktok_time(item.create_time),
        like_count=max(item.likes, 0),
        reply_count=max(item.replies, 0),
        is_hidden=item.status.upper() == "HIDDEN",
        is_pinned=item.pinned,
        is_own=item.owner,
        liked=item.liked,
        # Our own comments need no attention from us.
        read_at=now if item.owner else None,
        handled_at=now if item.owner else None,
        synced_at=now,
    )


def _unchanged(existing: Comment, row: Comment) -> bool:
    return all(
        getattr(existing, name + "_id" if name == "parent" else name)
        == getattr(row, name + "_id" if name == "parent" else name)
        for name in SYNCED_FIELDS
    )


def _claim_pending_replies(
    *, account: TikTokAccount, video: TikTokVideo, own: Sequence[schemas.Comment]
) -> None:
    """Give a reply that stayed "pending" (TikTok timed out) the id TikTok reports for it."""
    pending = list(
        Comment.objects.for_workspace(account.workspace_id)
        .filter(video=video, is_pending=True, comment_id__startswith=PENDING_ID_PREFIX)
        .select_related("parent", "sent_by")
    )
    for item in own:
        for row in pending:
            parent_id = row.parent.comment_id if row.parent else None
            if row.text == item.text and parent_id == item.parent_comment_id:
                comment_confirm(
                    comment=row,
                    comment_id=item.comment_id,
                    is_pending=False,
                    created_at=ingest.tiktok_time(item.create_time),
                )
                if row.parent_id:
                    thread_first_response_record(
                        scoped=Comment.objects.for_workspace(account.workspace_id),
                        root_id=row.parent_id,
                        at=ingest.tiktok_time(item.create_time),
                        by=row.sent_by,
                    )
                pending.remove(row)
                break


@dataclass
class _UpsertPlan:
    """What one upsert batch wrote: the new rows and how many existing ones changed."""

    created: list[Comment] = field(default_factory=list)
    updated: int = 0


def _dedupe(items: Iterable[schemas.Comment]) -> dict[str, schemas.Comment]:
    return {item.comment_id: item for item in items if item.comment_id}


def _existing_rows(
    *, account: TikTokAccount, video: TikTokVideo, unique: dict[str, schemas.Comment]
) -> dict[str, Comment]:
    """The stored rows of this batch, after a pending reply of ours took TikTok's id."""
    scoped = Comment.objects.for_workspace(account.workspace_id)
    existing = {c.comment_id: c for c in scoped.filter(comment_id__in=list(unique))}
    own_new = [i for i in unique.values() if i.owner and i.comment_id not in existing]
    if own_new:
        _claim_pending_replies(account=account, video=video, own=own_new)
        existing = {c.comment_id: c for c in scoped.filter(comment_id__in=list(unique))}
    return existing


def _level_rows(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    level: Sequence[schemas.Comment],
    parents: dict[str, tuple[uuid.UUID, dt.datetime]],
    existing: dict[str, Comment],
    readings: dict[str, Triage],
    plan: _UpsertPlan,
    now: dt.datetime,
) -> list[Comment]:
    """Rows of one thread level that are new or changed; orphan replies wait for their thread."""
    rows: list[Comment] = []
    for item in level:
        parent = parents.get(item.parent_comment_id) if item.parent_comment_id else None
        if item.parent_comment_id and parent is None:
            continue  # orphan reply: it arrives with its thread on a later pass
        row = _row(account=account, video=video, item=item, parent=parent, now=now)
        old = existing.get(item.comment_id)
        if old is not None and _unchanged(old, row):
            continue
        _triage(row, old, readings)
        rows.append(row)
        if old is None:
            plan.created.append(row)
        else:
            plan.updated += 1
    return rows


def _read_new_texts(
    unique: dict[str, schemas.Comment], existing: dict[str, Comment]
) -> dict[str, Triage]:
    """Question and sentiment of each new or changed text, before the transaction opens
    (the language detector can take milliseconds a comment)."""
    return {
        comment_id: triage(item.text)
        for comment_id, item in unique.items()
        if comment_id not in existing or existing[comment_id].text != item.text
    }


def _triage(row: Comment, old: Comment | None, readings: dict[str, Triage]) -> None:
    reading = readings.get(row.comment_id)
    if reading is None:
        if old is not None:
            for name in TRIAGE_FIELDS:
                setattr(row, name, getattr(old, name))
        return
    row.is_question = reading.is_question and not row.is_own
    row.sentiment = reading.sentiment
    row.sentiment_score = reading.sentiment_score
    row.language = reading.language


def _write_rows(rows: list[Comment]) -> None:
    if rows:
        Comment.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["workspace", "comment_id", "created_at_tiktok"],
            update_fields=[*SYNCED_FIELDS, *TRIAGE_FIELDS, "synced_at", "updated_at"],
        )


def _record_first_responses(
    *, account: TikTokAccount, created: Sequence[Comment | ingest.Written]
) -> None:
    """Replies written in TikTok's own app answer their thread too (no member to credit)."""
    scoped = Comment.objects.for_workspace(account.workspace_id)
    for row in created:
        if row.is_own and row.parent_id:
            thread_first_response_record(
                scoped=scoped, root_id=row.parent_id, at=row.created_at_tiktok, by=None
            )


def _run_rules_after_commit(
    *,
    account: TikTokAccount,
    created: Sequence[Comment | ingest.Written],
    has_rules: bool | None = None,
) -> None:
    """Moderation rules see each fan comment once, right after it is stored. They read the
    text and the author only (never the triage, which may still be pending). `has_rules`:
    already known (the bulk write asks in its own statement)."""
    if has_rules is False:
        return
    fresh = [str(row.pk) for row in created if not row.is_own]
    if not fresh:
        return
    if has_rules is None:
        rules = ModerationRule.objects.for_workspace(account.workspace_id).filter(is_enabled=True)
        has_rules = rules.filter(Q(account__isnull=True) | Q(account=account)).exists()
    if not has_rules:
        return
    from conversations.tasks import apply_moderation_rules

    workspace_id = str(account.workspace_id)
    transaction.on_commit(
        lambda: apply_moderation_rules.delay(workspace_id=workspace_id, comment_ids=fresh)
    )


def _reopen_threads_with_new_fan_replies(
    *, account: TikTokAccount, created: Sequence[Comment | ingest.Written]
) -> None:
    """A fan answering in a handled thread reopens it."""
    parents = {row.parent_id for row in created if row.parent_id and not row.is_own}
    if parents:
        Comment.objects.for_workspace(account.workspace_id).filter(
            pk__in=parents, handled_at__isnull=False
        ).update(handled_at=None, handled_by=None, read_at=None)


def comments_upsert(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    items: Iterable[schemas.Comment],
    now: dt.datetime | None = None,
) -> SyncStats:
    """Insert new comments and update changed ones; unchanged rows are not written."""
    now = now or timezone.now()
    stats = SyncStats()
    unique = _dedupe(items)
    if not unique:
        return stats
    stats.fetched = len(unique)
    if ingest.supported():
        return _bulk_upsert(account=account, video=video, unique=unique, now=now, stats=stats)
    scoped = Comment.objects.for_workspace(account.workspace_id)
    parent_ids = list({i.parent_comment_id for i in unique.values() if i.parent_comment_id})
    existing = _existing_rows(account=account, video=video, unique=unique)
    tops = [i for i in unique.values() if not i.parent_comment_id]
    replies = [i for i in unique.values() if i.parent_comment_id]
    readings = _read_new_texts(unique, existing)
    plan = _UpsertPlan()
    with transaction.atomic():
        for level in (tops, replies):
            # Read per level: the replies' parents may be the tops written just before.
            parents = {
                comment_id: (pk, created_at)
                for comment_id, pk, created_at in scoped.filter(
                    comment_id__in=parent_ids
                ).values_list("comment_id", "pk", "created_at_tiktok")
            }
            _write_rows(
                _level_rows(
                    account=account,
                    video=video,
                    level=level,
                    parents=parents,
                    existing=existing,
                    readings=readings,
                    plan=plan,
                    now=now,
                )
            )
        _reopen_threads_with_new_fan_replies(account=account, created=plan.created)
        _record_first_responses(account=account, created=plan.created)
        _run_rules_after_commit(account=account, created=plan.created)
    stats.created = len(plan.created)
    stats.updated = plan.updated
    stats.created_ids = [row.comment_id for row in plan.created]
    return stats


# A sync pass over one video queues one triage task for what it wrote (pages of 30 would
# otherwise send one broker message each), or one per TRIAGE_TASK_ROWS rows on a long pass.
TRIAGE_TASK_ROWS = 1000
_pass_triage: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "pass_triage", default=None
)


def _send_triage(*, workspace_id: uuid.UUID | str, ids: list[str]) -> None:
    from conversations.tasks import triage_comments

    if ids:
        triage_comments.delay(workspace_id=str(workspace_id), comment_ids=ids)


@contextlib.contextmanager
def triage_per_pass(*, account: TikTokAccount) -> Iterator[None]:
    """Collect the committed rows that wait for triage and queue them together at the end."""
    ids: list[str] = []
    token = _pass_triage.set(ids)
    try:
        yield
    finally:
        _pass_triage.reset(token)
        _send_triage(workspace_id=account.workspace_id, ids=ids)


def _triage_after_commit(*, account: TikTokAccount, comment_ids: Sequence[uuid.UUID | str]) -> None:
    """New and re-written texts are read in bulk right after the commit, on the sync queue."""
    if not comment_ids:
        return
    ids = [str(pk) for pk in comment_ids]
    collected = _pass_triage.get()
    if collected is None:
        transaction.on_commit(lambda: _send_triage(workspace_id=account.workspace_id, ids=ids))
        return

    def collect() -> None:
        assert collected is not None
        collected.extend(ids)
        if len(collected) >= TRIAGE_TASK_ROWS:
            _send_triage(workspace_id=account.workspace_id, ids=collected[:])
            collected.clear()

    transaction.on_commit(collect)


def _bulk_upsert(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    unique: dict[str, schemas.Comment],
    now: dt.datetime,
    stats: SyncStats,
) -> SyncStats:
    """PostgreSQL: one INSERT … ON CONFLICT statement for the batch (conversations.ingest);
    triage follows the commit."""
    own = [i for i in unique.values() if i.owner]
    if own:
        stored = set(
            Comment.objects.for_workspace(account.workspace_id)
            .filter(comment_id__in=[i.comment_id for i in own])
            .values_list("comment_id", flat=True)
        )
        own_new = [i for i in own if i.comment_id not in stored]
        if own_new:
            _claim_pending_replies(account=account, video=video, own=own_new)

    def on_written(result: ingest.UpsertResult) -> None:
        _reopen_threads_with_new_fan_replies(account=account, created=result.created)
        _record_first_responses(account=account, created=result.created)
        _run_rules_after_commit(account=account, created=result.created, has_rules=result.has_rules)
        _triage_after_commit(account=account, comment_ids=result.to_triage)

    result = ingest.comments_bulk_upsert(
        account=account, video=video, items=list(unique.values()), now=now, on_written=on_written
    )
    stats.created = len(result.created)
    stats.updated = result.updated
    stats.created_ids = [row.comment_id for row in result.created]
    return stats


# A pass writes its first page at once (TikTok lists newest first: that page holds what the
# inbox is waiting for) and the rest in groups of up to PASS_WRITE_ROWS rows, one statement
# and one commit a group, rather than a transaction per page of 30 (which paid BEGIN,
# planning, COMMIT and the data version's Redis writes for every 30 rows: ~0.3 of COPY in
# bench/comments_ingest.py). Pages are read first and written after: no TikTok call runs
# inside the transaction, and the saved cursor never passes an unwritten row.
PASS_WRITE_ROWS = 1000


class PassWriter:
    """The rows one video pass has read and not written yet."""

    def __init__(
        self, *, account: TikTokAccount, video: TikTokVideo, now: dt.datetime, stats: SyncStats
    ) -> None:
        self.account = account
        self.video = video
        self.now = now
        self.stats = stats
        self.items: list[schemas.Comment] = []
        self.wrote = False

    def add(self, items: Sequence[schemas.Comment]) -> None:
        self.items += items

    def write(self) -> None:
        if self.items:
            self.stats.add(
                comments_upsert(
                    account=self.account, video=self.video, items=self.items, now=self.now
                )
            )
            self.items = []
            self.wrote = True

    def write_if_due(self) -> bool:
        """Write the first page, then each PASS_WRITE_ROWS; True when it wrote (the caller
        may then save the pass's progress)."""
        if self.items and (not self.wrote or len(self.items) >= PASS_WRITE_ROWS):
            self.write()
            return True
        return False


# --------------------------------------------------------------------------- fetching


def _list_comments(
    token: str, *, client: TikTokClient, business_id: str, video_id: str, cursor: int | None
) -> schemas.CommentPage:
    return client.business_list_comments(
        access_token=token,
        business_id=business_id,
        video_id=video_id,
        cursor=cursor,
        max_count=PAGE_SIZE,
        status="ALL",
        sort_order="desc",
    )


def _list_replies(
    token: str,
    *,
    client: TikTokClient,
    business_id: str,
    video_id: str,
    comment_id: str,
    cursor: int | None,
) -> schemas.CommentPage:
    return client.business_list_replies(
        access_token=token,
        business_id=business_id,
        video_id=video_id,
        comment_id=comment_id,
        cursor=cursor,
        max_count=PAGE_SIZE,
    )


def _fetch_replies(
    *, client: TikTokClient, budget: CallBudget, video: TikTokVideo, thread: schemas.Comment
) -> list[schemas.Comment]:
    fetched: list[schemas.Comment] = []
    cursor: int | None = None
    for _ in range(MAX_PAGES_PER_THREAD):
        page = budget.call(
            functools.partial(
                _list_replies,
                client=client,
                business_id=budget.account.business_id,
                video_id=video.video_id,
                comment_id=thread.comment_id,
                cursor=cursor,
            )
        )
        fetched.extend(
            # Some API versions omit parent_comment_id inside reply lists.
            item
            if item.parent_comment_id
            else dataclasses.replace(item, parent_comment_id=thread.comment_id)
            for item in page.comments
        )
        if not page.has_more or page.cursor == cursor:
            break
        cursor = page.cursor
    return fetched


def comment_sync_video(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    client: TikTokClient,
    budget: CallBudget,
    now: dt.datetime,
) -> SyncStats:
    """One pass over one video's comments. Raises CallBudgetSpent when the budget runs out, or
    TikTokRateLimited when TikTok refuses (progress is kept: the next run resumes at the saved
    cursor)."""
    with triage_per_pass(account=account):
        return _sync_video_pass(account=account, video=video, client=client, budget=budget, now=now)


def _sync_video_pass(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    client: TikTokClient,
    budget: CallBudget,
    now: dt.datetime,
) -> SyncStats:
    state, _ = CommentSyncState.objects.for_workspace(account.workspace_id).get_or_create(
        workspace_id=account.workspace_id, video=video
    )
    if state.pass_cursor is not None:
        cursor: int | None = state.pass_cursor
        full, watermark, newest = state.pass_is_full, state.pass_watermark, state.pass_newest_at
    else:
        full = state.full_pass_at is None or state.full_pass_at <= now - FULL_PASS_EVERY
        cursor, watermark, newest = None, (None if full else state.newest_seen_at), None

    known_replies = dict(
        Comment.objects.for_workspace(account.workspace_id)
        .filter(video=video, parent__isnull=True, is_pending=False)
        .values_list("comment_id", "reply_count")
    )
    stats = SyncStats(videos=1)
    writer = PassWriter(account=account, video=video, now=now, stats=stats)
    try:
        while True:
            page = budget.call(
                functools.partial(
                    _list_comments,
                    client=client,
                    business_id=account.business_id,
                    video_id=video.video_id,
                    cursor=cursor,
                )
            )
            batch: list[schemas.Comment] = []
            reached_watermark = False
            try:
                for item in page.comments:
                    created_at = ingest.tiktok_time(item.create_time)
                    if watermark is not None and created_at < watermark:
                        reached_watermark = True
                    if not item.parent_comment_id:
                        newest = max(newest, created_at) if newest else created_at
                    thread = [item, *item.reply_list]
                    if (
                        not item.parent_comment_id
                        and item.replies != known_replies.get(item.comment_id, 0)
                        and item.replies > 0
                    ):
                        thread += _fetch_replies(
                            client=client, budget=budget, video=video, thread=item
                        )
                    # A thread is stored only with its replies: its reply count is what tells
                    # the next pass whether replies still need fetching.
                    batch += thread
            finally:
                writer.add(batch)
            if reached_watermark or not page.has_more or page.cursor == cursor:
                break
            cursor = page.cursor
            if writer.write_if_due():
                _save_progress(state, cursor=cursor, full=full, watermark=watermark, newest=newest)
    except TikTokError:
        # What was fetched is kept; the next run resumes at the page being read (the saved
        # cursor is never ahead of the written rows).
        writer.write()
        _save_progress(state, cursor=cursor, full=full, watermark=watermark, newest=newest)
        raise
    writer.write()

    if newest and (state.newest_seen_at is None or newest > state.newest_seen_at):
        state.newest_seen_at = newest
    if full:
        state.full_pass_at = now
    state.pass_cursor = None
    state.pass_newest_at = None
    state.pass_watermark = None
    state.pass_is_full = False
    state.last_error = ""
    state.save()
    _video_synced(account=account, video=video, now=now)
    stats.videos = 1
    return stats


def _save_progress(
    state: CommentSyncState,
    *,
    cursor: int | None,
    full: bool,
    watermark: dt.datetime | None,
    newest: dt.datetime | None,
) -> None:
    state.pass_cursor = cursor if cursor is not None else None
    state.pass_is_full = full
    state.pass_watermark = watermark
    state.pass_newest_at = newest
    state.save(update_fields=["pass_cursor", "pass_is_full", "pass_watermark", "pass_newest_at"])


def _video_failed(
    *, account: TikTokAccount, video: TikTokVideo, error: TikTokError, now: dt.datetime
) -> None:
    logger.warning("comment sync of video %s refused by TikTok: %s", video.pk, error)
    CommentSyncState.objects.for_workspace(account.workspace_id).filter(video=video).update(
        last_error=(error.message or error.code)[:500],
        pass_cursor=None,
        pass_watermark=None,
        pass_newest_at=None,
        pass_is_full=False,
    )
    _video_synced(account=account, video=video, now=now)


def _video_synced(*, account: TikTokAccount, video: TikTokVideo, now: dt.datetime) -> None:
    due_at = comments_next_due(posted_at=video.posted_at, synced_at=now)
    TikTokVideo.objects.for_workspace(account.workspace_id).filter(pk=video.pk).update(
        comments_synced_at=now, comments_due_at=due_at
    )


def comment_sync_account(
    *,
    account: TikTokAccount,
    client: TikTokClient | None = None,
    budget: CallBudget | None = None,
    now: dt.datetime | None = None,
) -> SyncStats:
    """Sync the account's due videos, the longest waiting first, as background work (the
    Business app's background share), within `budget` (the fan-out's allotment sets its
    `max_calls`: what is not reached stays due). TikTokRateLimited propagates (after progress
    is saved) so the task can back off, or, as CallBudgetSpent or TikTokAppBudgetSpent, wait
    for its next run. The account's due time is brought up to date either way."""
    now = now or timezone.now()
    client = client or get_tiktok_client(background=True)
    budget = budget or CallBudget(account=account)
    stats = SyncStats()
    if not account_can_sync_comments(account):
        return stats
    try:
        # A video pass takes at least one call: no more videos are read than calls are left.
        for video in videos_due(account=account, now=now, limit=budget.max_calls - budget.calls):
            try:
                stats.add(
                    comment_sync_video(
                        account=account, video=video, client=client, budget=budget, now=now
                    )
                )
            except TikTokInvalidRequest as exc:
                # One video TikTok refuses (deleted, made private) must not stall the others;
                # it is tried again at its normal cadence.
                _video_failed(account=account, video=video, error=exc, now=now)
    finally:
        account_comments_due_refresh(account=account, now=now)
        stats.calls = budget.calls
        logger.info(
            "comment sync account=%s videos=%s created=%s updated=%s calls=%s",
            account.pk,
            stats.videos,
            stats.created,
            stats.updated,
            stats.calls,
        )
    return stats

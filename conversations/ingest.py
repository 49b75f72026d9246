"""Writing a batch of synced comments on PostgreSQL at close to COPY speed, then reading them.

1. The batch travels to PostgreSQL as arrays (`unnest`, up to `ARRAY_BATCH` rows: one round
   trip) or, for bigger batches, by COPY into a per-connection temporary staging table (no
   indexes, no WAL, no ORM objects).
2. One statement writes it: an `INSERT … ON CONFLICT (workspace, comment_id, created_at_tiktok)
   DO UPDATE … WHERE <content differs>` (the natural key holds the partition key) for the top
   comments and, in the same statement, one for the replies,
   whose parent is a top just written (its RETURNING row) or a stored one. An unchanged re-sync
   writes nothing; replies whose thread is unknown wait for a later pass, as before.
3. Triage (question, sentiment, language: Python, ~0.1 ms a text, several times COPY's whole
   cost per row) is not in the write: new and changed texts are stored `triage_pending`
   (no question, no sentiment: no filter or priority claims anything about them) and
   `comments_triage` reads them right after the commit, in bulk, on the sync queue
   (`conversations.tasks.triage_comments`; a beat sweep catches a lost task).

SQLite (the quick start) keeps the ORM path in `conversations.sync`, which triages inline.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo
from conversations.models import Comment, ModerationRule
from conversations.triage import triage
from later.data_version import data_changed
from tiktok_client import schemas

STAGE_TABLE = "conversations_comment_stage"
# Up to this many rows a batch is sent as arrays inside the one statement (a TikTok page of 30
# with its replies); above it COPY into the staging table is cheaper than array parameters.
ARRAY_BATCH = 300
# (staging column, SQL type). Text columns are not truncated by the stage; the INSERT does it.
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("comment_id", "text"),
    ("parent_comment_id", "text"),
    ("author_key", "text"),
    ("author_username", "text"),
    ("author_display_name", "text"),
    ("author_avatar_url", "text"),
    ("text", "text"),
    ("created_at_tiktok", "timestamptz"),
    ("like_count", "integer"),
    ("reply_count", "integer"),
    ("is_hidden", "boolean"),
    ("is_pinned", "boolean"),
    ("is_own", "boolean"),
    ("liked", "boolean"),
)
TRIAGE_COLUMNS = ("is_question", "sentiment", "sentiment_score", "language")
# What a new or re-written text holds until `comments_triage` has read it.
UNREAD_TRIAGE = {"is_question": "false", "sentiment": "''", "sentiment_score": "NULL",
                 "language": "''"}  # fmt: skip
# What a re-sync compares and rewrites (same set as the ORM path's SYNCED_FIELDS).
SYNCED_COLUMNS = (
    "parent_id",
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
)
TRIAGE_BATCH = 1000


@dataclass(frozen=True)
class Written:
    """A row the upsert inserted (what the follow-up steps need of it). `pk` is text: the
    follow-up tasks send ids as strings."""

    pk: str
    comment_id: str
    parent_id: uuid.UUID | None
    is_own: bool
    created_at_tiktok: dt.datetime


@dataclass
class UpsertResult:
    created: list[Written]
    updated: int
    # Rows (new, or whose text changed) that wait for `comments_triage`, as text.
    to_triage: list[str] = field(default_factory=list)
    # Whether an enabled moderation rule covers the account (asked in the same statement).
    has_rules: bool = False


def supported() -> bool:
    return connection.vendor == "postgresql"


def tiktok_time(seconds: int) -> dt.datetime:
    """TikTok's `create_time` (Unix seconds) as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _stage_row(item: schemas.Comment) -> tuple[Any, ...]:
    return (
        item.comment_id,
        item.parent_comment_id or None,
        item.unique_identifier[:128],
        item.username[:128],
        item.display_name[:256],
        item.profile_image if len(item.profile_image) <= 2000 else "",
        item.text,
        tiktok_time(item.create_time),
        max(item.likes, 0),
        max(item.replies, 0),
        item.status.upper() == "HIDDEN",
        item.pinned,
        item.owner,
        item.liked,
    )


def _stage(cursor: Any, items: Sequence[schemas.Comment]) -> None:
    """COPY the batch into this connection's temporary staging table (emptied first)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
    # Temporary: private to this connection, never WAL-logged.
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} ({columns}); TRUNCATE {STAGE_TABLE}"
    )
    names = ", ".join(name for name, _ in STAGE_COLUMNS)
    with cursor.cursor.copy(f"COPY {STAGE_TABLE} ({names}) FROM STDIN") as copy:
        for item in items:
            copy.write_row(_stage_row(item))


def _arrays(items: Sequence[schemas.Comment]) -> tuple[str, dict[str, list[Any]]]:
    """The batch as one `unnest(…)` of column arrays (sent as named parameters)."""
    rows = [_stage_row(item) for item in items]
    columns = {f"col_{n}": list(column) for n, column in enumerate(zip(*rows, strict=True))}
    types = ", ".join(f"%(col_{n})s::{kind}[]" for n, (_, kind) in enumerate(STAGE_COLUMNS))
    names = ", ".join(name for name, _ in STAGE_COLUMNS)
    return f"unnest({types}) AS s({names})", columns


def _defaults() -> tuple[list[str], list[Any]]:
    """Columns the sync does not write and their model defaults (NOT NULL ones need a value)."""
    written = {
        "id", "created_at", "updated_at", "workspace_id", "video_id", "account_id",
        "comment_id", "parent_id", "parent_created_at_tiktok", "author_key", "read_at",
        "handled_at", "synced_at", "created_at_tiktok", "triage_pending", *TRIAGE_COLUMNS,
        *SYNCED_COLUMNS,
    }  # fmt: skip
    names: list[str] = []
    values: list[Any] = []
    for fld in Comment._meta.concrete_fields:
        if fld.column is None or fld.column in written or getattr(fld, "generated", False):
            continue
        if fld.has_default() or not fld.null:  # a NOT NULL string's default is ""
            names.append(fld.column)
            values.append(fld.get_db_prep_save(fld.get_default(), connection))
    return names, values


_STAGED = (
    "comment_id", "author_key", "author_username", "author_display_name", "author_avatar_url",
    "text", "created_at_tiktok", "like_count", "reply_count", "is_hidden", "is_pinned", "is_own",
    "liked",
)  # fmt: skip
# Whether a row was inserted is told by its id (the one `src` drew for it), not by `xmax = 0`:
# RETURNING cannot read system columns of a partitioned table.
_RETURNING = (
    "RETURNING c.id, c.comment_id, c.parent_id, c.is_own, c.created_at_tiktok, c.triage_pending"
)


def _insert(*, source: str, parent: tuple[str, str], where: str, default_names: list[str]) -> str:
    """One `INSERT … SELECT … ON CONFLICT` (SQL text; values are named parameters)."""
    table = Comment._meta.db_table
    columns = [
        "id", "created_at", "updated_at", "workspace_id", "video_id", "account_id", "parent_id",
        "parent_created_at_tiktok", *_STAGED, "read_at", "handled_at", "synced_at",
        "triage_pending", *TRIAGE_COLUMNS, *default_names,
    ]  # fmt: skip
    selects = [
        "s.new_id", "%(now)s", "%(now)s", "%(ws)s", "%(video)s", "%(account)s", *parent,
        *(f"s.{name}" for name in _STAGED),
        # Our own comments need no attention from us.
        "CASE WHEN s.is_own THEN %(now)s::timestamptz END",
        "CASE WHEN s.is_own THEN %(now)s::timestamptz END",
        "%(now)s", "true", *(UNREAD_TRIAGE[name] for name in TRIAGE_COLUMNS),
        *(f"%(default_{n})s" for n in range(len(default_names))),
    ]  # fmt: skip
    changed = "c.text IS DISTINCT FROM EXCLUDED.text"
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in SYNCED_COLUMNS)
    # A new text is read again; until then it claims no question and no sentiment.
    triage_updates = ", ".join(
        f"{name} = CASE WHEN {changed} THEN {UNREAD_TRIAGE[name]} ELSE c.{name} END"
        for name in TRIAGE_COLUMNS
    )
    current = ", ".join(f"c.{name}" for name in SYNCED_COLUMNS)
    incoming = ", ".join(f"EXCLUDED.{name}" for name in SYNCED_COLUMNS)
    return f"""
        INSERT INTO {table} AS c ({", ".join(columns)})
        SELECT {", ".join(selects)} FROM {source} WHERE {where}
        ON CONFLICT (workspace_id, comment_id, created_at_tiktok) DO UPDATE SET
            {updates},
            triage_pending = c.triage_pending OR {changed},
            {triage_updates},
            synced_at = EXCLUDED.synced_at,
            updated_at = EXCLUDED.updated_at
        WHERE ({current}) IS DISTINCT FROM ({incoming})
        {_RETURNING}
    """  # noqa: S608 - identifiers are the model's own; values are parameters


def _statement(source: str, default_names: list[str]) -> str:
    """Tops, then replies (parent: a top this statement wrote, else the stored thread), and
    whether an enabled moderation rule covers the account, in one statement."""
    table = Comment._meta.db_table
    # The parent's id and partition key (the composite foreign key names both). The stored
    # thread, through comment_unique_id whatever the statistics: for a workspace the
    # planner has no figures for (new since the last ANALYZE, or a table never analyzed) any
    # index on workspace looks as cheap, and a smaller one wins, reading every row of the
    # workspace for each reply (measured: 1 ms a reply at 6,000 rows, growing). Written as a
    # range with ORDER BY comment_id, only comment_unique_id needs no sort, and the write runs
    # with enable_sort off (SET LOCAL: this transaction only; nothing else in it sorts).
    parent = f"""LEFT JOIN LATERAL (
            (SELECT t.id, t.created_at_tiktok FROM tops t
             WHERE t.comment_id = s.parent_comment_id LIMIT 1)
            UNION ALL
            (SELECT x.id, x.created_at_tiktok FROM {table} x
             WHERE x.workspace_id = %(ws)s AND x.comment_id >= s.parent_comment_id
               AND x.comment_id <= s.parent_comment_id
             ORDER BY x.comment_id LIMIT 1)
            LIMIT 1  -- the top this statement wrote, else the stored one; once per reply
        ) parent ON true"""  # noqa: S608
    tops = _insert(
        source="src s", parent=("NULL", "NULL"), where="s.parent_comment_id IS NULL",
        default_names=default_names,
    )  # fmt: skip
    replies = _insert(
        source=f"src s {parent}",
        parent=("parent.id", "parent.created_at_tiktok"),
        where="s.parent_comment_id IS NOT NULL AND parent.id IS NOT NULL",
        default_names=default_names,
    )
    rules = ModerationRule._meta.db_table
    return f"""
        WITH src AS MATERIALIZED (SELECT *, gen_random_uuid() AS new_id FROM {source}),
        tops AS ({tops}),
        replies AS ({replies})
        SELECT w.id::text, w.comment_id, w.parent_id, w.is_own,
            w.id = n.new_id AS inserted, w.triage_pending, EXISTS (
            SELECT 1 FROM {rules} r WHERE r.workspace_id = %(ws)s AND r.is_enabled
            AND (r.account_id IS NULL OR r.account_id = %(account)s)) AS has_rules
        FROM (SELECT * FROM tops UNION ALL SELECT * FROM replies) w
        JOIN src n ON n.comment_id = w.comment_id
    """  # noqa: S608 - identifiers are the models' own; values are parameters


def _write(
    *, account: TikTokAccount, video: TikTokVideo, items: Sequence[schemas.Comment],
    now: dt.datetime,
) -> UpsertResult:  # fmt: skip
    default_names, default_values = _defaults()
    params: dict[str, Any] = {
        "now": now, "ws": account.workspace_id, "video": video.pk, "account": account.pk,
        **{f"default_{n}": value for n, value in enumerate(default_values)},
    }  # fmt: skip
    with connection.cursor() as cursor:
        if len(items) <= ARRAY_BATCH:
            source, columns = _arrays(items)
            params.update(columns)
        else:
            _stage(cursor, items)
            source = f"{STAGE_TABLE} s"
        # Sent with the statement (one round trip), for this transaction only: see _statement.
        cursor.execute("SET LOCAL enable_sort = off; " + _statement(source, default_names), params)
        cursor.cursor.nextset()
        rows = cursor.fetchall()
    # What the upsert returns is read for every row of every batch: no timestamp among it
    # (Django's time zone-aware loader is Python, ~5 µs a value: as much as the rest of the
    # batch's result), the partition key of a new row is its item's create time (the value
    # the stage stored), and ids come as text, which is all the follow-up tasks send.
    create_times = {item.comment_id: item.create_time for item in items}
    result = UpsertResult(created=[], updated=0)
    for pk, comment_id, parent_id, is_own, inserted, pending, has_rules in rows:
        if inserted:
            created_at = tiktok_time(create_times[comment_id])
            result.created.append(Written(pk, comment_id, parent_id, is_own, created_at))
        else:
            result.updated += 1
        if pending:
            result.to_triage.append(pk)
        result.has_rules = has_rules
    return result


def comments_bulk_upsert(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    items: Sequence[schemas.Comment],
    now: dt.datetime,
    on_written: Callable[[UpsertResult], None],
) -> UpsertResult:
    """Write what is new or changed in `items` (unique comment ids) in one statement, in one
    transaction with the follow-up writes `on_written` makes."""
    with transaction.atomic():
        result = _write(account=account, video=video, items=items, now=now)
        if result.created or result.updated:
            # Hand-written SQL: the ORM's hooks did not see it (later/data_version.py).
            data_changed(account.workspace_id)
        on_written(result)
    return result


# --------------------------------------------------------------------------- triage


def comments_triage(
    *, workspace_id: uuid.UUID | str, comment_ids: Sequence[uuid.UUID | str]
) -> int:
    """Read the comments among `comment_ids` still waiting for triage and store the readings
    (one UPDATE per `TRIAGE_BATCH`). A text that changed meanwhile is left pending: the write
    that changed it queued its own reading. Returns how many rows were read."""
    done = 0
    ids = list(dict.fromkeys(str(pk) for pk in comment_ids))
    for start in range(0, len(ids), TRIAGE_BATCH):
        rows = list(
            Comment.objects.for_workspace(workspace_id)
            .filter(pk__in=ids[start : start + TRIAGE_BATCH], triage_pending=True)
            .values_list("pk", "text", "is_own")
        )
        if rows:
            done += _store_readings(workspace_id=workspace_id, rows=rows)
    return done


def _store_readings(
    *, workspace_id: uuid.UUID | str, rows: list[tuple[uuid.UUID, str, bool]]
) -> int:
    readings = [(pk, text, is_own, triage(text)) for pk, text, is_own in rows]
    now = timezone.now()
    if not supported():
        updated = 0
        scoped = Comment.objects.for_workspace(workspace_id)
        for pk, text, is_own, r in readings:
            updated += scoped.filter(pk=pk, triage_pending=True, text=text).update(
                triage_pending=False, is_question=r.is_question and not is_own,
                sentiment=r.sentiment, sentiment_score=r.sentiment_score,
                language=r.language, updated_at=now,
            )  # fmt: skip
        return updated
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Comment._meta.db_table} c
            SET triage_pending = false, is_question = t.is_question, sentiment = t.sentiment,
                sentiment_score = t.sentiment_score, language = t.language, updated_at = %s
            FROM unnest(%s::uuid[], %s::text[], %s::boolean[], %s::text[],
                        %s::double precision[], %s::text[])
                 AS t(id, text, is_question, sentiment, sentiment_score, language)
            WHERE c.workspace_id = %s AND c.id = t.id AND c.triage_pending AND c.text = t.text
            """,  # noqa: S608 - the model's own table name
            [
                now,
                [pk for pk, *_ in readings],
                [text for _, text, _, _ in readings],
                [r.is_question and not is_own for _, _, is_own, r in readings],
                [r.sentiment for *_, r in readings],
                [r.sentiment_score for *_, r in readings],
                [r.language[:8] for *_, r in readings],
                workspace_id,
            ],
        )
        updated = int(cursor.rowcount)
    if updated:
        data_changed(workspace_id)  # the inbox shows the readings (question, sentiment)
    return updated


def comments_triage_backlog(*, older_than: dt.timedelta, limit: int = 5000) -> int:
    """Read pending comments whose follow-up task was lost (stored over `older_than` ago),
    oldest first, across workspaces. Returns how many were read."""
    cutoff = timezone.now() - older_than
    rows = list(
        Comment.objects.unscoped()
        .filter(triage_pending=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("workspace_id", "pk")[:limit]
    )
    by_workspace: dict[uuid.UUID, list[uuid.UUID]] = {}
    for workspace_id, pk in rows:
        by_workspace.setdefault(workspace_id, []).append(pk)
    return sum(
        comments_triage(workspace_id=workspace_id, comment_ids=ids)
        for workspace_id, ids in by_workspace.items()
    )

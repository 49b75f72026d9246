"""Writing a batch of synced comments on PostgreSQL at close to COPY speed.

1. The batch is COPYed into a per-connection temporary staging table (no indexes, no WAL, no
   ORM objects).
2. One join finds the rows whose text is new or changed; only those are read by triage
   (question, sentiment, language: Python, tens of microseconds a comment), before any
   transaction opens, and the readings go back into the staging table.
3. One `INSERT … SELECT … ON CONFLICT (workspace, comment_id) DO UPDATE … WHERE <content
   differs>` per thread level (top comments, then replies, whose parents may be the tops just
   written) writes each new or changed row once; an unchanged re-sync writes nothing. Replies
   whose thread is unknown wait for a later pass, as before.

SQLite (the quick start) keeps the ORM path in `conversations.sync`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from accounts.models import TikTokAccount, TikTokVideo
from conversations.models import Comment
from conversations.triage import triage
from tiktok_client import schemas

STAGE_TABLE = "conversations_comment_stage"
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
    # Triage readings, filled for new or changed texts only (`read`).
    ("read", "boolean"),
    ("is_question", "boolean"),
    ("sentiment", "text"),
    ("sentiment_score", "double precision"),
    ("language", "text"),
)
TRIAGE_COLUMNS = ("is_question", "sentiment", "sentiment_score", "language")
# What a re-sync compares and rewrites (same set as the ORM path's SYNCED_FIELDS).
SYNCED_COLUMNS = (
    "parent_id",
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


@dataclass(frozen=True)
class Written:
    """A row the upsert inserted (what the follow-up steps need of it)."""

    pk: uuid.UUID
    comment_id: str
    parent_id: uuid.UUID | None
    is_own: bool
    created_at_tiktok: dt.datetime


@dataclass
class UpsertResult:
    created: list[Written]
    updated: int


def supported() -> bool:
    return connection.vendor == "postgresql"


def _epoch(seconds: int) -> dt.datetime:
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
        _epoch(item.create_time),
        max(item.likes, 0),
        max(item.replies, 0),
        item.status.upper() == "HIDDEN",
        item.pinned,
        item.owner,
        item.liked,
        False,
        False,
        "",
        None,
        "",
    )


def _prepare_stage(*, account: TikTokAccount, items: Sequence[schemas.Comment]) -> None:
    """Stage the batch, then read the texts that are new or changed (no transaction is open
    while triage runs: a temporary table keeps its rows across autocommit statements)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
    with connection.cursor() as cursor:
        # Temporary: private to this connection, never WAL-logged; emptied for every batch.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} ({columns}); TRUNCATE {STAGE_TABLE}"
        )
        names = ", ".join(name for name, _ in STAGE_COLUMNS)
        with cursor.cursor.copy(f"COPY {STAGE_TABLE} ({names}) FROM STDIN") as copy:
            for item in items:
                copy.write_row(_stage_row(item))
        # LATERAL … LIMIT 1 is never flattened into a join: one unique-index probe per staged
        # row. A plain join is planned from the staging table's missing statistics as a hash
        # of the whole comment table, and that estimate even switches on JIT compilation.
        cursor.execute(
            f"""
            SELECT s.comment_id, s.text, s.is_own FROM {STAGE_TABLE} s
            LEFT JOIN LATERAL (
                SELECT c.text FROM {Comment._meta.db_table} c
                WHERE c.workspace_id = %s AND c.comment_id = s.comment_id
                LIMIT 1
            ) stored ON true
            WHERE stored.text IS DISTINCT FROM s.text
            """,  # noqa: S608 - the model's own table name
            [account.workspace_id],
        )
        to_read = cursor.fetchall()
        if not to_read:
            return
        readings = [(comment_id, is_own, triage(text)) for comment_id, text, is_own in to_read]
        cursor.execute(
            f"""
            UPDATE {STAGE_TABLE} s
            SET read = true, is_question = t.is_question, sentiment = t.sentiment,
                sentiment_score = t.sentiment_score, language = t.language
            FROM unnest(%s::text[], %s::boolean[], %s::text[], %s::double precision[],
                        %s::text[]) AS t(comment_id, is_question, sentiment, sentiment_score,
                                         language)
            WHERE s.comment_id = t.comment_id
            """,  # noqa: S608 - the staging table's own name
            [
                [comment_id for comment_id, _, _ in readings],
                [r.is_question and not is_own for _, is_own, r in readings],
                [r.sentiment for *_, r in readings],
                [r.sentiment_score for *_, r in readings],
                [r.language for *_, r in readings],
            ],
        )


def _defaults() -> tuple[list[str], list[Any]]:
    """Columns the sync does not write and their model defaults (NOT NULL ones need a value)."""
    written = {
        "id", "created_at", "updated_at", "workspace_id", "video_id", "account_id",
        "comment_id", "parent_id", "author_key", "read_at", "handled_at", "synced_at",
        "created_at_tiktok", *TRIAGE_COLUMNS, *SYNCED_COLUMNS,
    }  # fmt: skip
    names: list[str] = []
    values: list[Any] = []
    for field in Comment._meta.concrete_fields:
        if field.column is None or field.column in written or getattr(field, "generated", False):
            continue
        if field.has_default() or not field.null:  # a NOT NULL string's default is ""
            names.append(field.column)
            values.append(field.get_db_prep_save(field.get_default(), connection))
    return names, values


def _insert_level(
    *, account: TikTokAccount, video: TikTokVideo, replies: bool, now: dt.datetime
) -> tuple[list[Written], int]:
    default_names, default_values = _defaults()
    staged = [
        "comment_id", "author_key", "author_username", "author_display_name",
        "author_avatar_url", "text", "created_at_tiktok", "like_count", "reply_count",
        "is_hidden", "is_pinned", "is_own", "liked",
    ]  # fmt: skip
    columns = [
        "id", "created_at", "updated_at", "workspace_id", "video_id", "account_id",
        "parent_id", *staged, "read_at", "handled_at", "synced_at", *TRIAGE_COLUMNS,
        *default_names,
    ]  # fmt: skip
    selects = [
        "gen_random_uuid()", "%s", "%s", "%s", "%s", "%s", "p.id",
        *(f"s.{name}" for name in staged),
        # Our own comments need no attention from us.
        "CASE WHEN s.is_own THEN %s::timestamptz END",
        "CASE WHEN s.is_own THEN %s::timestamptz END",
        "%s", *(f"s.{name}" for name in TRIAGE_COLUMNS), *(["%s"] * len(default_names)),
    ]  # fmt: skip
    params: list[Any] = [now, now, account.workspace_id, video.pk, account.pk, now, now, now]
    params += default_values
    level = (
        "s.parent_comment_id IS NOT NULL AND p.id IS NOT NULL"
        if replies
        else ("s.parent_comment_id IS NULL")
    )
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in SYNCED_COLUMNS)
    # A reading exists exactly when the text changed; otherwise the stored one stays.
    triage_updates = ", ".join(
        f"{name} = CASE WHEN c.text IS DISTINCT FROM EXCLUDED.text THEN EXCLUDED.{name} "
        f"ELSE c.{name} END"
        for name in TRIAGE_COLUMNS
    )
    current = ", ".join(f"c.{name}" for name in SYNCED_COLUMNS)
    incoming = ", ".join(f"EXCLUDED.{name}" for name in SYNCED_COLUMNS)
    sql = f"""
        INSERT INTO {Comment._meta.db_table} AS c ({", ".join(columns)})
        SELECT {", ".join(selects)}
        FROM {STAGE_TABLE} s
        LEFT JOIN LATERAL (
            SELECT p.id FROM {Comment._meta.db_table} p
            WHERE p.workspace_id = %s AND p.comment_id = s.parent_comment_id
            LIMIT 1
        ) p ON true
        WHERE {level}
        ON CONFLICT (workspace_id, comment_id) DO UPDATE SET
            {updates},
            {triage_updates},
            synced_at = EXCLUDED.synced_at,
            updated_at = EXCLUDED.updated_at
        WHERE ({current}) IS DISTINCT FROM ({incoming})
        RETURNING c.id, c.comment_id, c.parent_id, c.is_own, c.created_at_tiktok, c.xmax = 0
    """  # noqa: S608 - identifiers are the model's own; values are parameters
    params.append(account.workspace_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    created = [Written(*row[:5]) for row in rows if row[5]]
    return created, len(rows) - len(created)


def comments_copy_upsert(
    *,
    account: TikTokAccount,
    video: TikTokVideo,
    items: Sequence[schemas.Comment],
    now: dt.datetime,
    on_written: Callable[[UpsertResult], None],
) -> UpsertResult:
    """Stage `items` (unique comment ids), read the new texts, then write what changed, tops
    first, then replies, in one transaction with the follow-up writes `on_written` makes."""
    _prepare_stage(account=account, items=items)
    result = UpsertResult(created=[], updated=0)
    with transaction.atomic():
        for replies in (False, True):
            if replies and not any(item.parent_comment_id for item in items):
                break
            created, updated = _insert_level(account=account, video=video, replies=replies, now=now)
            result.created += created
            result.updated += updated
        on_written(result)
    return result

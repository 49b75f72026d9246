"""Guarded writes of the pipeline: every change a run makes is conditional on its claim.

Also the ways a run ends other than success (failed, unconfirmed, rescheduled) and the
reset that hands a post back to the dispatcher as if it had never been tried.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Model
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Post, PostEvent, PostStatus
from later.data_version import data_changed, quiet
from later.tenancy import TenantQuerySet

ACTIVE_STATUSES = (PostStatus.QUEUED, PostStatus.PUBLISHING)
_M = TypeVar("_M", bound=Model)

UNCONFIRMED_MESSAGE = (
    "We asked TikTok to publish this post but never received TikTok's answer, and TikTok "
    "offers no way to look a post up by our request. Check the account on TikTok, then "
    "tell us whether it was published. We will not post it again on our own."
)


class LostClaim(Exception):
    """Another run (the sweeper, a cancel) took the post over; this run must stop."""


@dataclass
class PublishResult:
    status: str
    poll_again_in: float | None = None
    # Changes still to write when the post is parked for its next poll (one UPDATE, not two).
    pending: dict[str, Any] = field(default_factory=dict)


def now() -> datetime:
    return timezone.now()


def pipeline_posts() -> TenantQuerySet[Post]:
    # The pipeline works across workspaces by design (a periodic fan-out): named bypass.
    return Post.objects.unscoped()


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter; attempt 1 waits up to the base."""
    base = float(settings.PUBLISHING_RETRY_BASE_SECONDS)
    ceiling = min(float(settings.PUBLISHING_RETRY_CAP_SECONDS), base * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def post_event_add(*, post: Post, kind: str, message: str, **data: Any) -> PostEvent:
    return PostEvent.objects.create(
        workspace_id=post.workspace_id, post=post, kind=kind, message=message[:500], data=data
    )


@dataclass(frozen=True)
class Line:
    """A line of a post's timeline (a PostEvent) to write together with a guarded change."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def line(kind: str, message: str, **data: Any) -> Line:
    return Line(kind, message[:500], data)


def post_url(post: Post) -> str:
    return reverse(
        "publishing:post_publishing",
        kwargs={"workspace_id": post.workspace_id, "post_id": post.id},
    )


def guarded_update(post: Post, token: uuid.UUID, **fields: Any) -> None:
    """Persist `fields` only while this run still owns the claim; else raise LostClaim.

    The pipeline's most frequent statement (about seven per post), so its SQL is built once
    per set of fields and kept (`_guarded_sql`): the ORM's compilation of this one UPDATE
    cost more CPU than PostgreSQL's work on it. It names the row's workspace, so it moves
    that workspace's data version itself (later/data_version.py), unless only fields no page
    shows (the lease) changed.
    """
    fields.setdefault("heartbeat_at", now())
    fields["updated_at"] = now()
    names = tuple(sorted(fields))
    sql, columns = _guarded_sql(names, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, _guarded_params(post, token, fields, columns))
        updated = cursor.rowcount
    if not updated:
        raise LostClaim(str(post.pk))
    if not quiet(Post, names):
        data_changed(post.workspace_id)
    for name, value in fields.items():
        setattr(post, name, value)


def guarded_write(post: Post, token: uuid.UUID, lines: Sequence[Line], **fields: Any) -> None:
    """`guarded_update` and the timeline lines that go with it, all or nothing.

    On PostgreSQL one statement (the UPDATE, and an INSERT of the lines that only runs when
    the UPDATE matched), so outside a transaction it is one round trip where the ORM took a
    transaction of 2 + 1 per line (bench/publish_throughput.py). The lines then get the
    `post_save` their ORM save would have sent, inside a transaction: an activity entry a
    receiver writes commits with the caller's transaction when there is one (else just after
    the statement), and the data version moves once for the whole write.
    """
    if not lines:
        guarded_update(post, token, **fields)
        return
    if connection.vendor != "postgresql":
        with transaction.atomic():
            guarded_update(post, token, **fields)
            for entry in lines:
                post_event_add(post=post, kind=entry.kind, message=entry.message, **entry.data)
        return
    fields.setdefault("heartbeat_at", now())
    fields["updated_at"] = now()
    names = tuple(sorted(fields))
    events = _timeline_rows(post, lines, fields["updated_at"])
    sql, columns, event_columns = _guarded_write_sql(names, len(events))
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            _guarded_params(post, token, fields, columns)
            + [
                column.get_db_prep_save(getattr(event, column.attname), connection)
                for event in events
                for column in event_columns
            ],
        )
        (updated,) = cursor.fetchone()
    if not updated:
        raise LostClaim(str(post.pk))
    for name, value in fields.items():
        setattr(post, name, value)
    with transaction.atomic(savepoint=False):
        data_changed(post.workspace_id)  # the lines themselves are shown
        for event in events:
            event._state.adding = False
            event._state.db = connection.alias
            post_save.send(
                sender=PostEvent,
                instance=event,
                created=True,
                update_fields=None,
                raw=False,
                using=connection.alias,
            )


def _timeline_rows(post: Post, lines: Sequence[Line], at: datetime) -> list[PostEvent]:
    """The lines as unsaved PostEvents, a microsecond apart: the timeline sorts by
    created_at, and one statement must not leave their order to chance."""
    events = []
    for offset, entry in enumerate(lines):
        stamp = at + timedelta(microseconds=offset)
        events.append(
            PostEvent(
                workspace_id=post.workspace_id,
                post=post,
                kind=entry.kind,
                message=entry.message,
                data=entry.data,
                created_at=stamp,
                updated_at=stamp,
            )
        )
    return events


@functools.cache
def _guarded_write_sql(
    names: tuple[str, ...], rows: int
) -> tuple[str, list[tuple[str, Field[Any, Any]]], list[Field[Any, Any]]]:
    """The guarded UPDATE as the CTE `u`, then an INSERT of `rows` PostEvents that runs only
    when `u` returned its row (each placeholder cast to its column's type); the statement's
    one value is how many rows `u` updated. Also the fields behind the placeholders."""
    update, columns = _guarded_sql(names, connection.vendor)
    event_columns = list(PostEvent._meta.concrete_fields)
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in event_columns) + ")"
    template = (
        "WITH u AS ({update} RETURNING 1), e AS (INSERT INTO {table} ({names}) "
        "SELECT v.* FROM u CROSS JOIN (VALUES {rows}) AS v) SELECT count(*) FROM u"
    )
    sql = template.format(
        update=update,
        table=quote(PostEvent._meta.db_table),
        names=", ".join(quote(str(column.column)) for column in event_columns),
        rows=", ".join([row] * rows),
    )
    return sql, columns, event_columns


def _guarded_params(
    post: Post,
    token: uuid.UUID,
    fields: dict[str, Any],
    columns: list[tuple[str, Field[Any, Any]]],
) -> list[Any]:
    return [
        *(column.get_db_prep_save(fields[name], connection) for name, column in columns),
        model_field(Post, "id").get_db_prep_value(post.pk, connection),
        model_field(Post, "workspace").get_db_prep_value(post.workspace_id, connection),
        model_field(Post, "claim_token").get_db_prep_value(token, connection),
        *ACTIVE_STATUSES,
    ]


@functools.cache
def _guarded_sql(
    names: tuple[str, ...], vendor: str
) -> tuple[str, list[tuple[str, Field[Any, Any]]]]:
    """The guarded UPDATE for these fields, and the model field behind each placeholder."""
    columns = [(name, model_field(Post, name)) for name in names]
    template = "UPDATE {table} SET {assign} WHERE {pk} = %s AND {workspace} = %s "
    template += "AND {claim} = %s AND {status} IN ({statuses})"
    sql = template.format(
        table=connection.ops.quote_name(Post._meta.db_table),
        assign=", ".join(f"{column_sql(Post, name)} = %s" for name in names),
        pk=column_sql(Post, "id"),
        workspace=column_sql(Post, "workspace"),
        claim=column_sql(Post, "claim_token"),
        status=column_sql(Post, "status"),
        statuses=", ".join("%s" for _ in ACTIVE_STATUSES),
    )
    return sql, columns


def select_one(
    model: type[_M], where: str, params: Sequence[Any], *, join: str | None = None
) -> _M | None:
    """The one `model` row matching `where` (SQL with %s placeholders and `{field}` names
    for the model's columns, e.g. ``"{id} = %s"``), or None, loaded as the ORM loads a row.
    `join`: a foreign key of `model` whose row comes in the same statement (an inner join:
    no row without it) and is cached on the instance, as `select_related` would.

    For the pipeline's per-run reads: the SELECT and the rows' converters are built once per
    process (`_select_plan`). A `Model.objects.raw()` read re-derived the column order and
    the converters from the cursor on every call, which cost more CPU than the query."""
    sql, parts = _select_plan(model, where, join, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    loaded = [_load_part(part, values) for part in parts]
    instance = loaded[0]
    if join is not None:
        model._meta.get_field(join).set_cached_value(instance, loaded[1])  # type: ignore[union-attr]
    return instance  # type: ignore[return-value]


@dataclass(frozen=True)
class _RowPart:
    """One model's columns in a `select_one` row: where they are, their attribute names and
    the converters of those that need one (by position in the row)."""

    model: type[Model]
    start: int
    end: int
    names: list[str]
    converters: list[tuple[int, list[Any], Any]]


@functools.cache
def _select_plan(
    model: type[Model], where: str, join: str | None, vendor: str
) -> tuple[str, list[_RowPart]]:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    models: list[tuple[type[Model], str]] = [(model, table)]
    joins = ""
    if join is not None:
        foreign_key = model_field(model, join)
        related = foreign_key.related_model
        assert isinstance(related, type) and issubclass(related, Model)
        models.append((related, related._meta.db_table))
        joins = " INNER JOIN {related} ON {related}.{pk} = {table}.{fk}".format(
            related=quote(related._meta.db_table),
            pk=quote(str(related._meta.pk.column)),
            table=quote(table),
            fk=quote(str(foreign_key.column)),
        )
    parts, selected = _row_parts(models, start=0)
    own_columns = {
        f.name: f"{quote(table)}.{quote(str(f.column))}" for f in model._meta.concrete_fields
    }
    template = "SELECT {columns} FROM {table}{joins} WHERE {where}"
    sql = template.format(
        columns=", ".join(selected),
        table=quote(table),
        joins=joins,
        where=where.format(**own_columns),
    )
    return sql, parts


def _row_parts(
    models: Sequence[tuple[type[Model], str]], *, start: int
) -> tuple[list[_RowPart], list[str]]:
    """Each (model, table or alias) as a `_RowPart` of a row whose first `start` columns are
    something else, and the quoted columns to select, in that order."""
    quote = connection.ops.quote_name
    parts: list[_RowPart] = []
    selected: list[str] = []
    for part_model, alias in models:
        fields = list(part_model._meta.concrete_fields)
        first = start + len(selected)
        selected += [f"{quote(alias)}.{quote(str(f.column))}" for f in fields]
        converters = []
        for offset, model_fld in enumerate(fields):
            expression = model_fld.get_col(part_model._meta.db_table)
            functions = connection.ops.get_db_converters(expression)
            functions += expression.get_db_converters(connection)
            if functions:
                converters.append((first + offset, functions, expression))
        names = [f.attname for f in fields]
        parts.append(_RowPart(part_model, first, start + len(selected), names, converters))
    return parts, selected


def _load_part(part: _RowPart, values: list[Any]) -> Model:
    for position, functions, expression in part.converters:
        value = values[position]
        for function in functions:
            value = function(value, expression, connection)
        values[position] = value
    return part.model.from_db(connection.alias, part.names, values[part.start : part.end])


# The first line of a run that starts a post (TikTok has nothing of it yet).
CHECKING = line("checking", "Checking the TikTok account.")


def starts_afresh(post: Post) -> bool:
    """Whether a run of this post begins at the checks and init (TikTok has nothing yet)."""
    return not post.publish_id and post.init_started_at is None


def claim_for_run(post_id: Any, token: uuid.UUID) -> Post | None:
    """PostgreSQL: the post this claim names, marked publishing with a fresh lease, with its
    account and media, in one statement (None when the claim is no longer the post's); a
    run that starts the post afresh also gets its "checking" line in it.

    A run used to read the post (with its account), then update it, then read its media,
    then add the line: four round trips of the ~20 a post took. The first column is the
    status before the update: only a post that was queued changed in a way a page shows."""
    sql, parts, event_columns = _claim_plan(connection.vendor)
    at = now()
    post_id = model_field(Post, "id").get_db_prep_value(post_id, connection)
    checking = PostEvent(
        post_id=post_id,
        kind=CHECKING.kind,
        message=CHECKING.message,
        data=CHECKING.data,
        created_at=at,
        updated_at=at,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                post_id,
                PostStatus.PUBLISHING,
                *[model_field(Post, "heartbeat_at").get_db_prep_save(at, connection)] * 2,
                post_id,
                model_field(Post, "claim_token").get_db_prep_value(token, connection),
                *ACTIVE_STATUSES,
                *(
                    column.get_db_prep_save(getattr(checking, column.attname), connection)
                    for column in event_columns
                    if column.attname != "workspace_id"  # the post's, from the UPDATE
                ),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    post = _load_part(parts[0], values)
    account = _load_part(parts[1], values)
    assert isinstance(post, Post)
    media = None if post.media_id is None else _load_part(parts[2], values)
    Post._meta.get_field("account").set_cached_value(post, account)
    Post._meta.get_field("media").set_cached_value(post, media)
    with transaction.atomic(savepoint=False):  # one bump of the data version for both
        if values[0] != PostStatus.PUBLISHING:
            data_changed(post.workspace_id)
        if starts_afresh(post):
            checking.workspace_id = post.workspace_id
            checking.post = post
            checking._state.adding = False
            checking._state.db = connection.alias
            post_save.send(
                sender=PostEvent,
                instance=checking,
                created=True,
                update_fields=None,
                raw=False,
                using=connection.alias,
            )
    return post


@functools.cache
def _claim_plan(vendor: str) -> tuple[str, list[_RowPart], list[Field[Any, Any]]]:
    quote = connection.ops.quote_name
    account = model_field(Post, "account").related_model
    media = model_field(Post, "media").related_model
    assert isinstance(account, type) and issubclass(account, Model)
    assert isinstance(media, type) and issubclass(media, Model)
    parts, selected = _row_parts([(Post, "u"), (account, "a"), (media, "m")], start=1)
    table = quote(Post._meta.db_table)
    event_columns = list(PostEvent._meta.concrete_fields)
    event_values = [
        f"u.{column_sql(Post, 'workspace')}"
        if column.attname == "workspace_id"
        else f"%s::{column.db_type(connection)}"
        for column in event_columns
    ]
    sql = (
        "WITH old AS (SELECT {status} FROM {table} WHERE {id} = %s), "
        "u AS (UPDATE {table} SET {status} = %s, {heartbeat} = %s, {updated} = %s "
        "WHERE {id} = %s AND {claim} = %s AND {status} IN ({statuses}) RETURNING {table}.*), "
        "e AS (INSERT INTO {events} ({event_names}) SELECT {event_values} FROM u "
        "WHERE u.{publish_id} = '' AND u.{init_started_at} IS NULL) "
        "SELECT old.{status}, {columns} FROM u CROSS JOIN old "
        "INNER JOIN {account} a ON a.{account_pk} = u.{account_fk} "
        "LEFT JOIN {media} m ON m.{media_pk} = u.{media_fk}"
    )
    return (
        sql.format(
            table=table,
            status=column_sql(Post, "status"),
            id=column_sql(Post, "id"),
            heartbeat=column_sql(Post, "heartbeat_at"),
            updated=column_sql(Post, "updated_at"),
            claim=column_sql(Post, "claim_token"),
            statuses=", ".join("%s" for _ in ACTIVE_STATUSES),
            columns=", ".join(selected),
            account=quote(account._meta.db_table),
            account_pk=quote(str(account._meta.pk.column)),
            account_fk=column_sql(Post, "account"),
            media=quote(media._meta.db_table),
            media_pk=quote(str(media._meta.pk.column)),
            media_fk=column_sql(Post, "media"),
            events=quote(PostEvent._meta.db_table),
            event_names=", ".join(quote(str(column.column)) for column in event_columns),
            event_values=", ".join(event_values),
            publish_id=column_sql(Post, "publish_id"),
            init_started_at=column_sql(Post, "init_started_at"),
        ),
        parts,
        event_columns,
    )


def model_field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def column_sql(model: type[Model], name: str) -> str:
    """A model field's column, quoted for hand-written SQL."""
    column = model_field(model, name).column
    assert column is not None
    return connection.ops.quote_name(column)


def finish_unconfirmed(post: Post, token: uuid.UUID, *, message: str = "") -> PublishResult:
    """End this run with the post unconfirmed, if the run still owns its claim."""
    with transaction.atomic():
        locked = pipeline_posts().select_for_update().get(pk=post.pk)
        if locked.claim_token != token:
            raise LostClaim(str(post.pk))
        mark_unconfirmed_locked(post=locked, at=now(), message=message)
    return PublishResult(status=PostStatus.UNCONFIRMED)


def mark_unconfirmed_locked(*, post: Post, at: datetime, message: str = "") -> None:
    post.status = PostStatus.UNCONFIRMED
    post.claim_token = None
    post.fail_code = "init_unconfirmed"
    post.fail_message = message or UNCONFIRMED_MESSAGE
    post.needs_attention = "Check on TikTok whether this post went out."
    post.save(
        update_fields=[
            "status",
            "claim_token",
            "fail_code",
            "fail_message",
            "needs_attention",
            "updated_at",
        ]
    )
    post_event_add(post=post, kind="unconfirmed", message=post.fail_message)
    _notify(
        post=post,
        title=f"Check whether a post reached TikTok ({post.account})",
        body=post.fail_message,
    )


def _notify(*, post: Post, title: str, body: str) -> None:
    from accounts.services import notification_notify_members

    notification_notify_members(
        workspace=post.workspace,
        kind="post_failed",
        title=title,
        body=body,
        url=post_url(post),
        email=True,
    )


def finish_failed(*, post: Post, token: uuid.UUID, code: str, message: str) -> PublishResult:
    with transaction.atomic():
        guarded_update(
            post,
            token,
            status=PostStatus.FAILED,
            claim_token=None,
            fail_code=code[:64],
            fail_message=message,
            # "Failed" always means TikTok does not have the post (refused, reported FAILED,
            # or never got the whole upload); anything less certain is "unconfirmed".
            init_started_at=None,
            upload_url="",
        )
        post_event_add(post=post, kind="failed", message=message, code=code)
        _notify(post=post, title=f"A post to {post.account} failed", body=message)
    return PublishResult(status=PostStatus.FAILED)


def reschedule(
    *, post: Post, token: uuid.UUID, delay: float, reason: str, code: str
) -> PublishResult:
    attempts = post.attempts + 1
    if attempts >= int(settings.PUBLISHING_MAX_ATTEMPTS):
        return finish_failed(
            post=post,
            token=token,
            code=code,
            message=f"{reason} We tried {attempts} times and gave up; retry when TikTok is back.",
        )
    retry_at = now() + timedelta(seconds=delay)
    with transaction.atomic():
        guarded_update(
            post,
            token,
            status=PostStatus.SCHEDULED,
            claim_token=None,
            attempts=attempts,
            next_attempt_at=retry_at,
            init_started_at=None,
        )
        post_event_add(
            post=post,
            kind="retry_scheduled",
            message=f"{reason} Trying again in {max(1, round(delay))} s.",
            code=code,
            attempt=attempts,
            retry_at=retry_at.isoformat(),
        )
    return PublishResult(status=PostStatus.SCHEDULED)


def post_can_retry(post: Post) -> bool:
    """Failed, and TikTok cannot have it: publishing again cannot post it twice."""
    return post.status == PostStatus.FAILED and post.init_started_at is None


def post_pipeline_reset(post: Post) -> list[str]:
    """Clear the pipeline's fields on `post` (unsaved); returns the field names to save."""
    post.claim_token = None
    post.claimed_at = post.heartbeat_at = post.next_attempt_at = post.init_started_at = None
    post.attempts = 0
    post.publish_id = post.upload_url = post.tiktok_status = ""
    post.bytes_total = post.bytes_uploaded = post.chunks_total = post.chunks_uploaded = 0
    post.fail_code = post.fail_message = post.needs_attention = ""
    return [
        "claim_token",
        "claimed_at",
        "heartbeat_at",
        "next_attempt_at",
        "init_started_at",
        "attempts",
        "publish_id",
        "upload_url",
        "tiktok_status",
        "bytes_total",
        "bytes_uploaded",
        "chunks_total",
        "chunks_uploaded",
        "fail_code",
        "fail_message",
        "needs_attention",
    ]


# ------------------------------------------------------------------ healing "unconfirmed"

# A video TikTok lists may match a post whose init answer was lost when it was created this
# close to the moment init was sent (TikTok's create_time is in seconds; moderation and
# processing can take a while).
MATCH_BEFORE_INIT = timedelta(minutes=1)
MATCH_AFTER_INIT = timedelta(hours=6)


def posts_resume_polling(
    *, account_id: Any | None = None, publish_id: str | None = None, at: datetime | None = None
) -> int:
    """Put unconfirmed posts whose `publish_id` is known back to status polling.

    For after a reconnect (the token was refused mid-publish, TikTok went on) and for a
    `post.publish.*` webhook: TikTok's status answer settles them, so nobody has to. The
    dispatcher resumes them at its next tick (`next_attempt_at` is due, no claim).
    """
    when = at or now()
    posts = pipeline_posts().filter(status=PostStatus.UNCONFIRMED).exclude(publish_id="")
    if account_id is not None:
        posts = posts.filter(account_id=account_id)
    if publish_id is not None:
        posts = posts.filter(publish_id=publish_id)
    resumed = 0
    with transaction.atomic():
        for post in posts.select_for_update(skip_locked=True, of=("self",)):
            post.status = PostStatus.PUBLISHING
            post.claim_token = None
            post.next_attempt_at = when
            post.heartbeat_at = when
            post.fail_code = post.fail_message = post.needs_attention = ""
            post.save(
                update_fields=[
                    "status",
                    "claim_token",
                    "next_attempt_at",
                    "heartbeat_at",
                    "fail_code",
                    "fail_message",
                    "needs_attention",
                    "updated_at",
                ]
            )
            post_event_add(
                post=post,
                kind="resumed",
                message="TikTok can be asked again; checking the post's status with TikTok.",
            )
            resumed += 1
    return resumed


def post_adopt_publish_id(*, account_ids: list[Any], publish_id: str) -> bool:
    """A `post.publish.*` webhook named a publish_id that no post holds: it can only be the
    answer of an init we sent and could not read (webhooks are per app, so the publish is
    ours). When exactly one post of the creator lost its init answer within the window, and
    no other init of theirs is in flight (its answer, not yet stored, could be this id), the
    post adopts the id and goes back to polling; TikTok's status answer for that id then
    settles it. Anything less certain leaves it to a person.
    """
    if not publish_id or pipeline_posts().filter(publish_id=publish_id).exists():
        return False
    when = now()
    for account_id in account_ids:
        with transaction.atomic():
            posts = pipeline_posts().filter(account_id=account_id, publish_id="")
            lost = list(
                posts.select_for_update(of=("self",)).filter(
                    status=PostStatus.UNCONFIRMED,
                    init_started_at__gte=when - MATCH_AFTER_INIT,
                )[:2]
            )
            in_flight = posts.filter(
                status=PostStatus.PUBLISHING, init_started_at__isnull=False
            ).exists()
            if len(lost) != 1 or in_flight:
                continue
            post = lost[0]
            post.publish_id = publish_id
            post.save(update_fields=["publish_id", "updated_at"])
            post_event_add(
                post=post,
                kind="resumed",
                message=(
                    "TikTok reported a publish of this account that no post holds, and this is "
                    "the only post whose init answer was lost: checking its status with TikTok."
                ),
            )
        # The id is stored now: the usual resume path puts it back to polling.
        return posts_resume_polling(account_id=account_id, publish_id=publish_id, at=when) > 0
    return False


def posts_reconcile_from_videos(*, at: datetime | None = None) -> int:
    """Settle unconfirmed posts whose init answer was lost (no publish_id) from the videos
    TikTok lists for the account (the video list sync): exactly one video, not linked to
    another post, with the post's caption and created around the time init was sent, means
    TikTok published it. None or several leave the post to a person.
    """
    from accounts.models import TikTokVideo
    from calendar_app.publishing.links import link_video

    when = at or now()
    settled = 0
    candidates = (
        pipeline_posts()
        .filter(status=PostStatus.UNCONFIRMED, publish_id="", init_started_at__isnull=False)
        .filter(init_started_at__gte=when - timedelta(days=7))
        .select_related("account", "workspace")
    )
    for post in candidates:
        assert post.init_started_at is not None
        videos = [
            video
            for video in TikTokVideo.objects.for_workspace(post.workspace_id)
            .filter(
                account_id=post.account_id,
                posted_at__gte=post.init_started_at - MATCH_BEFORE_INIT,
                posted_at__lte=post.init_started_at + MATCH_AFTER_INIT,
            )
            .exclude(posts__isnull=False)
            if _same_caption(video.caption, post.caption)
        ]
        if len(videos) != 1 or _has_rival(post):
            continue
        with transaction.atomic():
            locked = pipeline_posts().select_for_update().get(pk=post.pk)
            if locked.status != PostStatus.UNCONFIRMED or locked.publish_id:
                continue
            locked.account = post.account
            locked.status = PostStatus.PUBLISHED
            locked.published_at = videos[0].posted_at
            locked.fail_code = locked.fail_message = locked.needs_attention = ""
            locked.upload_url = ""
            locked.save(
                update_fields=[
                    "status",
                    "published_at",
                    "fail_code",
                    "fail_message",
                    "needs_attention",
                    "upload_url",
                    "updated_at",
                ]
            )
            post_event_add(
                post=locked,
                kind="published",
                message=(
                    "Published on TikTok: exactly one new video on the account has this "
                    "post's caption and was created when we sent it."
                ),
                video_id=videos[0].video_id,
            )
            link_video(locked, videos[0].video_id)
        settled += 1
    return settled


def _has_rival(post: Post) -> bool:
    """Another post on the account with the same caption, sent around the same time and not
    linked to a video, could be the one TikTok listed: then the video settles neither."""
    assert post.init_started_at is not None
    window = MATCH_BEFORE_INIT + MATCH_AFTER_INIT
    return (
        pipeline_posts()
        .filter(
            account_id=post.account_id,
            video__isnull=True,
            init_started_at__gte=post.init_started_at - window,
            init_started_at__lte=post.init_started_at + window,
            status__in=[
                PostStatus.PUBLISHING,
                PostStatus.PUBLISHED,
                PostStatus.SENT_TO_INBOX,
                PostStatus.UNCONFIRMED,
            ],
        )
        .exclude(pk=post.pk)
        .filter(caption__iexact=post.caption)
        .exists()
    )


def _same_caption(listed: str, ours: str) -> bool:
    # TikTok may trim whitespace; anything else is a different caption.
    return " ".join(listed.split()) == " ".join(ours.split())

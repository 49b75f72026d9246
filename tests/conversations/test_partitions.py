"""The comment table switched to monthly partitions while it takes writes (later/partitions.py,
`manage.py partitions switch conversations_comment`), on real PostgreSQL: the rows that point
at comments (replies, labels, notes, rule runs) stay enforced by the database before, during
and after the switch, and the sync, replies, labels, notes and the inbox keep working."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
import uuid
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.models import TikTokVideo, User, Workspace
from conversations import selectors, services, teamwork
from conversations.models import (
    PENDING_ID_PREFIX,
    Comment,
    CommentLabel,
    ModerationRule,
    RuleRun,
    RuleRunStatus,
    ThreadNote,
)
from conversations.sync import comments_upsert
from later.partitions import (
    default_boundary,
    is_partitioned,
    partitions_of,
    partitions_switch_off,
    table_named,
)
from tests.conversations.factories import make_account, make_video
from tests.partition_switch import switch_while_writing
from tiktok_client import schemas

pytestmark = pytest.mark.django_db(transaction=True)

SPEC = table_named("conversations_comment")
REFERENCES = {
    ("conversations_comment", "comment_parent_key_fk"),
    ("conversations_commentlabel", "comment_label_comment_key_fk"),
    ("conversations_threadnote", "thread_note_comment_key_fk"),
    ("conversations_rulerun", "rule_run_comment_key_fk"),
}
_ids = itertools.count(7_600_000_000_000_000_000)


def _comment(video: TikTokVideo, at: dt.datetime, parent: Comment | None = None) -> Comment:
    n = next(_ids)
    return Comment(
        workspace=video.workspace, video=video, account=video.account, comment_id=str(n),
        parent=parent, parent_created_at_tiktok=parent.created_at_tiktok if parent else None,
        author_key=f"fan-{n}", author_username=f"fan{n}", text=f"comment {n}",
        created_at_tiktok=at,
    )  # fmt: skip


def _item(text: str, at: dt.datetime, parent: str | None = None) -> schemas.Comment:
    return schemas.Comment(
        comment_id=str(next(_ids)), video_id="7300000000000000001", parent_comment_id=parent,
        unique_identifier="fan-key", username="fan", display_name="Fan", profile_image="",
        text=text, create_time=int(at.timestamp()), likes=0, replies=0, owner=False,
        liked=False, pinned=False, status="PUBLIC",
    )  # fmt: skip


def _foreign_keys() -> dict[tuple[str, str], tuple[str, bool]]:
    """Top-level foreign keys into the comment table: (table, name) -> (target, validated)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.relname, c.conname, c.confrelid::regclass::text, c.convalidated "
            "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
            "WHERE c.contype = 'f' AND c.conparentid = 0 "
            "AND c.confrelid IN (SELECT to_regclass('conversations_comment') UNION ALL "
            "  SELECT inhrelid FROM pg_inherits "
            "  WHERE inhparent = to_regclass('conversations_comment'))"
        )
        return {(table, name): (target, valid) for table, name, target, valid in cursor}


def _refused(write: Any) -> str:
    """Run `write` in its own transaction; the message PostgreSQL refused it with."""
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        write()
    return str(refused.value)


def _dangling_references_are_refused(workspace: Workspace, video: TikTokVideo) -> None:
    root = Comment.objects.for_workspace(workspace).filter(parent__isnull=True).first()
    assert root is not None
    label = teamwork.label_create(workspace=workspace, name=f"check {uuid.uuid4().hex[:6]}")
    missing = uuid.uuid4()
    assert "comment_label_comment_key_fk" in _refused(
        lambda: CommentLabel.objects.create(
            workspace=workspace,
            comment_id=missing,
            comment_created_at_tiktok=timezone.now(),
            label=label,
        )
    )
    # The id exists but the key does not match it: the whole (id, key) is checked.
    assert "thread_note_comment_key_fk" in _refused(
        lambda: ThreadNote.objects.create(
            workspace=workspace,
            comment_id=root.pk,
            comment_created_at_tiktok=root.created_at_tiktok - dt.timedelta(seconds=1),
            text="x",
        )
    )
    orphan = _comment(video, timezone.now())
    orphan.parent_id, orphan.parent_created_at_tiktok = missing, timezone.now()
    assert "comment_parent_key_fk" in _refused(lambda: orphan.save(force_insert=True))
    rule = ModerationRule.objects.create(workspace=workspace, name=f"r {uuid.uuid4().hex[:6]}")
    assert "rule_run_comment_key_fk" in _refused(
        lambda: RuleRun.objects.create(
            workspace=workspace,
            rule=rule,
            comment_id=missing,
            comment_created_at_tiktok=timezone.now(),
            action="hide",
            status=RuleRunStatus.DONE,
        )
    )
    # A stored comment that is still referenced cannot go away under its references.
    assert "violates foreign key constraint" in _refused(
        lambda: (
            Comment.objects.for_workspace(workspace)
            .filter(pk__in=CommentLabel.objects.for_workspace(workspace).values("comment_id")[:1])
            ._raw_delete(connection.alias)
        )
    )


class Writer(threading.Thread):
    """Inserts replies to one thread, one by one (autocommit), until stopped: each is a row
    of the comment table that references another, through the switch."""

    def __init__(self, root: Comment, start: dt.datetime) -> None:
        super().__init__(daemon=True)
        self.root, self.start_at = root, start
        self.stop = threading.Event()
        self.stored: list[uuid.UUID] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                at = self.start_at + dt.timedelta(seconds=n)
                row = _comment(self.root.video, at, parent=self.root)
                row.save(force_insert=True)
                self.stored.append(row.pk)
                n += 1
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            connections.close_all()


@pytest.fixture
def video(workspace: Workspace) -> TikTokVideo:
    return make_video(make_account(workspace), video_id="7300000000000000001")


@pytest.fixture
def history(workspace: Workspace, video: TikTokVideo, owner: User) -> Iterator[list[Comment]]:
    """2,000 comments over the last 200 days (a reply on every fifth), each tenth labelled,
    noted and acted on by a rule. The table is switched back off after the test."""
    now = timezone.now()
    tops = [_comment(video, now - dt.timedelta(hours=2 + 3 * n)) for n in range(1600)]
    Comment.objects.bulk_create(tops)
    replies = [
        _comment(video, top.created_at_tiktok + dt.timedelta(minutes=5), parent=top)
        for top in tops[::4]
    ]
    Comment.objects.bulk_create(replies)
    label = teamwork.label_create(workspace=workspace, name="lead")
    teamwork.comments_label(
        workspace=workspace, comments=tops[::10], label=label, add=True, user=owner
    )
    rule = ModerationRule.objects.create(workspace=workspace, name="spam", label=label)
    for top in tops[::10]:
        teamwork.thread_note_add(comment=top, author=owner, text="called them back")
        RuleRun.objects.create(
            workspace=workspace, rule=rule, comment=top, action="label", status="done"
        )
    yield tops + replies
    partitions_switch_off(spec=SPEC)


def test_switch_on_while_replies_are_written_keeps_every_reference_enforced(
    workspace: Workspace, video: TikTokVideo, owner: User, history: list[Comment]
) -> None:
    scoped = Comment.objects.for_workspace(workspace)
    assert not is_partitioned(SPEC)
    assert _foreign_keys() == {ref: ("conversations_comment", True) for ref in REFERENCES}
    _dangling_references_are_refused(workspace, video)

    root = history[0]
    writer = Writer(root, start=timezone.now() + dt.timedelta(minutes=1))
    output = switch_while_writing(writer, "conversations_comment")
    assert not writer.errors, writer.errors
    held = re.search(r"held its lock (\d+) ms", output)
    assert held, output
    print(f"\ncomment table switch, {len(history)} rows: the swap held its lock {held[1]} ms")

    assert is_partitioned(SPEC)
    boundary = default_boundary()
    before = f"conversations_comment_before_y{boundary.year}m{boundary.month:02d}"
    assert before in partitions_of(SPEC)
    # Every reference now points at the partitioned table, validated; the reply's parent
    # is held by the partitioned table itself, not per partition.
    assert _foreign_keys() == {ref: ("conversations_comment", True) for ref in REFERENCES}

    # Nothing lost: the history and every reply the writer saw committed.
    assert scoped.count() == len(history) + len(writer.stored)
    assert scoped.filter(pk__in=writer.stored, parent=root).count() == len(writer.stored)
    _dangling_references_are_refused(workspace, video)

    # The sync writes into the partitions (a reply to a thread of the old table, a thread of
    # a partitioned month), and a re-sync writes nothing.
    in_months = dt.datetime(boundary.year, boundary.month, 3, 12, tzinfo=dt.UTC)
    top = _item("new month, new thread", in_months)
    items = [
        top,
        _item("me too", in_months + dt.timedelta(minutes=1), parent=top.comment_id),
        _item("late answer to an old thread", in_months, parent=history[5].comment_id),
    ]
    stats = comments_upsert(account=video.account, video=video, items=items)
    assert stats.created == 3
    again = comments_upsert(account=video.account, video=video, items=items)
    assert (again.created, again.updated) == (0, 0)
    new_top = scoped.get(comment_id=top.comment_id)
    assert scoped.get(comment_id=items[1].comment_id).parent_id == new_top.pk
    assert scoped.get(comment_id=items[2].comment_id).parent_id == history[5].pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM conversations_comment WHERE id = %s",
            [new_top.pk],
        )
        assert cursor.fetchone() == (
            f"conversations_comment_y{boundary.year}m{boundary.month:02d}",
        )

    # Labels and notes on a comment of a partitioned month and on one of the old table.
    label = teamwork.label_create(workspace=workspace, name="vip")
    assert (
        teamwork.comments_label(
            workspace=workspace, comments=[new_top, history[7]], label=label, add=True, user=owner
        )
        == 2
    )
    note = teamwork.thread_note_add(
        comment=scoped.get(comment_id=items[1].comment_id), author=owner, text="ask for a photo"
    )
    assert note.comment_id == new_top.pk

    # A reply of ours that TikTok confirms later with its own create time: the row is
    # re-inserted under its new key (here into another partition), its label follows.
    pending = Comment.objects.create(
        workspace=workspace, video=video, account=video.account,
        comment_id=f"{PENDING_ID_PREFIX}{uuid.uuid4()}", parent=history[3], author_key="biz",
        text="thanks!", created_at_tiktok=timezone.now(), is_own=True, is_pending=True,
    )  # fmt: skip
    teamwork.comments_label(
        workspace=workspace, comments=[pending], label=label, add=True, user=owner
    )
    services.comment_confirm(
        comment=pending, comment_id="7699999999999999999", is_pending=False, created_at=in_months
    )
    confirmed = scoped.get(pk=pending.pk)
    assert (confirmed.comment_id, confirmed.created_at_tiktok, confirmed.is_pending) == (
        "7699999999999999999",
        in_months,
        False,
    )
    link = CommentLabel.objects.for_workspace(workspace).get(comment=confirmed)
    assert link.comment_created_at_tiktok == in_months

    # The inbox reads across partitions, newest first, and pages by keyset.
    page = selectors.inbox_page(workspace=workspace, filters=selectors.InboxFilters())
    newest = scoped.filter(is_own=False).order_by("-created_at_tiktok", "-id").first()
    assert newest is not None and page.comments[0].pk == newest.pk
    assert page.next_cursor
    second = selectors.inbox_page(
        workspace=workspace, filters=selectors.InboxFilters(), cursor=page.next_cursor
    )
    assert not {c.pk for c in page.comments} & {c.pk for c in second.comments}
    labelled = selectors.inbox_page(
        workspace=workspace, filters=selectors.InboxFilters(label_id=label.pk)
    )
    assert {c.pk for c in labelled.comments} == {new_top.pk, history[7].pk}  # fans' only

    # Switching twice finishes nothing more; switching off keeps every row and reference.
    out = StringIO()
    call_command("partitions", "switch", "conversations_comment", stdout=out)
    assert "already partitioned" in out.getvalue()
    total = scoped.count()
    partitions_switch_off(spec=SPEC)
    assert not is_partitioned(SPEC)
    assert scoped.count() == total
    assert _foreign_keys() == {ref: ("conversations_comment", True) for ref in REFERENCES}
    _dangling_references_are_refused(workspace, video)


def test_confirming_a_pending_reply_never_updates_a_stored_key(
    workspace: Workspace, video: TikTokVideo, owner: User
) -> None:
    """The key of a stored row never changes in place (a partitioned table would move the
    row between partitions under its references): a test-only trigger refuses any UPDATE of
    it while a reply is confirmed with TikTok's own time."""
    root = _comment(video, timezone.now() - dt.timedelta(days=40))
    root.save(force_insert=True)
    pending = Comment.objects.create(
        workspace=workspace, video=video, account=video.account,
        comment_id=f"{PENDING_ID_PREFIX}{uuid.uuid4()}", parent=root, author_key="biz",
        text="on its way", created_at_tiktok=timezone.now(), is_own=True, is_pending=True,
    )  # fmt: skip
    teamwork.thread_note_add(comment=pending, author=owner, text="sent from the inbox")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION comment_key_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'created_at_tiktok changed'; END $$; "
            "CREATE TRIGGER comment_key_frozen BEFORE UPDATE ON conversations_comment "
            "FOR EACH ROW WHEN (OLD.created_at_tiktok IS DISTINCT FROM NEW.created_at_tiktok) "
            "EXECUTE FUNCTION comment_key_frozen()"
        )
    try:
        tiktok_time = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=3)
        services.comment_confirm(
            comment=pending, comment_id="7688888888888888888", is_pending=False,
            created_at=tiktok_time,
        )  # fmt: skip
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER comment_key_frozen ON conversations_comment; "
                "DROP FUNCTION comment_key_frozen()"
            )
    stored = Comment.objects.for_workspace(workspace).get(pk=pending.pk)
    assert (stored.comment_id, stored.created_at_tiktok) == ("7688888888888888888", tiktok_time)
    assert stored.parent_id == root.pk and stored.sent_by_id is None and stored.is_own
    # The note was on the thread root, which did not move.
    assert ThreadNote.objects.for_workspace(workspace).get().comment_id == root.pk


def test_an_online_index_migration_builds_on_every_partition(
    history: list[Comment],
) -> None:
    """AddIndexOnline (migrations 0004, 0005, 0007) once the table is partitioned, where
    PostgreSQL builds nothing CONCURRENTLY: declared on the parent, built on each partition,
    attached; and dropped whole on the way back."""
    from importlib import import_module

    from django.apps import apps
    from django.db import models
    from django.db.migrations.state import ProjectState

    add_index_online = import_module(
        "conversations.migrations.0004_comment_triage_pending"
    ).AddIndexOnline
    call_command("partitions", "switch", "conversations_comment", stdout=StringIO())
    assert is_partitioned(SPEC)
    name = "comment_online_check"
    operation = add_index_online(
        model_name="comment",
        index=models.Index(
            models.F("workspace"),
            models.F("priority"),
            models.OrderBy(models.F("created_at_tiktok"), descending=True),
            name=name,
            condition=models.Q(is_own=False),
        ),
    )
    before = ProjectState.from_apps(apps)
    after = before.clone()
    operation.state_forwards("conversations", after)

    def built() -> list[tuple[str, bool]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, i.indisvalid FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indexrelid = to_regclass(%s) OR i.indexrelid IN "
                "(SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s)) "
                "ORDER BY c.relname",
                [name, name],
            )
            return list(cursor.fetchall())

    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("conversations", editor, before, after)
    partitions = partitions_of(SPEC)
    assert len(partitions) >= 2
    assert built() == sorted([(name, True)] + [(f"{p}_{name}"[:63], True) for p in partitions])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(to_regclass(%s))", [f"{partitions[0]}_{name}"[:63]])
        (definition,) = cursor.fetchone()
    assert f"ON public.{partitions[0]} USING btree (workspace_id, priority" in definition
    assert "WHERE (NOT is_own)" in definition

    # Again, as after a failure half-way: nothing is built twice.
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("conversations", editor, before, after)
    assert len(built()) == len(partitions) + 1

    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("conversations", editor, after, before)
    assert built() == []

"""The per-workspace data version (later/data_version.py): every write path moves it, only for
the workspaces it touched, at once and again when the transaction commits."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Workspace
from calendar_app.models import Post, PostStatus
from later import data_version
from later.data_version import data_changed, page_token
from tests.calendar_app.factories import PostFactory
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def version(ws: Workspace) -> str | None:
    return data_version.data_version(ws.pk)


def test_a_token_is_stable_until_a_write(workspace: Workspace) -> None:
    first = version(workspace)
    assert first and version(workspace) == first
    data_changed(workspace.pk)
    assert version(workspace) not in (None, first)


def test_string_and_uuid_spellings_are_one_workspace(workspace: Workspace) -> None:
    before = version(workspace)
    data_changed(str(workspace.pk))
    assert version(workspace) != before


def test_queryset_update_moves_only_the_workspaces_it_touched(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    post = PostFactory.create(workspace=workspace)
    mine, theirs = version(workspace), version(other_workspace)
    # Scoped: the workspace is read from the WHERE clause.
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(status=PostStatus.FAILED)
    assert version(workspace) != mine
    assert version(other_workspace) == theirs
    # Unscoped (how the publishing pipeline writes): one query finds the workspace.
    mine = version(workspace)
    Post.objects.unscoped().filter(pk=post.pk).update(status=PostStatus.PUBLISHED)
    assert version(workspace) != mine
    assert version(other_workspace) == theirs
    # An update that matches nothing moves nothing.
    mine = version(workspace)
    Post.objects.unscoped().filter(pk=other_workspace.pk).update(caption="x")
    assert version(workspace) == mine


def test_save_delete_bulk_create_and_the_workspace_itself(workspace: Workspace) -> None:
    before = version(workspace)
    post = PostFactory.create(workspace=workspace)
    assert version(workspace) != before
    before = version(workspace)
    post.caption = "changed"
    post.save()
    assert version(workspace) != before
    before = version(workspace)
    Post.objects.bulk_create([Post(workspace=workspace, account=post.account, caption="b")])
    assert version(workspace) != before
    before = version(workspace)
    Post.objects.for_workspace(workspace).filter(caption="b").delete()
    assert version(workspace) != before
    before = version(workspace)
    workspace.name = "Renamed"
    workspace.save()
    assert version(workspace) != before


def _queued() -> list[data_version._Bump]:
    return [f for _s, f, *_ in connection.run_on_commit if isinstance(f, data_version._Bump)]


@pytest.mark.django_db(transaction=True)
def test_the_commit_moves_it_again() -> None:
    """A reader in another process may cache the old rows under the token the write set
    before its commit; the commit then moves every reader on."""
    ws, other = WorkspaceFactory.create(), WorkspaceFactory.create()
    with transaction.atomic():
        data_changed(ws.pk)
        data_changed(other.pk)  # a second write adds to the queued callback
        assert len(_queued()) == 1 and _queued()[0].ids == {ws.pk, other.pk}
        during = version(ws)
    assert version(ws) != during


@pytest.mark.django_db(transaction=True)
def test_savepoints() -> None:
    ws = WorkspaceFactory.create()
    with transaction.atomic():
        try:
            with transaction.atomic():
                data_changed(ws.pk)
                raise RuntimeError
        except RuntimeError:
            pass
        # The rolled-back write's callback went with it; the next write queues its own.
        assert _queued() == []
        data_changed(ws.pk)
        assert len(_queued()) == 1
        try:
            with transaction.atomic():
                data_changed(ws.pk)  # joins the outer callback, which survives this rollback
                raise RuntimeError
        except RuntimeError:
            pass
        assert len(_queued()) == 1
        before_commit = version(ws)
    assert version(ws) != before_commit


def test_page_token_names_every_workspace_and_the_minute(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    token = page_token(workspace.pk, other_workspace.pk)
    assert token == page_token(workspace.pk, other_workspace.pk)
    data_changed(other_workspace.pk)
    assert page_token(workspace.pk, other_workspace.pk) != token
    assert len(page_token(workspace.pk, clock=False).split(":")) == 1


def _stored(ws: Workspace) -> object:
    """The token as the shared cache holds it, without a read's bump of this connection's
    unread writes."""
    return data_version._cache().get(data_version._key(ws.pk))


def test_a_write_of_fields_no_page_shows_moves_nothing(workspace: Workspace) -> None:
    post = PostFactory.create(workspace=workspace)
    rows = Post.objects.for_workspace(workspace).filter(pk=post.pk)
    before = version(workspace)
    # The pipeline's lease renewal and a resumed poll's claim: Post.DATA_VERSION_QUIET_FIELDS.
    assert rows.update(heartbeat_at=timezone.now())
    assert (
        Post.objects.unscoped()
        .filter(pk=post.pk)
        .update(claim_token=uuid.uuid4(), heartbeat_at=timezone.now(), updated_at=timezone.now())
    )
    post.next_attempt_at = timezone.now()
    Post.objects.unscoped().bulk_update([post], ["next_attempt_at", "claim_token"])
    post.save(update_fields=["heartbeat_at", "updated_at"])
    assert version(workspace) == before
    # One shown field among them is a change.
    rows.update(status=PostStatus.PUBLISHING, heartbeat_at=timezone.now())
    assert version(workspace) != before
    before = version(workspace)
    post.tiktok_status = "PROCESSING_UPLOAD"
    post.save(update_fields=["tiktok_status", "heartbeat_at"])
    assert version(workspace) != before
    before = version(workspace)
    Post.objects.unscoped().bulk_update([post], ["status", "heartbeat_at"])
    assert version(workspace) != before


@pytest.mark.django_db(transaction=True)
def test_a_transaction_bumps_once_unless_it_reads_in_between() -> None:
    ws = WorkspaceFactory.create()
    first = version(ws)
    with transaction.atomic():
        data_changed(ws.pk)
        data_changed(ws.pk)
        # Nothing read a token since the writes: no round trip yet.
        assert _stored(ws) == first
        # A read on this connection sees the uncommitted writes, so it gets a new token.
        during = version(ws)
        assert during != first
        assert _stored(ws) == during
        data_changed(ws.pk)
        again = version(ws)
        assert again != during
    assert version(ws) != again


def test_a_bulk_update_or_delete_of_workspaces_moves_theirs_only(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    mine, theirs = version(workspace), version(other_workspace)
    # How the getting-started checklist is closed: no save(), no signal.
    Workspace.objects.filter(pk=workspace.pk).update(name="Renamed")
    assert version(workspace) != mine
    assert version(other_workspace) == theirs
    mine = version(workspace)
    Workspace.objects.filter(pk=workspace.pk, name="Not this one").update(name="x")
    assert version(workspace) == mine
    Workspace.objects.filter(pk=workspace.pk).delete()
    assert version(workspace) != mine


def test_a_value_kept_under_the_version_is_rebuilt_after_a_write(workspace: Workspace) -> None:
    built: list[int] = []

    def build() -> int:
        built.append(1)
        return len(built)

    assert data_version.cached_for_version(workspace.pk, "n", build) == 1
    assert data_version.cached_for_version(workspace.pk, "n", build) == 1
    PostFactory.create(workspace=workspace)
    assert data_version.cached_for_version(workspace.pk, "n", build) == 2
    assert data_version.cached_for_version(workspace.pk, "other", build) == 3

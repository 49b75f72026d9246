"""What a post's runs cost in statements, and that the statements that merge a change with its
timeline lines (state.guarded_write, state.claim_for_run) keep the ORM's behaviour: the lines'
order, the activity log's entry, the data version, and nothing written for a lost claim."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Workspace
from calendar_app.models import ActivityEntry, ActivityVerb, Post, PostStatus
from calendar_app.publishing import dispatch, run, state
from later.data_version import data_version
from tests.calendar_app.publishing_factories import (
    Sim,
    connect_account,
    make_post,
    pub_sim,
)

__all__ = ["pub_sim"]

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["postgresql", "orm"])
def path(request: Any, monkeypatch: Any) -> str:
    """Each test runs twice: with the merged statements, and with the ORM path that SQLite
    (the quick start) takes; the ORM path runs on PostgreSQL here, which it does not mind."""
    if request.param == "orm":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    return str(request.param)


def _kinds(post: Post) -> list[str]:
    return list(post.events.order_by("created_at").values_list("kind", flat=True))


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements' first words, without the savepoints that stand in for a transaction
    inside the test's own."""
    words = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]
    return [word for word in words if word not in {"SAVEPOINT", "RELEASE"}]


def test_a_post_publishes_in_a_fixed_number_of_statements(
    pub_sim: Sim, workspace: Workspace, settings: Any, path: str
) -> None:
    settings.PUBLISHING_POLL_IN_TASK_SECONDS = 0.0  # as in production: park, then resume
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account, privacy_level="SELF_ONLY")
    token = dict(dispatch.posts_dispatch_due())[post.pk]

    with CaptureQueriesContext(connection) as first:
        result = run.post_publish(post_id=post.pk, claim_token=token)
    assert result is not None and result.poll_again_in is not None
    # Claim (with the "checking" line), intent, publish_id (+ line), upload (+ lines), park.
    if path == "postgresql":
        assert _statements(first) == ["WITH", "UPDATE", "WITH", "WITH", "UPDATE"]

    time.sleep(0.3)  # the simulator's processing time
    dispatch.posts_resume_due_polls(now=timezone.now() + dt.timedelta(seconds=10))
    token = Post.objects.unscoped().values_list("claim_token", flat=True).get(pk=post.pk)
    before = data_version(workspace.pk)
    with CaptureQueriesContext(connection) as second:
        result = run.post_publish(post_id=post.pk, claim_token=token)
    assert result is not None and result.status == PostStatus.PUBLISHED
    # Claim, then the settle (+ lines) and the activity log's entry in one transaction.
    if path == "postgresql":
        assert _statements(second) == ["WITH", "WITH", "INSERT"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert data_version(workspace.pk) != before
    assert _kinds(post) == [
        "queued",
        "checking",
        "initiated",
        "uploading",
        "processing",
        "published",
        "no_public_link",
    ]
    entry = ActivityEntry.objects.for_workspace(workspace).get(verb=ActivityVerb.PUBLISHED)
    assert entry.post_id == post.pk and entry.detail == "Published on TikTok."
    # One line per kind, each carrying the post's workspace.
    assert set(post.events.values_list("workspace_id", flat=True)) == {workspace.pk}


def test_a_lost_claim_takes_nothing_and_writes_no_line(
    pub_sim: Sim, workspace: Workspace, path: str
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    token = dict(dispatch.posts_dispatch_due())[post.pk]

    assert run.take_ownership(post.pk, uuid.uuid4()) is None
    post.refresh_from_db()
    assert post.status == PostStatus.QUEUED and _kinds(post) == ["queued"]

    owned = run.take_ownership(post.pk, token)
    assert owned is not None and owned.status == PostStatus.PUBLISHING
    assert owned.account == account and owned.media_id is not None and owned.media is not None
    assert _kinds(post) == ["queued", "checking"]
    with pytest.raises(state.LostClaim):
        state.guarded_write(
            owned, uuid.uuid4(), [state.line("uploading", "Uploading 1/1")], chunks_uploaded=1
        )
    post.refresh_from_db()
    assert post.chunks_uploaded == 0 and _kinds(post) == ["queued", "checking"]


def test_a_resumed_poll_gets_no_second_checking_line(
    pub_sim: Sim, workspace: Workspace, path: str
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    post = make_post(account)
    token = dict(dispatch.posts_dispatch_due())[post.pk]
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(
        status=PostStatus.PUBLISHING, publish_id="v_pub_1", init_started_at=timezone.now()
    )
    before = data_version(workspace.pk)
    owned = run.take_ownership(post.pk, token)
    assert owned is not None and owned.publish_id == "v_pub_1"
    assert _kinds(post) == ["queued"]
    assert data_version(workspace.pk) == before  # only the lease moved, which no page shows

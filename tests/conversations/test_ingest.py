"""The PostgreSQL bulk write of synced comments (conversations/ingest.py) and the triage that
follows it: one statement per batch, honest "not read yet" until triage lands, a re-sync that
writes nothing, and a sweep for readings whose task was lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AccountType, TikTokAccount, TikTokVideo, User, Workspace
from conversations import ingest, selectors, tasks
from conversations.models import Comment, ModerationRule, Priority, RuleRun
from conversations.sync import comments_upsert
from tiktok_client import schemas

pytestmark = pytest.mark.django_db

_ids = itertools.count(7_500_000_000_000_000_000)


def _item(text: str, *, parent: str | None = None, **extra: Any) -> schemas.Comment:
    values: dict[str, Any] = {
        "comment_id": str(next(_ids)),
        "video_id": "7300000000000000001",
        "parent_comment_id": parent,
        "unique_identifier": "fan-key",
        "username": "fan",
        "display_name": "Fan",
        "profile_image": "",
        "text": text,
        "create_time": int(timezone.now().timestamp()) - 60,
        "likes": 0,
        "replies": 0,
        "owner": False,
        "liked": False,
        "pinned": False,
        "status": "PUBLIC",
    }
    values.update(extra)
    return schemas.Comment(**values)


@pytest.fixture
def account(workspace: Workspace) -> TikTokAccount:
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id="ingest-biz",
        username="cafe",
        account_type=AccountType.BUSINESS,
    )


@pytest.fixture
def video(account: TikTokAccount) -> TikTokVideo:
    return TikTokVideo.objects.create(
        workspace=account.workspace,
        account=account,
        video_id="7300000000000000001",
        posted_at=timezone.now() - dt.timedelta(hours=1),
    )


@pytest.fixture(params=["arrays", "copy"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both ways a batch reaches PostgreSQL: arrays in the statement, or COPY into staging."""
    if request.param == "copy":
        monkeypatch.setattr(ingest, "ARRAY_BATCH", 0)
    yield request.param


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """Tasks the sync queues after its commit, recorded instead of sent."""
    calls: dict[str, list[dict[str, Any]]] = {"triage": [], "rules": []}
    monkeypatch.setattr(tasks.triage_comments, "delay", lambda **kw: calls["triage"].append(kw))
    monkeypatch.setattr(
        tasks.apply_moderation_rules, "delay", lambda **kw: calls["rules"].append(kw)
    )
    return calls


def _scoped(workspace: Workspace):
    return Comment.objects.for_workspace(workspace)


def _inbox(workspace: Workspace, **filters: Any) -> list[str]:
    page = selectors.inbox_page(workspace=workspace, filters=selectors.InboxFilters(**filters))
    return [c.text for c in page.comments]


def test_new_comments_wait_honestly_for_triage_then_it_lands(
    path: str,
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    question = _item("where did you get that cup")
    angry = _item("this is a scam, worst coffee ever 😡")
    with django_capture_on_commit_callbacks(execute=True):
        stats = comments_upsert(account=account, video=video, items=[question, angry])
    assert stats.created == 2

    # Stored, not yet read: nothing claims a question or a sentiment.
    stored = {c.comment_id: c for c in _scoped(workspace)}
    for row in stored.values():
        assert row.triage_pending
        assert not row.is_question and row.sentiment == "" and row.language == ""
        assert row.priority == Priority.OTHER and row.effective_sentiment == ""
    assert _inbox(workspace, status="questions") == []
    assert _inbox(workspace, sentiment="neutral") == []
    assert _inbox(workspace, sentiment="negative") == []
    assert len(_inbox(workspace)) == 2  # the comments themselves show at once

    # One triage task for the batch, queued after the commit.
    assert len(queued["triage"]) == 1
    assert set(queued["triage"][0]["comment_ids"]) == {str(c.pk) for c in stored.values()}
    assert tasks.triage_comments(**queued["triage"][0]) == 2

    read = {c.comment_id: c for c in _scoped(workspace)}
    assert not read[question.comment_id].triage_pending
    assert read[question.comment_id].is_question
    assert read[question.comment_id].priority == Priority.UNANSWERED_QUESTION
    assert read[angry.comment_id].sentiment == "negative"
    assert read[angry.comment_id].priority == Priority.NEGATIVE
    assert read[question.comment_id].updated_at > stored[question.comment_id].updated_at
    assert _inbox(workspace, status="questions") == [question.text]
    # Running the task again reads nothing twice.
    assert tasks.triage_comments(**queued["triage"][0]) == 0


def test_the_api_says_when_a_comment_is_not_read_yet(
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    owner: User,
    api_client_for: Callable[[User], Any],
    queued: dict[str, list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        comments_upsert(account=account, video=video, items=[_item("love it 😍")])
    api = api_client_for(owner)
    row = api.get(f"/api/v1/w/{workspace.pk}/comments/").json()["results"][0]
    assert row["triage_pending"] is True
    assert row["effective_sentiment"] == "" and row["is_question"] is False
    tasks.triage_comments(**queued["triage"][0])
    row = api.get(f"/api/v1/w/{workspace.pk}/comments/").json()["results"][0]
    assert row["triage_pending"] is False and row["effective_sentiment"] == "positive"


def test_moderation_rules_do_not_wait_for_triage(
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Rules read text and author only; they are queued in the same commit as the triage."""
    ModerationRule.objects.create(
        workspace=workspace, name="No links", block_links=True, is_enabled=True, action="label"
    )
    spam = _item("free followers at www.spam.shop")
    with django_capture_on_commit_callbacks(execute=True):
        comments_upsert(account=account, video=video, items=[spam])
    stored = _scoped(workspace).get(comment_id=spam.comment_id)
    assert stored.triage_pending
    assert queued["rules"] == [{"workspace_id": str(workspace.pk), "comment_ids": [str(stored.pk)]}]
    assert queued["triage"]


def test_replies_find_their_thread_in_the_batch_or_stored_and_orphans_wait(
    path: str,
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
) -> None:
    top = _item("first!", replies=2)
    reply = _item("same", parent=top.comment_id)
    orphan = _item("lost", parent="7499999999999999999")
    stats = comments_upsert(account=account, video=video, items=[reply, top, orphan])
    assert stats.created == 2
    rows = {c.comment_id: c for c in _scoped(workspace)}
    assert rows[reply.comment_id].parent_id == rows[top.comment_id].pk
    assert orphan.comment_id not in rows

    # A later batch: the thread is stored (unchanged), a new reply joins it.
    late = _item("me too", parent=top.comment_id)
    stats = comments_upsert(account=account, video=video, items=[top, late])
    assert (stats.created, stats.updated) == (1, 0)
    assert _scoped(workspace).get(comment_id=late.comment_id).parent_id == rows[top.comment_id].pk


def _versions(workspace: Workspace) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT comment_id, xmin::text FROM conversations_comment WHERE workspace_id = %s",
            [workspace.pk],
        )
        return dict(cursor.fetchall())


def test_a_re_sync_writes_no_row_and_a_changed_row_is_written_once(
    path: str,
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
) -> None:
    top = _item("how much is the oat latte", replies=1)
    items = [top, _item("ok", parent=top.comment_id), _item("nice 👍")]
    comments_upsert(account=account, video=video, items=items)
    ingest.comments_triage(
        workspace_id=workspace.pk, comment_ids=list(_scoped(workspace).values_list("pk", flat=True))
    )
    before = _versions(workspace)

    stats = comments_upsert(account=account, video=video, items=items)
    assert (stats.created, stats.updated) == (0, 0)
    assert _versions(workspace) == before  # not one tuple rewritten

    liked = [items[0], items[1], dataclasses.replace(items[2], likes=5)]
    stats = comments_upsert(account=account, video=video, items=liked)
    assert (stats.created, stats.updated) == (0, 1)
    after = _versions(workspace)
    assert [k for k in before if before[k] != after[k]] == [items[2].comment_id]
    # A like changes nothing the triage read: the readings stay.
    assert not _scoped(workspace).get(comment_id=items[2].comment_id).triage_pending


def test_a_changed_text_is_read_again(
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    first = _item("where is this place")
    comments_upsert(account=account, video=video, items=[first])
    ingest.comments_triage(
        workspace_id=workspace.pk, comment_ids=list(_scoped(workspace).values_list("pk", flat=True))
    )
    assert _scoped(workspace).get().is_question

    edited = dataclasses.replace(first, text="this place is awful 😡")
    with django_capture_on_commit_callbacks(execute=True):
        stats = comments_upsert(account=account, video=video, items=[edited])
    assert stats.updated == 1
    row = _scoped(workspace).get()
    assert row.triage_pending and not row.is_question and row.sentiment == ""
    tasks.triage_comments(**queued["triage"][-1])
    row.refresh_from_db()
    assert row.sentiment == "negative" and not row.is_question


def test_a_reading_of_an_old_text_is_not_stored_on_a_new_one(
    workspace: Workspace, account: TikTokAccount, video: TikTokVideo
) -> None:
    comments_upsert(account=account, video=video, items=[_item("where is this place")])
    row = _scoped(workspace).get()
    # The text changes between the task's read and its write (a sync landed meanwhile).
    rows = [(row.pk, "where is this place", False)]
    _scoped(workspace).filter(pk=row.pk).update(text="awful")
    assert ingest._store_readings(workspace_id=workspace.pk, rows=rows) == 0
    row.refresh_from_db()
    assert row.triage_pending and not row.is_question


def test_the_sweep_reads_what_a_lost_task_left_pending(
    workspace: Workspace, account: TikTokAccount, video: TikTokVideo
) -> None:
    # No on_commit capture: the tasks are never sent (as if the broker lost them).
    comments_upsert(account=account, video=video, items=[_item("why so pricey"), _item("cute")])
    old = timezone.now() - dt.timedelta(minutes=5)
    _scoped(workspace).update(created_at=old)
    comments_upsert(account=account, video=video, items=[_item("just in")])

    assert tasks.triage_backlog() == 2
    assert set(_scoped(workspace).filter(triage_pending=True).values_list("text", flat=True)) == {
        "just in"
    }  # too fresh: its own task is still on its way
    assert _scoped(workspace).get(text="why so pricey").is_question


def test_rules_and_triage_cover_the_same_fresh_rows(
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Own comments are read too (their sentiment), never run through the rules."""
    ModerationRule.objects.create(
        workspace=workspace, name="Words", blocked_words=["scam"], is_enabled=True
    )
    fan = _item("scam")
    own = _item("thanks all!", owner=True)
    with django_capture_on_commit_callbacks(execute=True):
        comments_upsert(account=account, video=video, items=[fan, own])
    ids = {c.comment_id: str(c.pk) for c in _scoped(workspace)}
    assert queued["rules"][0]["comment_ids"] == [ids[fan.comment_id]]
    assert set(queued["triage"][0]["comment_ids"]) == set(ids.values())
    tasks.triage_comments(**queued["triage"][0])
    assert not _scoped(workspace).get(comment_id=own.comment_id).is_question
    assert not RuleRun.objects.for_workspace(workspace).exists()  # queued, not run here


def test_a_page_with_nul_characters_and_lone_surrogates_is_stored_without_them(
    path: str,
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
) -> None:
    # TikTok's JSON may escape characters no PostgreSQL text column takes ("\u0000", "\ud800").
    page = schemas.CommentPage.from_json(
        {
            "comments": [
                {
                    "comment_id": "75000000000000\x0000991",
                    "video_id": video.video_id,
                    "unique_identifier": "fan\x00-key",
                    "username": "fan\ud800",
                    "display_name": "F\x00an",
                    "text": "hello\x00 there \udfff",
                    "create_time": int(timezone.now().timestamp()) - 60,
                },
                {
                    "comment_id": "7500000000000000992",
                    "video_id": video.video_id,
                    "text": "an ordinary comment on the same page",
                    "create_time": int(timezone.now().timestamp()) - 30,
                },
            ],
            "cursor": 0,
            "has_more": False,
        }
    )
    stats = comments_upsert(account=account, video=video, items=page.comments)
    assert stats.created == 2
    odd = _scoped(workspace).get(comment_id="7500000000000000991")
    assert (odd.text, odd.author_key, odd.author_username, odd.author_display_name) == (
        "hello there ?",
        "fan-key",
        "fan?",
        "Fan",
    )


def test_a_comment_whose_create_time_no_date_holds_does_not_lose_its_page(
    path: str,
    workspace: Workspace,
    account: TikTokAccount,
    video: TikTokVideo,
    queued: dict[str, list[dict[str, Any]]],
) -> None:
    now = int(timezone.now().timestamp())
    page = schemas.CommentPage.from_json(
        {
            "comments": [
                {"comment_id": "7500000000000000981", "text": "ms", "create_time": now * 1000},
                {"comment_id": "7500000000000000982", "text": "huge", "create_time": "9" * 18},
                {"comment_id": "7500000000000000983", "text": "negative", "create_time": -(10**12)},
                {"comment_id": "7500000000000000984", "text": "fine", "create_time": now},
            ],
        }
    )
    stats = comments_upsert(account=account, video=video, items=page.comments)
    assert stats.created == 4
    stored = dict(_scoped(workspace).values_list("text", "created_at_tiktok"))
    # An unknown time reads as TikTok's own "missing" (0, the epoch), as it always did.
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert stored == {
        "ms": epoch,
        "huge": epoch,
        "negative": epoch,
        "fine": ingest.tiktok_time(now),
    }

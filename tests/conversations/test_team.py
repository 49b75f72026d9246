"""Sharing the inbox: assignment, notes, saved replies, labels, sentiment override, the new
filters and the priority order, through the services, the HTML views and the API."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Notification, TikTokVideo, User, Workspace
from conversations import selectors, teamwork
from conversations.models import Comment, CommentLabel, Label, Priority, SavedReply, ThreadNote
from later.errors import ValidationFailed
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(workspace: Workspace) -> TikTokVideo:
    return make_video(make_account(workspace, username="dance.studio"))


def _url(name: str, workspace: Workspace, *args: object) -> str:
    return reverse(f"conversations:{name}", args=[workspace.pk, *args])


def _inbox_ids(client: Client, workspace: Workspace, **params: str) -> list[uuid.UUID]:
    response = client.get(_url("inbox", workspace), params)
    assert response.status_code == 200
    return [c.pk for c in response.context["page"].comments]


# --------------------------------------------------------------------------- assignment


def test_assigning_a_thread_notifies_the_assignee_once(
    workspace: Workspace, video: TikTokVideo, owner: User, editor: User
) -> None:
    root = make_comment(video)
    fan_reply = make_comment(video, parent=root)
    own_reply = make_comment(video, parent=root, is_own=True)

    changed = teamwork.comments_assign(
        workspace=workspace, comments=[fan_reply], assignee=editor, by=owner, whole_thread=True
    )

    assert changed == 2
    assert {c.pk for c in Comment.objects.for_workspace(workspace).filter(assignee=editor)} == {
        root.pk,
        fan_reply.pk,
    }
    own_reply.refresh_from_db()
    assert own_reply.assignee is None
    notes = list(Notification.objects.for_workspace(workspace).filter(user=editor))
    assert len(notes) == 1 and notes[0].kind == "comment_assigned"
    assert "?assignee=mine" in notes[0].url
    # The same assignment again changes nothing and tells no one.
    assert (
        teamwork.comments_assign(
            workspace=workspace, comments=[fan_reply], assignee=editor, by=owner, whole_thread=True
        )
        == 0
    )
    assert Notification.objects.for_workspace(workspace).filter(user=editor).count() == 1


def test_assigning_yourself_sends_no_notification_and_viewers_cannot_be_assigned(
    workspace: Workspace, video: TikTokVideo, editor: User, viewer: User
) -> None:
    comment = make_comment(video)
    teamwork.comments_assign(workspace=workspace, comments=[comment], assignee=editor, by=editor)
    assert not Notification.objects.for_workspace(workspace).exists()
    with pytest.raises(ValidationFailed, match="viewer"):
        teamwork.assignable_member(workspace=workspace, public_id=viewer.public_id)
    with pytest.raises(ValidationFailed, match="member of this workspace"):
        teamwork.assignable_member(workspace=workspace, public_id=uuid.uuid4())


def test_inbox_filters_mine_unassigned_and_person(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    mine = make_comment(video, assignee=owner)
    theirs = make_comment(video, assignee=editor)
    nobody = make_comment(video)
    client = client_for(owner)

    assert _inbox_ids(client, workspace, assignee="mine") == [mine.pk]
    assert _inbox_ids(client, workspace, assignee="none") == [nobody.pk]
    assert _inbox_ids(client, workspace, assignee=str(editor.public_id)) == [theirs.pk]
    assert _inbox_ids(client, workspace, assignee=str(editor.public_id), order="priority") == [
        theirs.pk
    ]
    # A stranger's id matches nobody; a malformed one is a message, not a 500.
    assert _inbox_ids(client, workspace, assignee=str(uuid.uuid4())) == []
    assert client.get(_url("inbox", workspace), {"assignee": "'; drop"}).status_code == 200


def test_assign_view_htmx_rerenders_the_row_and_viewers_get_403(
    workspace: Workspace,
    video: TikTokVideo,
    editor: User,
    viewer: User,
    client_for: Callable[[User], Client],
) -> None:
    comment = make_comment(video)
    url = _url("assign", workspace, comment.pk)
    response = client_for(editor).post(url, {"assignee": "me"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-testid="assignee"' in response.content.decode()
    comment.refresh_from_db()
    assert comment.assignee == editor
    assert client_for(viewer).post(url, {"assignee": "me"}).status_code == 403
    bad = client_for(editor).post(url, {"assignee": "not-a-uuid"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "Choose a member" in bad.content.decode()


# --------------------------------------------------------------------------- notes


def test_notes_attach_to_the_thread_and_a_double_submit_stores_one(
    workspace: Workspace,
    video: TikTokVideo,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    root = make_comment(video)
    reply = make_comment(video, parent=root)
    token = str(uuid.uuid4())
    client = client_for(editor)
    for _ in range(2):
        response = client.post(
            _url("note_add", workspace, reply.pk),
            {"note": "VIP customer, answer kindly", "client_token": token},
        )
        assert response.status_code == 302
    notes = list(ThreadNote.objects.for_workspace(workspace))
    assert len(notes) == 1 and notes[0].comment_id == root.pk and notes[0].author == editor
    page = client.get(_url("post", workspace, video.pk)).content.decode()
    assert "VIP customer, answer kindly" in page
    with pytest.raises(ValidationFailed):
        teamwork.thread_note_add(comment=root, author=editor, text="  ")


# --------------------------------------------------------------------------- saved replies


def test_saved_replies_validate_placeholders_and_length_and_are_idempotent(
    workspace: Workspace, video: TikTokVideo, owner: User
) -> None:
    reply = teamwork.saved_reply_create(
        workspace=workspace,
        title="Thanks",
        text="Thanks {name}! Follow {account} for more",
        user=owner,
    )
    again = teamwork.saved_reply_create(
        workspace=workspace,
        title="thanks",
        text="Thanks {name}! Follow {account} for more",
        user=owner,
    )
    assert again.pk == reply.pk
    with pytest.raises(ValidationFailed, match="already exists"):
        teamwork.saved_reply_create(workspace=workspace, title="THANKS", text="other", user=owner)
    with pytest.raises(ValidationFailed, match=r"Unknown placeholder \{first_name\}"):
        teamwork.saved_reply_create(
            workspace=workspace, title="x", text="Hi {first_name}", user=owner
        )
    with pytest.raises(ValidationFailed, match="150 characters"):
        teamwork.saved_reply_create(workspace=workspace, title="long", text="y" * 151, user=owner)

    comment = make_comment(video, author_display_name="Mia", author_username="mia.k")
    assert (
        teamwork.saved_reply_render(text=reply.text, comment=comment)
        == "Thanks Mia! Follow @dance.studio for more"
    )


def test_saved_reply_form_keeps_the_draft_on_error(
    workspace: Workspace, editor: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(editor).post(
        _url("saved_reply_create", workspace), {"title": "Hi", "text": "z" * 160}
    )
    assert response.status_code == 400
    assert "z" * 160 in response.content.decode()
    assert not SavedReply.objects.for_workspace(workspace).exists()


# --------------------------------------------------------------------------- labels


def test_labels_by_hand_in_bulk_and_as_a_filter(
    workspace: Workspace,
    video: TikTokVideo,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    first, second, third = (make_comment(video) for _ in range(3))
    client = client_for(editor)

    response = client.post(
        _url("bulk", workspace),
        {"ids": [str(first.pk), str(second.pk)], "action": "label", "new_label": "Lead"},
    )
    assert response.status_code == 302
    lead = Label.objects.for_workspace(workspace).get()
    assert lead.name == "Lead"
    # A double click, and the same name in another case, change nothing.
    client.post(
        _url("bulk", workspace),
        {"ids": [str(first.pk), str(second.pk)], "action": "label", "new_label": "lead"},
    )
    assert Label.objects.for_workspace(workspace).count() == 1
    assert CommentLabel.objects.for_workspace(workspace).count() == 2

    assert set(_inbox_ids(client, workspace, label=str(lead.pk))) == {first.pk, second.pk}
    client.post(_url("label", workspace, second.pk), {"label": str(lead.pk), "op": "remove"})
    assert _inbox_ids(client, workspace, label=str(lead.pk)) == [first.pk]
    assert third.pk in _inbox_ids(client, workspace)


def test_the_label_filter_lists_each_labelled_comment_once_in_either_order(
    workspace: Workspace, other_workspace: Workspace, video: TikTokVideo, editor: User
) -> None:
    lead = Label.objects.create(workspace=workspace, name="Lead")
    press = Label.objects.create(workspace=workspace, name="Press")
    foreign = Label.objects.create(workspace=other_workspace, name="Lead")
    both, lead_only, press_only, unlabelled, question = (
        make_comment(video, is_question=n == 4, assignee=editor) for n in range(5)
    )
    reply = make_comment(video, parent=both, assignee=editor)
    for comment, labels in (
        (both, [lead, press]), (lead_only, [lead]), (press_only, [press]), (question, [lead]),
        (reply, [press, lead]),
    ):  # fmt: skip
        for label in labels:
            CommentLabel.objects.create(workspace=workspace, comment=comment, label=label)
    elsewhere = make_comment(make_video(make_account(other_workspace)))
    CommentLabel.objects.create(workspace=other_workspace, comment=elsewhere, label=foreign)

    def walk(**filters: object) -> list[uuid.UUID]:
        """Every page of two, through the cursors."""
        ids: list[uuid.UUID] = []
        cursor = None
        while True:
            page = selectors.inbox_page(
                workspace=workspace, filters=selectors.InboxFilters(**filters),  # type: ignore[arg-type]
                cursor=cursor, page_size=2, user=editor,
            )  # fmt: skip
            ids += [c.pk for c in page.comments]
            if not (cursor := page.next_cursor):
                return ids

    labelled = [both, lead_only, question, reply]
    newest_first = [c.pk for c in sorted(labelled, key=lambda c: c.created_at_tiktok, reverse=True)]
    assert walk(label_id=lead.pk) == newest_first
    # The unanswered question first, then the others newest first.
    assert walk(label_id=lead.pk, assignee="mine", order="priority") == [
        question.pk,
        *(pk for pk in newest_first if pk != question.pk),
    ]
    assert set(walk(label_id=press.pk)) == {both.pk, press_only.pk, reply.pk}
    assert walk(label_id=foreign.pk) == []
    assert unlabelled.pk in walk()


def test_a_label_of_another_workspace_cannot_be_applied(
    workspace: Workspace,
    other_workspace: Workspace,
    video: TikTokVideo,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    foreign = Label.objects.create(workspace=other_workspace, name="theirs")
    comment = make_comment(video)
    response = client_for(editor).post(
        _url("label", workspace, comment.pk), {"label": str(foreign.pk)}
    )
    assert response.status_code == 302
    assert not CommentLabel.objects.for_workspace(workspace).exists()
    assert not CommentLabel.objects.for_workspace(other_workspace).exists()


# --------------------------------------------------------------------------- triage in the inbox


def test_sentiment_override_is_kept_and_drives_the_priority_order(
    workspace: Workspace,
    video: TikTokVideo,
    editor: User,
    client_for: Callable[[User], Client],
) -> None:
    now = timezone.now()
    question = make_comment(video, is_question=True, created_at_tiktok=now - dt.timedelta(hours=3))
    answered_question = make_comment(
        video, is_question=True, handled_at=now, created_at_tiktok=now - dt.timedelta(minutes=1)
    )
    angry = make_comment(video, sentiment="negative", created_at_tiktok=now - dt.timedelta(hours=2))
    calm = make_comment(video, created_at_tiktok=now - dt.timedelta(minutes=5))
    client = client_for(editor)

    assert _inbox_ids(client, workspace, order="priority") == [
        question.pk,
        angry.pk,
        answered_question.pk,
        calm.pk,
    ]
    # A person reads the calm one as negative: it moves up, and the reading is kept.
    client.post(_url("sentiment", workspace, calm.pk), {"sentiment": "negative"})
    calm.refresh_from_db()
    assert calm.sentiment_override == "negative" and calm.sentiment_override_by == editor
    assert calm.priority == Priority.NEGATIVE
    assert _inbox_ids(client, workspace, order="priority")[:3] == [question.pk, calm.pk, angry.pk]
    # Questions: the unanswered one first, though the answered one is newer.
    assert _inbox_ids(client, workspace, status="questions") == [question.pk, answered_question.pk]
    assert _inbox_ids(client, workspace, sentiment="negative") == [calm.pk, angry.pk]
    # Clearing the override returns to the detected reading.
    client.post(_url("sentiment", workspace, calm.pk), {"sentiment": ""})
    calm.refresh_from_db()
    assert calm.sentiment_override == "" and calm.priority == Priority.OTHER
    bad = client.post(_url("sentiment", workspace, calm.pk), {"sentiment": "furious"})
    assert bad.status_code == 302


def test_priority_order_pages_with_a_keyset_cursor(
    workspace: Workspace, video: TikTokVideo, owner: User
) -> None:
    now = timezone.now()
    rows = [
        make_comment(
            video,
            is_question=n % 3 == 0,
            sentiment="negative" if n % 3 == 1 else "neutral",
            created_at_tiktok=now - dt.timedelta(minutes=n),
        )
        for n in range(30)
    ]
    filters = selectors.InboxFilters(order="priority")
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = selectors.inbox_page(
            workspace=workspace, filters=filters, cursor=cursor, page_size=7
        )
        seen += [c.pk for c in page.comments]
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    def rank(c: Comment) -> int:
        return 0 if c.is_question else 1 if c.sentiment == "negative" else 2

    expected = sorted(rows, key=lambda c: (rank(c), -c.created_at_tiktok.timestamp()))
    assert seen == [c.pk for c in expected]
    # A cursor of the other order is refused with a sentence.
    newest = selectors.inbox_page(
        workspace=workspace, filters=selectors.InboxFilters(), page_size=3
    )
    with pytest.raises(ValidationFailed):
        selectors.inbox_page(workspace=workspace, filters=filters, cursor=newest.next_cursor)


def test_questions_filter_lists_unanswered_first_across_keyset_pages(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
) -> None:
    now = timezone.now()
    questions = [
        make_comment(
            video,
            is_question=True,
            handled_at=now if n % 2 else None,
            sentiment="negative" if n % 3 == 0 else "neutral",
            created_at_tiktok=now - dt.timedelta(minutes=n),
        )
        for n in range(17)
    ]
    make_comment(video, created_at_tiktok=now)  # not a question
    # Unanswered ones, newest first, then the answered ones, newest first (the sentiment of an
    # answered question does not move it, as it would in the priority order).
    expected = [c.pk for c in questions if c.handled_at is None] + [
        c.pk for c in questions if c.handled_at is not None
    ]
    filters = selectors.InboxFilters(status="questions")
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(10):
        page = selectors.inbox_page(
            workspace=workspace, filters=filters, cursor=cursor, page_size=4
        )
        seen += [c.pk for c in page.comments]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == expected
    # The chip counts the unanswered ones, which are the list's first rows.
    unanswered = selectors.inbox_counts(workspace=workspace)["questions"]
    assert unanswered == "9"
    html = client_for(owner).get(_url("inbox", workspace), {"status": "questions"})
    assert [c.pk for c in html.context["page"].comments[:9]] == expected[:9]
    assert "9 unanswered, listed first" in html.content.decode()
    # The API pages the same way, and refuses a cursor of another order.
    api = api_client_for(owner)
    base = f"/api/v1/w/{workspace.pk}/comments/"
    first = api.get(base, {"status": "questions", "page_size": "10"}).json()
    second = api.get(
        base, {"status": "questions", "page_size": "10", "cursor": first["next_cursor"]}
    ).json()
    assert [r["id"] for r in first["results"] + second["results"]] == [str(pk) for pk in expected]
    refused = api.get(base, {"page_size": "10", "cursor": first["next_cursor"]})
    assert refused.status_code == 400


# --------------------------------------------------------------------------- API


def test_api_mirrors_assignment_labels_notes_sentiment_and_saved_replies(
    workspace: Workspace,
    video: TikTokVideo,
    owner: User,
    editor: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    comment = make_comment(video, author_display_name="Mia")
    api = api_client_for(editor)
    base = f"/api/v1/w/{workspace.pk}"
    c_url = f"{base}/comments/{comment.pk}"

    assigned = api.post(f"{c_url}/assign/", {"assignee": str(owner.public_id)}, format="json")
    assert assigned.status_code == 200 and assigned.json()["assignee"]["email"] == owner.email
    label = api.post(f"{base}/conversations/labels/", {"name": "UGC"}, format="json")
    assert label.status_code == 201
    again = api.post(f"{base}/conversations/labels/", {"name": "ugc"}, format="json")
    assert again.json()["id"] == label.json()["id"]
    labelled = api.post(f"{c_url}/labels/", {"label_id": label.json()["id"]}, format="json")
    assert [lab["name"] for lab in labelled.json()["labels"]] == ["UGC"]
    token = str(uuid.uuid4())
    for _ in range(2):
        note = api.post(
            f"{c_url}/notes/", {"text": "call back", "client_token": token}, format="json"
        )
        assert note.status_code == 201
    assert len(api.get(f"{c_url}/notes/").json()) == 1
    moody = api.post(f"{c_url}/sentiment/", {"sentiment": "negative"}, format="json")
    assert moody.json()["effective_sentiment"] == "negative"
    assert api.post(f"{c_url}/sentiment/", {"sentiment": "meh"}, format="json").status_code == 400

    saved = api.post(
        f"{base}/conversations/saved-replies/",
        {"title": "Thanks", "text": "Thanks {name}!"},
        format="json",
    )
    assert saved.status_code == 201
    rendered = api.get(
        f"{base}/conversations/saved-replies/{saved.json()['id']}/render/",
        {"comment": str(comment.pk)},
    )
    assert rendered.json() == {"text": "Thanks Mia!", "length": 11, "max_length": 150}
    listed = api.get(f"{base}/comments/", {"assignee": "none"}).json()["results"]
    assert listed == []
    mine = api_client_for(owner).get(f"{base}/comments/", {"assignee": "mine"}).json()
    assert [c["id"] for c in mine["results"]] == [str(comment.pk)]
    bulk = api.post(
        f"{base}/comments/bulk/",
        {"ids": [str(comment.pk)], "action": "unlabel", "label_id": label.json()["id"]},
        format="json",
    )
    assert bulk.status_code == 200
    assert not CommentLabel.objects.for_workspace(workspace).exists()


def test_journey_assign_then_reply_with_a_saved_reply_then_handled_through_the_api(
    csim,
    workspace: Workspace,
    owner: User,
    editor: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    from conversations.sync import comment_sync_account
    from tests.conversations.conftest import (
        connect_business_account,
        roomy_budget,
        seed_videos,
        triage_pending,
    )

    account = connect_business_account(csim, workspace)
    video = seed_videos(account, limit=1, skip=3)[0]
    fan_id = csim.fan_comment(video.video_id, "do you ship to Canada")
    comment_sync_account(account=account, budget=roomy_budget(account))
    triage_pending(workspace)
    comment = Comment.objects.for_workspace(workspace).get(comment_id=fan_id)
    base = f"/api/v1/w/{workspace.pk}"
    lead = api_client_for(owner)
    lead.post(
        f"{base}/comments/{comment.pk}/assign/",
        {"assignee": str(editor.public_id), "thread": True},
        format="json",
    )
    saved = lead.post(
        f"{base}/conversations/saved-replies/",
        {"title": "Shipping", "text": "Hi {name}, yes! We ship worldwide from {account}."},
        format="json",
    ).json()

    api = api_client_for(editor)
    mine = api.get(f"{base}/comments/", {"assignee": "mine", "status": "questions"}).json()
    assert [c["id"] for c in mine["results"]] == [str(comment.pk)]
    text = api.get(
        f"{base}/conversations/saved-replies/{saved['id']}/render/", {"comment": str(comment.pk)}
    ).json()["text"]
    reply = api.post(f"{base}/comments/{comment.pk}/reply/", {"text": text}, format="json")
    assert reply.status_code == 201
    assert any(c.owner and c.text == text for c in csim.state.comments.values())
    handled = api.post(f"{base}/comments/{comment.pk}/handled/", {"handled": True}, format="json")
    assert handled.json()["is_handled"] is True
    comment.refresh_from_db()
    assert comment.first_response_by == editor and comment.priority == 2
    assert Notification.objects.for_workspace(workspace).filter(user=editor).count() == 1

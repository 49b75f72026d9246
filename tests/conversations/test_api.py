"""REST API: same capabilities and rules as the HTML views."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import TikTokAccount, User, Workspace
from conversations.models import Comment
from conversations.sync import comment_sync_account
from tests.conversations.conftest import (
    CommentSim,
    connect_business_account,
    roomy_budget,
    seed_videos,
)
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db


def _url(name: str, workspace: Workspace, *args: object) -> str:
    return reverse(f"conversations:{name}", args=[workspace.pk, *args])


def test_list_paginates_with_a_cursor_and_filters(
    workspace: Workspace, owner: User, api_client_for: Callable[[User], APIClient]
) -> None:
    video = make_video(make_account(workspace))
    for i in range(5):
        make_comment(video, text=f"api {i}")
    make_comment(video, text="mine", is_own=True)
    client = api_client_for(owner)

    first = client.get(_url("api_comments", workspace), {"page_size": 3}).json()
    assert [c["text"] for c in first["results"]] == ["api 0", "api 1", "api 2"]
    second = client.get(
        _url("api_comments", workspace), {"page_size": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [c["text"] for c in second["results"]] == ["api 3", "api 4"]
    assert second["next_cursor"] is None
    assert first["results"][0]["author"]["username"]

    searched = client.get(_url("api_comments", workspace), {"q": "api 4"}).json()
    assert [c["text"] for c in searched["results"]] == ["api 4"]
    bad = client.get(_url("api_comments", workspace), {"cursor": "zzz"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_failed"


def test_roles_and_isolation(
    workspace: Workspace,
    other_workspace: Workspace,
    viewer: User,
    outsider: User,
    owner: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    comment = make_comment(make_video(make_account(workspace)))
    foreign = make_comment(make_video(make_account(other_workspace)))

    as_viewer = api_client_for(viewer)
    assert as_viewer.get(_url("api_comment", workspace, comment.pk)).status_code == 200
    denied = as_viewer.post(_url("api_comment_handled", workspace, comment.pk), {"handled": True})
    assert denied.status_code == 403
    assert "editor" in denied.json()["error"]["message"]

    assert api_client_for(outsider).get(_url("api_comments", workspace)).status_code == 404
    as_owner = api_client_for(owner)
    for name in ("api_comment", "api_comment_reply", "api_comment_hide", "api_comment_read"):
        assert as_owner.get(_url(name, workspace, foreign.pk)).status_code == 404
        assert as_owner.post(_url(name, workspace, foreign.pk), {}).status_code == 404
    result = as_owner.post(
        _url("api_comments_bulk", workspace),
        {"ids": [str(foreign.pk)], "action": "handled"},
        format="json",
    )
    assert result.status_code == 400
    foreign.refresh_from_db()
    assert foreign.handled_at is None


def test_moderation_through_the_api(
    csim: CommentSim,
    workspace: Workspace,
    editor: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    account: TikTokAccount = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    comment = (
        Comment.objects.for_workspace(workspace).filter(parent__isnull=True).order_by("pk").first()
    )
    assert comment is not None
    client = api_client_for(editor)

    too_long = client.post(_url("api_comment_reply", workspace, comment.pk), {"text": "a" * 160})
    assert too_long.status_code == 400
    assert "150" in too_long.json()["error"]["message"]

    reply = client.post(_url("api_comment_reply", workspace, comment.pk), {"text": "Thank you!"})
    assert reply.status_code == 201, reply.content
    body = reply.json()
    assert body["is_pending"] is False and body["is_own"] is True
    assert csim.state.comments[body["comment_id"]].text == "Thank you!"

    hidden = client.post(
        _url("api_comment_hide", workspace, comment.pk), {"hidden": True}, format="json"
    )
    assert hidden.status_code == 200 and hidden.json()["is_hidden"] is True
    liked = client.post(_url("api_comment_like", workspace, comment.pk), {"liked": "yes"})
    assert liked.json()["liked"] is True

    refused = client.delete(_url("api_comment", workspace, comment.pk))
    assert refused.status_code == 400
    deleted = client.delete(_url("api_comment", workspace, body["id"]))
    assert deleted.status_code == 204
    assert csim.state.comments[body["comment_id"]].deleted

    bulk = client.post(
        _url("api_comments_bulk", workspace),
        {"ids": [str(comment.pk)], "action": "unhide"},
        format="json",
    )
    assert bulk.json() == {"done": 1, "failures": []}
    assert csim.state.comments[comment.comment_id].status == "PUBLIC"

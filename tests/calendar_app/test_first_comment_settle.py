"""A first comment stuck in "posting" (its worker died mid-send) or failed: a person settles
it by looking it up on TikTok; it is posted again only when it is certainly not there."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountType, Workspace
from calendar_app import tasks
from calendar_app.models import FirstCommentStatus, Post, PostStatus
from calendar_app.publishing import first_comment
from later.errors import Conflict
from tests.calendar_app.publishing_factories import Sim, make_post, pub_sim
from tests.simulator import account_with_simulator_tokens

__all__ = ["pub_sim"]

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/open_api/v1.3/business/comment/create/"
TEXT = "Menu link in bio!"
SCOPES = ("user.info.basic", "video.publish", "video.list", "comment.list", "comment.list.manage")


@pytest.fixture
def queued(monkeypatch: Any) -> list[str]:
    sent: list[str] = []
    monkeypatch.setattr(tasks.post_first_comment, "delay", sent.append)
    return sent


def _stuck_post(sim: Sim, workspace: Workspace, *, minutes_ago: int = 15, state: str = "posting"):
    account = account_with_simulator_tokens(
        sim.app,
        workspace,
        open_id="sim-cafe-business",
        scopes=SCOPES,
        account_type=AccountType.BUSINESS,
    )
    video = next(v for v in sim.state.videos.values() if v.open_id == "sim-cafe-business")
    post = make_post(account, status=PostStatus.PUBLISHED, first_comment=TEXT)
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(
        tiktok_post_id=video.id,
        first_comment_status=state,
        updated_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )
    return Post.objects.for_workspace(workspace).get(pk=post.pk), video


def _ours(sim: Sim, video: Any) -> list[Any]:
    return [
        c
        for c in sim.state.comments.values()
        if c.owner and c.video_id == video.id and c.text == TEXT and not c.deleted
    ]


def test_a_comment_that_reached_tiktok_is_marked_posted_not_sent_again(
    pub_sim: Sim, workspace: Workspace, editor: Any, queued: list[str]
) -> None:
    post, video = _stuck_post(pub_sim, workspace)
    # The worker died after TikTok made the comment, before we stored it.
    with pub_sim.state.lock:
        made = pub_sim.state.add_comment(video=video, text=TEXT, parent_id=None, by_owner=True)
    assert (
        first_comment.first_comment_settle(workspace=workspace, post_id=post.pk, actor=editor)
        == FirstCommentStatus.POSTED
    )
    post.refresh_from_db()
    assert post.first_comment_status == FirstCommentStatus.POSTED
    assert post.first_comment_id == made.comment_id
    assert post.events.filter(kind="first_comment").exists()
    assert queued == [] and pub_sim.state.counters.requests_to(CREATE) == 0
    assert len(_ours(pub_sim, video)) == 1
    with pytest.raises(Conflict):  # settled: nothing more to do
        first_comment.first_comment_settle(workspace=workspace, post_id=post.pk, actor=editor)


def test_a_comment_certainly_not_on_tiktok_is_posted_once(
    pub_sim: Sim, workspace: Workspace, editor: Any, queued: list[str]
) -> None:
    post, video = _stuck_post(pub_sim, workspace)
    assert (
        first_comment.first_comment_settle(workspace=workspace, post_id=post.pk, actor=editor)
        == FirstCommentStatus.PENDING
    )
    assert queued == [str(post.pk)]
    # A second click while it waits does nothing (it is neither failed nor stuck any more).
    with pytest.raises(Conflict):
        first_comment.first_comment_settle(workspace=workspace, post_id=post.pk, actor=editor)
    assert first_comment.post_first_comment_send(post_id=post.pk) == FirstCommentStatus.POSTED
    assert first_comment.post_first_comment_send(post_id=post.pk) is None
    assert len(_ours(pub_sim, video)) == 1
    assert pub_sim.state.counters.requests_to(CREATE) == 1
    assert "first_comment_retry" in post.events.values_list("kind", flat=True)


def test_a_send_that_may_still_be_running_is_left_alone(
    pub_sim: Sim, workspace: Workspace, editor: Any, queued: list[str]
) -> None:
    post, _ = _stuck_post(pub_sim, workspace, minutes_ago=1)
    with pytest.raises(Conflict, match="being posted right now"):
        first_comment.first_comment_settle(workspace=workspace, post_id=post.pk, actor=editor)
    post.refresh_from_db()
    assert post.first_comment_status == FirstCommentStatus.POSTING and queued == []


def test_a_failed_comment_is_checked_and_retried_from_the_timeline_and_the_api(
    pub_sim: Sim,
    workspace: Workspace,
    editor: Any,
    viewer: Any,
    client_for: Any,
    api_client_for: Any,
    queued: list[str],
) -> None:
    post, _ = _stuck_post(pub_sim, workspace, state=FirstCommentStatus.FAILED)
    page = reverse("publishing:post_publishing", args=[workspace.id, post.id])
    settle = reverse("publishing:post_first_comment_settle", args=[workspace.id, post.id])
    assert 'data-testid="first-comment-settle"' in client_for(editor).get(page).content.decode()
    assert 'data-testid="first-comment-settle"' not in client_for(viewer).get(page).content.decode()
    assert client_for(viewer).post(settle).status_code == 403

    answer = client_for(editor).post(settle, follow=True)
    assert "it will be posted in a few seconds" in answer.content.decode()
    assert queued == [str(post.pk)]

    api = api_client_for(editor)
    url = reverse("publishing:api_post_first_comment_settle", args=[workspace.id, post.id])
    again = api.post(url)
    assert again.status_code == 409  # pending now, not failed or stuck
    assert api.get(reverse("publishing:api_post_timeline", args=[workspace.id, post.id])).json()[
        "post"
    ]["first_comment_status"] == (FirstCommentStatus.PENDING)

"""Approvals through the pages, the API and the client's review link (what it shows, and
what it refuses: another workspace, an expired, revoked or tampered link)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.approvals.links import review_link_token
from calendar_app.models import ActivityEntry, Post, PostComment, PostStatus, ReviewLink
from tests.calendar_app.factories import PostFactory

pytestmark = pytest.mark.django_db


def in_review(workspace: Any, **kw: Any) -> Post:
    kw.setdefault("scheduled_at", timezone.now() + timedelta(days=2))
    return PostFactory.create(workspace=workspace, status=PostStatus.IN_REVIEW, **kw)


def link_for(workspace: Any, *, days: float = 3, revoked: bool = False) -> ReviewLink:
    return ReviewLink.objects.create(
        workspace=workspace,
        name="Maria at Acme",
        expires_at=timezone.now() + timedelta(days=days),
        revoked_at=timezone.now() if revoked else None,
    )


def review_url(link: ReviewLink, name: str = "page", post: Post | None = None) -> str:
    kwargs: dict[str, Any] = {"token": review_link_token(link)}
    if post is not None:
        kwargs["post_id"] = post.id
    return reverse(f"review:{name}", kwargs=kwargs)


# --- the client's review link ------------------------------------------------------------------


def test_review_page_shows_only_posts_in_review_of_its_workspace(
    client: Any, workspace: Any, other_workspace: Any
) -> None:
    waiting = in_review(workspace, caption="Pumpkin spice is back")
    PostFactory.create(workspace=workspace, caption="Already scheduled secret")
    in_review(other_workspace, caption="Rival launch plan")
    PostComment.objects.create(
        workspace=workspace, post=waiting, body="Team-only note", author_name="Ed"
    )
    link = link_for(workspace)
    response = client.get(review_url(link))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pumpkin spice is back" in body
    assert "Already scheduled secret" not in body
    assert "Rival launch plan" not in body
    assert "Team-only note" not in body  # internal comments stay internal
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    assert response["Referrer-Policy"] == "same-origin"
    # The preview's video is served through the link.
    media = client.get(review_url(link, "media", waiting))
    assert media.status_code == 200


def test_review_page_gives_times_in_the_workspaces_zone(client: Any, workspace: Any) -> None:
    """The client has no session to set a zone: 22 Dec 10:00 UTC is 11:00 in Paris, not 10:00."""
    assert workspace.time_zone == "Europe/Paris"
    in_review(workspace, scheduled_at=datetime(2031, 12, 22, 10, 0, tzinfo=UTC))
    link = ReviewLink.objects.create(
        workspace=workspace,
        name="Maria at Acme",
        expires_at=datetime(2031, 12, 31, 23, 30, tzinfo=UTC),  # 1 January 00:30 in Paris
    )
    body = client.get(review_url(link)).content.decode()
    assert "Monday 22 December 2031, 11:00 (Europe/Paris)" in body
    assert "10:00 (Europe/Paris)" not in body
    assert "until 1 January 2032" in body


def test_client_approves_through_the_link(client: Any, workspace: Any) -> None:
    post = in_review(workspace)
    link = link_for(workspace)
    response = client.post(
        review_url(link, "decide", post), {"action": "approve", "body": "Lovely"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.approved_by is None
    assert post.approved_by_name == "Maria at Acme (review link)"
    entry = ActivityEntry.objects.for_workspace(workspace).get(verb="approved")
    assert entry.actor_name == "Maria at Acme (review link)"
    # Approved posts leave the page; acting on them again is a 404.
    again = client.post(review_url(link, "decide", post), {"action": "approve"})
    assert again.status_code == 404


def test_client_requests_changes_with_a_comment(client: Any, workspace: Any) -> None:
    post = in_review(workspace)
    link = link_for(workspace)
    client.post(review_url(link, "decide", post), {"action": "changes", "body": ""})
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW  # a comment is required
    client.post(review_url(link, "decide", post), {"action": "changes", "body": "Use the logo"})
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    assert PostComment.objects.for_workspace(workspace).get().body == "Use the logo"


def test_client_comment_only(client: Any, workspace: Any) -> None:
    post = in_review(workspace)
    link = link_for(workspace)
    client.post(
        review_url(link, "decide", post), {"action": "comment", "body": "Can we add music?"}
    )
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    page = client.get(review_url(link)).content.decode()
    assert "Can we add music?" in page


@pytest.mark.parametrize("name", ["decide", "media", "thumbnail"])
def test_a_link_never_reaches_another_workspaces_post(
    client: Any, workspace: Any, other_workspace: Any, name: str
) -> None:
    foreign = in_review(other_workspace)
    link = link_for(workspace)
    url = review_url(link, name, foreign)
    response = client.post(url, {"action": "approve"}) if name == "decide" else client.get(url)
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == PostStatus.IN_REVIEW


def test_expired_revoked_and_tampered_links_are_refused(client: Any, workspace: Any) -> None:
    post = in_review(workspace, caption="Secret caption")
    expired = link_for(workspace, days=-1)
    revoked = link_for(workspace, revoked=True)
    good = link_for(workspace)
    token = review_link_token(good)
    for url, status in [
        (review_url(expired), 410),
        (review_url(revoked), 404),
        (reverse("review:page", kwargs={"token": token[:-2] + "xx"}), 404),
        (reverse("review:page", kwargs={"token": "not-a-token"}), 404),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        assert b"Secret caption" not in response.content
    for link in (expired, revoked):
        response = client.post(review_url(link, "decide", post), {"action": "approve"})
        assert response.status_code in (404, 410)
        assert client.get(review_url(link, "media", post)).status_code == 404
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_a_token_signed_for_another_workspace_id_is_refused(
    client: Any, workspace: Any, other_workspace: Any
) -> None:
    """Swapping the workspace inside the token breaks the signature."""
    from django.core import signing

    link = link_for(workspace)
    forged = signing.Signer(salt="wrong-salt").sign_object(
        {"l": str(link.id), "w": str(other_workspace.id)}
    )
    assert client.get(reverse("review:page", kwargs={"token": forged})).status_code == 404


# --- pages -------------------------------------------------------------------------------------


def test_queue_page_switches_approvals_and_creates_links(
    client_for: Any, owner: Any, editor: Any, workspace: Any
) -> None:
    url = reverse("approvals:queue", args=[workspace.id])
    editor_client = client_for(editor)
    assert editor_client.get(url).status_code == 200
    editor_client.post(url, {"form": "settings", "approval_required": "on"})
    workspace.refresh_from_db()
    assert not workspace.approval_required
    c = client_for(owner)
    assert c.post(url, {"form": "settings", "approval_required": "on"}).status_code == 302
    workspace.refresh_from_db()
    assert workspace.approval_required
    assert c.post(url, {"form": "link", "name": "", "days": "7"}).status_code == 400
    assert c.post(url, {"form": "link", "name": "Maria", "days": "7"}).status_code == 302
    link = ReviewLink.objects.for_workspace(workspace).get()
    page = c.get(url).content.decode()
    assert review_link_token(link) in page
    revoke = reverse("approvals:link_revoke", args=[workspace.id, link.id])
    assert client_for(editor).post(revoke).status_code == 403
    c.post(revoke)
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_post_page_approve_request_changes_comment_and_versions(
    client_for: Any, owner: Any, editor: Any, workspace: Any
) -> None:
    post = in_review(workspace, created_by=editor)
    c = client_for(owner)
    detail = reverse("calendar_app:post_detail", args=[workspace.id, post.id])
    page = c.get(detail).content.decode()
    assert 'data-testid="approve"' in page
    assert 'data-testid="approve"' not in client_for(editor).get(detail).content.decode()
    # Editors cannot approve, outsiders cannot see.
    approve = reverse("approvals:post_approve", args=[workspace.id, post.id])
    assert client_for(editor).post(approve).status_code == 403
    c.post(
        reverse("approvals:post_comment", args=[workspace.id, post.id]),
        {"body": "Nice hook in the first second"},
    )
    assert "Nice hook in the first second" in c.get(detail).content.decode()
    c.post(
        reverse("approvals:post_request_changes", args=[workspace.id, post.id]), {"body": "Shorter"}
    )
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    versions = c.get(reverse("approvals:post_versions", args=[workspace.id, post.id]))
    assert versions.status_code == 200


def test_a_resent_comment_form_posts_one_comment(
    client_for: Any, owner: Any, workspace: Any
) -> None:
    post = in_review(workspace)
    c = client_for(owner)
    detail = reverse("calendar_app:post_detail", args=[workspace.id, post.id])
    assert 'name="form_token"' in c.get(detail).content.decode().split("comment-body")[0]
    url = reverse("approvals:post_comment", args=[workspace.id, post.id])
    first = c.post(url, {"body": "Use the blue cover", "form_token": "tok-1"})
    # The same form sent again, its text edited in between: still the first click's answer.
    again = c.post(url, {"body": "Use the blue cover!", "form_token": "tok-1"})
    assert first.status_code == again.status_code == 302
    assert again["Idempotent-Replayed"] == "true"
    assert list(
        PostComment.objects.unscoped().filter(post=post).values_list("body", flat=True)
    ) == ["Use the blue cover"]


def test_activity_page_lists_entries(client_for: Any, owner: Any, workspace: Any) -> None:
    post = in_review(workspace)
    ActivityEntry.objects.create(
        workspace=workspace,
        actor=owner,
        actor_name="Olivia",
        verb="approved",
        post=post,
        subject="@acme · hello",
    )
    url = reverse("approvals:activity", args=[workspace.id])
    body = client_for(owner).get(url).content.decode()
    assert "Olivia" in body and "approved" in body
    assert client_for(owner).get(url + "?verb=deleted").content.decode().count("Olivia") == 0
    assert client_for(owner).get(url + "?page=999&verb=nonsense").status_code == 200


# --- API ---------------------------------------------------------------------------------------


def test_api_approve_with_idempotency_key(
    api_client_for: Any, owner: Any, editor: Any, workspace: Any
) -> None:
    post = in_review(workspace)
    url = reverse("approvals:api_post_approve", args=[workspace.id, post.id])
    assert api_client_for(editor).post(url, {}, format="json").status_code == 403
    api = api_client_for(owner)
    first = api.post(url, {"note": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200
    assert first.json()["status"] == "scheduled"
    replay = api.post(url, {"note": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    conflict = api.post(url, {}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "post_not_in_review"


def test_api_request_changes_comments_versions_activity(
    api_client_for: Any, owner: Any, viewer: Any, workspace: Any
) -> None:
    post = in_review(workspace)
    api = api_client_for(owner)
    base = [workspace.id, post.id]
    bad = api.post(reverse("approvals:api_post_request_changes", args=base), {}, format="json")
    assert bad.status_code == 400
    ok = api.post(
        reverse("approvals:api_post_request_changes", args=base), {"body": "Fix"}, format="json"
    )
    assert ok.json()["status"] == "draft"
    created = api.post(
        reverse("approvals:api_post_comments", args=base), {"body": "Noted"}, format="json"
    )
    assert created.status_code == 201
    listed = api_client_for(viewer).get(reverse("approvals:api_post_comments", args=base))
    assert [c["body"] for c in listed.json()] == ["Fix", "Noted"]
    assert (
        api_client_for(viewer)
        .post(reverse("approvals:api_post_comments", args=base), {"body": "x"}, format="json")
        .status_code
        == 403
    )
    assert api.get(reverse("approvals:api_post_versions", args=base)).status_code == 200
    activity = api.get(reverse("approvals:api_activity", args=[workspace.id]))
    assert [e["verb"] for e in activity.json()["results"]][:2] == ["commented", "changes_requested"]
    assert (
        api.get(reverse("approvals:api_activity", args=[workspace.id]) + "?post=nope").status_code
        == 400
    )


def test_api_settings_and_review_links(
    api_client_for: Any, owner: Any, editor: Any, workspace: Any
) -> None:
    settings_url = reverse("approvals:api_settings", args=[workspace.id])
    scheduled = PostFactory.create(
        workspace=workspace, scheduled_at=timezone.now() + timedelta(days=1)
    )
    assert (
        api_client_for(editor)
        .put(settings_url, {"approval_required": True}, format="json")
        .status_code
        == 403
    )
    put = api_client_for(owner).put(settings_url, {"approval_required": True}, format="json")
    assert put.json() == {"approval_required": True, "sent_to_review": 1}
    scheduled.refresh_from_db()
    assert scheduled.status == PostStatus.IN_REVIEW
    links_url = reverse("approvals:api_review_links", args=[workspace.id])
    assert api_client_for(editor).get(links_url).status_code == 403
    made = api_client_for(owner).post(
        links_url, {"name": "Maria", "days": 5}, format="json", HTTP_IDEMPOTENCY_KEY="link-1"
    )
    assert made.status_code == 201
    again = api_client_for(owner).post(
        links_url, {"name": "Maria", "days": 5}, format="json", HTTP_IDEMPOTENCY_KEY="link-1"
    )
    assert again.json()["id"] == made.json()["id"]
    assert ReviewLink.objects.for_workspace(workspace).count() == 1
    assert "/review/" in made.json()["url"]
    detail = reverse("approvals:api_review_link", args=[workspace.id, made.json()["id"]])
    assert api_client_for(owner).delete(detail).status_code == 204
    assert api_client_for(owner).get(detail).json()["active"] is False

"""Journey 3: a viewer sees the calendar, a post, the conversations and the analytics, is
offered no control that changes anything, and every write sent straight to the server with a
valid CSRF token is refused with 403 without changing the database or reaching TikTok."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import AccountStatus, Membership, TikTokAccount, User, Workspace
from calendar_app.models import MediaAsset, Post
from conversations.models import Comment
from tests.e2e.conftest import E2ESim
from tests.e2e.helpers import seed_client, sim_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDIT_CONTROLS = [
    '[data-testid="new-post"]',
    ".cal-post[draggable=true]",
    '[data-testid="edit"]',
    '[data-testid="delete"]',
    '[data-testid="retry"]',
    '[data-testid="cancel"]',
    '[data-testid="upload-form"]',
    ".cv-actions",
    "[data-action=reply]",
    "form[data-reply-form]",
    "input[data-select]",
]


def _state(workspace: Workspace) -> dict[str, Any]:
    """Everything a refused write could have touched."""
    return {
        "posts": sorted(
            Post.objects.for_workspace(workspace).values_list(
                "id", "status", "scheduled_at", "caption", "updated_at"
            )
        ),
        "comments": sorted(
            Comment.objects.for_workspace(workspace).values_list(
                "id", "is_hidden", "liked", "read_at", "handled_at", "updated_at"
            )
        ),
        "media": sorted(MediaAsset.objects.for_workspace(workspace).values_list("id", flat=True)),
        "accounts": sorted(
            TikTokAccount.objects.for_workspace(workspace).values_list("id", "status", "updated_at")
        ),
        "members": sorted(
            Membership.objects.for_workspace(workspace).values_list("id", "role", "updated_at")
        ),
        "workspace": Workspace.objects.filter(pk=workspace.pk).values_list("name", "time_zone")[0],
    }


def test_viewer_sees_everything_and_changes_nothing(
    e2e_sim: E2ESim,
    live_server: Any,
    open_page: Any,
    media_root: str,
    workspace: Workspace,
    viewer: User,
) -> None:
    account = sim_account(e2e_sim.app, workspace, "sim-cafe-business", color="#2e90fa")
    seeded = seed_client(workspace, account, label="Acme")
    scheduled, published, comment = seeded["scheduled"], seeded["published"], seeded["comment"]
    ws = workspace.id
    page = open_page(viewer)
    base = live_server.url

    # --- What the viewer sees, and the controls they are not offered.
    seen = [
        (
            reverse("calendar_app:calendar", args=[ws]) + f"?date={scheduled.scheduled_local[:10]}",
            f'[data-testid="post-{scheduled.id}"]',
        ),
        (reverse("calendar_app:post_detail", args=[ws, scheduled.id]), '[data-testid="status"]'),
        (
            reverse("calendar_app:post_detail", args=[ws, published.id]),
            '[data-testid="publishing-timeline"]',
        ),
        (reverse("calendar_app:media", args=[ws]), '[data-testid="media-grid"]'),
        (reverse("conversations:inbox", args=[ws]), f"#c-{comment.id}"),
        (reverse("conversations:post", args=[ws, seeded["video"].id]), f"#c-{comment.id}"),
        (reverse("conversations:person", args=[ws, comment.person_ref]), f"#c-{comment.id}"),
        (reverse("analytics:overview", args=[ws]), '[data-testid="card-video_views"]'),
        (reverse("analytics:video", args=[ws, seeded["video"].id]), '[data-testid="velocity"]'),
    ]
    for path, content in seen:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        assert page.locator(content).first.is_visible(), (path, content)
        assert page.get_by_test_id("viewer-banner").is_visible(), path
        for control in EDIT_CONTROLS:
            assert page.locator(control).count() == 0, (path, control)
    page.goto(base + reverse("accounts:tiktok_accounts", args=[ws]))
    assert page.get_by_test_id("connect-tiktok").is_disabled()

    # --- Writes sent directly, with the CSRF token the pages hand out: all refused.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    before = _state(workspace)
    sim_requests = e2e_sim.total_requests()
    day = scheduled.scheduled_local[:10]
    form_posts: list[tuple[str, dict[str, Any]]] = [
        (reverse("calendar_app:post_reschedule", args=[ws, scheduled.id]), {"date": day}),
        (reverse("calendar_app:post_delete", args=[ws, scheduled.id]), {}),
        (reverse("calendar_app:post_edit", args=[ws, scheduled.id]), {"caption": "hijacked"}),
        (
            reverse("calendar_app:post_create", args=[ws]),
            {"accounts": str(account.id), "caption": "sneaky", "action": "draft"},
        ),
        (reverse("publishing:post_cancel", args=[ws, scheduled.id]), {}),
        (reverse("calendar_app:media_delete", args=[ws, scheduled.media_id]), {}),
        (reverse("conversations:comment_hide", args=[ws, comment.id]), {}),
        (reverse("conversations:comment_like", args=[ws, comment.id]), {}),
        (reverse("conversations:comment_handled", args=[ws, comment.id]), {}),
        (reverse("conversations:reply", args=[ws, comment.id]), {"text": "not allowed"}),
        (reverse("conversations:bulk", args=[ws]), {"ids": str(comment.id), "action": "hide"}),
        (reverse("accounts:tiktok_connect", args=[ws]), {}),
        (reverse("accounts:tiktok_disconnect", args=[ws, account.id]), {}),
        (reverse("accounts:workspace_settings", args=[ws]), {"name": "Mine now"}),
        (
            reverse("accounts:member_invite", args=[ws]),
            {"email": "friend@example.com", "role": "owner"},
        ),
    ]
    headers = {"X-CSRFToken": csrf}
    for path, data in form_posts:
        response = page.request.post(
            base + path, form={**data, "csrfmiddlewaretoken": csrf}, headers=headers
        )
        assert response.status == 403, (path, response.status)
        # Refused for the role, not for the token.
        assert "CSRF check failed" not in response.text(), path
    upload = page.request.post(
        base + reverse("calendar_app:media", args=[ws]),
        multipart={
            "csrfmiddlewaretoken": csrf,
            "file": {"name": "x.mp4", "mimeType": "video/mp4", "buffer": b"\x00" * 64},
        },
        headers=headers,
    )
    assert upload.status == 403
    api_writes: list[tuple[str, str, dict[str, Any]]] = [
        ("post", reverse("calendar_app:api_posts", args=[ws]), {"caption": "api"}),
        ("patch", reverse("calendar_app:api_post", args=[ws, scheduled.id]), {"caption": "x"}),
        ("delete", reverse("calendar_app:api_post", args=[ws, scheduled.id]), {}),
        ("post", reverse("conversations:api_comment_hide", args=[ws, comment.id]), {}),
        ("post", reverse("conversations:api_comment_reply", args=[ws, comment.id]), {"text": "x"}),
    ]
    for method, path, body in api_writes:
        response = page.request.fetch(
            base + path,
            method=method.upper(),
            data=json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status == 403, (method, path, response.status)

    assert _state(workspace) == before
    assert e2e_sim.total_requests() == sim_requests
    assert not e2e_sim.state.comments or all(
        c.status != "HIDDEN" for c in e2e_sim.state.comments.values()
    )
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED
    # Still readable afterwards: nothing was deleted behind the viewer's back.
    response = page.goto(base + reverse("calendar_app:post_detail", args=[ws, scheduled.id]))
    assert response is not None and response.status == 200
    assert scheduled.caption in page.get_by_test_id("caption").inner_text()

    # Control: the same kind of request from an editor goes through, so the 403s above are
    # the role check and not an artefact of how the requests were sent.
    editor_page = open_page(Membership.objects.for_workspace(workspace).get(role="editor").user)
    editor_page.goto(base + reverse("conversations:inbox", args=[ws]))
    token = next(c["value"] for c in editor_page.context.cookies() if c["name"] == "csrftoken")
    response = editor_page.request.post(
        base + reverse("conversations:comment_handled", args=[ws, comment.id]),
        form={"csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token},
    )
    assert response.ok, response.status
    comment.refresh_from_db()
    assert comment.handled_at is not None

"""The first-run checklist: it ticks itself off from the workspace's data and then goes away."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Invitation, Role
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.factories import MembershipFactory, TikTokAccountFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _steps(client: Any, ws: Any) -> dict[str, bool] | None:
    response = client.get(reverse("calendar_app:calendar", args=[ws.id]))
    # Built lazily (the page body may be served from the fragment cache): falsy when hidden.
    checklist = response.context["checklist"]
    return {s.key: s.done for s in checklist} if checklist else None


def test_checklist_ticks_itself_off_and_goes_away(client_for: Any) -> None:
    owner = UserFactory.create()
    ws = WorkspaceFactory.create()
    MembershipFactory.create(workspace=ws, user=owner, role=Role.OWNER)
    client = client_for(owner)
    assert _steps(client, ws) == dict.fromkeys(["connect", "upload", "schedule", "invite"], False)
    assert (
        'data-testid="checklist"'
        in client.get(reverse("calendar_app:calendar", args=[ws.id])).content.decode()
    )
    account = TikTokAccountFactory.create(workspace=ws)
    media = MediaAssetFactory.create(workspace=ws)
    assert _steps(client, ws) == {
        "connect": True,
        "upload": True,
        "schedule": False,
        "invite": False,
    }
    PostFactory.create(workspace=ws, account=account, media=media, status="draft")
    assert _steps(client, ws)["schedule"] is False  # type: ignore[index]
    PostFactory.create(workspace=ws, account=account, media=media, status="scheduled")
    assert _steps(client, ws)["schedule"] is True  # type: ignore[index]
    Invitation.objects.create(
        workspace=ws, email="x@example.com", token="t", expires_at=media.created_at
    )
    assert _steps(client, ws) is None
    ws.refresh_from_db()
    assert ws.checklist_done_at is not None
    # Gone for good, even if the data changes afterwards.
    Invitation.objects.for_workspace(ws).delete()
    assert _steps(client, ws) is None


def test_checklist_can_be_dismissed_by_editors(
    client_for: Any, workspace: Any, viewer: Any, editor: Any
) -> None:
    url = reverse("calendar_app:checklist_dismiss", args=[workspace.id])
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(editor).post(url).status_code == 302
    workspace.refresh_from_db()
    assert workspace.checklist_done_at is not None

"""Personal API tokens: the API's credential (no passwords), hashed, scoped, expiring."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Role, User, Workspace
from accounts.token_services import api_token_create, token_digest
from tests.factories import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _token(
    user: User, workspaces: list[Workspace], access: str = "read_write", days: int = 30
) -> str:
    return api_token_create(
        user=user,
        name="script",
        access=access,
        workspace_ids=[ws.id for ws in workspaces],
        lifetime_days=days,
    ).secret


def _api(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_a_token_reaches_only_its_workspaces(owner: User, workspace: Workspace) -> None:
    second = WorkspaceFactory.create(name="Second")
    MembershipFactory.create(workspace=second, user=owner, role=Role.OWNER)
    client = _api(_token(owner, [workspace]))
    assert client.get(f"/api/v1/w/{workspace.id}/").status_code == 200
    # Another of the user's own workspaces is as invisible as a stranger's.
    assert client.get(f"/api/v1/w/{second.id}/").status_code == 404
    listed = client.get("/api/v1/workspaces/").json()
    assert [w["id"] for w in listed] == [str(workspace.id)]


def test_a_read_only_token_cannot_write(owner: User, workspace: Workspace) -> None:
    client = _api(_token(owner, [workspace], access="read"))
    assert client.get(f"/api/v1/w/{workspace.id}/posts/").status_code == 200
    response = client.patch(
        f"/api/v1/w/{workspace.id}/", {"name": "Nope"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"
    workspace.refresh_from_db()
    assert workspace.name != "Nope"


def test_the_users_role_still_applies_to_a_read_write_token(
    viewer: User, workspace: Workspace
) -> None:
    client = _api(_token(viewer, [workspace]))
    response = client.patch(
        f"/api/v1/w/{workspace.id}/", {"name": "Nope"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_required"


def test_expired_revoked_unknown_and_malformed_tokens_are_401(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    url = f"/api/v1/w/{workspace.id}/"
    secret = _token(owner, [workspace], days=7)
    assert _api(secret).get(url).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert _api(secret).get(url).status_code == 401
    token = ApiToken.objects.get(digest=token_digest(secret))
    client_for(owner).post(reverse("accounts:api_token_revoke", args=[token.id]))
    response = _api(secret).get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "authentication_failed"
    for header in ("Bearer lft_nope", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"):
        assert Client(headers={"Authorization": header}).get(url).status_code == 401, header


def test_another_users_token_cannot_be_revoked(
    owner: User, editor: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    secret = _token(owner, [workspace])
    token = ApiToken.objects.get(digest=token_digest(secret))
    client_for(editor).post(reverse("accounts:api_token_revoke", args=[token.id]))
    assert _api(secret).get(f"/api/v1/w/{workspace.id}/").status_code == 200


def test_last_used_is_recorded(owner: User, workspace: Workspace) -> None:
    secret = _token(owner, [workspace])
    token = ApiToken.objects.get(digest=token_digest(secret))
    assert token.last_used_at is None
    _api(secret).get(f"/api/v1/w/{workspace.id}/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_cannot_cover_a_workspace_its_user_is_not_in(
    owner: User, other_workspace: Workspace, workspace: Workspace
) -> None:
    from later.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        _token(owner, [workspace, other_workspace])
    assert not ApiToken.objects.exists()


def test_settings_page_creates_a_token_shown_once_and_stores_only_its_digest(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    page = client.get(reverse("accounts:api_tokens"))
    assert page.status_code == 200 and b"Create a token" in page.content
    created = client.post(
        reverse("accounts:api_tokens"),
        {
            "name": "Reporting",
            "workspaces": [str(workspace.id)],
            "access": "read",
            "lifetime_days": "30",
        },
    )
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    secret = re.search(
        rb'data-testid="token-secret"[^>]*?value="(lft_[^"]+)"|value="(lft_[^"]+)"', created.content
    )
    assert secret is not None
    value = (secret.group(1) or secret.group(2)).decode()
    token = ApiToken.objects.get()
    assert token.digest == token_digest(value) and value not in (token.digest, token.prefix)
    assert token.access == "read" and list(token.workspaces.all()) == [workspace]
    # Shown once: the list page afterwards has the prefix only.
    again = client.get(reverse("accounts:api_tokens"))
    assert value.encode() not in again.content and token.prefix.encode() in again.content
    assert _api(value).get(f"/api/v1/w/{workspace.id}/").status_code == 200


def test_settings_page_refuses_a_token_without_workspaces(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).post(
        reverse("accounts:api_tokens"),
        {"name": "x", "access": "read", "lifetime_days": "30"},
    )
    assert response.status_code == 400
    assert b"Choose at least one workspace" in response.content
    assert not ApiToken.objects.exists()


def test_the_schema_documents_tokens_and_no_passwords(client: Client) -> None:
    schema = client.get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"]["scheme"] == "bearer"
    assert "basicAuth" not in schemes

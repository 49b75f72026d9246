"""Workspaces, memberships, roles and invitations: services, HTML views and API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Invitation, Membership, Role, User, Workspace
from later.errors import Conflict, NotFound, RoleRequired, ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _membership(ws: Workspace, user: User) -> Membership:
    return Membership.objects.for_workspace(ws).get(user=user)


def test_workspace_create_makes_creator_owner(owner: User) -> None:
    ws = services.workspace_create(owner=owner, name="  Bean Bar ", time_zone="Asia/Tokyo")
    assert ws.name == "Bean Bar"
    assert ws.time_zone == "Asia/Tokyo"
    assert _membership(ws, owner).role == Role.OWNER


@pytest.mark.parametrize(
    ("name", "tz", "field"),
    [("", "UTC", "name"), ("x" * 121, "UTC", "name"), ("Ok", "Mars/Olympus", "time_zone")],
)
def test_workspace_create_rejects_bad_input(owner: User, name: str, tz: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.workspace_create(owner=owner, name=name, time_zone=tz)
    assert field in exc.value.details
    assert not Workspace.objects.exists()


def test_agency_user_belongs_to_many_workspaces_and_switches(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    second = services.workspace_create(owner=owner, name="Second Client", time_zone="UTC")
    client = client_for(owner)
    page = client.get(reverse("accounts:members", args=[second.id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Acme Client" in body and "Second Client" in body  # the switcher lists both
    # Home remembers the workspace last visited.
    assert client.get("/")["Location"] == reverse("accounts:workspace_home", args=[second.id])
    client.get(reverse("accounts:members", args=[workspace.id]))
    assert client.get("/")["Location"] == reverse("accounts:workspace_home", args=[workspace.id])
    client.get(reverse("accounts:members", args=[second.id]))


def test_sign_in_lands_in_the_workspace_opened_last_and_never_in_a_lost_one(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    # "Acme Client" sorts before "Zebra Client"; the person last worked in Zebra.
    zebra = services.workspace_create(owner=owner, name="Zebra Client", time_zone="UTC")
    first = client_for(owner)
    first.get(reverse("accounts:members", args=[zebra.id]))
    owner.refresh_from_db()
    assert owner.last_workspace_id == zebra.id

    later_session = client_for(owner)  # a new sign-in: a fresh session
    assert later_session.get("/")["Location"] == reverse("accounts:workspace_home", args=[zebra.id])

    # Removed from it (here: it is deleted): the next sign-in lands where the person still is.
    zebra.delete()
    assert client_for(owner).get("/")["Location"] == reverse(
        "accounts:workspace_home", args=[workspace.id]
    )


def test_last_owner_cannot_be_demoted_or_removed(owner: User, workspace: Workspace) -> None:
    actor = _membership(workspace, owner)
    with pytest.raises(Conflict):
        services.membership_change_role(
            workspace=workspace, actor=actor, membership_id=actor.id, role=Role.ADMIN
        )
    with pytest.raises(Conflict):
        services.membership_remove(workspace=workspace, actor=actor, membership_id=actor.id)


def test_admin_cannot_promote_to_owner(owner: User, editor: User, workspace: Workspace) -> None:
    admin_user = UserFactory.create()
    Membership.objects.create(workspace=workspace, user=admin_user, role=Role.ADMIN)
    actor = _membership(workspace, admin_user)
    target = _membership(workspace, editor)
    with pytest.raises(RoleRequired):
        services.membership_change_role(
            workspace=workspace, actor=actor, membership_id=target.id, role=Role.OWNER
        )
    services.membership_change_role(
        workspace=workspace, actor=actor, membership_id=target.id, role=Role.VIEWER
    )
    assert _membership(workspace, editor).role == Role.VIEWER


def test_role_change_on_foreign_membership_is_not_found(
    owner: User, workspace: Workspace, other_workspace: Workspace, outsider: User
) -> None:
    foreign = _membership(other_workspace, outsider)
    with pytest.raises(NotFound):
        services.membership_change_role(
            workspace=workspace,
            actor=_membership(workspace, owner),
            membership_id=foreign.id,
            role=Role.VIEWER,
        )
    assert _membership(other_workspace, outsider).role == Role.OWNER


def test_invitation_flow_by_email(
    owner: User,
    workspace: Workspace,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            reverse("accounts:member_invite", args=[workspace.id]),
            {"email": "New.Person@Example.com", "role": "viewer"},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.for_workspace(workspace).get()
    assert invitation.email == "new.person@example.com"
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body

    newcomer = UserFactory.create(email="new.person@example.com")
    client = client_for(newcomer)
    accept_url = reverse("accounts:invitation_accept", args=[invitation.token])
    assert client.get(accept_url).status_code == 200
    assert client.post(accept_url).status_code == 302
    assert _membership(workspace, newcomer).role == Role.VIEWER
    # Single use.
    assert client.post(accept_url).status_code == 404


def test_a_refused_invitation_keeps_what_was_typed(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    # The form has no browser validation (novalidate): the server is the one to refuse.
    response = client_for(owner).post(
        reverse("accounts:member_invite", args=[workspace.id]),
        {"email": "maria@acme", "role": "admin"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid e-mail address." in body
    assert 'value="maria@acme"' in body
    assert '<option value="admin" selected>' in body
    assert not Invitation.objects.for_workspace(workspace).exists()
    # A forged role is not echoed back as a choice: the form falls back to Editor.
    forged = client_for(owner).post(
        reverse("accounts:member_invite", args=[workspace.id]),
        {"email": "maria@acme", "role": "superuser"},
    )
    assert forged.status_code == 400
    assert '<option value="editor" selected>' in forged.content.decode()


def test_invitation_for_another_address_cannot_be_used(owner: User, workspace: Workspace) -> None:
    inv = services.invitation_create(
        workspace=workspace, actor=_membership(workspace, owner), email="a@example.com"
    )
    intruder = UserFactory.create(email="b@example.com")
    with pytest.raises(NotFound):
        services.invitation_accept(token=inv.token, user=intruder)
    assert not Membership.objects.for_workspace(workspace).filter(user=intruder).exists()


def test_editor_cannot_invite(editor: User, workspace: Workspace, client_for: Callable) -> None:
    response = client_for(editor).post(
        reverse("accounts:member_invite", args=[workspace.id]), {"email": "x@example.com"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.for_workspace(workspace).exists()


def test_viewer_cannot_change_anything(
    viewer: User, workspace: Workspace, client_for: Callable
) -> None:
    client = client_for(viewer)
    response = client.post(
        reverse("accounts:workspace_settings", args=[workspace.id]),
        {"name": "Hijacked", "time_zone": "UTC"},
    )
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Acme Client"
    page = client.get(reverse("accounts:workspace_settings", args=[workspace.id]))
    assert b"view-only access" in page.content


def test_settings_keep_input_on_error(
    owner: User, workspace: Workspace, client_for: Callable
) -> None:
    response = client_for(owner).post(
        reverse("accounts:workspace_settings", args=[workspace.id]),
        {"name": "Renamed", "time_zone": "Not/AZone"},
    )
    assert response.status_code == 400
    assert b'value="Renamed"' in response.content
    assert "is not an IANA time zone" in response.content.decode()


def test_api_lists_only_my_workspaces(
    owner: User, workspace: Workspace, other_workspace: Workspace, api_client_for: Callable
) -> None:
    data = api_client_for(owner).get("/api/v1/workspaces/").json()
    assert [w["name"] for w in data] == ["Acme Client"]
    assert data[0]["role"] == "owner"


def test_api_foreign_workspace_is_404_with_error_shape(
    owner: User, other_workspace: Workspace, api_client_for: Callable[[User], APIClient]
) -> None:
    response = api_client_for(owner).get(f"/api/v1/w/{other_workspace.id}/members/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Workspace not found."}}


def test_api_viewer_cannot_invite(
    viewer: User, workspace: Workspace, api_client_for: Callable
) -> None:
    response = api_client_for(viewer).post(
        f"/api/v1/w/{workspace.id}/invitations/", {"email": "z@example.com"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_required"


def test_api_invalid_time_zone_is_a_clear_400(owner: User, api_client_for: Callable) -> None:
    response = api_client_for(owner).post(
        "/api/v1/workspaces/", {"name": "X", "time_zone": "Moon/Base"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    assert "IANA" in body["message"]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("accounts:members", "Members · Acme Client"),
        ("accounts:workspace_settings", "Settings · Acme Client"),
        ("accounts:workspace_create", "New workspace · Later for TikTok"),
    ],
)
def test_a_workspace_page_names_itself_in_the_browser_tab(
    owner: User, workspace: Workspace, client_for: Callable, name: str, title: str
) -> None:
    # Members and Settings were both titled "Acme Client · Later for TikTok".
    args = [] if name == "accounts:workspace_create" else [workspace.id]
    page = client_for(owner).get(reverse(name, args=args))
    assert f"<title>{title}</title>".encode() in page.content

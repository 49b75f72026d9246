"""Every create action acts once: API `Idempotency-Key` (Stripe's semantics) and form tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, User, Workspace
from accounts.token_services import api_token_create
from later.models import IdempotencyRecord
from later.tasks import purge_idempotency_records

pytestmark = pytest.mark.django_db


def _api(user: User, workspaces: list[Workspace]) -> Client:
    secret = api_token_create(
        user=user,
        name="t",
        access="read_write",
        workspace_ids=[w.id for w in workspaces],
        lifetime_days=7,
    ).secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _invite(client: Client, workspace: Workspace, email: str, key: str | None) -> object:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        reverse("accounts:api_invitations", args=[workspace.pk]),
        json.dumps({"email": email, "role": "editor"}),
        content_type="application/json",
        headers=headers,
    )


def _invitations(workspace: Workspace) -> int:
    return Invitation.objects.for_workspace(workspace).count()


def test_same_key_and_body_replays_the_first_response(owner: User, workspace: Workspace) -> None:
    client = _api(owner, [workspace])
    first = _invite(client, workspace, "a@example.com", "key-1")
    again = _invite(client, workspace, "a@example.com", "key-1")
    assert first.status_code == again.status_code == 201  # type: ignore[attr-defined]
    assert first.json() == again.json()  # type: ignore[attr-defined]
    assert again["Idempotent-Replayed"] == "true"  # type: ignore[index]
    assert _invitations(workspace) == 1


def test_errors_are_replayed_too(owner: User, workspace: Workspace) -> None:
    client = _api(owner, [workspace])
    first = _invite(client, workspace, "not-an-email", "key-bad")
    again = _invite(client, workspace, "not-an-email", "key-bad")
    assert first.status_code == again.status_code == 400  # type: ignore[attr-defined]
    assert first.json() == again.json()  # type: ignore[attr-defined]


def test_same_key_with_another_body_is_422(owner: User, workspace: Workspace) -> None:
    client = _api(owner, [workspace])
    _invite(client, workspace, "a@example.com", "key-2")
    other = _invite(client, workspace, "b@example.com", "key-2")
    assert other.status_code == 422  # type: ignore[attr-defined]
    assert other.json()["error"]["code"] == "idempotency_key_reused"  # type: ignore[attr-defined]
    assert _invitations(workspace) == 1


def test_a_repeat_while_the_first_is_in_flight_is_409(owner: User, workspace: Workspace) -> None:
    client = _api(owner, [workspace])
    _invite(client, workspace, "a@example.com", "key-3")
    IdempotencyRecord.objects.filter(key="key-3").update(completed_at=None)
    response = _invite(client, workspace, "a@example.com", "key-3")
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "idempotency_in_flight"  # type: ignore[attr-defined]


def test_keys_are_per_user_and_per_workspace(
    owner: User, editor: User, workspace: Workspace
) -> None:
    from tests.factories import MembershipFactory, WorkspaceFactory

    second = WorkspaceFactory.create()
    MembershipFactory.create(workspace=second, user=owner, role="owner")
    Membership.objects.for_workspace(workspace).filter(user=editor).update(role="admin")
    mine = _api(owner, [workspace, second])
    assert _invite(mine, workspace, "a@example.com", "shared").status_code == 201  # type: ignore[attr-defined]
    assert _invite(mine, second, "a@example.com", "shared").status_code == 201  # type: ignore[attr-defined]
    theirs = _api(editor, [workspace])
    assert _invite(theirs, workspace, "b@example.com", "shared").status_code == 201  # type: ignore[attr-defined]
    assert _invitations(workspace) == 2 and _invitations(second) == 1


def test_keys_expire_after_24_hours_and_are_purged(owner: User, workspace: Workspace) -> None:
    client = _api(owner, [workspace])
    _invite(client, workspace, "a@example.com", "key-4")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert purge_idempotency_records() == 1
        Invitation.objects.for_workspace(workspace).delete()
        again = _invite(client, workspace, "a@example.com", "key-4")
        assert again.status_code == 201  # type: ignore[attr-defined]
        assert again.get("Idempotent-Replayed") is None  # type: ignore[attr-defined]
    assert _invitations(workspace) == 1


def test_workspace_creation_without_a_workspace_key_is_idempotent(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)  # the browser session works too (DRF enforces CSRF off-test)
    url = reverse("accounts:api_workspaces")
    for _ in range(3):
        response = client.post(
            url, {"name": "Once"}, content_type="application/json", headers={"Idempotency-Key": "w"}
        )
        assert response.status_code == 201
    assert Membership.objects.unscoped().filter(user=owner, workspace__name="Once").count() == 1


def test_a_bad_key_is_400(owner: User, workspace: Workspace) -> None:
    client = _api(owner, [workspace])
    for key in (" ", "x" * 256):
        assert _invite(client, workspace, "a@example.com", key).status_code == 400  # type: ignore[attr-defined]


# --- HTML forms -------------------------------------------------------------------------------


def test_a_resubmitted_form_creates_one_workspace_and_replays_the_redirect(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    form = client.get(reverse("accounts:workspace_create")).content.decode()
    token = form.split('name="form_token" value="')[1].split('"')[0]
    answers = [
        client.post(reverse("accounts:workspace_create"), {"name": "Twice", "form_token": token})
        for _ in range(2)
    ]
    assert answers[0].status_code == answers[1].status_code == 302
    assert answers[0]["Location"] == answers[1]["Location"]
    assert Membership.objects.unscoped().filter(user=owner, workspace__name="Twice").count() == 1


def test_a_failed_form_releases_its_token(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("accounts:workspace_create")
    assert client.post(url, {"name": "", "form_token": "t1"}).status_code == 400
    assert client.post(url, {"name": "Fixed", "form_token": "t1"}).status_code == 302
    assert Membership.objects.unscoped().filter(user=owner, workspace__name="Fixed").count() == 1


def test_invite_form_posted_twice_sends_one_invitation(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("accounts:member_invite", args=[workspace.pk])
    for _ in range(2):
        client.post(url, {"email": "new@example.com", "role": "editor", "form_token": "i1"})
    assert _invitations(workspace) == 1

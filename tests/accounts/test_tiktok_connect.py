"""The connect flow end to end against the simulator: success, every failure, reconnect, roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token
from accounts.models import AccountStatus, AccountType, TikTokAccount, TikTokOAuthState
from tests.accounts.conftest import Sim, callback_path, consent, start_connect

pytestmark = pytest.mark.django_db


def _accounts(workspace: Any) -> list[TikTokAccount]:
    return list(TikTokAccount.objects.for_workspace(workspace))


def test_connect_personal_creator_lands_on_accounts_page(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    response = connect(client, workspace, "sim-ava-public")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:tiktok_accounts", args=[workspace.id])
    (account,) = _accounts(workspace)
    assert account.open_id == "sim-ava-public"
    assert account.username == "ava.creates"
    assert account.display_name == "Ava Creates"
    assert account.avatar_url.startswith(sim.base_url)
    assert account.account_type == AccountType.PERSONAL
    assert account.is_private is False
    assert account.status == AccountStatus.CONNECTED
    assert account.connected_by == owner
    assert "video.publish" in account.scopes
    access = decrypt_token(account.access_token_encrypted)
    assert sim.state.access_tokens[access].open_id == "sim-ava-public"
    assert decrypt_token(account.refresh_token_encrypted).startswith("rft.")
    assert account.access_token_expires_at is not None
    # TikTok's current lifetime is 2 h (Corrections); we store what TikTok said.
    assert account.access_token_expires_at > timezone.now() + timedelta(hours=1)

    page = client.get(response["Location"])
    html = page.content.decode()
    assert "@ava.creates" in html
    assert "Connected" in html
    assert access not in html


def test_connect_business_creator_detects_business_type(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    connect(client_for(owner), workspace, "sim-cafe-business")
    (account,) = _accounts(workspace)
    assert account.account_type == AccountType.BUSINESS
    page = client_for(owner).get(reverse("accounts:tiktok_accounts", args=[workspace.id]))
    html = page.content.decode()
    assert 'data-capability="comments" data-available="true"' in html
    assert 'data-capability="insights" data-available="true"' in html
    assert "Business" in html


def test_personal_account_cannot_read_comments(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    connect(client_for(owner), workspace, "sim-ava-public")
    html = client_for(owner).get(reverse("accounts:tiktok_accounts", args=[workspace.id])).content
    assert b'data-capability="comments" data-available="false"' in html
    assert b'data-capability="publish" data-available="true"' in html


def test_private_account_detected_from_privacy_options(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    connect(client_for(owner), workspace, "sim-ben-private")
    (account,) = _accounts(workspace)
    assert account.is_private is True
    assert account.account_type == AccountType.PERSONAL


def test_denied_consent_stores_nothing(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    response = connect(client_for(owner), workspace, "", cancel=True)
    assert response.status_code == 400
    assert b"cancelled" in response.content
    assert _accounts(workspace) == []


def test_replayed_state_is_refused(sim: Sim, owner: Any, workspace: Any, client_for: Any) -> None:
    client = client_for(owner)
    path = callback_path(consent(sim, start_connect(client, workspace), open_id="sim-ava-public"))
    assert client.get(path).status_code == 302
    (account,) = _accounts(workspace)
    tokens_before = bytes(account.access_token_encrypted)

    replay = client.get(path)
    assert replay.status_code == 400
    assert b"already used" in replay.content
    account.refresh_from_db()
    assert bytes(account.access_token_encrypted) == tokens_before


def test_expired_state_is_refused(sim: Sim, owner: Any, workspace: Any, client_for: Any) -> None:
    client = client_for(owner)
    location = consent(sim, start_connect(client, workspace), open_id="sim-ava-public")
    TikTokOAuthState.objects.for_workspace(workspace).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(callback_path(location))
    assert response.status_code == 400
    assert b"expired" in response.content
    assert _accounts(workspace) == []
    # Nothing was exchanged: the authorization code was never sent to TikTok.
    assert sim.token_calls() == 0


def test_state_from_another_session_is_refused(
    sim: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    location = consent(sim, start_connect(client_for(owner), workspace), open_id="sim-ava-public")
    other_session = client_for(owner)
    response = other_session.get(callback_path(location))
    assert response.status_code == 400
    assert b"another browser session" in response.content
    assert _accounts(workspace) == []


def test_unknown_or_missing_state_is_refused(
    sim: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    location = consent(sim, start_connect(client, workspace), open_id="sim-ava-public")
    tampered = callback_path(location).replace("state=", "state=x")
    assert client.get(tampered).status_code == 400
    assert client.get("/connect/tiktok/callback/?code=abc").status_code == 400
    assert _accounts(workspace) == []


def test_code_used_twice_is_refused(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, other_workspace: Any
) -> None:
    client = client_for(owner)
    location = consent(sim, start_connect(client, workspace), open_id="sim-ava-public")
    assert client.get(callback_path(location)).status_code == 302
    (account,) = _accounts(workspace)
    stored = bytes(account.refresh_token_encrypted)
    code = dict(p.split("=", 1) for p in location.split("?", 1)[1].split("&"))["code"]

    fresh = start_connect(client, workspace)
    state = dict(p.split("=", 1) for p in fresh.split("?", 1)[1].split("&"))["state"]
    response = client.get(f"/connect/tiktok/callback/?code={code}&state={state}")
    assert response.status_code == 400
    assert b"already used" in response.content or b"expired" in response.content
    account.refresh_from_db()
    assert bytes(account.refresh_token_encrypted) == stored
    assert len(_accounts(workspace)) == 1


def test_reconnect_updates_in_place_and_clears_needs_reconnect(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    connect(client, workspace, "sim-ava-public")
    (first,) = _accounts(workspace)
    first.status = AccountStatus.NEEDS_RECONNECT
    first.status_reason = "refused"
    first.save()
    old_access = decrypt_token(first.access_token_encrypted)

    response = connect(client, workspace, "sim-ava-public")
    assert response.status_code == 302
    (again,) = _accounts(workspace)
    assert again.pk == first.pk
    assert again.status == AccountStatus.CONNECTED
    assert again.status_reason == ""
    assert decrypt_token(again.access_token_encrypted) != old_access
    assert decrypt_token(again.refresh_token_encrypted).startswith("rft.")


def test_tokens_are_encrypted_at_rest(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    connect(client_for(owner), workspace, "sim-ava-public")
    (account,) = _accounts(workspace)
    access = decrypt_token(account.access_token_encrypted)
    refresh = decrypt_token(account.refresh_token_encrypted)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(t)::text, encode(access_token_encrypted, 'escape'), "
            "encode(refresh_token_encrypted, 'escape') FROM accounts_tiktokaccount t"
        )
        raw = " ".join(cursor.fetchone())
    assert access not in raw and refresh not in raw
    assert "act." not in raw and "rft." not in raw


@pytest.mark.parametrize("persona", ["editor", "viewer"])
def test_editors_and_viewers_cannot_connect(
    sim: Sim, persona: str, request: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(request.getfixturevalue(persona))
    response = client.post(reverse("accounts:tiktok_connect", args=[workspace.id]))
    assert response.status_code == 403
    assert TikTokOAuthState.objects.for_workspace(workspace).count() == 0
    page = client.get(reverse("accounts:tiktok_accounts", args=[workspace.id]))
    assert page.status_code == 200
    assert b"Only owners and admins can connect" in page.content
    assert b"disabled" in page.content


def test_outsider_gets_404(sim: Sim, outsider: Any, workspace: Any, client_for: Any) -> None:
    client = client_for(outsider)
    assert client.get(reverse("accounts:tiktok_accounts", args=[workspace.id])).status_code == 404
    assert client.post(reverse("accounts:tiktok_connect", args=[workspace.id])).status_code == 404


def test_an_agency_owner_connects_an_account_in_a_client_workspace(
    sim: Sim, client_for: Any, connect: Any
) -> None:
    """The agency's owner reaches its clients through the agency, with no membership row."""
    from accounts import agency_services
    from accounts.models import AgencyMember, Membership
    from tests.factories import UserFactory

    boss = UserFactory.create(email="boss@agency.test")
    agency = agency_services.agency_create(owner=boss, name="Northwind Social")
    actor = AgencyMember.objects.select_related("agency", "user").get(agency=agency, user=boss)
    client_workspace = agency_services.agency_client_create(actor=actor, name="Acme Coffee")
    assert not Membership.objects.for_workspace(client_workspace).filter(user=boss).exists()

    response = connect(client_for(boss), client_workspace, "sim-ava-public")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:tiktok_accounts", args=[client_workspace.id])
    (account,) = _accounts(client_workspace)
    assert account.open_id == "sim-ava-public" and account.connected_by == boss


def test_member_demoted_between_start_and_callback_stores_nothing(
    sim: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    from accounts.models import Membership, Role

    client = client_for(owner)
    location = consent(sim, start_connect(client, workspace), open_id="sim-ava-public")
    Membership.objects.for_workspace(workspace).filter(user=owner).update(role=Role.EDITOR)
    response = client.get(callback_path(location))
    assert response.status_code == 400
    assert _accounts(workspace) == []


def test_unticked_permissions_limit_fields_and_capabilities(
    sim: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    location = consent(
        sim,
        start_connect(client, workspace),
        open_id="sim-ava-public",
        granted=["user.info.basic", "video.list"],
    )
    assert client.get(callback_path(location)).status_code == 302
    (account,) = _accounts(workspace)
    assert sorted(account.scopes) == ["user.info.basic", "video.list"]
    assert account.display_name == "Ava Creates"
    # Only user.info.basic fields were requested, so TikTok never refused the profile call.
    assert account.username == ""
    html = client.get(reverse("accounts:tiktok_accounts", args=[workspace.id])).content
    assert b'data-capability="publish" data-available="false"' in html
    assert b'data-capability="videos" data-available="true"' in html

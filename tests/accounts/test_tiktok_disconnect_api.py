"""Disconnect (HTML and API), the REST mirror, key rotation, and tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import AccountStatus, TikTokAccount
from tests.accounts.conftest import Sim, make_connected_account
from tests.accounts.isolation import FOREIGN_OBJECTS

pytestmark = pytest.mark.django_db

TOKEN_KEYS = ("access_token", "refresh_token", "access_token_encrypted", "refresh_token_encrypted")


def test_disconnect_revokes_at_tiktok_and_deletes_tokens(
    sim: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    from calendar_app.models import Post

    account = make_connected_account(sim, workspace)
    access = decrypt_token(account.access_token_encrypted)
    post = Post.objects.create(workspace=workspace, account=account, status="scheduled")
    client = client_for(owner)

    response = client.post(
        reverse("accounts:tiktok_disconnect", args=[workspace.id, account.id]), follow=True
    )
    assert response.status_code == 200
    assert b"disconnected and its tokens deleted" in response.content
    assert sim.revoke_calls() == 1
    assert sim.state.access_tokens[access].revoked is True
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert bytes(account.access_token_encrypted) == b""
    assert bytes(account.refresh_token_encrypted) == b""
    post.refresh_from_db()
    assert "disconnected" in post.needs_attention
    # The row stays for history, listed apart.
    assert b'data-testid="disconnected-account"' in response.content


def test_disconnect_when_tiktok_fails_still_deletes_tokens(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, settings: Any
) -> None:
    account = make_connected_account(sim, workspace)
    settings.TIKTOK_OPEN_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.TIKTOK_TIMEOUT_SECONDS = 2.0
    response = client_for(owner).post(
        reverse("accounts:tiktok_disconnect", args=[workspace.id, account.id]), follow=True
    )
    assert b"TikTok did not confirm the revocation" in response.content
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert bytes(account.access_token_encrypted) == b""


@pytest.mark.parametrize("persona", ["editor", "viewer"])
def test_editors_and_viewers_cannot_disconnect(
    sim: Sim, persona: str, request: Any, workspace: Any, client_for: Any, api_client_for: Any
) -> None:
    account = make_connected_account(sim, workspace)
    user = request.getfixturevalue(persona)
    url = reverse("accounts:tiktok_disconnect", args=[workspace.id, account.id])
    assert client_for(user).post(url).status_code == 403
    api_url = reverse("accounts:api_tiktok_account", args=[workspace.id, account.id])
    assert api_client_for(user).delete(api_url).status_code == 403
    connect_url = reverse("accounts:api_tiktok_connect", args=[workspace.id])
    assert api_client_for(user).post(connect_url).status_code == 403
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED
    assert sim.revoke_calls() == 0


def test_foreign_account_ids_answer_404(
    sim: Sim, owner: Any, workspace: Any, other_workspace: Any, client_for: Any, api_client_for: Any
) -> None:
    foreign_id = FOREIGN_OBJECTS["account_id"](other_workspace)
    html = client_for(owner)
    api = api_client_for(owner)
    assert (
        html.post(
            reverse("accounts:tiktok_disconnect", args=[workspace.id, foreign_id])
        ).status_code
        == 404
    )
    detail = reverse("accounts:api_tiktok_account", args=[workspace.id, foreign_id])
    assert api.get(detail).status_code == 404
    assert api.delete(detail).status_code == 404
    assert TikTokAccount.objects.for_workspace(other_workspace).get(pk=foreign_id).status == (
        AccountStatus.CONNECTED
    )


def test_outsider_gets_404_from_the_api(
    sim: Sim, outsider: Any, workspace: Any, api_client_for: Any
) -> None:
    account = make_connected_account(sim, workspace)
    api = api_client_for(outsider)
    assert api.get(reverse("accounts:api_tiktok_accounts", args=[workspace.id])).status_code == 404
    detail = reverse("accounts:api_tiktok_account", args=[workspace.id, account.id])
    assert api.get(detail).status_code == 404
    assert api.delete(detail).status_code == 404


def test_api_lists_accounts_without_any_token(
    sim: Sim, viewer: Any, workspace: Any, api_client_for: Any
) -> None:
    account = make_connected_account(sim, workspace)
    access = decrypt_token(account.access_token_encrypted)
    refresh = decrypt_token(account.refresh_token_encrypted)
    response = api_client_for(viewer).get(
        reverse("accounts:api_tiktok_accounts", args=[workspace.id])
    )
    assert response.status_code == 200
    (item,) = response.json()
    assert item["id"] == str(account.id)
    assert item["handle"] == "@ava.creates"
    assert item["health"]["key"] == "connected"
    assert {c["key"] for c in item["capabilities"]} == {
        "publish",
        "drafts",
        "videos",
        "comments",
        "moderation",
        "insights",
        "video_insights",
        "business_publish",
    }
    assert not set(TOKEN_KEYS) & set(item)
    body = json.dumps(response.json())
    assert access not in body and refresh not in body


def test_api_connect_returns_authorize_url(
    sim: Sim, owner: Any, workspace: Any, api_client_for: Any
) -> None:
    response = api_client_for(owner).post(
        reverse("accounts:api_tiktok_connect", args=[workspace.id])
    )
    assert response.status_code == 201
    url = response.json()["authorize_url"]
    assert url.startswith(sim.base_url + "/v2/auth/authorize/?")
    assert "code_challenge_method=S256" in url
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fconnect%2Ftiktok%2Fcallback%2F" in url


def test_api_delete_disconnects(sim: Sim, owner: Any, workspace: Any, api_client_for: Any) -> None:
    account = make_connected_account(sim, workspace)
    response = api_client_for(owner).delete(
        reverse("accounts:api_tiktok_account", args=[workspace.id, account.id])
    )
    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    assert response.json()["revoked_at_tiktok"] is True
    assert sim.revoke_calls() == 1


def test_rotate_token_key_reencrypts_under_the_newest_key(
    sim: Sim, workspace: Any, settings: Any
) -> None:
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    account = make_connected_account(sim, workspace)
    access = decrypt_token(account.access_token_encrypted)
    refresh = decrypt_token(account.refresh_token_encrypted)
    new_key = Fernet.generate_key().decode()

    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_token_key")

    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    account.refresh_from_db()
    assert decrypt_token(account.access_token_encrypted) == access
    assert decrypt_token(account.refresh_token_encrypted) == refresh
    raw = bytes(account.access_token_encrypted)
    assert Fernet(new_key.encode()).decrypt(raw).decode() == access


def test_rotate_token_key_reports_unreadable_tokens(workspace: Any, settings: Any) -> None:
    foreign_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [foreign_key]
    TikTokAccount.objects.create(
        workspace=workspace, open_id="x", access_token_encrypted=encrypt_token("act.secret")
    )
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="no configured key can read"):
        call_command("rotate_token_key")

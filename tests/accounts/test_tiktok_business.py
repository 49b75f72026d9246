"""The one Connect button with two TikTok apps: Login Kit first, then the Business consent.

Against the strict simulator: Business scopes only go to the Business app, Login Kit tokens are
refused by the Business API, open_ids differ per app (fact sheet, Corrections "Two apps").
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token, generate_key
from accounts.models import AccountStatus, AccountType, BusinessStatus, TikTokAccount
from accounts.tiktok.access import (
    BusinessNeedsReconnect,
    get_tiktok_client,
    tiktok_business_call,
    tiktok_business_refresh_token,
)
from tests.accounts.conftest import Sim, callback_path, consent, start_connect
from tests.accounts.race import race
from tests.simulator import account_with_simulator_tokens
from tiktok_client.config import BUSINESS_SCOPES, LOGIN_KIT_SCOPES

pytestmark = pytest.mark.django_db

BUSINESS_TOKEN_PATH = "/open_api/v1.3/tt_user/oauth2/token/"
BUSINESS_REFRESH_PATH = "/open_api/v1.3/tt_user/oauth2/refresh_token/"
BUSINESS_REVOKE_PATH = "/open_api/v1.3/tt_user/oauth2/revoke/"


def _only(workspace: Any) -> TikTokAccount:
    (account,) = TikTokAccount.objects.for_workspace(workspace)
    return account


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_each_app_asks_only_for_its_own_scopes(
    sim: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    login_kit = _query(start_connect(client, workspace))
    assert login_kit["client_key"] == "sim-client-key"
    assert login_kit["disable_auto_auth"] == "1"
    assert set(login_kit["scope"].split(",")) == set(LOGIN_KIT_SCOPES)

    location = consent(sim, start_connect(client, workspace), open_id="sim-ava-public")
    response = client.get(callback_path(location))
    assert response.status_code == 302
    business = _query(response["Location"])
    assert business["client_key"] == "sim-business-app-id"
    assert business["redirect_uri"].endswith("/connect/tiktok/business/callback/")
    assert set(business["scope"].split(",")) == set(BUSINESS_SCOPES)


def test_both_apps_get_the_registered_redirect_url_at_authorize_and_at_token_exchange(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any, settings: Any
) -> None:
    # Corrections: a Business app's redirect URL ends with "/", and TikTok compares the string
    # sent at token exchange with the one at authorize (the simulator refuses any other).
    business_callback = reverse("accounts:tiktok_business_callback")
    assert business_callback.endswith("/") and reverse("accounts:tiktok_callback").endswith("/")
    assert settings.TIKTOK_BUSINESS_REDIRECT_URI.endswith(business_callback)
    response = connect(client_for(owner), workspace, "sim-cafe-business")
    assert response.status_code == 302
    assert _only(workspace).business_status == BusinessStatus.CONNECTED
    codes = {code.client_key: code for code in sim.state.codes.values()}
    login_kit, business = codes["sim-client-key"], codes["sim-business-app-id"]
    assert (login_kit.redirect_uri, login_kit.used) == (settings.TIKTOK_REDIRECT_URI, True)
    assert (business.redirect_uri, business.used) == (settings.TIKTOK_BUSINESS_REDIRECT_URI, True)


def test_business_creator_gets_business_tokens_and_business_id(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    response = connect(client_for(owner), workspace, "sim-cafe-business")
    assert response.status_code == 302
    account = _only(workspace)
    assert account.account_type == AccountType.BUSINESS
    assert account.business_status == BusinessStatus.CONNECTED
    # open_ids are per app: the Business one is the business_id, not the Login Kit open_id.
    assert account.business_id and account.business_id != account.open_id
    business_token = decrypt_token(account.business_access_token_encrypted)
    assert sim.state.access_tokens[business_token].client_key == "sim-business-app-id"
    assert "comment.list" in account.business_scopes
    assert "comment.list" not in account.scopes
    assert sim.app.counters.requests_to(BUSINESS_TOKEN_PATH) == 1
    page = client_for(owner).get(reverse("accounts:tiktok_accounts", args=[workspace.id]))
    html = page.content.decode()
    assert 'data-capability="comments" data-available="true"' in html
    assert 'data-testid="business-health"' in html


def test_personal_creator_stays_connected_and_is_told_what_business_adds(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    response = connect(client, workspace, "sim-ava-public")
    account = _only(workspace)
    assert account.status == AccountStatus.CONNECTED
    assert account.account_type == AccountType.PERSONAL
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "personal TikTok account" in html
    assert 'data-capability="publish" data-available="true"' in html
    assert 'data-capability="comments" data-available="false"' in html
    assert "Needs a TikTok Business account" in html
    assert "comment inbox" in html  # what a Business account would add


def _card_badges(html: str, open_id: str) -> dict[str, str]:
    """The text of each badge (by data-testid) on one account's card of the accounts page."""
    card = html.split(f'data-open-id="{open_id}"', 1)[1].split("</article>", 1)[0]
    return dict(re.findall(r'data-testid="(account-type|business-health)"[^>]*>([^<]*)<', card))


def test_the_badges_say_what_each_account_type_can_do(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    # Fact sheet, "Account types": a Personal account can complete the Business consent, and
    # /business/get/ then answers is_business_account=false; it is no Business account.
    client = client_for(owner)
    connect(client, workspace, "sim-cafe-business")
    connect(client, workspace, "sim-ava-public")
    html = client.get(reverse("accounts:tiktok_accounts", args=[workspace.id])).content.decode()
    assert _card_badges(html, "sim-cafe-business") == {
        "account-type": "Business account",
        "business-health": "Business account: comments and insights",
    }
    assert _card_badges(html, "sim-ava-public") == {
        "account-type": "Personal account",
        "business-health": "Personal account: comments and insights need Business",
    }
    assert 'class="badge badge-limited" data-testid="business-health"' in html
    assert "Business: connected" not in html


def test_without_the_account_type_permission_the_type_is_not_guessed(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    granted = [s for s in BUSINESS_SCOPES if s != "user.account.type"]
    connect(client, workspace, "sim-ava-public", business_granted=granted)
    assert _only(workspace).business_status == BusinessStatus.CONNECTED
    html = client.get(reverse("accounts:tiktok_accounts", args=[workspace.id])).content.decode()
    assert _card_badges(html, "sim-ava-public") == {
        "account-type": "Account type unknown",
        "business-health": "Account type unknown: comments and insights may not work",
    }
    assert "the account type permission was not granted" in html


def test_declined_business_consent_keeps_the_account_for_posting(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    response = connect(client, workspace, "sim-cafe-business", decline_business=True)
    assert response.status_code == 302
    account = _only(workspace)
    assert account.status == AccountStatus.CONNECTED
    assert account.business_status == BusinessStatus.DECLINED
    assert bytes(account.business_access_token_encrypted) == b""
    html = client.get(response["Location"]).content.decode()
    assert "Business permissions were not granted" in html
    assert 'data-capability="publish" data-available="true"' in html
    assert 'data-capability="comments" data-available="false"' in html


def test_business_consent_by_another_tiktok_account_is_not_linked(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    response = connect(client, workspace, "sim-ava-public", business_as="sim-cafe-business")
    account = _only(workspace)
    assert account.business_status == BusinessStatus.DECLINED
    assert account.business_id == ""
    assert "@corner.cafe" in account.business_status_reason
    # The stray Business grant was revoked at TikTok, not kept.
    assert sim.app.counters.requests_to(BUSINESS_REVOKE_PATH) == 1
    html = client.get(response["Location"]).content.decode()
    assert "granted by @corner.cafe" in html


def test_refused_scope_on_login_kit_stores_nothing(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, settings: Any
) -> None:
    # A Business scope asked of the Login Kit app: TikTok refuses the whole request.
    settings.TIKTOK_SCOPES = (*LOGIN_KIT_SCOPES, "comment.list")
    client = client_for(owner)
    authorize = start_connect(client, workspace)
    response = httpx.get(authorize, follow_redirects=False, timeout=10)
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert _query(location)["error"] == "invalid_scope"
    page = client.get(callback_path(location))
    assert page.status_code == 400
    assert b"refused the requested permissions" in page.content
    assert not TikTokAccount.objects.for_workspace(workspace).exists()


def test_unticked_business_permission_is_named(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    client = client_for(owner)
    granted = [s for s in BUSINESS_SCOPES if s != "comment.list"]
    connect(client, workspace, "sim-cafe-business", business_granted=granted)
    account = _only(workspace)
    assert account.business_status == BusinessStatus.CONNECTED
    html = client.get(reverse("accounts:tiktok_accounts", args=[workspace.id])).content.decode()
    assert "Permission “comment.list” not granted" in html


def _expired_business(sim: Sim, workspace: Any) -> TikTokAccount:
    account = account_with_simulator_tokens(
        sim.app,
        workspace,
        open_id="sim-cafe-business",
        scopes=("user.info.basic", "video.publish"),
        account_type=AccountType.BUSINESS,
        business_scopes=BUSINESS_SCOPES,
    )
    account.business_access_token_expires_at = timezone.now() - timedelta(minutes=1)
    account.save(update_fields=["business_access_token_expires_at"])
    return account


@pytest.mark.django_db(transaction=True)
def test_business_refresh_reaches_tiktok_once_under_a_race(sim: Sim, workspace: Any) -> None:
    account = _expired_business(sim, workspace)
    old_refresh = decrypt_token(account.business_refresh_token_encrypted)
    workers = 12
    results, errors = race(
        workers,
        lambda: tiktok_business_refresh_token(
            account=TikTokAccount.objects.for_workspace(workspace).get(pk=account.pk)
        ),
    )

    assert errors == []
    assert len(set(results)) == 1 and len(results) == workers
    assert sim.app.counters.requests_to(BUSINESS_REFRESH_PATH) == 1
    account.refresh_from_db()
    assert account.business_status == BusinessStatus.CONNECTED
    assert decrypt_token(account.business_refresh_token_encrypted) != old_refresh
    assert decrypt_token(account.business_access_token_encrypted) == results[0]


def test_refused_business_refresh_marks_only_the_business_link(
    sim: Sim, workspace: Any, owner: Any
) -> None:
    account = _expired_business(sim, workspace)
    business_id = account.business_id
    with sim.state.lock:
        sim.state.revoke_grant(open_id="sim-cafe-business", client_key="sim-business-app-id")
    with pytest.raises(BusinessNeedsReconnect):
        tiktok_business_call(
            account=account,
            call=lambda token: get_tiktok_client().business_get_account(
                access_token=token, business_id=business_id, fields=["username"]
            ),
        )
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED  # posting is not affected
    assert account.business_status == BusinessStatus.NEEDS_RECONNECT
    from accounts.tiktok.selectors import tiktok_account_business_health

    health = tiktok_account_business_health(account=account)
    assert health is not None and health.key == "needs_reconnect"


def test_disconnect_revokes_both_apps(
    sim: Sim, owner: Any, workspace: Any, client_for: Any, connect: Any
) -> None:
    connect(client_for(owner), workspace, "sim-cafe-business")
    account = _only(workspace)
    client_for(owner).post(reverse("accounts:tiktok_disconnect", args=[workspace.id, account.id]))
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert sim.revoke_calls() == 1
    assert sim.app.counters.requests_to(BUSINESS_REVOKE_PATH) == 1
    assert bytes(account.business_access_token_encrypted) == b""
    assert account.business_status == BusinessStatus.NONE


def test_key_rotation_covers_business_tokens(sim: Sim, workspace: Any, settings: Any) -> None:
    account = _expired_business(sim, workspace)
    business_before = decrypt_token(account.business_refresh_token_encrypted)
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    settings.TOKEN_ENCRYPTION_KEYS = [generate_key(), old_key]
    call_command("rotate_token_key")
    settings.TOKEN_ENCRYPTION_KEYS = settings.TOKEN_ENCRYPTION_KEYS[:1]  # the old key is gone
    account.refresh_from_db()
    assert decrypt_token(account.business_refresh_token_encrypted) == business_before
    assert decrypt_token(account.business_access_token_encrypted).startswith("act.")

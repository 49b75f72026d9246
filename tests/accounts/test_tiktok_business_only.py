"""An installation with only the TikTok API for Business app configured (no Login Kit app).

The one Connect button goes straight to the Business consent; the account is created from
`/business/get/` and holds only a Business token, with comments, insights and Business
publishing; Login Kit features say why they are off. Against the strict simulator, which refuses
Business tokens on Login Kit endpoints (fact sheet, Corrections "Two apps").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token
from accounts.models import (
    AccountStatus,
    AccountType,
    BusinessStatus,
    TikTokAccount,
    TikTokVideo,
)
from accounts.tiktok import LoginKitUnavailable
from accounts.tiktok.access import tiktok_account_call, tiktok_business_refresh_token
from accounts.video_sync import tiktok_videos_sync
from calendar_app.composer import panel_context
from calendar_app.creators import creator_info_fetch
from calendar_app.models import PostMode, PrivacyLevel
from calendar_app.preflight import business_only_refusals
from calendar_app.services import PostContent, PostTarget, post_create
from conversations.models import Comment
from conversations.sync import comment_sync_account
from later.errors import ValidationFailed
from tests.accounts.conftest import Sim, business_callback_path, consent, start_connect
from tests.accounts.race import race
from tests.conversations.conftest import roomy_budget
from tiktok_client.config import BUSINESS_SCOPES
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID

pytestmark = pytest.mark.django_db

BUSINESS_TOKEN_PATH = "/open_api/v1.3/tt_user/oauth2/token/"
BUSINESS_REFRESH_PATH = "/open_api/v1.3/tt_user/oauth2/refresh_token/"
BUSINESS_REVOKE_PATH = "/open_api/v1.3/tt_user/oauth2/revoke/"


@pytest.fixture
def business_only(sim: Sim, settings: Any) -> Sim:
    settings.TIKTOK_CLIENT_KEY = ""
    settings.TIKTOK_CLIENT_SECRET = ""
    return sim


def _accounts(workspace: Any) -> list[TikTokAccount]:
    return list(TikTokAccount.objects.for_workspace(workspace))


def _connect(sim: Sim, client: Any, workspace: Any, creator: str, **kwargs: Any) -> Any:
    location = consent(sim, start_connect(client, workspace), open_id=creator, **kwargs)
    return client.get(business_callback_path(location))


def _accounts_page(client: Any, workspace: Any) -> str:
    return client.get(reverse("accounts:tiktok_accounts", args=[workspace.id])).content.decode()


def test_connect_goes_straight_to_the_business_consent(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    authorize = start_connect(client, workspace)
    query = dict(parse_qsl(urlsplit(authorize).query))
    assert urlsplit(authorize).path == "/v2/auth/authorize/"
    assert query["client_key"] == DEFAULT_BUSINESS_APP_ID
    assert query["redirect_uri"].endswith("/connect/tiktok/business/callback/")
    assert set(query["scope"].split(",")) == set(BUSINESS_SCOPES)
    assert query["state"]
    # The Business token exchange takes no code_verifier, so no PKCE challenge is sent.
    assert "code_challenge" not in query

    response = _connect(business_only, client, workspace, "sim-cafe-business")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:tiktok_accounts", args=[workspace.id])
    (account,) = _accounts(workspace)
    assert account.open_id == ""
    assert account.business_id == business_only.state.open_id_for(
        "sim-cafe-business", DEFAULT_BUSINESS_APP_ID
    )
    assert account.username == "corner.cafe"
    assert account.display_name
    assert account.account_type == AccountType.BUSINESS
    assert account.status == AccountStatus.CONNECTED
    assert account.business_status == BusinessStatus.CONNECTED
    assert account.connected_by == owner
    assert bytes(account.access_token_encrypted) == b""
    business_token = decrypt_token(account.business_access_token_encrypted)
    assert business_only.state.access_tokens[business_token].client_key == DEFAULT_BUSINESS_APP_ID
    assert business_only.app.counters.requests_to(BUSINESS_TOKEN_PATH) == 1
    assert business_only.token_calls() == 0  # the Login Kit token endpoint was never asked

    html = client.get(response["Location"]).content.decode()
    assert "connected through the TikTok API for Business" in html
    for key in ("comments", "moderation", "insights", "business_publish", "videos"):
        assert f'data-capability="{key}" data-available="true"' in html
    for key in ("publish", "drafts"):
        assert f'data-capability="{key}" data-available="false"' in html
    assert 'data-testid="login-kit-note"' in html

    # The API says the same: which TikTok identity the account has in each app, and what it
    # can do.
    api = client.get(reverse("accounts:api_tiktok_account", args=[workspace.id, account.id]))
    body = api.json()
    assert (body["open_id"], body["business_id"]) == ("", account.business_id)
    available = {c["key"]: c["available"] for c in body["capabilities"]}
    assert available["comments"] and available["business_publish"] and not available["drafts"]
    assert "Login Kit app, which this installation has not configured" in html
    assert 'data-testid="no-tiktok-app"' not in html


def test_declined_business_consent_connects_nothing(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    location = consent(business_only, start_connect(client, workspace), cancel=True)
    response = client.get(business_callback_path(location))
    assert response.status_code == 400
    assert b"nothing was connected" in response.content
    assert _accounts(workspace) == []


def test_without_the_username_permission_nothing_is_stored_or_kept(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    granted = [s for s in BUSINESS_SCOPES if s != "user.info.username"]
    response = _connect(
        business_only, client_for(owner), workspace, "sim-cafe-business", granted=granted
    )
    assert response.status_code == 400
    assert b"username permission" in response.content
    assert _accounts(workspace) == []
    assert business_only.app.counters.requests_to(BUSINESS_REVOKE_PATH) == 1


def test_reconnect_updates_the_same_account(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    _connect(business_only, client, workspace, "sim-cafe-business")
    (first,) = _accounts(workspace)
    first.status = AccountStatus.NEEDS_RECONNECT
    first.business_status = BusinessStatus.NEEDS_RECONNECT
    # Put off while it could not sync (conversations.sync's fan-out looks at it daily).
    first.comments_due_at = timezone.now() + timedelta(days=1)
    first.save()
    old_token = decrypt_token(first.business_access_token_encrypted)

    response = _connect(business_only, client, workspace, "sim-cafe-business")
    assert response.status_code == 302
    (again,) = _accounts(workspace)
    assert again.pk == first.pk
    assert again.comments_due_at <= timezone.now()  # its comment sync is due at once
    assert again.status == AccountStatus.CONNECTED
    assert again.business_status == BusinessStatus.CONNECTED
    assert decrypt_token(again.business_access_token_encrypted) != old_token
    assert "reconnected" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
def test_business_token_is_refreshed_exactly_once_under_a_race(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    _connect(business_only, client_for(owner), workspace, "sim-cafe-business")
    (account,) = _accounts(workspace)
    account.business_access_token_expires_at = timezone.now() - timedelta(minutes=1)
    account.save(update_fields=["business_access_token_expires_at"])
    old_refresh = decrypt_token(account.business_refresh_token_encrypted)

    results, errors = race(
        8,
        lambda: tiktok_business_refresh_token(
            account=TikTokAccount.objects.for_workspace(workspace).get(pk=account.pk)
        ),
    )
    assert errors == []
    assert len(set(results)) == 1
    assert business_only.app.counters.requests_to(BUSINESS_REFRESH_PATH) == 1
    account.refresh_from_db()
    assert decrypt_token(account.business_refresh_token_encrypted) != old_refresh
    assert account.business_status == BusinessStatus.CONNECTED


def test_refused_refresh_marks_a_business_only_account_as_needing_reconnect(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    _connect(business_only, client_for(owner), workspace, "sim-cafe-business")
    (account,) = _accounts(workspace)
    token = decrypt_token(account.business_access_token_encrypted)
    with business_only.state.lock:
        business_only.state.revoke_grant(
            open_id="sim-cafe-business", client_key=DEFAULT_BUSINESS_APP_ID, reason=5
        )
    account.business_access_token_expires_at = timezone.now() - timedelta(minutes=1)
    account.save(update_fields=["business_access_token_expires_at"])
    with pytest.raises(Exception, match="Business"):
        tiktok_business_refresh_token(account=account)
    account.refresh_from_db()
    # Nothing else to post with: the account itself needs reconnecting, not only its link.
    assert account.business_status == BusinessStatus.NEEDS_RECONNECT
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert token  # the stored token stays for the record until reconnect or disconnect


def test_disconnect_revokes_the_business_token(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    client = client_for(owner)
    _connect(business_only, client, workspace, "sim-cafe-business")
    (account,) = _accounts(workspace)
    token = decrypt_token(account.business_access_token_encrypted)

    response = client.post(reverse("accounts:tiktok_disconnect", args=[workspace.id, account.id]))
    assert response.status_code == 302
    assert business_only.app.counters.requests_to(BUSINESS_REVOKE_PATH) == 1
    assert business_only.revoke_calls() == 0  # nothing to revoke at Login Kit
    assert business_only.state.access_tokens[token].revoked
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert bytes(account.business_access_token_encrypted) == b""


def test_login_kit_added_later_attaches_to_the_same_account(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any, settings: Any, connect: Any
) -> None:
    client = client_for(owner)
    _connect(business_only, client, workspace, "sim-cafe-business")
    (business_row,) = _accounts(workspace)
    business_id = business_row.business_id

    # The administrator configures the Login Kit app: Connect now chains both consents.
    settings.TIKTOK_CLIENT_KEY = "sim-client-key"
    settings.TIKTOK_CLIENT_SECRET = "sim-client-secret"
    response = connect(client, workspace, "sim-cafe-business")
    assert response.status_code == 302
    (account,) = _accounts(workspace)
    assert account.pk == business_row.pk
    assert account.open_id == "sim-cafe-business"
    assert account.business_id == business_id
    assert account.login_kit_linked and account.business_connected
    html = _accounts_page(client, workspace)
    assert 'data-capability="publish" data-available="true"' in html
    assert 'data-capability="comments" data-available="true"' in html
    assert 'data-testid="login-kit-note"' not in html


def test_renamed_user_reconnected_through_login_kit_retires_the_old_row(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any, settings: Any, connect: Any
) -> None:
    client = client_for(owner)
    _connect(business_only, client, workspace, "sim-cafe-business")
    (old,) = _accounts(workspace)
    # The stored username is out of date (renamed in TikTok), so the Login Kit consent
    # cannot find the row; the Business consent that follows proves it is the same user.
    TikTokAccount.objects.for_workspace(workspace).filter(pk=old.pk).update(username="old.name")

    settings.TIKTOK_CLIENT_KEY = "sim-client-key"
    settings.TIKTOK_CLIENT_SECRET = "sim-client-secret"
    connect(client, workspace, "sim-cafe-business")
    rows = {a.pk: a for a in _accounts(workspace)}
    assert len(rows) == 2
    old = rows.pop(old.pk)
    (new,) = rows.values()
    assert new.business_id and new.business_connected and new.login_kit_linked
    assert old.status == AccountStatus.DISCONNECTED
    assert old.business_id == ""
    assert "the same TikTok user" in old.status_reason


def test_login_kit_features_say_why_they_are_off(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    _connect(business_only, client_for(owner), workspace, "sim-cafe-business")
    (account,) = _accounts(workspace)
    with pytest.raises(LoginKitUnavailable, match="TikTok API for Business only"):
        creator_info_fetch(account=account)
    with pytest.raises(LoginKitUnavailable):
        tiktok_account_call(account=account, call=lambda token: token)
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED  # not marked as broken

    inbox = business_only_refusals(
        account=account, post_mode=PostMode.INBOX, media=None, privacy_level=""
    )
    assert [r.code for r in inbox] == ["inbox_needs_login_kit"]
    assert "inbox" in inbox[0].sentence
    assert (
        business_only_refusals(
            account=account,
            post_mode=PostMode.DIRECT,
            media=None,
            privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE,
        )
        == []
    )


def test_comments_sync_through_the_business_token(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any, settings: Any
) -> None:
    settings.REDIS_URL = ""  # a per-process rate limiter: no budget shared through Redis
    _connect(business_only, client_for(owner), workspace, "sim-dance-business")
    (account,) = _accounts(workspace)

    tiktok_videos_sync(account=account)  # /business/video/list/, with the Business token
    videos = TikTokVideo.objects.for_workspace(workspace).filter(account=account)
    assert videos.count() > 2
    # TikTok allows about 40 requests a minute per endpoint: two videos stay under it.
    videos.exclude(pk__in=list(videos.values_list("pk", flat=True)[:2])).delete()
    stats = comment_sync_account(account=account, budget=roomy_budget(account))

    assert stats.videos == 2 and stats.created > 0
    assert Comment.objects.for_workspace(workspace).filter(account=account).count() == (
        stats.created
    )
    assert business_only.app.counters.requests_to("/v2/video/list/") == 0


def test_with_no_app_configured_admins_are_told(
    sim: Sim, settings: Any, owner: Any, workspace: Any, client_for: Any
) -> None:
    settings.TIKTOK_CLIENT_KEY = ""
    settings.TIKTOK_CLIENT_SECRET = ""
    settings.TIKTOK_BUSINESS_APP_ID = ""
    client = client_for(owner)
    html = _accounts_page(client, workspace)
    assert 'data-testid="no-tiktok-app"' in html
    assert "No TikTok app is configured" in html and "TIKTOK_BUSINESS_APP_ID" in html

    response = client.post(reverse("accounts:tiktok_connect", args=[workspace.id]), follow=True)
    assert response.status_code == 200
    assert "No TikTok app is configured" in response.content.decode()


def test_composer_offers_business_publishing_and_refuses_inbox_drafts(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any
) -> None:
    _connect(business_only, client_for(owner), workspace, "sim-cafe-business")
    (account,) = _accounts(workspace)

    panel = panel_context(workspace=workspace, account=account, target=None, content=PostContent())
    assert panel["error"] == "" and panel["info"] is None
    assert "TikTok API for Business only" in panel["business_only"]
    assert [o["value"] for o in panel["privacy_options"]] == [PrivacyLevel.PUBLIC_TO_EVERYONE]

    inbox = PostContent(
        caption="hello",
        post_mode=PostMode.INBOX,
        scheduled_local=datetime.now() + timedelta(days=2),  # a naive wall-clock time
        scheduled_tz=workspace.time_zone,
    )
    with pytest.raises(ValidationFailed) as refused:
        post_create(
            workspace=workspace,
            user=owner,
            content=inbox,
            targets=[PostTarget(account_id=account.id)],
            schedule=True,
        )
    assert any(p.code == "inbox_needs_login_kit" for p in refused.value.problems)
    # No creator_info was asked of TikTok for this account (it has no Login Kit token).
    assert business_only.app.counters.requests_to("/v2/post/publish/creator_info/query/") == 0


def test_insights_are_captured_through_the_business_token(
    business_only: Sim, owner: Any, workspace: Any, client_for: Any, settings: Any
) -> None:
    from analytics.services import account_snapshot_capture

    settings.REDIS_URL = ""
    _connect(business_only, client_for(owner), workspace, "sim-dance-business")
    (account,) = _accounts(workspace)

    result = account_snapshot_capture(account=account)

    assert result.videos > 0 and result.metric_days > 0
    counters = business_only.app.counters
    assert counters.requests_to("/open_api/v1.3/business/get/") >= 1
    # Nothing asked of the Login Kit side, which this account does not have.
    assert counters.requests_to("/v2/user/info/") == 0
    assert counters.requests_to("/v2/video/list/") == 0

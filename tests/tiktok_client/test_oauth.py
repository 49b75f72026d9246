"""Login Kit v2 against the simulator: consent page, code exchange, refresh, revoke."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.tiktok_client.conftest import (
    AVA,
    CAFE,
    REDIRECT_URI,
    SIM_BASE,
    ConnectFn,
    RecordingTransport,
)
from tiktok_client import (
    NoRateLimiter,
    TikTokAuthError,
    TikTokClient,
    TikTokConfig,
    TikTokOAuthError,
    pkce_pair,
)
from tiktok_client.simulator import SimulatorApp


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _consent(browser: httpx.Client, url: str, **extra: str) -> httpx.Response:
    return browser.post("/v2/auth/authorize/", data={**_query(url), **extra})


def test_authorize_url_shape(tiktok: TikTokClient) -> None:
    url = tiktok.authorize_url(
        state="abc", code_challenge="c" * 64, scopes=["user.info.basic", "video.publish"]
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SIM_BASE}/v2/auth/authorize/"
    assert "scope=user.info.basic,video.publish" in parts.query  # comma-separated, unescaped
    assert _query(url) == {
        "client_key": "sim-client-key",
        "response_type": "code",
        "scope": "user.info.basic,video.publish",
        "redirect_uri": REDIRECT_URI,
        "state": "abc",
        "code_challenge": "c" * 64,
        "code_challenge_method": "S256",
        "disable_auto_auth": "1",  # Corrections: lets the user pick another TikTok account
    }


def test_consent_page_lists_seeded_creators(tiktok: TikTokClient, browser: httpx.Client) -> None:
    page = browser.get(tiktok.authorize_url(state="s", code_challenge="x" * 64))
    assert page.status_code == 200
    for open_id, username in [
        ("sim-ava-public", "ava.creates"),
        ("sim-ben-private", "ben.private"),
        ("sim-cafe-business", "corner.cafe"),
        ("sim-dance-business", "dance.studio"),
        ("sim-quiet-chef", "quiet.chef"),
        ("sim-paused-poster", "paused.poster"),
    ]:
        assert f'data-open-id="{open_id}"' in page.text
        assert f"Continue as @{username}" in page.text
    assert 'id="cancel"' in page.text


def test_full_flow_returns_tokens_and_echoes_state(
    tiktok: TikTokClient, browser: httpx.Client, transport: RecordingTransport
) -> None:
    verifier, challenge = pkce_pair()
    url = tiktok.authorize_url(state="csrf-123", code_challenge=challenge)
    redirect = _consent(browser, url, open_id=CAFE)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = _query(location)
    assert params["state"] == "csrf-123"
    assert params["scopes"] == ",".join(tiktok.config.scopes)

    tokens = tiktok.exchange_code(code=params["code"], code_verifier=verifier)
    assert tokens.open_id == CAFE
    assert tokens.access_token.startswith("act.")
    assert tokens.refresh_token.startswith("rft.")
    # Corrections: current lifetimes 2 h / 180 d.
    assert (tokens.expires_in, tokens.refresh_expires_in) == (7200, 15552000)
    assert tokens.token_type == "Bearer"
    assert tokens.access_token not in repr(tokens)

    request = transport.last("/v2/oauth/token/")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in request.headers
    body = _query("?" + request.content.decode())
    assert body == {
        "client_key": "sim-client-key",
        "client_secret": "sim-client-secret",
        "code": params["code"],
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


def test_user_can_untick_scopes(tiktok: TikTokClient, browser: httpx.Client) -> None:
    verifier, challenge = pkce_pair()
    url = tiktok.authorize_url(
        state="s", code_challenge=challenge, scopes=["user.info.basic", "video.list"]
    )
    response = browser.post(
        "/v2/auth/authorize/",
        data={**_query(url), "open_id": AVA, "scope_choice": "1", "granted_scope": ["video.list"]},
    )
    granted = _query(response.headers["location"])["scopes"]
    assert granted == "user.info.basic,video.list"
    response = browser.post(
        "/v2/auth/authorize/",
        data={**_query(url), "open_id": AVA, "scope_choice": "1"},
    )
    assert _query(response.headers["location"])["scopes"] == "user.info.basic"
    code = _query(response.headers["location"])["code"]
    assert tiktok.exchange_code(code=code, code_verifier=verifier).scopes == ("user.info.basic",)


def test_cancel_redirects_with_access_denied(tiktok: TikTokClient, browser: httpx.Client) -> None:
    url = tiktok.authorize_url(state="s9", code_challenge="x" * 64)
    response = _consent(browser, url, action="cancel")
    params = _query(response.headers["location"])
    assert params["error"] == "access_denied"
    assert params["state"] == "s9"
    assert "code" not in params


def test_unapproved_scope_fails_the_whole_request(
    tiktok: TikTokClient, browser: httpx.Client
) -> None:
    url = tiktok.authorize_url(
        state="s", code_challenge="x" * 64, scopes=["user.info.basic", "research.data.basic"]
    )
    response = browser.get(url)
    assert response.status_code == 302
    params = _query(response.headers["location"])
    assert (params["error"], params["error_type"]) == ("invalid_scope", "scope")


def test_unknown_client_key_and_redirect_uri_show_error_page(
    config: TikTokConfig, transport: RecordingTransport, browser: httpx.Client
) -> None:
    bad_key = TikTokClient(TikTokConfig.for_simulator(SIM_BASE, client_key="nope"))
    page = browser.get(bad_key.authorize_url(state="s", code_challenge="x" * 64))
    assert page.status_code == 400
    assert "client_key" in page.text
    # Trailing slash matters: redirect URIs must match exactly.
    bad_uri = TikTokClient(
        TikTokConfig.for_simulator(SIM_BASE, redirect_uri=REDIRECT_URI.rstrip("/"))
    )
    page = browser.get(bad_uri.authorize_url(state="s", code_challenge="x" * 64))
    assert page.status_code == 400
    assert "redirect_uri" in page.text


def test_loopback_redirect_uri_port_is_exact_unless_desktop(
    sim: SimulatorApp, tiktok: TikTokClient, browser: httpx.Client
) -> None:
    # §1.1: a web app's redirect_uri matches exactly, port included (S-D6); a desktop app may
    # vary a loopback port (S-D7), which the simulator offers as a setting.
    other_port = TikTokClient(
        TikTokConfig.for_simulator(
            SIM_BASE,
            redirect_uri="http://localhost:54321/connect/tiktok/callback/",
            scopes=tiktok.config.scopes,
        )
    )
    url = other_port.authorize_url(state="s", code_challenge="x" * 64)
    assert browser.get(url).status_code == 400
    sim.settings.loopback_redirect_any_port = True
    assert browser.get(url).status_code == 200


def test_code_is_single_use(tiktok: TikTokClient, browser: httpx.Client) -> None:
    verifier, challenge = pkce_pair()
    code = _query(
        _consent(
            browser, tiktok.authorize_url(state="s", code_challenge=challenge), open_id=AVA
        ).headers["location"]
    )["code"]
    tiktok.exchange_code(code=code, code_verifier=verifier)
    with pytest.raises(TikTokOAuthError) as excinfo:
        tiktok.exchange_code(code=code, code_verifier=verifier)
    assert excinfo.value.error == "invalid_grant"
    assert excinfo.value.http_status == 200  # TikTok reports token errors under HTTP 200
    assert excinfo.value.log_id
    assert not excinfo.value.retryable
    assert "connect the account again" in excinfo.value.user_message


def test_code_expires_after_ten_minutes(
    tiktok: TikTokClient, browser: httpx.Client, sim: SimulatorApp
) -> None:
    verifier, challenge = pkce_pair()
    url = tiktok.authorize_url(state="s", code_challenge=challenge)
    code = _query(_consent(browser, url, open_id=AVA).headers["location"])["code"]
    sim.clock.advance(601)
    with pytest.raises(TikTokOAuthError, match="expired"):
        tiktok.exchange_code(code=code, code_verifier=verifier)


def test_wrong_pkce_verifier_is_rejected(tiktok: TikTokClient, browser: httpx.Client) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    url = tiktok.authorize_url(state="s", code_challenge=challenge)
    code = _query(_consent(browser, url, open_id=AVA).headers["location"])["code"]
    with pytest.raises(TikTokOAuthError) as excinfo:
        tiktok.exchange_code(code=code, code_verifier=other_verifier)
    assert excinfo.value.error == "invalid_request"  # Corrections: a PKCE mismatch


def test_rfc7636_base64url_challenge_is_also_accepted(
    tiktok: TikTokClient, browser: httpx.Client
) -> None:
    verifier, challenge = pkce_pair(encoding="base64url")
    url = tiktok.authorize_url(state="s", code_challenge=challenge)
    code = _query(_consent(browser, url, open_id=AVA).headers["location"])["code"]
    assert tiktok.exchange_code(code=code, code_verifier=verifier).open_id == AVA


def test_exchange_requires_same_redirect_uri(
    tiktok: TikTokClient, browser: httpx.Client, transport: RecordingTransport
) -> None:
    verifier, challenge = pkce_pair()
    url = tiktok.authorize_url(state="s", code_challenge=challenge)
    code = _query(_consent(browser, url, open_id=AVA).headers["location"])["code"]
    other = TikTokClient(
        TikTokConfig.for_simulator(
            SIM_BASE, redirect_uri="http://127.0.0.1:8000/connect/tiktok/callback/"
        ),
        transport=transport,
    )
    with pytest.raises(TikTokOAuthError, match="redirect_uri"):
        other.exchange_code(code=code, code_verifier=verifier)


def test_bad_client_secret_is_invalid_client(
    connect: ConnectFn, transport: RecordingTransport
) -> None:
    tokens = connect(AVA)
    wrong = TikTokClient(
        TikTokConfig.for_simulator(SIM_BASE, client_secret="wrong"), transport=transport
    )
    with pytest.raises(TikTokOAuthError) as excinfo:
        wrong.refresh_access_token(refresh_token=tokens.refresh_token)
    assert excinfo.value.error == "invalid_client"
    assert excinfo.value.http_status == 401


def test_refresh_rotates_and_invalidates_old_refresh_token(
    tiktok: TikTokClient, connect: ConnectFn, sim: SimulatorApp
) -> None:
    first = connect(AVA)
    sim.clock.advance(3600)
    second = tiktok.refresh_access_token(refresh_token=first.refresh_token)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    # Refreshing does not extend the absolute refresh window.
    assert 15552000 - 3600 - 5 <= second.refresh_expires_in <= 15552000 - 3600
    tiktok.query_creator_info(access_token=second.access_token)
    with pytest.raises(TikTokOAuthError) as excinfo:
        tiktok.refresh_access_token(refresh_token=first.refresh_token)
    assert excinfo.value.error == "invalid_grant"
    third = tiktok.refresh_access_token(refresh_token=second.refresh_token)
    assert third.open_id == AVA


def test_lenient_rotation_keeps_old_refresh_token(
    tiktok: TikTokClient, connect: ConnectFn, sim: SimulatorApp
) -> None:
    sim.settings.strict_rotation = False
    first = connect(AVA)
    tiktok.refresh_access_token(refresh_token=first.refresh_token)
    assert tiktok.refresh_access_token(refresh_token=first.refresh_token).open_id == AVA


def test_short_lived_token_profile(
    tiktok: TikTokClient, connect: ConnectFn, sim: SimulatorApp
) -> None:
    tokens = connect(AVA)  # profile B (current docs) is the default
    assert (tokens.expires_in, tokens.refresh_expires_in) == (7200, 15552000)
    sim.clock.advance(7201)
    with pytest.raises(TikTokAuthError) as excinfo:
        tiktok.query_creator_info(access_token=tokens.access_token)
    assert excinfo.value.code == "access_token_invalid"
    assert excinfo.value.http_status == 401
    refreshed = tiktok.refresh_access_token(refresh_token=tokens.refresh_token)
    assert tiktok.query_creator_info(access_token=refreshed.access_token).username == "ava.creates"


def test_expired_refresh_token_is_invalid_grant(
    tiktok: TikTokClient, connect: ConnectFn, sim: SimulatorApp
) -> None:
    tokens = connect(AVA)
    sim.clock.advance(15552000 + 1)
    with pytest.raises(TikTokOAuthError, match="expired"):
        tiktok.refresh_access_token(refresh_token=tokens.refresh_token)


def test_revoke_disconnects_the_account(
    tiktok: TikTokClient, connect: ConnectFn, transport: RecordingTransport
) -> None:
    tokens = connect(CAFE)
    tiktok.revoke_token(access_token=tokens.access_token)
    request = transport.last("/v2/oauth/revoke/")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert _query("?" + request.content.decode())["token"] == tokens.access_token
    with pytest.raises(TikTokAuthError):
        tiktok.query_creator_info(access_token=tokens.access_token)
    with pytest.raises(TikTokOAuthError):
        tiktok.refresh_access_token(refresh_token=tokens.refresh_token)


def test_unsupported_grant_type(tiktok: TikTokClient, transport: RecordingTransport) -> None:
    raw = httpx.Client(transport=transport, base_url=SIM_BASE)
    body = raw.post(
        "/v2/oauth/token/",
        data={
            "client_key": "sim-client-key",
            "client_secret": "sim-client-secret",
            "grant_type": "password",
        },
    ).json()
    assert body["error"] == "unsupported_grant_type"
    assert body["log_id"]


def test_client_rejects_non_positive_timeout() -> None:
    with pytest.raises(ValueError):
        TikTokClient(
            TikTokConfig.for_simulator(SIM_BASE, timeout_seconds=0), rate_limiter=NoRateLimiter()
        )

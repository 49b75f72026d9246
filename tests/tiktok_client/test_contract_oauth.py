"""Contract: two apps, two token systems (Login Kit and TikTok API for Business), over raw HTTP."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.tiktok_client.conftest import AVA, CAFE
from tests.tiktok_client.contract import (
    BIZ,
    BIZ_REDIRECT,
    BIZ_SCOPES,
    LK_REDIRECT,
    LK_SCOPES,
    authorize_query,
    bearer,
    business_tokens,
    consent,
    login_kit_tokens,
    query_of,
)
from tiktok_client.simulator import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_BUSINESS_APP_SECRET,
    DEFAULT_CLIENT_KEY,
    DEFAULT_CLIENT_SECRET,
    SimulatorApp,
    create_app,
)
from tiktok_client.simulator.models import AccessToken

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _form_post(http: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return http.post(path, content=urlencode(fields), headers=FORM)


def _lk_refresh(http: httpx.Client, refresh_token: str) -> httpx.Response:
    return _form_post(
        http,
        "/v2/oauth/token/",
        client_key=DEFAULT_CLIENT_KEY,
        client_secret=DEFAULT_CLIENT_SECRET,
        grant_type="refresh_token",
        refresh_token=refresh_token,
    )


def _biz(http: httpx.Client, path: str, **body: object) -> dict[str, object]:
    answer = http.post(f"{BIZ}{path}", json=body)
    assert answer.status_code == 200  # §0: Business errors are HTTP 200 too
    return dict(answer.json())


@pytest.mark.parametrize("business_scope", ["user.insights", "comment.list", "user.account.type"])
def test_login_kit_app_asking_a_business_scope_is_refused_whole(
    http: httpx.Client, business_scope: str
) -> None:
    # Corrections "Two apps" + §1.8: one unapproved scope refuses the whole authorize request.
    query = authorize_query(DEFAULT_CLIENT_KEY, [*LK_SCOPES, business_scope], LK_REDIRECT)
    answer = http.get("/v2/auth/authorize/", params=query)
    assert answer.status_code == 302
    callback = query_of(answer.headers["location"])
    assert callback["error"] == "invalid_scope"
    assert callback["error_type"] == "scope"
    assert "code" not in callback


def test_business_app_asking_a_login_kit_only_scope_is_refused(http: httpx.Client) -> None:
    # Corrections: the Business app's scopes are its own list (no video.upload there).
    query = authorize_query(DEFAULT_BUSINESS_APP_ID, [*BIZ_SCOPES, "video.upload"], BIZ_REDIRECT)
    callback = query_of(http.get("/v2/auth/authorize/", params=query).headers["location"])
    assert callback["error"] == "invalid_scope"


def test_login_kit_tokens_have_current_lifetimes(http: httpx.Client) -> None:
    # Corrections: access 2 h (7200), refresh 180 d (15552000), flat JSON (§1.3).
    tokens = login_kit_tokens(http, AVA)
    assert tokens["expires_in"] == 7200
    assert tokens["refresh_expires_in"] == 15552000
    assert tokens["access_token"].startswith("act.")  # §0 token prefixes
    assert tokens["refresh_token"].startswith("rft.")
    assert tokens["open_id"] == AVA
    assert tokens["scope"] == ",".join(LK_SCOPES)


def test_older_lifetime_profile_is_an_option() -> None:
    # §1.3: the older 24 h / 365 d figures, kept as a profile.
    with httpx.Client(
        transport=httpx.WSGITransport(app=create_app(token_profile="A")), base_url="http://sim"
    ) as http:
        tokens = login_kit_tokens(http, AVA)
    assert (tokens["expires_in"], tokens["refresh_expires_in"]) == (86400, 31536000)


def test_login_kit_refresh_rotates_strictly(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: strict rotation, the old refresh token stops working; remaining lifetime.
    tokens = login_kit_tokens(http, AVA)
    sim.clock.advance(3600)
    fresh = _lk_refresh(http, tokens["refresh_token"]).json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["refresh_expires_in"] <= 15552000 - 3600
    again = _lk_refresh(http, tokens["refresh_token"]).json()
    assert again["error"] == "invalid_grant"  # §1.4, §5.4
    assert _lk_refresh(http, fresh["refresh_token"]).json()["access_token"].startswith("act.")


def test_pkce_mismatch_is_invalid_request(http: httpx.Client) -> None:
    # Corrections: "Code verifier or code challenge is invalid." as invalid_request.
    code = consent(http, creator=AVA, code_challenge="a" * 64, code_challenge_method="S256")
    answer = _form_post(
        http,
        "/v2/oauth/token/",
        client_key=DEFAULT_CLIENT_KEY,
        client_secret=DEFAULT_CLIENT_SECRET,
        code=code["code"],
        grant_type="authorization_code",
        redirect_uri=LK_REDIRECT,
        code_verifier="not-the-verifier",
    )
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"] == "Code verifier or code challenge is invalid."


def test_business_consent_and_token_exchange(http: httpx.Client) -> None:
    # Corrections: same consent page with client_key=<Business app id>; callback carries code;
    # exchange at /tt_user/oauth2/token/ -> Business envelope with expires_in 86400.
    callback = consent(
        http, creator=CAFE, client_key=DEFAULT_BUSINESS_APP_ID, scopes=BIZ_SCOPES,
        redirect_uri=BIZ_REDIRECT,
    )  # fmt: skip
    assert set(callback) == {"code", "scopes", "state"}
    body = _biz(
        http,
        "/tt_user/oauth2/token/",
        client_id=DEFAULT_BUSINESS_APP_ID,
        client_secret=DEFAULT_BUSINESS_APP_SECRET,
        grant_type="authorization_code",
        auth_code=callback["code"],
        redirect_uri=BIZ_REDIRECT,
    )
    assert body["code"] == 0 and body["message"] == "OK" and body["request_id"]
    data = body["data"]
    assert isinstance(data, dict)
    assert set(data) == {
        "access_token", "expires_in", "open_id", "refresh_token", "refresh_token_expires_in",
        "scope", "token_type",
    }  # fmt: skip
    assert data["expires_in"] == 86400
    assert data["refresh_token_expires_in"] == 31536000  # §4.1 (S-K3 fixture)
    assert data["token_type"] == "Bearer"
    assert data["scope"] == ",".join(BIZ_SCOPES)


def test_open_ids_are_per_app(http: httpx.Client) -> None:
    # Corrections: the Login Kit open_id of the same person is a different string.
    login_kit = login_kit_tokens(http, CAFE)["open_id"]
    business = business_tokens(http, CAFE)["open_id"]
    assert login_kit != business
    assert business_tokens(http, CAFE)["open_id"] == business  # stable per app and person
    assert business_tokens(http, AVA)["open_id"] != business


def test_business_code_exchange_errors(http: httpx.Client) -> None:
    # Corrections error table: 40110 auth_code error; 40101 app id/secret (§4.1 [U]).
    code = consent(
        http, creator=CAFE, client_key=DEFAULT_BUSINESS_APP_ID, scopes=BIZ_SCOPES,
        redirect_uri=BIZ_REDIRECT,
    )["code"]  # fmt: skip
    base = {
        "client_id": DEFAULT_BUSINESS_APP_ID,
        "client_secret": DEFAULT_BUSINESS_APP_SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": BIZ_REDIRECT,
    }
    wrong_secret = _biz(http, "/tt_user/oauth2/token/", **{**base, "client_secret": "x"})
    assert wrong_secret["code"] == 40101
    login_kit_key = _biz(
        http, "/tt_user/oauth2/token/",
        **{**base, "client_id": DEFAULT_CLIENT_KEY, "client_secret": DEFAULT_CLIENT_SECRET},
    )  # fmt: skip
    assert login_kit_key["code"] == 40101
    assert _biz(http, "/tt_user/oauth2/token/", **base, auth_code="nope")["code"] == 40110
    assert _biz(http, "/tt_user/oauth2/token/", **base, auth_code=code)["code"] == 0
    assert _biz(http, "/tt_user/oauth2/token/", **base, auth_code=code)["code"] == 40110


def test_login_kit_code_is_not_a_business_code(http: httpx.Client) -> None:
    # Corrections: two token systems; a Login Kit code cannot be exchanged by the Business app.
    code = consent(http, creator=CAFE)["code"]
    body = _biz(
        http, "/tt_user/oauth2/token/", client_id=DEFAULT_BUSINESS_APP_ID,
        client_secret=DEFAULT_BUSINESS_APP_SECRET, grant_type="authorization_code",
        auth_code=code, redirect_uri=LK_REDIRECT,
    )  # fmt: skip
    assert body["code"] == 40110


def test_business_refresh_rotates_and_revoke_ends_the_grant(http: httpx.Client) -> None:
    # Corrections: refresh at /tt_user/oauth2/refresh_token/, revoke at /tt_user/oauth2/revoke/;
    # error codes 40107 (invalid refresh), 40105 (invalid token).
    tokens = business_tokens(http, CAFE)
    creds = {"client_id": DEFAULT_BUSINESS_APP_ID, "client_secret": DEFAULT_BUSINESS_APP_SECRET}
    fresh = _biz(
        http, "/tt_user/oauth2/refresh_token/", **creds, grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    )  # fmt: skip
    assert fresh["code"] == 0
    data = fresh["data"]
    assert isinstance(data, dict)
    assert data["open_id"] == tokens["open_id"]
    reused = _biz(
        http, "/tt_user/oauth2/refresh_token/", **creds, grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    )  # fmt: skip
    assert reused["code"] == 40107
    info = _biz(
        http,
        "/tt_user/token_info/get/",
        app_id=DEFAULT_BUSINESS_APP_ID,
        access_token=data["access_token"],
    )
    assert info["data"] == {
        "app_id": DEFAULT_BUSINESS_APP_ID,
        "creator_id": tokens["open_id"],
        "scope": ",".join(BIZ_SCOPES),
    }
    revoked = _biz(http, "/tt_user/oauth2/revoke/", **creds, access_token=data["access_token"])
    assert (revoked["code"], revoked["data"]) == (0, {})
    after = http.get(
        f"{BIZ}/business/get/",
        params={"business_id": tokens["open_id"]},
        headers={"Access-Token": str(data["access_token"])},
    ).json()
    assert after["code"] == 40105


def test_business_refresh_token_expiry_is_40103(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: 40103 refresh token expired.
    tokens = business_tokens(http, CAFE)
    sim.clock.advance(31536000 + 1)
    body = _biz(
        http, "/tt_user/oauth2/refresh_token/", client_id=DEFAULT_BUSINESS_APP_ID,
        client_secret=DEFAULT_BUSINESS_APP_SECRET, grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
    )  # fmt: skip
    assert body["code"] == 40103


def test_business_api_refuses_login_kit_tokens(http: httpx.Client) -> None:
    # Corrections: a Login Kit token sent as Access-Token is refused (HTTP 200, non-zero code).
    tokens = login_kit_tokens(http, CAFE)
    answer = http.get(
        f"{BIZ}/business/get/",
        params={"business_id": tokens["open_id"]},
        headers={"Access-Token": tokens["access_token"]},
    )
    assert answer.status_code == 200
    assert answer.json()["code"] == 40105


def test_open_api_refuses_business_tokens(http: httpx.Client) -> None:
    # §0 + Corrections: Business tokens are not Open API v2 tokens.
    tokens = business_tokens(http, CAFE)
    answer = http.get(
        "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(tokens["access_token"])
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "access_token_invalid"


def test_business_token_errors(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections error table: 40104 empty token, 40102 expired, 40002 business_id not the
    # token's open_id (business_id is the open_id from /tt_user/oauth2/token/).
    tokens = business_tokens(http, CAFE)
    login_kit_open_id = login_kit_tokens(http, CAFE)["open_id"]

    def get(business_id: str, token: str | None) -> int:
        headers = {"Access-Token": token} if token else {}
        answer = http.get(
            f"{BIZ}/business/get/", params={"business_id": business_id}, headers=headers
        )
        return int(answer.json()["code"])

    assert get(tokens["open_id"], None) == 40104
    assert get(login_kit_open_id, tokens["access_token"]) == 40002
    assert get(tokens["open_id"], tokens["access_token"]) == 0
    with sim.state.lock:
        record: AccessToken = sim.state.access_tokens[tokens["access_token"]]
        record.expires_at = sim.state.now() - 1
    assert get(tokens["open_id"], tokens["access_token"]) == 40102


def test_personal_account_completes_the_business_consent(http: httpx.Client) -> None:
    # Corrections "Account types": a Personal account can complete the Business consent;
    # /business/get/ then answers is_business_account=false.
    tokens = business_tokens(http, AVA)
    body = http.get(
        f"{BIZ}/business/get/",
        params={"business_id": tokens["open_id"], "fields": '["is_business_account","username"]'},
        headers={"Access-Token": tokens["access_token"]},
    ).json()
    assert body["code"] == 0
    assert body["data"] == {"is_business_account": False, "username": "ava.creates"}


def test_declined_business_consent_redirects_access_denied(http: httpx.Client) -> None:
    # §1.7: the user cancels -> access_denied on the redirect, state echoed.
    form = {
        **authorize_query(DEFAULT_BUSINESS_APP_ID, BIZ_SCOPES, BIZ_REDIRECT),
        "action": "cancel",
    }
    answer = http.post("/v2/auth/authorize/", data=form)
    callback = query_of(answer.headers["location"])
    assert callback["error"] == "access_denied" and callback["state"] == "st-1"


def test_login_kit_revoke_sends_authorization_removed(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §1.5: revoke answers {} and fires authorization.removed with reason 5.
    tokens = login_kit_tokens(http, AVA)
    answer = _form_post(
        http,
        "/v2/oauth/revoke/",
        client_key=DEFAULT_CLIENT_KEY,
        client_secret=DEFAULT_CLIENT_SECRET,
        token=tokens["access_token"],
    )
    assert answer.json() == {}
    events = sim.state.webhooks.log(event="authorization.removed")
    assert len(events) == 1
    assert events[0]["body"]["user_openid"] == AVA
    assert '"reason":5' in events[0]["body"]["content"]


@pytest.mark.parametrize(
    ("client_key", "scopes", "redirect_uri"),
    [
        (DEFAULT_CLIENT_KEY, LK_SCOPES, LK_REDIRECT),
        (DEFAULT_BUSINESS_APP_ID, BIZ_SCOPES, BIZ_REDIRECT),
    ],
)
def test_signed_in_browser_is_reauthorized_without_disable_auto_auth(
    http: httpx.Client, client_key: str, scopes: tuple[str, ...], redirect_uri: str
) -> None:
    # Corrections "Login Kit details" [C1]: without disable_auto_auth=1 a browser already signed
    # in to TikTok silently re-authorizes the same account, so "connect another account"
    # reconnects the first one. With it, the consent page is shown.
    consent(http, creator=AVA, client_key=client_key, scopes=scopes, redirect_uri=redirect_uri)
    again = http.get(
        "/v2/auth/authorize/", params=authorize_query(client_key, scopes, redirect_uri)
    )
    assert again.status_code == 302
    callback = query_of(again.headers["location"])
    assert callback["state"] == "st-1" and callback["code"]
    assert sorted(callback["scopes"].split(",")) == sorted(scopes)
    forced = http.get(
        "/v2/auth/authorize/",
        params=authorize_query(client_key, scopes, redirect_uri, disable_auto_auth="1"),
    )
    assert forced.status_code == 200 and 'id="consent"' in forced.text


def test_auto_authorization_needs_an_earlier_consent_to_the_same_app(
    http: httpx.Client,
) -> None:
    # Corrections: auto-authorization re-authorizes an account that already authorized the app;
    # a fresh browser, another app or a wider scope list gets the consent page.
    assert (
        http.get(
            "/v2/auth/authorize/",
            params=authorize_query(DEFAULT_CLIENT_KEY, LK_SCOPES, LK_REDIRECT),
        ).status_code
        == 200
    )
    consent(http, creator=AVA, scopes=LK_SCOPES[:2])
    wider = http.get(
        "/v2/auth/authorize/", params=authorize_query(DEFAULT_CLIENT_KEY, LK_SCOPES, LK_REDIRECT)
    )
    assert wider.status_code == 200
    other_app = http.get(
        "/v2/auth/authorize/",
        params=authorize_query(DEFAULT_BUSINESS_APP_ID, BIZ_SCOPES, BIZ_REDIRECT),
    )
    assert other_app.status_code == 200


def test_auto_authorized_code_is_for_the_signed_in_account(http: httpx.Client) -> None:
    # The silently issued code exchanges for the account that consented first (Corrections).
    login_kit_tokens(http, AVA)
    again = http.get(
        "/v2/auth/authorize/", params=authorize_query(DEFAULT_CLIENT_KEY, LK_SCOPES, LK_REDIRECT)
    )
    code = query_of(again.headers["location"])["code"]
    answer = _form_post(
        http,
        "/v2/oauth/token/",
        client_key=DEFAULT_CLIENT_KEY,
        client_secret=DEFAULT_CLIENT_SECRET,
        code=code,
        grant_type="authorization_code",
        redirect_uri=LK_REDIRECT,
    )
    assert answer.json()["open_id"] == AVA


def test_web_redirect_uri_must_match_exactly_port_included(http: httpx.Client) -> None:
    # §1.1 (S-D6): a web app's redirect_uri must equal a registered URI; the any-port loopback
    # rule is the desktop Login Kit's (S-D7), not the web app's.
    other_port = "http://localhost:8001/connect/tiktok/callback/"
    page = http.get(
        "/v2/auth/authorize/", params=authorize_query(DEFAULT_CLIENT_KEY, LK_SCOPES, other_port)
    )
    assert page.status_code == 400 and "redirect_uri" in page.text
    business = http.get(
        "/v2/auth/authorize/",
        params=authorize_query(
            DEFAULT_BUSINESS_APP_ID,
            BIZ_SCOPES,
            "http://localhost:8001/connect/tiktok/business/callback/",
        ),
    )
    assert business.status_code == 400


def test_response_type_must_be_code(http: httpx.Client) -> None:
    # §1.1 + §5.1: response_type=code; otherwise unsupported_response_type (§1.7) on the redirect.
    query = authorize_query(DEFAULT_CLIENT_KEY, LK_SCOPES, LK_REDIRECT, response_type="token")
    answer = http.get("/v2/auth/authorize/", params=query)
    assert answer.status_code == 302
    callback = query_of(answer.headers["location"])
    assert callback["error"] == "unsupported_response_type" and "code" not in callback


def test_token_exchange_is_form_encoded(http: httpx.Client) -> None:
    # §1.3: the token endpoint takes application/x-www-form-urlencoded; a JSON body is refused
    # with the flat OAuth error shape (§1.7).
    code = consent(http, creator=AVA)["code"]
    answer = http.post(
        "/v2/oauth/token/",
        json={
            "client_key": DEFAULT_CLIENT_KEY, "client_secret": DEFAULT_CLIENT_SECRET,
            "code": code, "grant_type": "authorization_code", "redirect_uri": LK_REDIRECT,
        },
    )  # fmt: skip
    body = answer.json()
    assert body["error"] == "invalid_request" and body["log_id"] and "access_token" not in body


@pytest.mark.parametrize(
    ("client_key", "redirect_uri"),
    [(DEFAULT_CLIENT_KEY, LK_REDIRECT), (DEFAULT_BUSINESS_APP_ID, BIZ_REDIRECT)],
)
def test_the_callbacks_code_must_be_url_decoded(
    http: httpx.Client, client_key: str, redirect_uri: str
) -> None:
    # §1.1 (S-D1): the code on the callback is URL-encoded and must be decoded before the
    # exchange; the code as it stands in the Location header is not the code.
    scopes = LK_SCOPES if client_key == DEFAULT_CLIENT_KEY else BIZ_SCOPES
    form = {**authorize_query(client_key, scopes, redirect_uri), "open_id": CAFE}
    location = http.post("/v2/auth/authorize/", data=form).headers["location"]
    raw = location.split("code=", 1)[1].split("&", 1)[0]
    decoded = query_of(location)["code"]
    assert raw != decoded

    def exchange(code: str) -> httpx.Response:
        if client_key == DEFAULT_CLIENT_KEY:
            return _form_post(
                http, "/v2/oauth/token/", client_key=client_key,
                client_secret=DEFAULT_CLIENT_SECRET, code=code,
                grant_type="authorization_code", redirect_uri=redirect_uri,
            )  # fmt: skip
        return http.post(
            f"{BIZ}/tt_user/oauth2/token/",
            json={
                "client_id": client_key, "client_secret": DEFAULT_BUSINESS_APP_SECRET,
                "grant_type": "authorization_code", "auth_code": code,
                "redirect_uri": redirect_uri,
            },
        )  # fmt: skip

    undecoded = exchange(raw).json()
    assert undecoded.get("error") == "invalid_grant" or undecoded.get("code") == 40110
    answer = exchange(decoded).json()
    assert "access_token" in answer or answer["data"]["access_token"]


def test_business_code_expires_and_needs_the_same_redirect_uri(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §4.1: 40110 invalid/expired auth_code (10-min TTL); §1.1 (S-K2): the same redirect string
    # must be sent at the exchange (the sheet names no code: the simulator answers 40002).
    def exchange(code: str, redirect_uri: str = BIZ_REDIRECT) -> int:
        body = _biz(
            http, "/tt_user/oauth2/token/", client_id=DEFAULT_BUSINESS_APP_ID,
            client_secret=DEFAULT_BUSINESS_APP_SECRET, grant_type="authorization_code",
            auth_code=code, redirect_uri=redirect_uri,
        )  # fmt: skip
        return int(str(body["code"]))

    def new_code() -> str:
        return consent(
            http, creator=CAFE, client_key=DEFAULT_BUSINESS_APP_ID, scopes=BIZ_SCOPES,
            redirect_uri=BIZ_REDIRECT,
        )["code"]  # fmt: skip

    stale = new_code()
    sim.clock.advance(601)
    assert exchange(stale) == 40110
    assert exchange(new_code(), BIZ_REDIRECT.rstrip("/")) == 40002


def test_expired_and_revoked_access_tokens_are_refused_on_open_api(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §5.5, §5.6: an expired or revoked access token on any v2 call -> 401 access_token_invalid.
    def user_info(token: str) -> tuple[int, str]:
        answer = http.get("/v2/user/info/", params={"fields": "open_id"}, headers=bearer(token))
        return answer.status_code, answer.json()["error"]["code"]

    expiring = login_kit_tokens(http, AVA)["access_token"]
    sim.clock.advance(7201)
    assert user_info(expiring) == (401, "access_token_invalid")
    revoked = login_kit_tokens(http, AVA)["access_token"]
    _form_post(
        http, "/v2/oauth/revoke/", client_key=DEFAULT_CLIENT_KEY,
        client_secret=DEFAULT_CLIENT_SECRET, token=revoked,
    )  # fmt: skip
    assert user_info(revoked) == (401, "access_token_invalid")


def test_tokens_minted_without_the_consent_page_hold_only_approved_scopes(
    sim: SimulatorApp,
) -> None:
    # Corrections "Two apps": TikTok never grants a scope the app is not approved for; the
    # simulator's shortcuts that skip the consent page (tests, /_sim/tokens/issue) cannot either,
    # so a product test cannot hold a Login Kit token with comment scopes or the reverse.
    with sim.state.lock, pytest.raises(ValueError, match=r"comment\.list"):
        sim.state.issue_tokens(open_id=AVA, scopes=("user.info.basic", "comment.list"))
    with sim.state.lock, pytest.raises(ValueError, match=r"video\.upload"):
        sim.state.issue_business_tokens(creator_id=CAFE, scopes=("video.list", "video.upload"))
    with sim.state.lock:
        assert sim.state.issue_tokens(open_id=AVA, scopes=LK_SCOPES)["scope"]
        assert sim.state.issue_business_tokens(creator_id=CAFE, scopes=BIZ_SCOPES)["scope"]

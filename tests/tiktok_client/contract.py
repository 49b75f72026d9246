"""Raw-HTTP helpers for the simulator contract tests (test_contract_*.py).

The contract tests speak to the simulator with plain httpx, never with the product's
TikTokClient: they check the simulator against the fact sheet (``docs/tiktok-api.md``),
so that the product's own tests against the simulator mean something. Each test names its
source in a comment (S-x keys and sections of the sheet; "Corrections" = its 2026-11-29 section).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tiktok_client.simulator import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_BUSINESS_APP_SECRET,
    DEFAULT_CLIENT_KEY,
    DEFAULT_CLIENT_SECRET,
    SimulatorApp,
)

SIM_BASE = "http://sim.test"
LK_REDIRECT = "http://localhost:8000/connect/tiktok/callback/"
BIZ_REDIRECT = "http://localhost:8000/connect/tiktok/business/callback/"
LK_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
)
BIZ_SCOPES = (
    "user.account.type",
    "user.info.username",
    "user.info.profile",
    "user.info.stats",
    "user.insights",
    "video.list",
    "video.insights",
    "comment.list",
    "comment.list.manage",
)
BIZ = "/open_api/v1.3"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def authorize_query(
    client_key: str, scopes: tuple[str, ...] | list[str], redirect_uri: str, **extra: str
) -> dict[str, str]:
    return {
        "client_key": client_key,
        "response_type": "code",
        "scope": ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": "st-1",
        **extra,
    }


def consent(
    http: httpx.Client,
    *,
    creator: str,
    client_key: str = DEFAULT_CLIENT_KEY,
    scopes: tuple[str, ...] | list[str] = LK_SCOPES,
    redirect_uri: str = LK_REDIRECT,
    **extra: str,
) -> dict[str, str]:
    """Submit the consent page as ``creator``; return the callback's query parameters."""
    form = {**authorize_query(client_key, scopes, redirect_uri, **extra), "open_id": creator}
    answer = http.post("/v2/auth/authorize/", data=form)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect_uri)
    return query_of(location)


def login_kit_tokens(
    http: httpx.Client, creator: str, scopes: tuple[str, ...] | list[str] = LK_SCOPES
) -> dict[str, Any]:
    """The whole Login Kit flow over HTTP (§1.1, §1.3)."""
    code = consent(http, creator=creator, scopes=scopes)["code"]
    answer = http.post(
        "/v2/oauth/token/",
        content=urlencode(
            {
                "client_key": DEFAULT_CLIENT_KEY,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": LK_REDIRECT,
            }
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def business_tokens(
    http: httpx.Client, creator: str, scopes: tuple[str, ...] | list[str] = BIZ_SCOPES
) -> dict[str, Any]:
    """The Business consent + ``/tt_user/oauth2/token/`` exchange over HTTP (Corrections)."""
    code = consent(
        http,
        creator=creator,
        client_key=DEFAULT_BUSINESS_APP_ID,
        scopes=scopes,
        redirect_uri=BIZ_REDIRECT,
    )["code"]
    answer = http.post(
        f"{BIZ}/tt_user/oauth2/token/",
        json={
            "client_id": DEFAULT_BUSINESS_APP_ID,
            "client_secret": DEFAULT_BUSINESS_APP_SECRET,
            "grant_type": "authorization_code",
            "auth_code": code,
            "redirect_uri": BIZ_REDIRECT,
        },
    )
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 0, body
    return dict(body["data"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def raw_client(sim: SimulatorApp) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=sim), base_url=SIM_BASE)

"""Contract: registering an app's redirect URIs, the simulator's stand-in for TikTok's developer
portal, refuses what the portal refuses (fact sheet §1.1 "Redirect-URI rules for web";
Corrections "One button for both apps" for API for Business apps), except http and a port on
localhost/127.0.0.1 (the simulator's named local-development allowance)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.tiktok_client.conftest import CAFE
from tests.tiktok_client.contract import BIZ, BIZ_REDIRECT, consent
from tiktok_client.simulator import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_BUSINESS_APP_SECRET,
    SimulatorApp,
)

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://later.example.com"


def _register(http: httpx.Client, kind: str, *uris: str) -> httpx.Response:
    return http.post(
        "/_sim/clients",
        json={"client_key": f"app-{kind}", "kind": kind, "redirect_uris": list(uris)},
    )


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://later.example.com/connect/tiktok/callback/", "must be https"),
        (f"{SITE}/connect/tiktok/callback/?next=/", "without a query string"),
        (f"{SITE}/connect/tiktok/callback/#top", "must not carry a fragment"),
        (f"{SITE}/connect/{'a' * 500}/", "shorter than 512 characters"),
        ("/connect/tiktok/callback/", "absolute https URL"),
        # The allowance is http and a port on a loopback host, nothing else.
        ("http://localhost:8000/connect/tiktok/callback/?next=/", "without a query string"),
    ],
)
@pytest.mark.parametrize("kind", ["login_kit", "business"])
def test_the_portal_refuses_a_web_redirect_uri_tiktok_refuses(
    http: httpx.Client, sim: SimulatorApp, kind: str, uri: str, reason: str
) -> None:
    answer = _register(http, kind, f"{SITE}/ok/", uri)
    assert answer.status_code == 400
    assert reason in answer.json()["error"] and uri in answer.json()["error"]
    assert f"app-{kind}" not in sim.state.apps  # nothing registered


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://later.example.com:8443/connect/tiktok/business/callback/", "carries no port"),
        (f"{SITE}/connect/tiktok/business/callback", 'ends with "/"'),
        # Loopback lifts the https and port rules only: the trailing "/" is the product's.
        ("http://localhost:8000/connect/tiktok/business/callback", 'ends with "/"'),
    ],
)
def test_a_business_apps_redirect_url_ends_with_a_slash_and_has_no_port(
    http: httpx.Client, uri: str, reason: str
) -> None:
    answer = _register(http, "business", uri)
    assert answer.status_code == 400 and reason in answer.json()["error"]
    # Login Kit's web rules say nothing of either.
    assert _register(http, "login_kit", uri).status_code == 200


def test_what_the_portal_accepts(http: httpx.Client, sim: SimulatorApp) -> None:
    accepted = [
        f"{SITE}/connect/tiktok/business/callback/",
        "http://localhost:8000/connect/tiktok/business/callback/",
        "http://127.0.0.1:54321/connect/tiktok/business/callback/",
    ]
    assert _register(http, "business", *accepted, accepted[0]).status_code == 200
    assert sim.state.apps["app-business"].redirect_uris == accepted  # a repeat is kept once


def test_at_most_ten_redirect_uris_per_app(http: httpx.Client) -> None:
    ten = [f"{SITE}/callback/{n}/" for n in range(10)]
    assert _register(http, "login_kit", *ten).status_code == 200
    answer = _register(http, "login_kit", *ten, f"{SITE}/callback/10/")
    assert answer.status_code == 400 and "at most 10" in answer.json()["error"]


def test_the_command_line_refuses_a_redirect_uri_tiktok_refuses() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tiktok_client.simulator", "--port", "0",
         "--redirect-uri", "http://later.example.com/connect/tiktok/business/callback/"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "must be https" in done.stderr and "later.example.com" in done.stderr


def test_the_token_exchange_needs_the_authorize_redirect_url_to_the_character(
    http: httpx.Client,
) -> None:
    # Corrections: "the same string must be sent at token exchange".
    code = consent(
        http,
        creator=CAFE,
        client_key=DEFAULT_BUSINESS_APP_ID,
        scopes=["user.account.type"],
        redirect_uri=BIZ_REDIRECT,
    )["code"]

    def exchange(redirect_uri: str) -> int:
        answer = http.post(
            f"{BIZ}/tt_user/oauth2/token/",
            json={
                "client_id": DEFAULT_BUSINESS_APP_ID,
                "client_secret": DEFAULT_BUSINESS_APP_SECRET,
                "grant_type": "authorization_code",
                "auth_code": code,
                "redirect_uri": redirect_uri,
            },
        )
        return int(answer.json()["code"])

    assert exchange(BIZ_REDIRECT.rstrip("/")) == 40002
    assert exchange(BIZ_REDIRECT) == 0

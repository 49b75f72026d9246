"""`manage.py check --deploy` warns about a redirect URL TikTok's developer portal would refuse:
Login Kit (fact sheet §1.1: absolute HTTPS, no query string, no fragment, under 512 characters)
and API for Business (Corrections: also ends with "/" and has no port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks

from accounts.checks import redirect_uri_problems

REPO = Path(__file__).resolve().parents[2]
GOOD = "https://later.example.com/connect/tiktok/business/callback/"


def _warnings(*, deploy: bool = True, check_id: str = "accounts.W001") -> list[Any]:
    return [m for m in run_checks(include_deployment_checks=deploy) if m.id == check_id]


@pytest.mark.parametrize(
    ("uri", "problems"),
    [
        (GOOD, []),
        ("http://later.example.com/connect/tiktok/business/callback/", ["it is not HTTPS"]),
        ("https://later.example.com:8443/connect/tiktok/business/callback/", ["it has a port"]),
        ("https://later.example.com/connect/?next=business/", ["it has a query string"]),
        (
            "https://later.example.com/connect/tiktok/business/callback",
            ['it does not end with "/"'],
        ),
        (
            "http://127.0.0.1:8000/cb?x=1",
            [
                "it is not HTTPS",
                "it has a port",
                "it has a query string",
                'it does not end with "/"',
            ],
        ),
    ],
)
def test_redirect_url_rules(uri: str, problems: list[str]) -> None:
    assert redirect_uri_problems(uri, business=True) == problems


LOGIN_KIT_GOOD = "https://later.example.com/connect/tiktok/callback/"


@pytest.mark.parametrize(
    ("uri", "problems"),
    [
        (LOGIN_KIT_GOOD, []),
        # Login Kit's web rules say nothing of a port or a trailing "/".
        ("https://later.example.com:8443/connect/tiktok/callback", []),
        ("http://later.example.com/connect/tiktok/callback/", ["it is not HTTPS"]),
        ("https://later.example.com/connect/?app=tiktok", ["it has a query string"]),
        ("https://later.example.com/connect/#tiktok", ["it has a fragment"]),
        ("/connect/tiktok/callback/", ["it is not HTTPS", "it is not an absolute URL"]),
        (LOGIN_KIT_GOOD + "a" * 500, ["it is longer than 511 characters"]),
    ],
)
def test_login_kit_redirect_url_rules(uri: str, problems: list[str]) -> None:
    assert redirect_uri_problems(uri, business=False) == problems


def test_a_real_login_kit_app_with_a_url_tiktok_refuses_is_a_deploy_warning(
    settings: Any,
) -> None:
    settings.TIKTOK_CLIENT_KEY = "awx1234567890abcd"
    settings.TIKTOK_REDIRECT_URI = "http://later.example.com/connect/tiktok/callback/?from=app"
    [warning] = _warnings(check_id="accounts.W002")
    assert "is not HTTPS" in warning.msg and "has a query string" in warning.msg
    assert _warnings(deploy=False, check_id="accounts.W002") == []

    settings.TIKTOK_REDIRECT_URI = LOGIN_KIT_GOOD
    assert _warnings(check_id="accounts.W002") == []
    settings.TIKTOK_CLIENT_KEY = "sim-client-key"  # the quick start's simulator
    settings.TIKTOK_REDIRECT_URI = "http://localhost:8000/connect/tiktok/callback/"
    assert _warnings(check_id="accounts.W002") == []


def test_a_real_business_app_with_a_url_tiktok_refuses_is_a_deploy_warning(settings: Any) -> None:
    settings.TIKTOK_BUSINESS_APP_ID = "7301234567890123456"
    settings.TIKTOK_BUSINESS_REDIRECT_URI = "http://later.example.com/connect/tiktok/business/cb"
    [warning] = _warnings()
    assert "is not HTTPS" in warning.msg and 'does not end with "/"' in warning.msg
    assert warning.hint and GOOD in warning.hint
    assert _warnings(deploy=False) == []  # a deploy check only

    settings.TIKTOK_BUSINESS_REDIRECT_URI = GOOD
    assert _warnings() == []


@pytest.mark.parametrize("app_id", ["sim-business-app-id", ""])
def test_the_simulators_app_or_none_is_not_checked(settings: Any, app_id: str) -> None:
    # The quick start's simulator app lives on http://127.0.0.1:8000; TikTok never sees it.
    settings.TIKTOK_BUSINESS_APP_ID = app_id
    settings.TIKTOK_BUSINESS_REDIRECT_URI = (
        "http://127.0.0.1:8000/connect/tiktok/business/callback/"
    )
    assert _warnings() == []


def test_manage_py_check_deploy_shows_it() -> None:
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": "x" * 64,
        "TOKEN_ENCRYPTION_KEYS": "ZGV2LW9ubHktdG9rZW4ta2V5LWRvLW5vdC11c2UtMzI=",
        "ALLOWED_HOSTS": "later.example.com",
        "TIKTOK_BUSINESS_APP_ID": "7301234567890123456",
        "TIKTOK_BUSINESS_APP_SECRET": "business-secret",
        "TIKTOK_BUSINESS_REDIRECT_URI": "https://later.example.com:8443/business/callback/",
        "TIKTOK_CLIENT_KEY": "awx1234567890abcd",
        "TIKTOK_CLIENT_SECRET": "login-kit-secret",
        "TIKTOK_REDIRECT_URI": "http://later.example.com/connect/tiktok/callback/",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr and "it has a port" in result.stderr
    assert "accounts.W002" in result.stderr and "it is not HTTPS" in result.stderr

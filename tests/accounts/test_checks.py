"""`manage.py check --deploy` warns about a TikTok API for Business redirect URL TikTok would
refuse (fact sheet, Corrections: HTTPS, ends with "/", no port, no query string)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks

from accounts.checks import business_redirect_uri_problems

REPO = Path(__file__).resolve().parents[2]
GOOD = "https://later.example.com/connect/tiktok/business/callback/"


def _warnings(*, deploy: bool = True) -> list[Any]:
    return [m for m in run_checks(include_deployment_checks=deploy) if m.id == "accounts.W001"]


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
    assert business_redirect_uri_problems(uri) == problems


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

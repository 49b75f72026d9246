"""Security headers on page responses and the session cookie's flags."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User, Workspace
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/w/{ws}/calendar/", "/w/{ws}/conversations/"]
)
def test_pages_send_the_security_headers(
    path: str, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner) if "{ws}" in path else Client()
    response = client.get(path.format(ws=workspace.id))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_after_a_real_login(
    owner: User, fresh_rate_limits: None
) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"].lower() == "lax"

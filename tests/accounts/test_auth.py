"""Sign-up, sign-in, rate limiting and two-factor availability (django-allauth)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> None:
    cache.clear()


def test_signup_then_create_first_workspace() -> None:
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {
            "email": "fresh@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="fresh@example.com").exists()
    assert client.get("/")["Location"] == "/workspaces/new/"


def test_login_page_renders_in_product_layout() -> None:
    body = Client().get("/accounts/login/").content.decode()
    assert "Later" in body and 'name="login"' in body and "app.css" in body


def test_failed_logins_are_rate_limited(owner: User) -> None:
    client = Client()
    bodies = [
        client.post("/accounts/login/", {"login": owner.email, "password": "wrong"}).content
        for _ in range(6)
    ]
    assert b"Too many failed login attempts" not in bodies[0]
    assert b"Too many failed login attempts" in bodies[-1]
    # Even the right password is refused while the limit holds.
    ok = client.post(
        "/accounts/login/", {"login": owner.email, "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    assert b"Too many failed login attempts" in ok.content
    assert "_auth_user_id" not in client.session


def test_mfa_totp_setup_page_available(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    response = client.get("/accounts/2fa/")
    assert response.status_code == 200
    assert b"Authenticator App" in response.content
    # Activating TOTP asks for the password again first (reauthentication).
    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 302
    assert "/accounts/reauthenticate/" in activate["Location"]

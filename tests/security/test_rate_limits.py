"""allauth's rate limits: a login brute force is cut off, and so is a password-reset flood."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

TOO_MANY = "Too many failed login attempts"


def _login(client: Client, email: str, password: str) -> Any:
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_login_brute_force_is_cut_off_even_for_the_right_password(owner: User) -> None:
    client = Client()
    answers = [_login(client, owner.email, f"guess-{n}") for n in range(8)]
    assert all(a.status_code == 200 for a in answers)
    assert TOO_MANY not in answers[0].content.decode()
    assert TOO_MANY in answers[-1].content.decode()
    # Once locked, the real password does not get in either: guessing it would be invisible.
    locked = _login(client, owner.email, PASSWORD)
    assert TOO_MANY in locked.content.decode()
    assert SESSION_KEY not in client.session


def test_the_lock_is_per_account_not_per_site(owner: User, editor: User) -> None:
    client = Client()
    for n in range(6):
        _login(client, owner.email, f"guess-{n}")
    response = _login(Client(), editor.email, PASSWORD)
    assert response.status_code == 302


def test_a_brute_force_from_one_ip_across_accounts_is_cut_off(db: None) -> None:
    client = Client()
    answers = [_login(client, f"nobody{n}@example.com", "guess") for n in range(25)]
    assert TOO_MANY in answers[-1].content.decode()


def test_password_reset_flood_is_refused(owner: User, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client()
    codes = [
        client.post("/accounts/password/reset/", {"email": owner.email}).status_code
        for _ in range(8)
    ]
    assert codes[0] == 302
    assert codes[-1] == 429
    assert len(mail.outbox) <= 5


def test_the_api_takes_no_passwords(owner: User, workspace: Any) -> None:
    """HTTP Basic would let a password alone skip the second factor: the API refuses it."""
    token = base64.b64encode(f"{owner.email}:{PASSWORD}".encode()).decode()
    response = Client().get(
        f"/api/v1/w/{workspace.id}/", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")

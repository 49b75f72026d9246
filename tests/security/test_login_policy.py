"""Sign-in policy: throttled per IP and account; a stranger cannot lock out a known device;
the admin signs in through allauth (second factor and throttles included)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts.login_throttle import TRUSTED_DEVICE_COOKIE
from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

TOO_MANY = "Too many failed login attempts"


def _login(client: Client, email: str, password: str) -> Any:
    return client.post("/accounts/login/", {"login": email, "password": password})


def _sign_out_keeping_device(client: Client) -> None:
    # The test client's logout() drops every cookie; a browser keeps the device cookie.
    device = client.cookies[TRUSTED_DEVICE_COOKIE].value
    client.logout()
    client.cookies[TRUSTED_DEVICE_COOKIE] = device


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_a_successful_sign_in_marks_the_device_as_trusted(owner: User) -> None:
    client = Client()
    assert _login(client, owner.email, PASSWORD).status_code == 302
    cookie = client.cookies[TRUSTED_DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 90 * 86400


def test_a_stranger_cannot_lock_out_the_owner_on_a_known_device(owner: User) -> None:
    device = Client(REMOTE_ADDR="10.0.0.7")
    assert _login(device, owner.email, PASSWORD).status_code == 302
    _sign_out_keeping_device(device)
    for ip in ("203.0.113.5", "10.0.0.7"):  # elsewhere, and behind the same NAT as the owner
        stranger = Client(REMOTE_ADDR=ip)
        answers = [_login(stranger, owner.email, f"guess-{n}") for n in range(8)]
        assert TOO_MANY in answers[-1].content.decode()
        assert TOO_MANY in _login(stranger, owner.email, PASSWORD).content.decode()
    assert _login(device, owner.email, PASSWORD).status_code == 302
    assert _signed_in(device)


def test_nor_on_a_new_device_from_another_address(owner: User) -> None:
    stranger = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(8):
        _login(stranger, owner.email, f"guess-{n}")
    newcomer = Client(REMOTE_ADDR="198.51.100.9")
    assert _login(newcomer, owner.email, PASSWORD).status_code == 302


def test_guessing_on_a_trusted_device_is_still_throttled(owner: User) -> None:
    device = Client()
    _login(device, owner.email, PASSWORD)
    _sign_out_keeping_device(device)
    answers = [_login(device, owner.email, f"guess-{n}") for n in range(11)]
    assert TOO_MANY in answers[-1].content.decode()


def test_a_trusted_device_cookie_is_void_after_a_password_change(owner: User) -> None:
    device = Client(REMOTE_ADDR="10.0.0.7")
    _login(device, owner.email, PASSWORD)
    _sign_out_keeping_device(device)
    owner.set_password("a brand new passphrase")
    owner.save()
    for n in range(6):
        _login(device, owner.email, f"guess-{n}")
    assert TOO_MANY in _login(device, owner.email, "a brand new passphrase").content.decode()


def test_another_accounts_cookie_does_not_help(owner: User, editor: User) -> None:
    device = Client()
    _login(device, editor.email, PASSWORD)
    _sign_out_keeping_device(device)
    for n in range(6):
        _login(device, owner.email, f"guess-{n}")
    assert TOO_MANY in _login(device, owner.email, PASSWORD).content.decode()


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_login_is_allauths(db: None) -> None:
    response = Client().get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    # Django's own admin password form is never served.
    posted = Client().post("/admin/login/", {"username": "x", "password": "y"})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert Client().get("/admin/").status_code == 302


def test_admin_sign_in_is_rate_limited_like_any_other(db: None) -> None:
    User.objects.create_superuser("root@example.com", PASSWORD)
    client = Client()
    answers = [_login(client, "root@example.com", f"guess-{n}") for n in range(8)]
    assert TOO_MANY in answers[-1].content.decode()
    assert TOO_MANY in _login(client, "root@example.com", PASSWORD).content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_staff_user_signs_in_through_allauth_and_reaches_the_admin(db: None) -> None:
    User.objects.create_superuser("root@example.com", PASSWORD)
    client = Client()
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": "root@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_staff_session_without_its_second_factor_is_refused(db: None) -> None:
    from allauth.mfa.models import Authenticator

    root = User.objects.create_superuser("root@example.com", PASSWORD)
    Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client = Client()
    client.force_login(root)  # a session that never went through the second factor
    response = client.get("/admin/")
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"].startswith("/accounts/login/")
    assert not _signed_in(client)


def test_a_non_staff_user_is_told_the_admin_is_not_theirs(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 403

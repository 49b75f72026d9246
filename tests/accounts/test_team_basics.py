"""Team basics: an invitation survives sign-up, e-mail from the environment is announced,
account colours are far apart and changeable, the demo's staff user is development only."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.colors import color_far_from, hue_of
from accounts.models import Invitation, Membership, Role, User, Workspace
from tests.factories import TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits() -> None:
    cache.clear()


def _invite(workspace: Workspace, owner: User, email: str, role: str = Role.EDITOR) -> Invitation:
    actor = Membership.objects.for_workspace(workspace).get(user=owner)
    return services.invitation_create(workspace=workspace, actor=actor, email=email, role=role)


def test_invitee_without_an_account_signs_up_and_lands_in_the_workspace(
    owner: User, workspace: Workspace
) -> None:
    invitation = _invite(workspace, owner, "newbie@example.com", Role.VIEWER)
    client = Client()
    accept = reverse("accounts:invitation_accept", args=[invitation.token])
    welcome = client.get(accept)
    assert welcome.status_code == 200
    body = welcome.content.decode()
    assert workspace.name in body and "newbie@example.com" in body
    assert "/accounts/signup/?next=" in body
    response = client.post(
        f"/accounts/signup/?next={accept}",
        {
            "email": "newbie@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="newbie@example.com")
    membership = Membership.objects.for_workspace(workspace).get(user=user)
    assert membership.role == Role.VIEWER
    # Wherever allauth sends them next, they end up in the invited workspace.
    landing = client.get(response["Location"], follow=True)
    assert landing.request["PATH_INFO"].startswith(f"/w/{workspace.id}/")
    assert client.get("/", follow=True).request["PATH_INFO"].startswith(f"/w/{workspace.id}/")
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(user=user).verified


def test_sign_up_from_an_invitation_starts_with_the_invited_address(
    owner: User, workspace: Workspace
) -> None:
    # Signing up under another address joins nothing, so the form starts with the right one.
    invitation = _invite(workspace, owner, "new.hire+later@example.com")
    client = Client()
    welcome = client.get(reverse("accounts:invitation_accept", args=[invitation.token]))
    link = re.search(r'href="([^"]+)" data-testid="invite-sign-up"', welcome.content.decode())
    assert link is not None
    signup = client.get(html.unescape(link.group(1)))
    assert signup.status_code == 200
    assert signup.context["form"]["email"].value() == "new.hire+later@example.com"


def test_invitee_with_an_account_signs_in_and_joins(owner: User, workspace: Workspace) -> None:
    from tests.conftest import PASSWORD

    existing = UserFactory.create(email="known@example.com")
    existing.set_password(PASSWORD)
    existing.save()
    invitation = _invite(workspace, owner, "known@example.com", Role.ADMIN)
    client = Client()
    accept = reverse("accounts:invitation_accept", args=[invitation.token])
    assert "Sign in to accept" in client.get(accept).content.decode()
    response = client.post(
        f"/accounts/login/?next={accept}", {"login": "known@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert Membership.objects.for_workspace(workspace).get(user=existing).role == Role.ADMIN


def test_signing_up_with_another_address_does_not_join(owner: User, workspace: Workspace) -> None:
    invitation = _invite(workspace, owner, "right@example.com")
    client = Client()
    client.get(reverse("accounts:invitation_accept", args=[invitation.token]))
    client.post(
        "/accounts/signup/",
        {
            "email": "wrong@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    user = User.objects.get(email="wrong@example.com")
    assert not Membership.objects.for_workspace(workspace).filter(user=user).exists()


def test_unknown_invitation_link_signed_out_is_404() -> None:
    response = Client().get(reverse("accounts:invitation_accept", args=["nope"]))
    assert response.status_code == 404


def test_members_page_says_email_goes_to_the_logs_and_shows_links(
    owner: User, workspace: Workspace, client_for: Callable[[User], Client], settings: Any
) -> None:
    invitation = _invite(workspace, owner, "console@example.com")
    settings.EMAIL_PRINTS_TO_CONSOLE = True
    body = client_for(owner).get(reverse("accounts:members", args=[workspace.id])).content.decode()
    assert 'data-testid="email-console-note"' in body
    # `make run` keeps the web server's and the worker's output in these files, not the terminal.
    assert "var/log/web.log" in body and "var/log/worker.log" in body
    assert "terminal" not in body
    assert invitation.token in body
    settings.EMAIL_PRINTS_TO_CONSOLE = False
    body = client_for(owner).get(reverse("accounts:members", args=[workspace.id])).content.decode()
    assert 'data-testid="email-console-note"' not in body
    assert invitation.token not in body


def _hue_gap(a: str, b: str) -> float:
    ha, hb = hue_of(a), hue_of(b)
    assert ha is not None and hb is not None
    return min(abs(ha - hb), 360 - abs(ha - hb))


def test_new_colours_are_far_from_existing_ones() -> None:
    colours: list[str] = []
    for _ in range(6):
        colours.append(color_far_from(colours))
    gaps = [_hue_gap(a, b) for i, a in enumerate(colours) for b in colours[i + 1 :]]
    assert min(gaps) >= 40  # six colours spread around the wheel (45° apart, give or take)
    # Next to an existing red, the new colour is not another red.
    assert _hue_gap(color_far_from(["#fe2c55"]), "#fe2c55") >= 170


def test_colour_can_be_changed_by_admins_only(
    owner: User,
    editor: User,
    workspace: Workspace,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], Any],
) -> None:
    account = TikTokAccountFactory.create(workspace=workspace, color="#7c3aed")
    url = reverse("accounts:tiktok_account_color", args=[workspace.id, account.id])
    assert client_for(editor).post(url, {"color": "#10b981"}).status_code == 403
    client_for(owner).post(url, {"color": "not a colour"})
    account.refresh_from_db()
    assert account.color == "#7c3aed"
    client_for(owner).post(url, {"color": "#10B981"})
    account.refresh_from_db()
    assert account.color == "#10b981"
    api = reverse("accounts:api_tiktok_account", args=[workspace.id, account.id])
    assert api_client_for(owner).patch(api, {"color": "red"}, format="json").status_code == 400
    ok = api_client_for(owner).patch(api, {"color": "#f79009"}, format="json")
    assert ok.status_code == 200 and ok.json()["color"] == "#f79009"


def test_demo_setup_staff_user_only_in_development(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_setup")
    assert not User.objects.filter(email="admin@example.com").exists()
    settings.DEBUG = True
    call_command("demo_setup")
    call_command("demo_setup")  # idempotent
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser and admin.check_password("later-admin")


def test_demo_captions_fit_each_persona() -> None:
    from later.management.commands.demo_data import DEMO_ACCOUNTS, DEMO_CAPTIONS

    for creators in DEMO_ACCOUNTS.values():
        for open_id, _colour in creators:
            assert DEMO_CAPTIONS[open_id], open_id
    cafe_words = ("coffee", "latte", "espresso", "barista")
    for open_id in ("sim-dance-business", "sim-quiet-chef", "sim-ava-public"):
        assert not any(w in c.lower() for c in DEMO_CAPTIONS[open_id] for w in cafe_words)


def test_the_demo_users_first_sign_in_opens_the_cafe(settings: Any) -> None:
    """Not the alphabetically first workspace: the café, which the demo fills richest."""
    settings.DEBUG = True
    call_command("demo_setup")
    client = Client()
    signed_in = client.post(
        reverse("account_login"), {"login": "demo@example.com", "password": "later-demo"}
    )
    assert signed_in.status_code == 302
    landing = client.get(reverse("home"), follow=True)
    cafe = Workspace.objects.get(name="Demo Coffee Co.")
    assert landing.redirect_chain and str(cafe.pk) in landing.redirect_chain[-1][0]
    assert landing.context["workspace"] == cafe

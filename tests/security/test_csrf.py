"""CSRF: every form endpoint and every session-authenticated API write refuses a tokenless POST."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import (
    Invitation,
    Membership,
    Notification,
    TikTokAccount,
    TikTokOAuthState,
    User,
    Workspace,
)
from calendar_app.models import MediaAsset, Post
from conversations.models import Comment
from tests.security.conftest import Seeded
from tests.security.routes import api_routes, html_routes, placeholder_values

pytestmark = pytest.mark.django_db

#: What a forged form could create, change or delete, summarised so any change shows.
WATCHED: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Workspace, ("name", "time_zone")),
    (Membership, ("role",)),
    (Invitation, ("accepted_at",)),
    (Notification, ("read_at",)),
    (TikTokAccount, ("status", "access_token_encrypted")),
    (TikTokOAuthState, ("used_at",)),
    (MediaAsset, ("original_name",)),
    (Post, ("status", "scheduled_at", "caption")),
    (Comment, ("is_hidden", "liked", "read_at", "handled_at", "deleted_at", "reply_count")),
    (User, ("email", "password", "first_name")),
)


def _rows(model: type[models.Model]) -> Any:
    manager: Any = model._default_manager
    return manager.unscoped() if hasattr(manager, "unscoped") else manager.all()


def database_state() -> dict[str, list[str]]:
    return {
        model.__name__: sorted(map(repr, _rows(model).values_list("pk", *fields)))
        for model, fields in WATCHED
    }


def _values(seeded: Seeded, routes: list[Any]) -> dict[str, str]:
    return {**placeholder_values(routes), **seeded.url_values()}


FORM_DATA = {
    "name": "Forged",
    "time_zone": "UTC",
    "role": "owner",
    "email": "forged@example.com",
    "text": "forged reply",
    "action": "hide",
    "ids": "x",
    "caption": "forged",
    "password": "forged",
    "login": "owner@example.com",
}


#: TikTok's webhooks cannot carry a CSRF token: an HMAC signature authenticates them instead,
#: and an unsigned POST is refused (400) without touching anything.
SIGNED_WEBHOOKS = frozenset({"/webhooks/tiktok/", "/webhooks/tiktok/business/"})


def test_every_html_route_refuses_a_post_without_a_csrf_token(seeded: Seeded, owner: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    routes = html_routes()
    values = _values(seeded, routes)
    before = database_state()
    answered = {}
    for route in routes:
        url = route.url(values)
        response = client.post(url, FORM_DATA)
        answered[url] = response.status_code
    wrong = {
        url: code
        for url, code in answered.items()
        if code != (400 if url in SIGNED_WEBHOOKS else 403)
    }
    assert not wrong, wrong
    assert len(answered) > 60
    assert database_state() == before


def test_a_form_post_with_the_token_is_accepted(seeded: Seeded, owner: User) -> None:
    """The control: the 403s above come from the missing token, not from the route."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = f"/w/{seeded.workspace.id}/settings/"
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, {"name": "Renamed", "time_zone": "UTC", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    seeded.workspace.refresh_from_db()
    assert seeded.workspace.name == "Renamed"


def test_session_authenticated_api_writes_need_the_csrf_token(seeded: Seeded, owner: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    routes = api_routes()
    values = _values(seeded, routes)
    before = database_state()
    wrong = {}
    checked = 0
    for route in routes:
        url = route.url(values)
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {"name": "Forged"}, format="json")
            checked += 1
            body = response.json() if response.get("Content-Type") == "application/json" else {}
            message = str(body.get("error", {}).get("message", ""))
            if response.status_code != 403 or "CSRF" not in message:
                wrong[f"{method.upper()} {url}"] = (response.status_code, message)
    assert checked > 100
    assert not wrong, wrong
    assert database_state() == before


def test_an_api_write_with_the_token_is_accepted(seeded: Seeded, owner: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get(f"/w/{seeded.workspace.id}/settings/")
    token = client.cookies["csrftoken"].value
    response = client.patch(
        f"/api/v1/w/{seeded.workspace.id}/",
        {"name": "Renamed by API"},
        format="json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.content
    seeded.workspace.refresh_from_db()
    assert seeded.workspace.name == "Renamed by API"

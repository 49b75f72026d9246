"""Fixtures for the TikTok connection tests: a real threaded simulator and a connect driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import TikTokAccount, Workspace
from tiktok_client.simulator import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_CLIENT_KEY,
    SimulatorApp,
    create_app,
)
from tiktok_client.simulator.server import run_in_thread

CALLBACK_PATH = "/connect/tiktok/callback/"
BUSINESS_CALLBACK_PATH = "/connect/tiktok/business/callback/"


class Sim:
    def __init__(self, app: SimulatorApp, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    @property
    def state(self):
        return self.app.state

    def token_calls(self) -> int:
        return self.app.counters.requests_to("/v2/oauth/token/")

    def revoke_calls(self) -> int:
        return self.app.counters.requests_to("/v2/oauth/revoke/")

    def allow_redirect(self, uri: str) -> None:
        self.state.apps[DEFAULT_CLIENT_KEY].register_redirect_uris([uri])

    def issue(self, open_id: str, scopes: tuple[str, ...]) -> dict[str, object]:
        with self.state.lock:
            return self.state.issue_tokens(open_id=open_id, scopes=scopes)


@pytest.fixture
def sim(settings) -> Iterator[Sim]:
    app = create_app()
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = base_url + "/open_api/v1.3"
    settings.TIKTOK_REDIRECT_URI = "http://localhost:8000" + CALLBACK_PATH
    settings.TIKTOK_BUSINESS_REDIRECT_URI = "http://localhost:8000" + BUSINESS_CALLBACK_PATH
    simulator = Sim(app, base_url)
    simulator.allow_redirect(settings.TIKTOK_REDIRECT_URI)
    try:
        yield simulator
    finally:
        stop()


def consent(
    sim: Sim,
    authorize_url: str,
    *,
    open_id: str | None = None,
    cancel: bool = False,
    granted: list[str] | None = None,
) -> str:
    """Submit the simulator's consent form as a user would; return TikTok's redirect target.

    `granted` unticks every other permission, as a user may on TikTok's consent screen.
    """
    form: dict[str, str | list[str]] = dict(parse_qsl(urlsplit(authorize_url).query))
    if granted is not None:
        form["scope_choice"] = "1"
        form["granted_scope"] = granted
    if cancel:
        form["action"] = "cancel"
    else:
        assert open_id is not None
        form["open_id"] = open_id
    response = httpx.post(sim.base_url + "/v2/auth/authorize/", data=form, timeout=10)
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


def start_connect(client: Client, workspace: Workspace) -> str:
    response = client.post(reverse("accounts:tiktok_connect", args=[workspace.id]))
    assert response.status_code == 302, response.content
    return str(response["Location"])


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == CALLBACK_PATH
    return f"{parts.path}?{parts.query}"


def business_callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == BUSINESS_CALLBACK_PATH
    return f"{parts.path}?{parts.query}"


def is_business_consent(sim: Sim, location: str) -> bool:
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    return location.startswith(sim.base_url) and query.get("client_key") == DEFAULT_BUSINESS_APP_ID


@pytest.fixture
def connect(sim: Sim) -> Callable[..., object]:
    """Drive the whole one-button flow: Connect -> Login Kit consent -> callback -> (Business
    app configured) Business consent -> callback. Returns the last response.

    `business_as` answers the Business consent as another creator; `decline_business`
    cancels it; `business_granted` unticks all other Business permissions.
    """

    def run(
        client: Client,
        workspace: Workspace,
        open_id: str,
        *,
        cancel: bool = False,
        business_as: str | None = None,
        decline_business: bool = False,
        business_granted: list[str] | None = None,
    ) -> object:
        location = consent(sim, start_connect(client, workspace), open_id=open_id, cancel=cancel)
        response = client.get(callback_path(location))
        if response.status_code != 302 or not is_business_consent(sim, response["Location"]):
            return response
        location = consent(
            sim,
            response["Location"],
            open_id=business_as or open_id,
            cancel=decline_business,
            granted=business_granted,
        )
        return client.get(business_callback_path(location))

    return run


def make_connected_account(
    sim: Sim,
    workspace: Workspace,
    *,
    open_id: str = "sim-ava-public",
    scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload", "video.list"),
    expires_in: timedelta = timedelta(hours=20),
    username: str = "ava.creates",
) -> TikTokAccount:
    """An account holding real simulator tokens, without going through the browser flow."""
    tokens = sim.issue(open_id, scopes)
    now = timezone.now()
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=open_id,
        username=username,
        display_name=username,
        scopes=list(scopes),
        access_token_encrypted=encrypt_token(str(tokens["access_token"])),
        refresh_token_encrypted=encrypt_token(str(tokens["refresh_token"])),
        access_token_expires_at=now + expires_in,
        refresh_token_expires_at=now + timedelta(days=300),
    )

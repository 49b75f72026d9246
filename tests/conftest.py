"""Shared fixtures: personas (owner / editor / viewer / outsider) and their workspaces."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role, User, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh_process_rate_budget() -> None:
    """Each test starts with an empty per-process TikTok budget: no window or Retry-After
    hold of an earlier test (simulator tokens repeat between tests) carries over. Nor does the
    Business app's window in Redis, which every test's simulator app shares."""
    business_app_minute_elapses()


def business_app_minute_elapses() -> None:
    """As if a minute had passed since the last TikTok API for Business call of any worker."""
    from django.conf import settings

    from accounts.tiktok.access import _process_rate_limiter
    from tiktok_client.config import SIMULATOR_BUSINESS_APP_ID
    from tiktok_client.ratelimit import RedisRateLimiter

    _process_rate_limiter.clear()
    if redis_url := getattr(settings, "REDIS_URL", ""):
        with contextlib.suppress(redis.RedisError):
            RedisRateLimiter(redis_url).reset_app(app_id=SIMULATOR_BUSINESS_APP_ID)


def rate_holds_elapse() -> None:
    """As if TikTok's Retry-After had elapsed (for tests that retry at once)."""
    from accounts.tiktok.access import _process_rate_limiter

    _process_rate_limiter.clear()


def spend_business_app_budget(calls: int) -> None:
    """As if other workers had made `calls` TikTok API for Business calls this minute."""
    from accounts.tiktok import get_tiktok_client
    from tiktok_client.ratelimit import AppBudget, RateLimiter

    client = get_tiktok_client()
    limiter = client.rate_limiter
    assert isinstance(limiter, RateLimiter)
    app = AppBudget(
        app_id=client.config.business_app_id, ceiling=client.config.business_app_rate_limit
    )
    for _ in range(calls):
        admission = limiter.admit(
            access_token="act.elsewhere", endpoint="/elsewhere", family=None, app=app
        )
        assert admission == (0.0, 0.0, 0.0)


@pytest.fixture
def broker_sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What tasks publish to the broker, as (task name, kwargs), instead of publishing it.

    Refuses any message that would wait in the broker: Celery turns `countdown=` and `eta=`
    into the message's `eta` header (docs/style.md: a delayed message in Redis runs twice
    after the visibility timeout; retries wait in PostgreSQL)."""
    from later.celery import app

    sent: list[tuple[str, dict[str, Any]]] = []

    def send_task_message(producer: Any, name: str, message: Any, **options: Any) -> None:
        eta = message.headers.get("eta")
        if eta or options.get("countdown") or options.get("eta"):
            raise AssertionError(f"{name} was sent to wait in the broker until {eta}")
        _args, kwargs, _embed = message.body
        sent.append((name, dict(kwargs)))

    monkeypatch.setattr(app.amqp, "send_task_message", send_task_message)
    return sent


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory.create(email="owner@example.com")


@pytest.fixture
def editor(db: None) -> User:
    return UserFactory.create(email="editor@example.com")


@pytest.fixture
def viewer(db: None) -> User:
    return UserFactory.create(email="viewer@example.com")


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory.create(email="outsider@example.com")


@pytest.fixture
def workspace(owner: User, editor: User, viewer: User) -> Workspace:
    ws = WorkspaceFactory.create(name="Acme Client")
    MembershipFactory.create(workspace=ws, user=owner, role=Role.OWNER)
    MembershipFactory.create(workspace=ws, user=editor, role=Role.EDITOR)
    MembershipFactory.create(workspace=ws, user=viewer, role=Role.VIEWER)
    return ws


@pytest.fixture
def other_workspace(outsider: User) -> Workspace:
    ws = WorkspaceFactory.create(name="Rival Client")
    MembershipFactory.create(workspace=ws, user=outsider, role=Role.OWNER)
    return ws


@pytest.fixture
def client_for(db: None) -> Callable[[User], Client]:
    def make(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def api_client_for(db: None) -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        c = APIClient()
        c.force_authenticate(user)
        return c

    return make

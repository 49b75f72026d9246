"""/healthz says whether the task queue (Celery broker) is reachable, without a restart."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from later import queue_health
from later.celery import app

pytestmark = pytest.mark.django_db


def test_healthz_reports_an_unreachable_queue_and_its_recovery(
    client: Client, monkeypatch: Any
) -> None:
    assert client.get("/healthz/").json() == {"status": "ok", "queue": "ok"}
    good = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    assert client.get("/healthz/").json() == {"status": "degraded", "queue": "unreachable"}
    monkeypatch.setattr(app.conf, "broker_url", good)
    assert client.get("/healthz/").json() == {"status": "ok", "queue": "ok"}


def test_members_see_a_banner_while_the_queue_is_unreachable_and_not_after(
    client_for: Any, workspace: Any, owner: Any, viewer: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.QUEUE_HEALTH_CHECK_SECONDS = 0  # ask the broker on every page in this test
    calendar = reverse("calendar_app:calendar", args=[workspace.id])
    page = client_for(owner).get(calendar)
    assert page.status_code == 200 and b'data-testid="queue-banner"' not in page.content

    good = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    for member in (owner, viewer):
        page = client_for(member).get(calendar)
        assert page.status_code == 200
        assert b'data-testid="queue-banner"' in page.content
        assert b"Publishing is delayed" in page.content
    # Pages outside a workspace (sign-in) never ask.
    assert b"queue-banner" not in Client().get(reverse("account_login")).content

    monkeypatch.setattr(app.conf, "broker_url", good)
    page = client_for(owner).get(calendar)
    assert b'data-testid="queue-banner"' not in page.content


def test_the_banner_check_is_cached_between_pages(
    client_for: Any, workspace: Any, owner: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.QUEUE_HEALTH_CHECK_SECONDS = 3600
    calendar = reverse("calendar_app:calendar", args=[workspace.id])
    client_for(owner).get(calendar)  # may or may not check, depending on earlier tests
    asked: list[int] = []

    def ask(timeout: int = 1) -> bool:
        asked.append(timeout)
        return True

    monkeypatch.setattr(queue_health, "queue_reachable", ask)
    monkeypatch.setattr(queue_health, "_last_checked", float("-inf"))
    for _ in range(5):
        client_for(owner).get(calendar)
    assert asked == [1]  # one short check for five pages

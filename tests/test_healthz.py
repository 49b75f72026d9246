"""/healthz says whether the task queue (Celery broker) is reachable, without a restart."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

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

"""What can be checked of the production wiring without Docker: compose, Dockerfile, Celery."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_describes_the_full_stack() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker-publishing", "worker", "beat", "postgres", "redis"}
    for name in ("web", "worker-publishing", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert env["DEBUG"] == "False"
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}
    assert "migrate" in services["web"]["command"]
    assert "later.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A later worker")
    assert "-Q publishing " in services["worker-publishing"]["command"]
    background = services["worker"]["command"].split("-Q ", 1)[1].split()[0].split(",")
    assert "publishing" not in background
    assert {"default", "sync", "analytics"} <= set(background)
    # On a shared host the background pool yields the CPU to publishing.
    assert services["worker"]["cpu_shares"] < services["worker-publishing"]["cpu_shares"]
    assert services["beat"]["command"].startswith("celery -A later beat")


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in (
        "later",
        "accounts",
        "calendar_app",
        "conversations",
        "analytics",
        "tiktok_client",
        "templates",
        "static",
    ):
        assert f"COPY {package} {package}" in dockerfile


def test_beat_schedule_names_registered_tasks() -> None:
    from later.celery import app

    app.loader.import_default_modules()
    registered = set(app.tasks.keys())
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in registered, entry["task"]


def test_the_dispatcher_ticks_on_the_clocks_whole_seconds() -> None:
    # Posts fall due on whole minutes: a tick at 09:00:00 claims them at once, where a tick
    # a second after beat's start (any phase) would leave them waiting up to a second.
    schedule: Any = copy.copy(settings.CELERY_BEAT_SCHEDULE["dispatch-due-posts"]["schedule"])
    last_run = dt.datetime(2026, 12, 1, 8, 59, 59, 13_000, tzinfo=dt.UTC)

    def at(seconds: float) -> tuple[bool, float]:
        schedule.nowfun = lambda: last_run.replace(microsecond=0) + dt.timedelta(seconds=seconds)
        due, next_in = schedule.is_due(last_run)
        return due, round(next_in, 4)

    assert at(0.5) == (False, 0.5)  # half a second after a tick: sleep to the next second
    assert at(0.9998) == (False, 0.0002)
    assert at(1.0001) == (True, 0.9999)  # 09:00:00.0001: due, and next at 09:00:01
    assert at(1.3) == (True, 0.7)  # a late wake-up does not shift the later ticks


def test_task_time_limits_are_set() -> None:
    assert 0 < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_publishing_has_its_own_queue_apart_from_background_work() -> None:
    from later.celery import app

    app.loader.import_default_modules()
    declared = {q.name for q in settings.CELERY_TASK_QUEUES}

    def queue_of(task_name: str) -> str:
        route = app.amqp.router.route({}, task_name)
        return str(route["queue"].name)

    publishing = [n for n in app.tasks if n.startswith("calendar_app.tasks.")]
    background = [
        n for n in app.tasks if n.startswith(("conversations.tasks.", "analytics.tasks."))
    ]
    assert publishing and background
    for name in publishing:
        assert queue_of(name) == "publishing", name
    for name in background:
        assert queue_of(name) in {"sync", "analytics"}, name
    assert queue_of("accounts.tasks.refresh_expiring_tokens") == "default"
    assert {queue_of(n) for n in app.tasks if not n.startswith("celery.")} <= declared

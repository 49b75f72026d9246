"""No TikTok token in a database dump or in any log record, after a real connect and refresh."""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from accounts.models import TikTokAccount, User, Workspace
from accounts.tiktok.access import tiktok_account_refresh_token
from calendar_app.models import Post, PostStatus
from calendar_app.publishing import dispatch
from tests.accounts.conftest import Sim, callback_path, consent, start_connect
from tests.calendar_app.publishing_factories import make_post, make_video, run_until_settled

PREFIXED_TOKEN = re.compile(rb"\b(?:act|rft)\.[A-Za-z0-9_\-]{8,}")
ALL_LOGGERS = ("", "httpx", "httpcore", "tiktok_client", "accounts", "calendar_app", "django")


@pytest.fixture
def fast_publishing(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PUBLISHING_POLL_FIRST_INTERVAL = 0.1
    settings.PUBLISHING_POLL_MAX_INTERVAL = 0.3
    settings.PUBLISHING_RETRY_BASE_SECONDS = 0.0


def connect_refresh_publish(
    sim: Sim, client: Client, workspace: Workspace
) -> tuple[TikTokAccount, Post]:
    """The real flow: Connect button, consent, callback; a forced refresh; one direct post."""
    location = consent(sim, start_connect(client, workspace), open_id="sim-ava-public")
    assert client.get(callback_path(location)).status_code == 302
    account = TikTokAccount.objects.for_workspace(workspace).get()
    tiktok_account_refresh_token(account=account, min_validity=timedelta(days=3650))
    post = make_post(account, media=make_video(workspace, size=96 * 1024))
    claim = dict(dispatch.posts_dispatch_due())[post.pk]
    run_until_settled(post, claim, passes=40, pause=0.3)
    post = Post.objects.for_workspace(workspace).get(pk=post.pk)
    assert post.status == PostStatus.PUBLISHED, (post.status, post.fail_message)
    return account, post


def issued_secrets(sim: Sim) -> dict[str, list[str]]:
    with sim.state.lock:
        return {
            "access": list(sim.state.access_tokens),
            "refresh": list(sim.state.refresh_tokens),
            "upload": [p.upload_token for p in sim.state.publishes.values() if p.upload_token],
        }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_publishing", "fresh_rate_limits")
def test_database_dump_holds_no_tiktok_token(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    connect_refresh_publish(security_sim, client_for(owner), workspace)
    issued = issued_secrets(security_sim)
    assert len(issued["access"]) >= 2 and len(issued["refresh"]) >= 2  # connect + refresh

    dump = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", connection.settings_dict["NAME"]],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert b"sim-ava-public" in dump  # the dump really holds the connected account
    for token in issued["access"] + issued["refresh"]:
        assert token.encode() not in dump
    assert not PREFIXED_TOKEN.findall(dump)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_publishing", "fresh_rate_limits")
def test_no_token_in_any_log_record(
    security_sim: Sim,
    owner: User,
    workspace: Workspace,
    client_for: Callable[[User], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Production logging pins the HTTP libraries to WARNING: they log request URLs at INFO,
    # and TikTok's upload URL carries an upload_token.
    assert django_settings.LOGGING["loggers"]["httpx"]["level"] == "WARNING"
    assert django_settings.LOGGING["loggers"]["httpcore"]["level"] == "WARNING"
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING

    for name in ALL_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    connect_refresh_publish(security_sim, client_for(owner), workspace)
    issued = issued_secrets(security_sim)
    assert issued["upload"]

    records = [(r, repr(r.__dict__) + r.getMessage()) for r in caplog.records]
    assert any(r.name == "tiktok_client" for r, _ in records)  # the client did log its calls
    for record, text in records:
        for token in issued["access"] + issued["refresh"]:
            assert token not in text, f"{record.name}: {record.getMessage()[:200]}"
        assert not PREFIXED_TOKEN.findall(text.encode()), record.name
        if any(token in text for token in issued["upload"]):
            # Only the HTTP libraries below WARNING, i.e. records the settings never emit.
            assert record.name.split(".")[0] in ("httpx", "httpcore"), record.name
            assert record.levelno < logging.WARNING

"""No TikTok HTTP inside a database transaction: a call may refresh the token and wait up to
TikTok's timeout, which must never hold a transaction open or a post's row lock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Workspace
from calendar_app import services
from calendar_app.services import PostContent, PostTarget
from tests.calendar_app.publishing_factories import (
    CREATOR_INFO,
    Sim,
    connect_account,
    make_video,
    pub_sim,
)

__all__ = ["pub_sim"]


@pytest.mark.django_db(transaction=True)
def test_composer_services_call_tiktok_outside_any_transaction(
    pub_sim: Sim, workspace: Workspace, monkeypatch: Any
) -> None:
    account = connect_account(pub_sim, workspace, "sim-ava-public")
    media = make_video(workspace)
    in_transaction: list[bool] = []
    send = httpx.Client.send

    def watched_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
        in_transaction.append(connection.in_atomic_block)
        return send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", watched_send)
    when = timezone.localtime(timezone.now() + dt.timedelta(days=2), workspace.tz)
    content = PostContent(
        caption="outside the transaction",
        media_id=media.id,
        scheduled_local=when.replace(tzinfo=None),
        scheduled_tz=workspace.time_zone,
    )
    target = PostTarget(account_id=account.id, privacy_level="SELF_ONLY")

    (post,) = services.post_create(
        workspace=workspace, user=None, content=content, targets=[target], schedule=True
    )
    services.post_update(
        workspace=workspace, post=post, content=content, target=target, schedule=True
    )

    assert pub_sim.state.counters.requests_to(CREATOR_INFO) == 2
    assert in_transaction == [False, False]

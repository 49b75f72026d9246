"""The simulator's own webhook sender, over real HTTP, into the product: TikTok signs, we
verify, duplicates are processed once. The other webhook tests sign their bodies themselves;
this one proves both halves agree on the wire (signature header, body shape, secrets)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.urls import reverse

from accounts.models import AccountStatus, TikTokAccount, TikTokWebhookEvent
from accounts.tiktok.webhooks import webhook_event_process
from tests.accounts.conftest import Sim
from tests.simulator import account_with_simulator_tokens
from tiktok_client.simulator import DEFAULT_CLIENT_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def _control(sim: Sim, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(sim.base_url + path, json=body, timeout=15)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_tiktok_revokes_an_authorization_and_the_product_hears_it_once(
    sim: Sim, live_server: Any, workspace: Any
) -> None:
    account = account_with_simulator_tokens(
        sim.app, workspace, open_id="sim-ava-public", scopes=("user.info.basic", "video.publish")
    )
    assert account.status == AccountStatus.CONNECTED
    _control(
        sim,
        "/_sim/webhooks/config",
        {
            "client_key": DEFAULT_CLIENT_KEY,
            "callback_url": live_server.url + reverse("accounts:tiktok_webhook"),
            "duplicates": 2,  # TikTok delivers at least once: three copies (or more) of one event
        },
    )

    _control(sim, "/_sim/authorizations/remove", {"open_id": "sim-ava-public", "reason": 1})
    flushed = _control(sim, "/_sim/webhooks/flush", {"timeout": 20})

    assert flushed["flushed"] is True
    deliveries = [d for d in flushed["deliveries"] if d["event"] == "authorization.removed"]
    assert len(deliveries) >= 3
    assert {d["status"] for d in deliveries} == {"delivered"}, deliveries
    assert all(d["answers"][-1] == "200" for d in deliveries), deliveries
    assert TikTokWebhookEvent.objects.count() == 1  # three deliveries, one event
    # What the worker does with the queued event (the task body; workers are tested elsewhere).
    assert webhook_event_process(event_id=str(TikTokWebhookEvent.objects.get().pk)) is True
    account = TikTokAccount.objects.for_workspace(workspace).get(pk=account.pk)
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert "removed this app's access" in account.status_reason


def test_a_delivery_signed_with_another_secret_is_refused_and_retried(
    sim: Sim, live_server: Any, workspace: Any, settings: Any
) -> None:
    settings.TIKTOK_CLIENT_SECRET = "not-the-secret-tiktok-signs-with"
    account_with_simulator_tokens(
        sim.app, workspace, open_id="sim-ava-public", scopes=("user.info.basic", "video.publish")
    )
    _control(
        sim,
        "/_sim/webhooks/config",
        {
            "client_key": DEFAULT_CLIENT_KEY,
            "callback_url": live_server.url + reverse("accounts:tiktok_webhook"),
            "max_attempts": 2,
            "retry_base_seconds": 0.05,
        },
    )
    _control(sim, "/_sim/authorizations/remove", {"open_id": "sim-ava-public", "reason": 1})
    flushed = _control(sim, "/_sim/webhooks/flush", {"timeout": 20})

    deliveries = [d for d in flushed["deliveries"] if d["event"] == "authorization.removed"]
    assert deliveries  # one, or two when TikTok duplicates it
    for delivery in deliveries:
        assert delivery["attempts"] == 2 and set(delivery["answers"]) == {"400"}, delivery
    assert TikTokWebhookEvent.objects.count() == 0

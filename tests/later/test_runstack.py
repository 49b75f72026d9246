"""`manage.py runstack` (the quick start): the simulator it starts sends each TikTok app's
webhooks to this site's endpoint for that app, so the demo hears comments and publishes live.

Runs the simulator exactly as runstack builds its command, as a real process, against a live
server of the product."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.urls import reverse

from accounts.models import TikTokWebhookEvent
from later.management.commands.runstack import simulator_command
from tiktok_client.client import TikTokClient
from tiktok_client.config import TikTokConfig
from tiktok_client.simulator import DEFAULT_CLIENT_KEY
from tiktok_client.simulator.state import DEFAULT_BUSINESS_APP_ID

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _control(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(base + path, json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_the_quick_start_simulator_sends_each_apps_webhooks_to_this_site(
    live_server: Any, tmp_path: Path
) -> None:
    port = _free_port()
    sim = f"http://127.0.0.1:{port}"
    site = live_server.url
    command = simulator_command(
        sys.executable,
        port=port,
        site=site,
        redirect_uri=f"{site}/connect/tiktok/callback/",
        business_redirect_uri=f"{site}/connect/tiktok/business/callback/",
        state_file=tmp_path / "simulator-state.json",
    )
    proc = _start_simulator(command, sim, tmp_path / "simulator.log")
    try:
        apps = {
            a["client_key"]: a["webhook_url"] for a in httpx.get(f"{sim}/_sim/apps").json()["apps"]
        }
        assert apps == {
            DEFAULT_CLIENT_KEY: site + reverse("accounts:tiktok_webhook"),
            DEFAULT_BUSINESS_APP_ID: site + reverse("accounts:tiktok_business_webhook"),
        }

        # Business app: a comment on a business creator's video (comment.update).
        token = _control(
            sim,
            "/_sim/tokens/issue",
            {"open_id": "sim-cafe-business", "client_key": DEFAULT_BUSINESS_APP_ID},
        )["token"]
        with TikTokClient(TikTokConfig.for_simulator(sim)) as client:
            video = client.business_list_videos(
                access_token=token["access_token"], business_id=token["open_id"], max_count=1
            ).videos[0]
            client.business_create_comment(
                access_token=token["access_token"],
                business_id=token["open_id"],
                video_id=video.item_id,
                text="Hello from the quick start",
            )
        # Login Kit app: the user removes the app in TikTok (authorization.removed).
        _control(sim, "/_sim/tokens/issue", {"open_id": "sim-ava-public"})
        _control(
            sim,
            "/_sim/authorizations/remove",
            {"open_id": "sim-ava-public", "client_key": DEFAULT_CLIENT_KEY},
        )
        flushed = _control(sim, "/_sim/webhooks/flush", {"timeout": 30})
        assert flushed["flushed"] is True
        assert {d["status"] for d in flushed["deliveries"]} == {"delivered"}, flushed

        heard = set(TikTokWebhookEvent.objects.values_list("app", "event"))
        assert ("business", "comment.update") in heard
        assert ("login_kit", "authorization.removed") in heard
    finally:
        _stop(proc)


def test_the_quick_start_simulator_keeps_its_world_across_a_restart(tmp_path: Path) -> None:
    """Stopped as runstack stops it (SIGTERM) and started again, the simulator still knows
    the tokens it issued, as TikTok does while the product restarts."""
    port = _free_port()
    sim = f"http://127.0.0.1:{port}"
    site = "http://127.0.0.1:8000"
    state_file = tmp_path / "var" / "simulator-state.json"
    command = simulator_command(
        sys.executable,
        port=port,
        site=site,
        redirect_uri=f"{site}/connect/tiktok/callback/",
        business_redirect_uri=f"{site}/connect/tiktok/business/callback/",
        state_file=state_file,
    )
    proc = _start_simulator(command, sim, tmp_path / "first.log")
    try:
        token = _control(sim, "/_sim/tokens/issue", {"open_id": "sim-ava-public"})["token"]
    finally:
        _stop(proc)
    assert proc.returncode == 0
    assert state_file.exists()

    proc = _start_simulator(command, sim, tmp_path / "second.log")
    try:
        with TikTokClient(TikTokConfig.for_simulator(sim)) as client:
            user = client.get_user_info(access_token=token["access_token"], fields=["open_id"])
        assert user.open_id == "sim-ava-public"
    finally:
        _stop(proc)
    assert "Simulator state loaded from" in (tmp_path / "second.log").read_text()


def _start_simulator(command: list[str], sim: str, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{sim}/_sim/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"the simulator did not start: {log_path.read_text()}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

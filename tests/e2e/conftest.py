"""Fixtures for the end-to-end journeys: Chromium per test, a real threaded TikTok
simulator per test with the product's settings (and OAuth redirect) pointed at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from accounts.models import User
from tests.accounts.conftest import BUSINESS_CALLBACK_PATH, CALLBACK_PATH
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.simulator import running_simulator
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID, DEFAULT_CLIENT_KEY
from tiktok_client.simulator.app import SimulatorApp


@dataclass
class E2ESim:
    app: SimulatorApp
    base_url: str

    @property
    def state(self) -> Any:
        return self.app.state

    def requests_to(self, endpoint: str, open_id: str | None = None) -> int:
        return int(self.app.counters.requests_to(endpoint, open_id))

    def total_requests(self) -> int:
        return sum(self.app.counters.snapshot()["requests"].values())


@pytest.fixture
def chromium() -> Iterator[Any]:
    # Per test: a live sync Playwright keeps an asyncio loop running, and other apps' browser
    # tests start their own Playwright later in the same session.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> str:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return str(root)


@pytest.fixture
def e2e_sim(settings: Any, live_server: Any) -> Iterator[E2ESim]:
    """TikTok on a loopback port: quick processing, the public id at once, our callback known."""
    url = os.environ.get("REDIS_URL")
    if url:
        # Rate-limit windows, locks and broker messages left by earlier tests must not leak in.
        redis.Redis.from_url(url).flushdb()
    with running_simulator(settings, min_processing_seconds=0.5, moderation_delay=0.0) as (
        app,
        base_url,
    ):
        settings.TIKTOK_TIMEOUT_SECONDS = 5.0
        settings.TIKTOK_REDIRECT_URI = live_server.url + CALLBACK_PATH
        settings.TIKTOK_BUSINESS_REDIRECT_URI = live_server.url + BUSINESS_CALLBACK_PATH
        with app.state.lock:
            app.state.apps[DEFAULT_CLIENT_KEY].register_redirect_uris(
                [settings.TIKTOK_REDIRECT_URI]
            )
            app.state.apps[DEFAULT_BUSINESS_APP_ID].register_redirect_uris(
                [settings.TIKTOK_BUSINESS_REDIRECT_URI]
            )
        yield E2ESim(app=app, base_url=base_url)


@pytest.fixture
def open_page(chromium: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """open_page(user=None, timezone_id="Europe/Paris") -> a page in a fresh browser context."""
    contexts: list[Any] = []

    def make(user: User | None = None, timezone_id: str = "Europe/Paris") -> Any:
        context = chromium.new_context(
            timezone_id=timezone_id, viewport={"width": 1400, "height": 900}
        )
        contexts.append(context)
        if user is not None:
            sign_in(context, user=user, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()

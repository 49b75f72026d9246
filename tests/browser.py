"""Playwright plumbing for browser tests: Debian's Chromium, a signed-in context."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are still synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium_context(**options: Any) -> Iterator[Any]:
    """A fresh browser context (its own cookies) in a headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
            browser.close()


def sign_in(context: Any, *, user: Any, base_url: str) -> None:
    """Give the context `user`'s session cookie, as if they had signed in."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])


@contextmanager
def signed_in_page(*, user: Any, base_url: str, **options: Any) -> Iterator[Any]:
    with chromium_context(**options) as context:
        sign_in(context, user=user, base_url=base_url)
        yield context.new_page()


def wait_for_js(page: Any, expression: str, *, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression is truthy in the page, polled from here.

    Not Playwright's `wait_for_function`: when its first check is false it polls inside the
    page with a function built from the string, which the product's Content-Security-Policy
    (no 'unsafe-eval') refuses; `page.evaluate` runs outside the page's CSP."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)

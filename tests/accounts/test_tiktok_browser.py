"""Browser journey: connect a TikTok account from the Accounts page through TikTok's consent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AccountType, TikTokAccount
from tests.accounts.conftest import CALLBACK_PATH, Sim
from tests.browser import chromium_context


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_context() as context:
        yield context


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_connect_account_from_the_ui(
    sim: Sim, settings: Any, live_server: Any, owner: Any, workspace: Any, page: Any
) -> None:
    settings.TIKTOK_REDIRECT_URI = live_server.url + CALLBACK_PATH
    sim.allow_redirect(settings.TIKTOK_REDIRECT_URI)
    client = Client()
    client.force_login(owner)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
    )
    tab = page.new_page()
    tab.goto(live_server.url + reverse("accounts:tiktok_accounts", args=[workspace.id]))
    tab.get_by_test_id("no-accounts").wait_for()

    tab.get_by_test_id("connect-tiktok").click()
    tab.locator('[data-open-id="sim-dance-business"]').click()

    tab.wait_for_url(f"**/w/{workspace.id}/accounts/")
    card = tab.get_by_test_id("tiktok-account")
    card.wait_for()
    assert "@dance.studio" in card.inner_text()
    assert "Business" in card.inner_text()
    assert tab.get_by_test_id("health").inner_text().strip() == "Connected"
    account = TikTokAccount.objects.for_workspace(workspace).get()
    assert account.account_type == AccountType.BUSINESS

"""Browser journey: one Connect button, two TikTok consents, no account-type question.

A Business creator and a personal creator are connected the same way; each ends up with what
its account allows, and the personal one is told what a Business account would add.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AccountType, BusinessStatus, TikTokAccount
from tests.accounts.conftest import BUSINESS_CALLBACK_PATH, CALLBACK_PATH, Sim
from tests.browser import chromium_context
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID

SHOTS = Path("var/screenshots")


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_context() as context:
        yield context


def _connect(tab: Any, workspace: Any, creator: str) -> None:
    tab.get_by_test_id("connect-tiktok").first.click()
    # TikTok's consent for the Login Kit app, then straight on to the Business app's consent.
    tab.locator(f'[data-open-id="{creator}"]').click()
    tab.wait_for_url("**/v2/auth/authorize/**client_key=" + DEFAULT_BUSINESS_APP_ID + "**")
    tab.locator(f'[data-open-id="{creator}"]').click()
    tab.wait_for_url(f"**/w/{workspace.id}/accounts/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_one_button_connects_a_business_and_a_personal_creator(
    sim: Sim, settings: Any, live_server: Any, owner: Any, workspace: Any, page: Any
) -> None:
    settings.TIKTOK_REDIRECT_URI = live_server.url + CALLBACK_PATH
    settings.TIKTOK_BUSINESS_REDIRECT_URI = live_server.url + BUSINESS_CALLBACK_PATH
    sim.allow_redirect(settings.TIKTOK_REDIRECT_URI)
    sim.state.apps[DEFAULT_BUSINESS_APP_ID].register_redirect_uris(
        [settings.TIKTOK_BUSINESS_REDIRECT_URI]
    )
    client = Client()
    client.force_login(owner)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
    )
    tab = page.new_page()
    tab.goto(live_server.url + reverse("accounts:tiktok_accounts", args=[workspace.id]))
    tab.get_by_test_id("no-accounts").wait_for()
    # Nothing to choose before connecting: one button, no question about the account type.
    assert tab.locator("main select, main input[type=radio], [name=account_type]").count() == 0

    _connect(tab, workspace, "sim-dance-business")
    business_card = tab.locator('[data-testid="tiktok-account"][data-open-id="sim-dance-business"]')
    business_card.wait_for()
    text = business_card.inner_text()
    assert "@dance.studio" in text and "Business" in text
    assert business_card.get_by_test_id("business-health").inner_text().strip() == (
        "Business account: comments and insights"
    )
    assert (
        business_card.locator('[data-capability="comments"]').get_attribute("data-available")
        == "true"
    )

    _connect(tab, workspace, "sim-ava-public")
    personal_card = tab.locator('[data-testid="tiktok-account"][data-open-id="sim-ava-public"]')
    personal_card.wait_for()
    assert (
        personal_card.locator('[data-capability="publish"]').get_attribute("data-available")
        == "true"
    )
    assert (
        personal_card.locator('[data-capability="comments"]').get_attribute("data-available")
        == "false"
    )
    assert personal_card.get_by_test_id("business-health").inner_text().strip() == (
        "Personal account: comments and insights need Business"
    )
    note = personal_card.get_by_test_id("business-note").inner_text()
    assert "Needs a TikTok Business account" in note and "comment inbox" in note

    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.set_viewport_size({"width": 1280, "height": 900})
    tab.screenshot(path=str(SHOTS / "tiktok-accounts-two-apps.png"), full_page=True)
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.screenshot(path=str(SHOTS / "tiktok-accounts-two-apps-390.png"), full_page=True)
    overflow = tab.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert overflow is False
    tab.set_viewport_size({"width": 360, "height": 780})  # the narrowest common Android width
    overflow = tab.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert overflow is False
    badge = personal_card.get_by_test_id("business-health").bounding_box()
    card = personal_card.bounding_box()
    assert badge is not None and card is not None
    assert badge["x"] + badge["width"] <= card["x"] + card["width"], (badge, card)

    accounts = {a.open_id: a for a in TikTokAccount.objects.for_workspace(workspace)}
    assert accounts["sim-dance-business"].account_type == AccountType.BUSINESS
    assert accounts["sim-dance-business"].business_status == BusinessStatus.CONNECTED
    assert accounts["sim-ava-public"].account_type == AccountType.PERSONAL


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_business_app_only_connects_straight_through_the_business_consent(
    sim: Sim, settings: Any, live_server: Any, owner: Any, workspace: Any, page: Any
) -> None:
    settings.TIKTOK_CLIENT_KEY = ""
    settings.TIKTOK_CLIENT_SECRET = ""
    settings.TIKTOK_BUSINESS_REDIRECT_URI = live_server.url + BUSINESS_CALLBACK_PATH
    sim.state.apps[DEFAULT_BUSINESS_APP_ID].register_redirect_uris(
        [settings.TIKTOK_BUSINESS_REDIRECT_URI]
    )
    client = Client()
    client.force_login(owner)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
    )
    tab = page.new_page()
    tab.goto(live_server.url + reverse("accounts:tiktok_accounts", args=[workspace.id]))
    assert tab.locator('[data-app="login_kit"]').get_attribute("data-configured") == "false"

    tab.get_by_test_id("connect-tiktok").first.click()
    # One consent screen: the Business app's, with no Login Kit consent before it.
    tab.wait_for_url("**/v2/auth/authorize/**client_key=" + DEFAULT_BUSINESS_APP_ID + "**")
    tab.locator('[data-open-id="sim-dance-business"]').click()
    tab.wait_for_url(f"**/w/{workspace.id}/accounts/")

    (account,) = TikTokAccount.objects.for_workspace(workspace)
    card = tab.locator(f'[data-testid="tiktok-account"][data-business-id="{account.business_id}"]')
    card.wait_for()
    assert "@dance.studio" in card.inner_text()
    assert card.get_by_test_id("business-health").inner_text().strip() == (
        "Business account: comments and insights"
    )
    assert card.locator('[data-capability="comments"]').get_attribute("data-available") == "true"
    assert card.locator('[data-capability="drafts"]').get_attribute("data-available") == "false"
    assert "Login Kit app" in card.get_by_test_id("login-kit-note").inner_text()
    assert account.open_id == "" and account.account_type == AccountType.BUSINESS

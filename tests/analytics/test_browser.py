"""Browser: open the overview and see the charts drawn as inline SVG with data points."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User, Workspace
from tests.analytics.seed import business_account, day_row
from tests.browser import chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_context() as context:
        yield context


def test_overview_shows_svg_charts(page, live_server, owner: User, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from analytics.models import AccountDailySnapshot
    from analytics.selectors import local_today

    account = business_account(workspace)
    today = local_today(workspace)
    AccountDailySnapshot.objects.bulk_create(
        day_row(account, today - dt.timedelta(days=i), followers=900 + i, video_views=100 * i)
        for i in range(1, 8)
    )
    client = Client()
    client.force_login(owner)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    tab = page.new_page()
    tab.goto(live_server.url + reverse("analytics:overview", args=[workspace.id]) + "?range=7")
    views = tab.locator('[data-testid="chart-views"] svg')
    followers = tab.locator('[data-testid="chart-followers"] svg')
    assert views.is_visible() and followers.is_visible()
    assert tab.locator('[data-testid="chart-views"] rect[data-point]').count() == 6
    assert tab.locator('[data-testid="chart-followers"] circle[data-point]').count() == 6
    title = tab.locator('[data-testid="chart-followers"] circle[data-point] title').first
    assert "followers" in (title.text_content() or "")
    assert tab.locator('[data-testid="card-video_views"]').is_visible()

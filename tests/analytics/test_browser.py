"""Browser: open the overview and see the charts drawn as inline SVG with data points."""

from __future__ import annotations

import itertools
import os
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


def test_overview_shows_svg_charts(page, live_server, owner: User, workspace: Workspace) -> None:
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


def test_two_accounts_and_audience_read_cleanly_at_1400px(
    live_server, owner: User, workspace: Workspace
) -> None:
    import datetime as dt

    from analytics.models import AccountDailySnapshot
    from analytics.selectors import local_today

    today = local_today(workspace)
    old = business_account(workspace, username="corner.cafe")
    new = business_account(workspace, username="new.shop")
    old.color, new.color = "#e11d48", "#0ea5e9"
    old.save(update_fields=["color"])
    new.save(update_fields=["color"])
    AccountDailySnapshot.objects.bulk_create(
        day_row(old, today - dt.timedelta(days=i), followers=20_000 - 90 * i, video_views=400)
        for i in range(1, 60)
    )
    AccountDailySnapshot.objects.create(
        workspace=workspace,
        account=new,
        date=today,
        followers=60_000,
        video_views=50,
        audience={
            "ages": [["18-24", 0.41], ["25-34", 0.33], ["35-44", 0.14], ["45-54", 0.08]],
            "genders": [["Female", 0.33], ["Male", 0.61], ["Other", 0.06]],
            "countries": [["US", 0.5], ["GB", 0.2], ["DE", 0.15]],
        },
    )
    client = Client()
    client.force_login(owner)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with chromium_context(viewport={"width": 1400, "height": 1600}) as context:
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        tab = context.new_page()
        tab.goto(live_server.url + reverse("analytics:overview", args=[workspace.id]))
        legend = tab.get_by_test_id("chart-followers-legend")
        assert "@corner.cafe" in legend.inner_text() and "@new.shop" in legend.inner_text()
        excluded = tab.get_by_test_id("card-followers-excluded")
        assert "@new.shop is excluded from the change" in excluded.inner_text()
        rows = tab.locator('[data-testid="audience"] tr')
        assert rows.count() == 10
        for index in range(rows.count()):
            label = rows.nth(index).locator(".an-share-label").bounding_box()
            share = rows.nth(index).locator("td.num").bounding_box()
            assert label and share
            assert label["x"] + label["width"] <= share["x"], rows.nth(index).inner_text()
        tables = [tab.get_by_test_id(f"audience-{g}") for g in ("ages", "genders", "countries")]
        boxes = [table.bounding_box() for table in tables]
        for left, right in itertools.pairwise(boxes):
            assert left and right
            assert left["x"] + left["width"] < right["x"] or left["y"] + left["height"] < right["y"]
        if os.environ.get("ANALYTICS_SCREENSHOT"):
            tab.screenshot(path=os.environ["ANALYTICS_SCREENSHOT"], full_page=True)


def test_dates_typed_under_a_preset_range_are_applied(
    page, live_server, owner: User, workspace: Workspace
) -> None:
    """With "30 days" selected, typing From/To and pressing Apply shows those dates (the preset
    used to win and the typed dates were silently ignored)."""
    business_account(workspace)
    client = Client()
    client.force_login(owner)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    tab = page.new_page()
    tab.goto(live_server.url + reverse("analytics:overview", args=[workspace.id]) + "?range=30")
    assert tab.locator("input[name=range][value='30']").is_checked()
    tab.locator("input[name=start]").fill("2026-03-10")
    tab.locator("input[name=end]").fill("2026-03-20")
    assert tab.locator("input[name=range][value=custom]").is_checked()
    tab.get_by_role("button", name="Apply").click()
    tab.wait_for_url("**range=custom**")
    assert "Mar 10, 2026 \u2013 Mar 20, 2026" in tab.locator(".an-subtitle").inner_text()

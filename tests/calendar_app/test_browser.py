"""Browser journeys (Playwright + Debian's Chromium): upload, compose, see it, drag it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import MediaAsset, Post
from tests.browser import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server: Any, editor: Any) -> Iterator[Any]:
    with signed_in_page(
        user=editor, base_url=live_server.url, timezone_id="America/New_York"
    ) as page:
        yield page


def test_upload_compose_see_and_drag(browser_page, live_server, workspace, tiktok_sim, make_media):
    page = browser_page
    account = tiktok_sim.connect(workspace, "sim-ava-public", color="#2e90fa")

    # 1. Upload a real video through the media library (XHR with a progress bar).
    page.goto(live_server.url + reverse("calendar_app:media", args=[workspace.id]))
    page.get_by_test_id("file-input").set_input_files(str(make_media(size="720x1280")))
    page.get_by_test_id("upload").click()
    page.get_by_test_id("media-grid").wait_for()
    media = MediaAsset.objects.for_workspace(workspace).get()
    assert (media.width, media.height, media.frame_rate) == (720, 1280, 30)

    # 2. Compose: creator_info comes live from the simulator when the account is ticked.
    page.goto(live_server.url + reverse("calendar_app:post_create", args=[workspace.id]))
    page.get_by_test_id(f"account-{account.id}").check()
    page.get_by_test_id("creator-nickname").wait_for()
    assert page.get_by_test_id("creator-nickname").inner_text() == "Ava Creates"
    privacy = page.get_by_test_id(f"privacy-{account.id}")
    assert privacy.input_value() == ""  # no default
    assert not page.get_by_test_id(f"allow-comment-{account.id}").is_checked()
    page.locator(f'label:has([data-testid="pick-{media.id}"])').click()
    page.get_by_test_id("caption").fill("Studio day 🎬 #behindthescenes @friend")
    # UTF-16 units: the clapper emoji counts twice.
    assert page.get_by_test_id("caption-count").inner_text().startswith("38")
    privacy.select_option("PUBLIC_TO_EVERYONE")
    page.get_by_test_id("commercial").check()
    assert page.get_by_test_id("schedule").is_disabled()  # a disclosure choice is required
    page.get_by_test_id("brand-content").check()
    assert page.get_by_test_id("label-preview").inner_text() == "Paid partnership"
    assert page.locator(
        f'[data-testid="privacy-{account.id}"] option[value="SELF_ONLY"]'
    ).is_disabled()
    page.get_by_test_id("commercial").uncheck()
    day = (timezone.now() + timedelta(days=10)).astimezone(workspace.tz).date()
    page.get_by_test_id("date").fill(day.isoformat())
    page.get_by_test_id("time").fill("15:45")
    page.get_by_test_id("schedule").click()

    # 3. It lands on the calendar, on that day, in the workspace's zone.
    page.wait_for_url(re.compile(r"/calendar/"))
    post = Post.objects.for_workspace(workspace).get()
    assert post.scheduled_local == f"{day.isoformat()}T15:45"
    card = page.get_by_test_id(f"post-{post.id}")
    assert card.locator("xpath=..").get_attribute("data-date") == day.isoformat()
    assert "15:45" in card.inner_text()
    assert "your browser is in America/New_York" in page.get_by_test_id("tz-note").inner_text()

    # 4. Drag it to another day: the time of day is kept and persisted.
    target = day + timedelta(days=1)
    if page.get_by_test_id(f"day-{target.isoformat()}").count() == 0:
        target = day - timedelta(days=1)
    card.drag_to(page.get_by_test_id(f"day-{target.isoformat()}"))
    page.get_by_test_id("toast").filter(has_text="Moved to").wait_for()
    post.refresh_from_db()
    assert post.scheduled_local == f"{target.isoformat()}T15:45"
    assert card.locator("xpath=..").get_attribute("data-date") == target.isoformat()

    # 5. Dragging into the past is refused and the post snaps back.
    yesterday = timezone.now().astimezone(workspace.tz).date() - timedelta(days=1)
    past_cell = page.get_by_test_id(f"day-{yesterday.isoformat()}")
    if past_cell.count():
        card.drag_to(past_cell)
        page.get_by_test_id("toast").filter(has_text="in the past").wait_for()
        assert card.locator("xpath=..").get_attribute("data-date") == target.isoformat()
        post.refresh_from_db()
        assert post.scheduled_local == f"{target.isoformat()}T15:45"


def test_greyed_duet_and_stitch_for_creator_who_disabled_them(
    browser_page, live_server, workspace, tiktok_sim
):
    page = browser_page
    account = tiktok_sim.connect(workspace, "sim-dance-business")
    page.goto(
        live_server.url
        + reverse("calendar_app:post_create", args=[workspace.id])
        + f"?account={account.id}"
    )
    panel = page.get_by_test_id(f"panel-{account.id}")
    assert "Move Dance Studio" in panel.inner_text()
    assert page.get_by_test_id(f"allow-duet-{account.id}").is_disabled()
    assert page.get_by_test_id(f"allow-stitch-{account.id}").is_disabled()
    assert page.get_by_test_id(f"allow-comment-{account.id}").is_enabled()
    assert "turned off in the creator's TikTok settings" in panel.inner_text()


def test_viewer_cannot_drag(live_server, settings, workspace, viewer, tiktok_sim):
    from tests.calendar_app.factories import PostFactory

    account = tiktok_sim.connect(workspace, "sim-ava-public")
    when = timezone.now() + timedelta(days=3)
    PostFactory.create(
        workspace=workspace,
        account=account,
        scheduled_at=when,
        scheduled_local=when.astimezone(workspace.tz).strftime("%Y-%m-%dT%H:%M"),
    )
    with signed_in_page(user=viewer, base_url=live_server.url) as page:
        page.goto(
            live_server.url
            + reverse("calendar_app:calendar", args=[workspace.id])
            + f"?date={when.astimezone(workspace.tz).date().isoformat()}"
        )
        assert page.locator(".cal-post").count() == 1
        assert page.locator(".cal-post[draggable=true]").count() == 0
        assert page.get_by_test_id("new-post").count() == 0

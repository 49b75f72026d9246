"""Browser checks of the planner (Playwright + Debian's Chromium): the week view opens at the
working day with its day header in view, and a card's larger preview shows on hover and focus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from calendar_app.models import Post, PostStatus
from tests.browser import signed_in_page
from tests.calendar_app.factories import MediaAssetFactory
from tests.factories import TikTokAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Set PLANNER_SHOTS=/some/dir to keep screenshots of the pages for a human to look at.
SHOTS = os.environ.get("PLANNER_SHOTS", "")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


@pytest.fixture
def busy_week(workspace: Any) -> Iterator[Any]:
    account = TikTokAccountFactory.create(workspace=workspace, username="bakery", color="#2e90fa")
    media = MediaAssetFactory.create(workspace=workspace)
    media.thumbnail.save("t.jpg", ContentFile(_jpeg()), save=True)
    base = datetime(2031, 3, 10, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris
    statuses = [PostStatus.SCHEDULED, PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.DRAFT]
    Post.objects.bulk_create(
        [
            Post(
                workspace=workspace,
                account=account,
                media=media,
                caption=f"Fresh bread #{i} every morning, straight from the oven",
                status=statuses[i % 4],
                allow_comment=True,
                allow_stitch=i % 2 == 0,
                scheduled_at=base + timedelta(hours=(i % 5) * 2, days=i % 7, minutes=i),
            )
            for i in range(40)
        ]
    )
    yield account


def _jpeg() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (90, 160), (200, 120, 60)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("width", [1440, 390])
def test_week_view_opens_at_the_working_day_and_previews_cards(
    live_server, workspace, editor, busy_week, width
):
    url = reverse("calendar_app:calendar", args=[workspace.id]) + "?view=week&date=2031-03-12"
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": width, "height": 900}
    ) as page:
        page.goto(live_server.url + url)
        week = page.get_by_test_id("cal-week")
        if width > 960:
            # Scrolled so that 08:00 is the first hour under the sticky day header.
            assert week.evaluate("el => el.scrollTop") > 0
            head = page.locator(".cal-week-head").first.bounding_box()
            eight = page.locator('.cal-hour[data-hour="8"]').bounding_box()
            assert head is not None and eight is not None
            assert abs(eight["y"] - (head["y"] + head["height"])) < 6
            week.evaluate("el => { el.scrollTop += 300; }")
            box = week.bounding_box()
            head_after = page.locator(".cal-week-head").first.bounding_box()
            assert box is not None and head_after is not None
            assert abs(head_after["y"] - box["y"]) < 3  # the header stays in view
        shot(page, f"week-{width}")
        first = page.locator(".cal-week .cal-post:visible").first
        first.focus()
        peek = page.locator("#cal-peek")
        peek.wait_for(state="visible")
        assert "Fresh bread" in peek.inner_text() and "bakery" in peek.inner_text()
        assert peek.locator("img").count() == 1
        shot(page, f"week-peek-{width}")
        page.keyboard.press("Escape")
        assert peek.is_hidden()
        page.goto(live_server.url + url.replace("week", "month"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"month-{width}")
        if width > 960:  # phones show the day's agenda instead of cards in the grid
            page.locator(".cal-month .cal-post").first.hover()
            peek.wait_for(state="visible")
            shot(page, f"month-peek-{width}")


def _paris_post(workspace: Any, caption: str, at: datetime) -> Post:
    """A scheduled post of @bakery at `at`, planned in Europe/Paris."""
    return Post.objects.create(
        workspace=workspace,
        account=TikTokAccountFactory.create(workspace=workspace, username="bakery"),
        media=MediaAssetFactory.create(workspace=workspace),
        caption=caption,
        status=PostStatus.SCHEDULED,
        privacy_level="PUBLIC_TO_EVERYONE",
        scheduled_at=at,
        scheduled_tz="Europe/Paris",
    )


def test_dragging_a_post_to_another_day_of_the_week_keeps_its_minutes(
    live_server, workspace, editor
):
    """Monday 10:30 dragged onto Wednesday's 10:00 row is Wednesday 10:30, not 10:00."""
    # Monday 10:30 in Paris
    post = _paris_post(workspace, "Half past ten", datetime(2031, 3, 10, 9, 30, tzinfo=UTC))
    url = reverse("calendar_app:calendar", args=[workspace.id]) + "?view=week&date=2031-03-12"
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 1440, "height": 900}
    ) as page:
        page.goto(live_server.url + url)
        card = page.get_by_test_id(f"post-{post.id}")
        card.drag_to(page.locator('.cal-slot[data-date="2031-03-12"][data-time^="10"]').first)
        page.locator(".cal-toast.ok").wait_for()
        assert "at 10:30" in page.locator(".cal-toast").inner_text()
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2031, 3, 12, 9, 30, tzinfo=UTC)


def test_moving_a_list_row_by_keyboard_starts_from_its_own_day(live_server, workspace, editor):
    """In the list view, M opens the move dialog on the post's day (not today's): changing only
    the time keeps the post on its day."""
    # Wednesday 10:30 in Paris
    post = _paris_post(workspace, "Wednesday special", datetime(2031, 3, 12, 9, 30, tzinfo=UTC))
    url = reverse("calendar_app:calendar", args=[workspace.id]) + "?view=list&date=2031-03-10"
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 1440, "height": 900}
    ) as page:
        page.goto(live_server.url + url)
        page.get_by_test_id(f"post-{post.id}").focus()
        page.keyboard.press("m")
        dialog = page.get_by_test_id("move-dialog")
        dialog.wait_for()
        assert page.locator("#move-date").input_value() == "2031-03-12"
        assert page.locator("#move-time").input_value() == "10:30"
        page.locator("#move-time").fill("16:45")
        page.get_by_test_id("move-submit").click()
        page.locator(".cal-toast.ok").wait_for()
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2031, 3, 12, 15, 45, tzinfo=UTC)

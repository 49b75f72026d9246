"""What the narrow layouts do at 390 px: the month as dots with counts and a day's agenda, the
week as one day with arrows and swipe, the composer's preview on demand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.a11y.conftest import FullWorkspace

pytestmark = [pytest.mark.browser]

SWIPE = """([selector, dx]) => {
    const el = document.querySelector(selector);
    const at = (x) => new Touch({identifier: 1, target: el, clientX: x, clientY: 300});
    el.dispatchEvent(new TouchEvent("touchstart", {changedTouches: [at(200)], bubbles: true}));
    el.dispatchEvent(new TouchEvent("touchend", {changedTouches: [at(200 + dx)], bubbles: true}));
}"""


def test_month_shows_dots_and_the_agenda_of_the_chosen_day(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    busy = timezone.localtime(timezone.now() + dt.timedelta(days=2), full.workspace.tz).date()
    page = signed_in(full.owner, 390, has_touch=True)
    page.goto(
        live_server.url
        + reverse("calendar_app:calendar", args=[full.workspace.id])
        + f"?view=month&date={busy.isoformat()}"
    )
    # Posts do not squeeze into the cells: each day is one button with dots and a count.
    assert not page.locator(".cal-month .cal-post").first.is_visible()
    pick = page.locator(f'.cal-day-pick[data-date="{busy.isoformat()}"]')
    assert pick.locator(".dots i").count() == 3
    assert pick.locator(".count").inner_text() == "4"
    assert "4 posts" in pick.evaluate("e => e.textContent")  # read out: the day, then "4 posts"
    pick.tap()
    assert pick.get_attribute("aria-pressed") == "true"
    agenda = page.get_by_test_id("cal-agenda")
    assert agenda.locator(".cal-post").count() == 4
    assert "Busy day post 0" in agenda.inner_text()
    assert agenda.locator("[data-move]").count() == 4  # each one can be moved without dragging
    assert agenda.get_by_role("link", name="New post on").is_visible()


def test_week_becomes_one_day_with_arrows_and_swipe(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(full.owner, 390, has_touch=True)
    page.goto(
        live_server.url + reverse("calendar_app:calendar", args=[full.workspace.id]) + "?view=week"
    )
    shown = page.evaluate(
        "() => Array.from(document.querySelectorAll('.cal-slot[data-time=\"09:00\"]'))"
        ".filter(e => e.offsetParent !== null).map(e => e.dataset.date)"
    )
    assert len(shown) == 1
    title = page.get_by_test_id("week-day-title")
    first = title.inner_text()
    page.get_by_role("button", name="Next day").click()
    assert title.inner_text() != first
    page.get_by_role("button", name="Previous day").click()
    assert title.inner_text() == first
    page.evaluate(SWIPE, [".cal-week", -120])  # swipe left: the next day
    assert title.inner_text() != first
    page.evaluate(SWIPE, [".cal-week", 120])
    assert title.inner_text() == first
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_composer_is_one_column_with_the_preview_on_demand(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(full.owner, 390)
    page.goto(live_server.url + reverse("calendar_app:post_create", args=[full.workspace.id]))
    preview = page.get_by_test_id("preview")
    assert not preview.is_visible()
    toggle = page.get_by_test_id("preview-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert preview.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    box = preview.bounding_box()
    assert box is not None and box["width"] <= 390
    toggle.click()
    assert not preview.is_visible()
    # Wide screens keep the preview beside the form, without the button.
    page.set_viewport_size({"width": 1440, "height": 900})
    assert preview.is_visible() and not toggle.is_visible()


ONE_LINE = """el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size === 1;
}"""


def test_analytics_fits_its_buttons_and_keeps_numbers_whole(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    # At 390 px the three header buttons shrank below their labels (the text ran over the next
    # button) and the posts table broke figures and words anywhere ("21,73" above "7").
    page = signed_in(full.owner, 390)
    page.goto(live_server.url + reverse("analytics:overview", args=[full.workspace.id]))
    buttons = page.locator(".page-actions > .btn")
    assert buttons.count() == 3
    for index in range(3):
        assert buttons.nth(index).evaluate("e => e.scrollWidth <= e.clientWidth")
    figures = page.locator("[data-testid=posts-table] td.num")
    assert figures.count() > 0
    for index in range(figures.count()):
        assert figures.nth(index).evaluate(ONE_LINE), figures.nth(index).inner_text()
    caption = page.locator("[data-testid=posts-table] .an-video-cell a").first
    assert caption.evaluate("e => e.getClientRects()[0].width") > 100
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

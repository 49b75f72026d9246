"""Keyboard-only journeys: every step is Tab, Shift+Tab, Enter, Space, arrows, Escape or typing,
and at every stop the focused control shows a visible ring."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, Workspace
from calendar_app.models import Post, PostStatus
from conversations.models import Comment
from conversations.sync import comment_sync_account
from tests.a11y.conftest import FullWorkspace, axe_violations
from tests.calendar_app.conftest import TikTokSim, tiktok_sim  # noqa: F401 (fixture)
from tests.calendar_app.factories import MediaAssetFactory
from tests.conversations.conftest import (  # noqa: F401 (fixture)
    CommentSim,
    connect_business_account,
    csim,
    roomy_budget,
    seed_videos,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FOCUS_RING = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "nothing focused";
    const s = getComputedStyle(el);
    const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    const shadow = s.boxShadow && s.boxShadow !== "none";
    return ring || shadow ? "" : "no visible focus on " + el.outerHTML.slice(0, 120);
}"""


def tab_to(page: Any, selector: str, *, limit: int = 120, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            problem = page.evaluate(FOCUS_RING)
            assert not problem, problem
            return
    raise AssertionError(f"{selector} not reached with the keyboard in {limit} presses")


def focused_matches(page: Any, selector: str) -> bool:
    return bool(page.evaluate("s => document.activeElement.matches(s)", selector))


def test_skip_link_reaches_the_content_first(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(full.owner, 1440)
    page.goto(live_server.url + reverse("calendar_app:calendar", args=[full.workspace.id]))
    page.keyboard.press("Tab")
    assert focused_matches(page, "a.skip-link")
    assert page.locator("a.skip-link").is_visible()
    page.keyboard.press("Enter")
    assert focused_matches(page, "main#main")
    page.keyboard.press("Tab")
    # The next stop is in the page header, not the sidebar.
    assert page.evaluate("!document.activeElement.closest('.sidebar')")


def test_menu_button_opens_navigation_and_escape_returns(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(full.owner, 390)
    page.goto(live_server.url + reverse("calendar_app:calendar", args=[full.workspace.id]))
    assert not page.locator(".sidebar .nav").is_visible()
    tab_to(page, ".menu-toggle")
    page.keyboard.press("Enter")
    assert page.locator(".sidebar .nav").is_visible()
    assert page.evaluate("document.activeElement.closest('.sidebar') !== null")
    assert page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.getElementById('main').inert")
    page.keyboard.press("Escape")
    assert focused_matches(page, ".menu-toggle")
    page.locator(".sidebar .nav").wait_for(state="hidden")
    # Through the menu to another page.
    page.keyboard.press("Enter")
    tab_to(page, ".nav a[href$='/analytics/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/analytics/")


@pytest.mark.parametrize("width", [1440, 390])
def test_move_a_post_with_the_keyboard(
    width: int, full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    post = full.seeded["scheduled"]
    page = signed_in(full.owner, width)
    page.goto(
        live_server.url + reverse("calendar_app:calendar", args=[full.workspace.id]) + "?view=month"
    )
    local = timezone.localtime(post.scheduled_at, full.workspace.tz)
    if width < 641:
        # Phone: pick the day in the grid, then its agenda's Move button.
        tab_to(page, f'.cal-day-pick[data-date="{local.date().isoformat()}"]')
        page.keyboard.press("Enter")
        tab_to(page, f'.cal-agenda [data-move="{post.id}"]')
        page.keyboard.press("Enter")
    else:
        tab_to(page, f'.cal-month [data-testid="post-{post.id}"]')
        page.keyboard.press("m")
    dialog = page.locator("dialog[open]")
    dialog.wait_for()
    assert focused_matches(page, "dialog #move-date")
    assert not axe_violations(page)
    # Escape closes and gives the focus back to where it was.
    page.keyboard.press("Escape")
    assert not page.locator("dialog[open]").count()
    assert focused_matches(
        page, f'[data-move="{post.id}"]' if width < 641 else f'[data-testid="post-{post.id}"]'
    )
    page.keyboard.press("Enter" if width < 641 else "m")
    dialog.wait_for()
    # The focus stays inside the open dialog.
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog[open]') !== null")
    target = local.date() + dt.timedelta(days=2)
    tab_to(page, "dialog #move-date")
    page.keyboard.type(target.strftime("%m%d%Y"))
    tab_to(page, "dialog #move-time")
    page.keyboard.type("0745PM")
    tab_to(page, "dialog [data-testid=move-submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    post.refresh_from_db()
    assert post.scheduled_local == f"{target.isoformat()}T19:45"
    assert "Moved to" in page.locator("[data-testid=toast]").inner_text()
    assert page.evaluate(f"document.activeElement.dataset.postId === '{post.id}'")


def test_schedule_a_post_from_the_calendar_with_the_keyboard(
    tiktok_sim: TikTokSim,  # noqa: F811
    transactional_db: None,
    signed_in: Any,
    live_server: Any,
    owner: User,
    workspace: Workspace,
) -> None:
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    media = MediaAssetFactory.create(workspace=workspace, original_name="keyboard.mp4")
    page = signed_in(owner, 390)
    page.goto(live_server.url + reverse("calendar_app:calendar", args=[workspace.id]))
    tab_to(page, "[data-testid=new-post]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/posts/new/**")
    tab_to(page, f"[data-testid=account-{account.id}]")
    page.keyboard.press("Space")
    page.get_by_test_id(f"privacy-{account.id}").wait_for()
    tab_to(page, f"[data-testid=privacy-{account.id}]")
    page.keyboard.press("ArrowDown")
    assert page.get_by_test_id(f"privacy-{account.id}").input_value() != ""
    tab_to(page, f"[data-testid=pick-{media.id}]")
    page.keyboard.press("Space")
    tab_to(page, "[data-testid=caption]")
    page.keyboard.type("Planned without a mouse #a11y")
    when = timezone.localtime(timezone.now(), workspace.tz).date() + dt.timedelta(days=3)
    tab_to(page, "input[name=scheduled_date]")
    page.keyboard.type(when.strftime("%m%d%Y"))
    tab_to(page, "input[name=scheduled_time]")
    page.keyboard.type("0930AM")
    tab_to(page, "[data-testid=schedule]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    post = Post.objects.for_workspace(workspace).get()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_local == f"{when.isoformat()}T09:30"
    assert post.caption == "Planned without a mouse #a11y"


def test_reply_to_and_hide_a_comment_with_the_keyboard(
    csim: CommentSim,  # noqa: F811
    transactional_db: None,
    signed_in: Any,
    live_server: Any,
    editor: User,
    workspace: Workspace,
) -> None:
    account = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    newest = (
        Comment.objects.for_workspace(workspace)
        .filter(is_own=False)
        .order_by("-created_at_tiktok", "-id")
        .first()
    )
    assert newest is not None
    page = signed_in(editor, 390)
    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.id]))
    item = f"#c-{newest.pk}"
    tab_to(page, f"{item} [data-action=reply]")
    page.keyboard.press("Enter")
    assert focused_matches(page, f"{item} textarea[name=text]")
    page.keyboard.type("Thank you!")
    tab_to(page, f"{item} [data-reply-submit]")
    page.keyboard.press("Enter")
    page.locator(f"{item} [data-testid=sent-reply]").wait_for()
    # The same comment keeps the focus after the swap; its Hide button is a few Tabs away.
    tab_to(page, f"{item} .cv-actions button[data-key=h]")
    page.keyboard.press("Enter")
    page.locator(f"{item} [data-testid=hidden-badge]").wait_for()
    newest.refresh_from_db()
    assert newest.is_hidden
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_change_the_analytics_period_with_the_keyboard(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    page = signed_in(full.owner, 390)
    page.goto(live_server.url + reverse("analytics:overview", args=[full.workspace.id]))
    tab_to(page, "input[name=range]:checked")
    assert page.locator("input[name=range]:checked").get_attribute("value") == "30"
    before = page.url
    page.keyboard.press("ArrowLeft")
    assert page.locator("input[name=range]:checked").get_attribute("value") == "7"
    # Choosing with the arrow keys does not reload the page under the user (WCAG 3.2.2).
    page.wait_for_timeout(400)
    assert page.url == before
    tab_to(page, ".an-filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "range=7" in page.url
    assert page.locator("input[name=range][value='7']").is_checked()
    # Charts carry a text alternative.
    charts = page.locator("figure.an-chart:has(svg)")
    assert charts.count() >= 1
    for chart in charts.all():
        svg = chart.locator("svg")
        assert svg.get_attribute("role") == "img" and svg.get_attribute("aria-label")
        assert chart.locator("details.an-chart-data li").count() >= 1
    tab_to(page, "figure.an-chart details.an-chart-data summary")
    page.keyboard.press("Enter")
    numbers = page.locator("figure.an-chart details.an-chart-data[open] li").first
    assert numbers.is_visible() and ":" in numbers.inner_text()


def test_an_arrow_key_on_a_members_role_changes_nothing_until_save(
    full: FullWorkspace, signed_in: Any, live_server: Any
) -> None:
    from accounts.models import Membership, Role

    viewer = Membership.objects.for_workspace(full.workspace).get(role=Role.VIEWER)
    page = signed_in(full.owner, 1440)
    page.goto(live_server.url + reverse("accounts:members", args=[full.workspace.id]))
    role = f'select[aria-label="Role of {viewer.user.email}"]'
    tab_to(page, role)
    # Moving through the options (or a stray arrow press) must not grant a role.
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(500)
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER
    assert page.locator(role).input_value() == Role.EDITOR
    tab_to(page, role + " ~ button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    viewer.refresh_from_db()
    assert viewer.role == Role.EDITOR

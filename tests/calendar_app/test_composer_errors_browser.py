"""Browser journey (Playwright + Debian's Chromium): a composer with several mistakes comes back
with every error beside its field, a summary linking to them, and everything typed kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Post
from tests.browser import signed_in_page
from tests.calendar_app.factories import MediaAssetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server: Any, editor: Any) -> Iterator[Any]:
    with signed_in_page(user=editor, base_url=live_server.url) as page:
        yield page


def test_a_bad_composer_shows_each_error_by_its_field_and_keeps_the_input(
    browser_page: Any, live_server: Any, workspace: Any, tiktok_sim: Any
) -> None:
    page = browser_page
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    video = MediaAssetFactory.create(workspace=workspace, duration_seconds=20)
    photo = MediaAssetFactory.create(
        workspace=workspace,
        kind="image",
        content_type="image/jpeg",
        duration_seconds=None,
        original_name="menu.jpg",
    )
    page.goto(live_server.url + reverse("calendar_app:post_create", args=[workspace.id]))
    page.get_by_test_id(f"account-{account.id}").check()
    page.get_by_test_id("creator-nickname").wait_for()

    # A photo's caption may be longer than a video's: the counter follows the chosen media.
    page.locator(f'label:has([data-testid="pick-{photo.id}"])').click()
    assert page.get_by_test_id("caption-count").inner_text().endswith("4,000")
    page.locator(f'label:has([data-testid="pick-{video.id}"])').click()
    assert page.get_by_test_id("caption-count").inner_text().endswith("2,200")

    page.get_by_test_id("caption").fill("Launch <script>alert(1)</script> #new")
    page.get_by_test_id("aigc").check()
    page.get_by_test_id("first-comment").fill("x" * 151)
    page.get_by_test_id("date").fill("2020-01-01")
    page.get_by_test_id("time").fill("09:30")
    # No audience chosen for the account: TikTok has no default.
    page.get_by_test_id("schedule").click()

    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    assert Post.objects.for_workspace(workspace).count() == 0
    assert summary.locator("a").count() >= 4
    assert "HTML or script" in page.get_by_test_id("error-caption").inner_text()
    assert "151 characters" in page.get_by_test_id("error-first_comment").inner_text()
    assert "in the past" in page.get_by_test_id("error-scheduled_local").inner_text()
    privacy_error = page.get_by_test_id(f"error-privacy_level-{account.id}")
    assert "choose who can view" in privacy_error.inner_text()
    caption = page.get_by_test_id("caption")
    assert caption.get_attribute("aria-invalid") == "true"
    assert caption.get_attribute("aria-describedby") == "error-caption"

    # Everything typed is still there.
    assert caption.input_value() == "Launch <script>alert(1)</script> #new"
    assert page.get_by_test_id("first-comment").input_value() == "x" * 151
    assert page.get_by_test_id("date").input_value() == "2020-01-01"
    assert page.get_by_test_id("time").input_value() == "09:30"
    assert page.get_by_test_id("aigc").is_checked()
    assert page.get_by_test_id(f"pick-{video.id}").is_checked()
    assert page.get_by_test_id(f"account-{account.id}").is_checked()

    # The summary's links take the keyboard to the field.
    summary.locator('a[href="#id_first_comment"]').click()
    assert page.evaluate("document.activeElement.id") == "id_first_comment"


def test_an_inbox_draft_greys_out_the_first_comment_and_keeps_it_for_a_direct_post(
    browser_page: Any, live_server: Any, workspace: Any, tiktok_sim: Any
) -> None:
    """TikTok's inbox drafts get no first comment (the server refuses one): the field greys
    out, is not sent, and what was typed is back for a direct post."""
    page = browser_page
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    video = MediaAssetFactory.create(workspace=workspace, duration_seconds=20)
    page.goto(live_server.url + reverse("calendar_app:post_create", args=[workspace.id]))
    page.get_by_test_id(f"account-{account.id}").check()
    page.get_by_test_id("creator-nickname").wait_for()
    page.locator(f'label:has([data-testid="pick-{video.id}"])').click()
    first_comment = page.get_by_test_id("first-comment")
    first_comment.fill("Recipe in bio!")

    page.get_by_test_id("mode-inbox").check()
    assert first_comment.is_disabled()
    assert page.get_by_test_id("inbox-first-comment-note").is_visible()
    page.get_by_test_id("mode-direct").check()
    assert first_comment.is_enabled() and first_comment.input_value() == "Recipe in bio!"
    assert not page.get_by_test_id("inbox-first-comment-note").is_visible()

    page.get_by_test_id("mode-inbox").check()
    day = (timezone.now() + timedelta(days=3)).astimezone(workspace.tz).date()
    page.get_by_test_id("date").fill(day.isoformat())
    page.get_by_test_id("time").fill("10:15")
    page.get_by_test_id("schedule").click()

    page.wait_for_url(re.compile(r"/calendar/"))
    post = Post.objects.for_workspace(workspace).get()
    assert (post.post_mode, post.first_comment) == ("inbox", "")

"""Browser journey: compose a photo carousel (order, cover, title, a suggested hashtag, a first
comment) for a Business account, publish it through the verified prefix (the simulator pulls
the signed links from the live server) and read the outcome on the post's page."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountType, Workspace
from calendar_app.models import FirstCommentStatus, Post, PostStatus
from calendar_app.publishing import dispatch, first_comment
from tests.browser import signed_in_page
from tests.calendar_app.photo_factories import make_image, point_pulls_at
from tests.calendar_app.publishing_factories import Sim, pub_sim, run_until_settled
from tests.simulator import account_with_simulator_tokens

__all__ = ["pub_sim"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compose_and_publish_a_carousel(
    pub_sim: Sim,
    settings: Any,
    live_server: Any,
    workspace: Workspace,
    editor: Any,
    make_media: Callable[..., Path],
) -> None:
    point_pulls_at(pub_sim, settings, live_server.url)
    account = account_with_simulator_tokens(
        pub_sim.app,
        workspace,
        open_id="sim-cafe-business",
        scopes=("user.info.basic", "video.publish", "video.upload", "comment.list.manage"),
        account_type=AccountType.BUSINESS,
    )
    photos = [
        make_image(workspace, make_media(fmt="jpg" if i != 1 else "webp"), f"dish-{i}.jpg")
        for i in range(3)
    ]
    shots = os.environ.get("CAROUSEL_SHOTS")
    with signed_in_page(user=editor, base_url=live_server.url) as page:
        page.goto(live_server.url + reverse("calendar_app:post_create", args=[workspace.id]))
        page.get_by_test_id(f"account-{account.id}").check()
        page.get_by_test_id("creator-nickname").wait_for()
        for photo in photos:
            page.get_by_test_id(f"photo-{photo.id}").check()
        # Move the last photo one place earlier with the keyboard-reachable arrow button.
        page.get_by_role("button", name="Move dish-2.jpg earlier").click()
        page.get_by_test_id(f"cover-{photos[2].id}").check()
        assert page.locator("[data-role=carousel-count]").inner_text() == "3 of 35 photos"
        page.get_by_test_id("photo-title").fill("Tonight's menu")
        page.get_by_test_id("auto-music").check()
        caption = page.get_by_test_id("caption")
        caption.click()
        caption.press_sequentially("Fresh from the oven #bre", delay=20)
        chip = page.locator("[data-role=hashtag-list] [data-tag=bread]")
        chip.wait_for()
        chip.click()
        assert caption.input_value() == "Fresh from the oven #bread "
        page.get_by_test_id("first-comment").fill("Which one would you order?")
        page.get_by_test_id(f"privacy-{account.id}").select_option("PUBLIC_TO_EVERYONE")
        page.get_by_test_id(f"allow-comment-{account.id}").check()
        day = (timezone.now() + dt.timedelta(days=1)).astimezone(workspace.tz).date()
        page.get_by_test_id("date").fill(day.isoformat())
        page.get_by_test_id("time").fill("12:30")
        if shots:
            page.screenshot(path=f"{shots}/composer-carousel-1440.png", full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=f"{shots}/composer-carousel-390.png", full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width
        page.get_by_test_id("schedule").click()
        page.wait_for_url(re.compile(r"/calendar/"))

        post = Post.objects.for_workspace(workspace).get()
        assert [p.media_id for p in post.photos.all()] == [photos[0].id, photos[2].id, photos[1].id]
        assert (post.media_id, post.photo_cover_index) == (photos[2].id, 1)
        assert (post.title, post.auto_add_music) == ("Tonight's menu", True)
        assert post.first_comment == "Which one would you order?"

        # Due now: the pipeline publishes it; TikTok pulls the three signed links.
        Post.objects.for_workspace(workspace).filter(pk=post.pk).update(
            scheduled_at=timezone.now() - dt.timedelta(seconds=1)
        )
        token = dict(dispatch.posts_dispatch_due())[post.pk]
        run_until_settled(post, token, passes=20, pause=0.2)
        first_comment.post_first_comment_send(post_id=post.pk)
        post.refresh_from_db()
        assert post.status == PostStatus.PUBLISHED, post.fail_message
        assert post.first_comment_status == FirstCommentStatus.POSTED
        (publish,) = pub_sim.state.publishes.values()
        assert publish.kind == "photo" and publish.pulled_bytes == sum(p.size_bytes for p in photos)

        page.goto(
            live_server.url + reverse("publishing:post_publishing", args=[workspace.id, post.id])
        )
        timeline = page.get_by_test_id("publishing-timeline")
        assert timeline.get_attribute("data-status") == "published"
        text = timeline.inner_text()
        assert "downloading the photos" in text
        assert "First comment posted" in text

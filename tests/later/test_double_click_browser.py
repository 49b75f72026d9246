"""Double-clicking any create button makes one object, and no page breaks the CSP.

Two layers are under test together: static/js/forms.js disables the button while the request
is in flight, and the form's one-time token makes a repeat that still arrives a replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Invitation, Membership, User, Workspace
from calendar_app.models import MediaAsset, Post
from conversations.models import Comment
from conversations.sync import comment_sync_account
from tests.browser import signed_in_page
from tests.calendar_app.conftest import TikTokSim, make_media, tiktok_sim  # noqa: F401
from tests.conversations.conftest import (  # noqa: F401
    HIDE_PATH,
    CommentSim,
    connect_business_account,
    csim,
    roomy_budget,
    seed_videos,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Watch:
    """Console CSP reports and page errors of one page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(text)


@pytest.fixture
def owner_page(live_server: Any, owner: User) -> Iterator[Any]:
    with signed_in_page(
        user=owner, base_url=live_server.url, viewport={"width": 1400, "height": 900}
    ) as page:
        yield page


def _settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")


def test_double_clicks_create_one_of_everything(
    owner_page: Any,
    live_server: Any,
    owner: User,
    workspace: Workspace,
    tiktok_sim: TikTokSim,  # noqa: F811
    make_media: Any,  # noqa: F811
) -> None:
    page = owner_page
    watch = Watch(page)
    base = live_server.url

    page.goto(base + reverse("accounts:workspace_create"))
    page.fill("#id_name", "Double Click Co")
    page.get_by_role("button", name="Create workspace").dblclick()
    page.wait_for_url("**/w/**")
    _settle(page)
    assert Membership.objects.unscoped().filter(workspace__name="Double Click Co").count() == 1

    page.goto(base + reverse("accounts:members", args=[workspace.id]))
    page.fill("#id_email", "twice@example.com")
    page.get_by_role("button", name="Send invitation").dblclick()
    _settle(page)
    assert (
        Invitation.objects.for_workspace(workspace).filter(email="twice@example.com").count() == 1
    )

    page.goto(base + reverse("calendar_app:media", args=[workspace.id]))
    page.get_by_test_id("file-input").set_input_files(str(make_media(size="720x1280")))
    page.get_by_test_id("upload").dblclick()
    page.get_by_test_id("media-grid").wait_for()
    _settle(page)
    assert MediaAsset.objects.for_workspace(workspace).count() == 1
    media = MediaAsset.objects.for_workspace(workspace).get()

    account = tiktok_sim.connect(workspace, "sim-ava-public")
    page.goto(base + reverse("calendar_app:post_create", args=[workspace.id]))
    page.get_by_test_id(f"account-{account.id}").check()
    page.get_by_test_id("creator-nickname").wait_for()
    page.locator(f'label:has([data-testid="pick-{media.id}"])').click()
    page.get_by_test_id("caption").fill("Once only")
    page.get_by_test_id(f"privacy-{account.id}").select_option("SELF_ONLY")
    day = (timezone.now() + timedelta(days=5)).astimezone(workspace.tz).date()
    page.get_by_test_id("date").fill(day.isoformat())
    page.get_by_test_id("time").fill("10:30")
    page.get_by_test_id("schedule").dblclick()
    page.wait_for_url("**/calendar/**")
    _settle(page)
    assert Post.objects.for_workspace(workspace).filter(caption="Once only").count() == 1

    page.goto(base + reverse("accounts:api_tokens"))
    page.fill("#id_token_name", "CI")
    page.locator(f'input[name=workspaces][value="{workspace.id}"]').check()
    page.get_by_test_id("create-token").dblclick()
    page.get_by_test_id("token-secret").wait_for()
    _settle(page)
    assert ApiToken.objects.filter(user=owner, name="CI").count() == 1

    # Narrow screens: the token page and the composer stay usable at phone width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + reverse("accounts:api_tokens"))
    shots = Path(__file__).resolve().parents[2] / "var"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "api-tokens-390.png"), full_page=True)
    assert not watch.problems, watch.problems


def test_double_clicked_reply_and_bulk_action_reach_tiktok_once(
    owner_page: Any,
    live_server: Any,
    workspace: Workspace,
    csim: CommentSim,  # noqa: F811
) -> None:
    account = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    fans = Comment.objects.for_workspace(workspace).filter(is_own=False)
    newest = fans.order_by("-created_at_tiktok", "-id").first()
    assert newest is not None
    page = owner_page
    watch = Watch(page)

    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))
    item = page.locator(f"#c-{newest.pk}")
    item.locator("button[data-action=reply]").click()
    textarea = item.locator("textarea[name=text]")
    textarea.wait_for(state="visible")
    textarea.fill("Only once, thanks!")
    item.locator("[data-reply-submit]").dblclick()
    page.locator(f"#c-{newest.pk} [data-testid=sent-reply]").wait_for()
    _settle(page)
    sent = [c for c in csim.state.comments.values() if c.owner and c.text == "Only once, thanks!"]
    assert len(sent) == 1
    assert Comment.objects.for_workspace(workspace).filter(text="Only once, thanks!").count() == 1

    other = fans.exclude(pk=newest.pk).order_by("-created_at_tiktok").first()
    assert other is not None
    page.locator(f"#c-{other.pk} input[data-select]").check()
    hides = csim.calls(HIDE_PATH)
    with page.expect_navigation():
        page.locator("#bulk-form button[value=hide]").dblclick()
    _settle(page)
    other.refresh_from_db()
    assert other.is_hidden
    assert csim.calls(HIDE_PATH) == hides + 1
    assert not watch.problems, watch.problems

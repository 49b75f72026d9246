"""Browser journey: reply to and hide a comment from the Inbox, as a moderator would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from accounts.models import User, Workspace
from conversations.models import Comment
from conversations.sync import comment_sync_account
from tests.browser import signed_in_page
from tests.conversations.conftest import (
    CommentSim,
    connect_business_account,
    roomy_budget,
    seed_videos,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, editor: User) -> Iterator[object]:
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 1400, "height": 900}
    ) as page:
        yield page


def test_reply_and_hide_from_the_inbox(
    csim: CommentSim,
    workspace: Workspace,
    live_server,
    browser_page,
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
    page = browser_page

    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))
    item = page.locator(f"#c-{newest.pk}")
    assert newest.text in item.inner_text()

    # Keyboard: j focuses the first comment, r opens its reply box.
    page.keyboard.press("j")
    page.keyboard.press("r")
    textarea = item.locator("textarea[name=text]")
    textarea.wait_for(state="visible")
    textarea.fill("Thanks so much! 💛")
    assert item.locator("[data-count]").inner_text() == "17/150"
    textarea.fill("x" * 151)
    assert "1 too many" in item.locator("[data-count]").inner_text()
    assert item.locator("[data-reply-submit]").is_disabled()
    textarea.fill("Thanks so much! 💛")
    item.locator("[data-reply-submit]").click()

    sent = page.locator(f"#c-{newest.pk} [data-testid=sent-reply]")
    sent.wait_for()
    assert "Sent" in sent.inner_text() and "Thanks so much! 💛" in sent.inner_text()
    assert any(
        c.owner and c.text == "Thanks so much! 💛" and c.parent_comment_id == newest.comment_id
        for c in csim.state.comments.values()
    )

    page.locator(f"#c-{newest.pk} .cv-actions button[data-key=h]").click()
    page.locator(f"#c-{newest.pk} [data-testid=hidden-badge]").wait_for()
    assert csim.state.comments[newest.comment_id].status == "HIDDEN"
    newest.refresh_from_db()
    assert newest.is_hidden and newest.handled_at is not None
    shots = django_settings.BASE_DIR / "var"
    page.screenshot(path=str(shots / "conversations-inbox.png"))

    # The Post view shows the thread with our confirmed reply under the fan's comment.
    page.locator(f"#c-{newest.pk} a.cv-post").click()
    page.locator("[data-testid=caption]").wait_for()
    thread = page.locator(f"#c-{newest.pk}").locator("xpath=..")
    assert "Thanks so much! 💛" in thread.inner_text()
    page.screenshot(path=str(shots / "conversations-post.png"))

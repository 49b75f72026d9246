"""Browser journey: a post whose outcome is unknown is resolved from its publishing timeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Workspace
from calendar_app.models import Post, PostStatus
from calendar_app.publishing.state import UNCONFIRMED_MESSAGE
from tests.calendar_app.publishing_factories import make_post
from tests.factories import TikTokAccountFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def editor_page(live_server: Any, settings: Any, editor: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(editor)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_unconfirmed_post_is_reposted_from_the_timeline(
    editor_page: Any, live_server: Any, workspace: Workspace
) -> None:
    account = TikTokAccountFactory.create(workspace=workspace)
    post = make_post(
        account,
        status=PostStatus.UNCONFIRMED,
        fail_code="init_unconfirmed",
        fail_message=UNCONFIRMED_MESSAGE,
    )
    page = editor_page
    page.goto(
        live_server.url
        + reverse(
            "publishing:post_publishing", kwargs={"workspace_id": workspace.id, "post_id": post.id}
        )
    )
    assert "never received TikTok's answer" in page.get_by_test_id("unconfirmed").inner_text()
    page.get_by_test_id("resolve-not-published").click()
    page.get_by_test_id("publishing-notice").wait_for()
    assert page.get_by_test_id("publishing-status").inner_text() == "Scheduled"
    post = Post.objects.for_workspace(workspace).get(pk=post.pk)
    assert post.status == PostStatus.SCHEDULED and post.init_started_at is None
    assert post.events.filter(kind="resolved_not_published").exists()

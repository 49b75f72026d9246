"""Timeline page, htmx fragment, API, and the retry / cancel / resolve actions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount, Workspace
from calendar_app.models import Post, PostStatus
from tests.calendar_app.publishing_factories import (
    INIT,
    Sim,
    connect_account,
    make_post,
    pub_sim,
)
from tests.factories import TikTokAccountFactory

__all__ = ["pub_sim"]

pytestmark = pytest.mark.django_db


def _account(workspace: Workspace) -> TikTokAccount:
    account: TikTokAccount = TikTokAccountFactory.create(workspace=workspace)
    return account


def _failed_post(workspace: Workspace, **fields: Any) -> Post:
    account = _account(workspace)
    fields.setdefault("fail_code", "spam_risk_too_many_posts")
    fields.setdefault("fail_message", "TikTok limits how many posts a creator can publish per day.")
    return make_post(account, status=PostStatus.FAILED, **fields)


def _url(name: str, post: Post) -> str:
    return reverse(
        f"publishing:{name}", kwargs={"workspace_id": post.workspace_id, "post_id": post.pk}
    )


def test_timeline_page_shows_failure_code_message_and_retry(
    workspace: Workspace, viewer: Any, editor: Any, client_for: Any
) -> None:
    post = _failed_post(workspace)
    post.events.create(workspace=workspace, kind="failed", message="Publishing failed: cap.")
    page = client_for(editor).get(_url("post_publishing", post))
    assert page.status_code == 200
    html = page.content.decode()
    assert "spam_risk_too_many_posts" in html and "per day" in html
    assert 'data-testid="retry"' in html and "Publishing failed: cap." in html
    # Viewers see the timeline but not the buttons.
    html = client_for(viewer).get(_url("post_timeline", post)).content.decode()
    assert 'data-testid="failure"' in html and 'data-testid="retry"' not in html


def test_active_post_fragment_polls_and_offers_cancel(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    post = make_post(_account(workspace), status=PostStatus.QUEUED)
    html = client_for(editor).get(_url("post_timeline", post)).content.decode()
    assert 'hx-trigger="every 3s"' in html and 'data-testid="cancel"' in html


def test_published_post_links_to_the_video(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    post = make_post(
        _account(workspace),
        status=PostStatus.PUBLISHED,
        tiktok_share_url="https://www.tiktok.com/@a/video/123",
    )
    html = client_for(editor).get(_url("post_publishing", post)).content.decode()
    assert 'href="https://www.tiktok.com/@a/video/123"' in html and "every 3s" not in html


def test_the_scheduled_time_reads_in_the_workspace_time_zone_with_its_name(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    # The page once printed the workspace's local time followed by "UTC".
    import datetime as dt

    workspace.time_zone = "America/New_York"
    workspace.save(update_fields=["time_zone"])
    post = make_post(
        _account(workspace),
        status=PostStatus.SCHEDULED,
        scheduled_at=dt.datetime(2026, 1, 15, 17, 0, tzinfo=dt.UTC),
    )
    html = client_for(editor).get(_url("post_publishing", post)).content.decode()
    assert "Jan 15, 2026 12:00 EST" in html and "UTC</dd>" not in html


def test_html_retry_reschedules_a_failed_post(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    post = _failed_post(workspace)
    response = client_for(editor).post(_url("post_retry", post))
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.fail_code == ""


def test_html_retry_refused_when_tiktok_may_have_it(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    from django.utils import timezone

    post = _failed_post(workspace, init_started_at=timezone.now())
    response = client_for(editor).post(_url("post_retry", post), follow=True)
    assert "could post it twice" in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED


def test_viewer_cannot_act(workspace: Workspace, viewer: Any, client_for: Any) -> None:
    post = _failed_post(workspace)
    assert client_for(viewer).post(_url("post_retry", post)).status_code == 403
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED


def test_html_resolve_unconfirmed(workspace: Workspace, editor: Any, client_for: Any) -> None:
    post = make_post(_account(workspace), status=PostStatus.UNCONFIRMED)
    html = client_for(editor).get(_url("post_publishing", post)).content.decode()
    assert "It was not published, post again" in html and "It was published" in html
    client_for(editor).post(_url("post_resolve", post), {"outcome": "published"})
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED


@pytest.mark.parametrize(
    "name", ["post_publishing", "post_timeline", "post_retry", "post_cancel", "post_resolve"]
)
def test_foreign_post_is_404_on_every_html_route(
    workspace: Workspace, other_workspace: Workspace, owner: Any, client_for: Any, name: str
) -> None:
    foreign = _failed_post(other_workspace)
    url = reverse(
        f"publishing:{name}", kwargs={"workspace_id": workspace.id, "post_id": foreign.pk}
    )
    client = client_for(owner)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404  # whatever the verb, never 405 or 400
    foreign.refresh_from_db()
    assert foreign.status == PostStatus.FAILED


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("api_post_timeline", "get"),
        ("api_post_retry", "post"),
        ("api_post_cancel", "post"),
        ("api_post_resolve", "post"),
    ],
)
def test_foreign_post_is_404_on_every_api_route(
    workspace: Workspace,
    other_workspace: Workspace,
    owner: Any,
    api_client_for: Any,
    name: str,
    method: str,
) -> None:
    foreign = _failed_post(other_workspace)
    url = reverse(
        f"publishing:{name}", kwargs={"workspace_id": workspace.id, "post_id": foreign.pk}
    )
    response = getattr(api_client_for(owner), method)(url, {"outcome": "published"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_timeline_and_retry(workspace: Workspace, editor: Any, api_client_for: Any) -> None:
    post = _failed_post(workspace)
    post.events.create(workspace=workspace, kind="failed", message="Cap reached.")
    client = api_client_for(editor)
    body = client.get(_url("api_post_timeline", post)).json()
    assert body["post"]["status"] == "failed"
    assert body["post"]["fail_code"] == "spam_risk_too_many_posts"
    assert body["post"]["can_retry"] is True
    assert [e["kind"] for e in body["events"]] == ["failed"]
    body = client.post(_url("api_post_retry", post)).json()
    assert body["post"]["status"] == "scheduled"
    response = client.post(_url("api_post_retry", post))
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_api_resolve_validates_outcome(
    workspace: Workspace, editor: Any, api_client_for: Any
) -> None:
    post = make_post(_account(workspace), status=PostStatus.UNCONFIRMED)
    client = api_client_for(editor)
    response = client.post(_url("api_post_resolve", post), {"outcome": "maybe"}, format="json")
    assert response.status_code == 400
    response = client.post(
        _url("api_post_resolve", post), {"outcome": "not_published"}, format="json"
    )
    assert response.status_code == 200 and response.json()["post"]["status"] == "scheduled"


def test_api_cancel_then_nothing_reaches_tiktok(
    pub_sim: Sim, workspace: Workspace, editor: Any, api_client_for: Any
) -> None:
    from calendar_app.publishing import dispatch

    post = make_post(connect_account(pub_sim, workspace, "sim-ava-public"))
    response = api_client_for(editor).post(_url("api_post_cancel", post))
    assert response.status_code == 200 and response.json()["post"]["status"] == "cancelled"
    assert dispatch.posts_dispatch_due() == []
    assert pub_sim.state.counters.requests_to(INIT) == 0


def test_htmx_action_answers_with_the_timeline_and_an_inline_notice(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    from django.utils import timezone

    client = client_for(editor)
    post = _failed_post(workspace, init_started_at=timezone.now())
    response = client.post(_url("post_retry", post), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="publishing-timeline"' in html
    assert "pub-notice-error" in html and "could post it twice" in html

    post = make_post(_account(workspace), status=PostStatus.SCHEDULED)
    html = client.post(_url("post_cancel", post), HTTP_HX_REQUEST="true").content.decode()
    assert "nothing was sent to TikTok" in html and 'data-status="cancelled"' in html


def test_wrong_verb_on_an_own_post_is_405(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    post = _failed_post(workspace)
    client = client_for(editor)
    assert client.get(_url("post_retry", post)).status_code == 405
    assert client.post(_url("post_timeline", post)).status_code == 405
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED


def test_a_post_in_review_waits_for_approval_instead_of_starting_at_its_time(
    workspace: Workspace, editor: Any, client_for: Any
) -> None:
    when = timezone.now() + dt.timedelta(days=2)
    waiting = make_post(_account(workspace), status=PostStatus.IN_REVIEW, scheduled_at=when)
    due = make_post(_account(workspace), status=PostStatus.SCHEDULED, scheduled_at=when)
    ids = {"workspace_id": workspace.pk, "post_id": waiting.pk}
    for url in (
        reverse("calendar_app:post_detail", kwargs=ids),
        _url("post_publishing", waiting),
        _url("post_timeline", waiting),
    ):
        html = client_for(editor).get(url).content.decode()
        assert "publishing starts" not in html, url
        waits = r"it waits for approval and will publish at \w{3} \d+, \d\d:\d\d once approved\."
        assert re.search(waits, html), url
    html = client_for(editor).get(_url("post_timeline", due)).content.decode()
    assert re.search(r"publishing starts at \w{3} \d+, \d\d:\d\d\.", html)

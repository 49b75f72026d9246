"""The heavy pages are served from fragments keyed on the workspace's data version
(later/data_version.py). Each shows a write at once, whichever way it was made (a service's
save, the publishing pipeline's `QuerySet.update()`, the ingest's hand-written SQL), and costs
a fixed number of queries whatever the amount of data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import agency_services, services
from accounts.models import Membership, User, Workspace
from analytics.models import AccountDailySnapshot
from calendar_app.models import Post, PostStatus
from conversations.models import Comment
from later.data_version import data_version
from tests.calendar_app.factories import PostFactory
from tests.conversations.factories import make_account, make_comment, make_video
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode(), len(captured)


def _calendar_url(workspace: Workspace, view: str) -> str:
    today = timezone.localtime(timezone.now(), workspace.tz).date()
    return reverse("calendar_app:calendar", args=[workspace.pk]) + f"?view={view}&date={today}"


@pytest.mark.parametrize("view", ["month", "week", "list"])
def test_calendar_shows_a_change_at_once(
    view: str, workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    post = PostFactory.create(
        workspace=workspace,
        caption="Alpha launch",
        scheduled_at=timezone.now() + dt.timedelta(hours=2),
    )
    c = client_for(owner)
    url = _calendar_url(workspace, view)
    _get(c, url)  # the first visit records the last workspace
    html, _ = _get(c, url)
    assert "Alpha launch" in html
    cached, hit = _get(c, url)
    assert cached == html or "Alpha launch" in cached
    # The publishing pipeline's way of writing: no save(), no signal.
    Post.objects.unscoped().filter(pk=post.pk).update(caption="Beta launch")
    html, miss = _get(c, url)
    assert "Beta launch" in html and "Alpha launch" not in html
    assert hit < miss
    # A new post through the ORM shows at once too.
    PostFactory.create(
        workspace=workspace, caption="Gamma", scheduled_at=timezone.now() + dt.timedelta(hours=3)
    )
    assert "Gamma" in _get(c, url)[0]


def test_calendar_query_count_does_not_grow_with_the_posts(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    account = make_account(workspace)
    c = client_for(owner)
    url = _calendar_url(workspace, "month")

    def add(n: int) -> None:
        Post.objects.bulk_create(
            Post(
                workspace=workspace,
                account=account,
                caption=f"Bulk {i}",
                status=PostStatus.SCHEDULED,
                scheduled_at=timezone.now() + dt.timedelta(hours=i),
            )
            for i in range(n)
        )

    add(3)
    _get(c, url)  # warm the session
    add(1)
    few, few_hit = _get(c, url)[1], _get(c, url)[1]
    add(300)
    many, many_hit = _get(c, url)[1], _get(c, url)[1]
    assert few == many
    # The user and the layout's switcher. The session, the membership and the layout's
    # notifications come from the cache.
    assert few_hit == many_hit == 2


def test_inbox_shows_a_change_at_once(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    video = make_video(make_account(workspace))
    comment = make_comment(video, text="First words")
    c = client_for(owner)
    url = reverse("conversations:inbox", args=[workspace.pk])
    _get(c, url)  # the first visit records the last workspace
    html, _ = _get(c, url)
    assert "First words" in html
    _, hit = _get(c, url)
    Comment.objects.unscoped().filter(pk=comment.pk).update(text="Edited words")
    html, miss = _get(c, url)
    assert "Edited words" in html and "First words" not in html
    assert hit == 2 < miss  # the user and the switcher
    make_comment(video, text="A brand new comment")
    assert "A brand new comment" in _get(c, url)[0]


def test_inbox_shows_comments_the_bulk_ingest_wrote(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    from conversations import ingest
    from tiktok_client import schemas

    if connection.vendor != "postgresql":
        pytest.skip("the bulk ingest is PostgreSQL's")
    account = make_account(workspace)
    video = make_video(account)
    c = client_for(owner)
    url = reverse("conversations:inbox", args=[workspace.pk])
    _get(c, url)
    item = schemas.Comment(
        comment_id="7400000000000000001",
        video_id=video.video_id,
        parent_comment_id=None,
        unique_identifier="copyfan-key",
        username="copyfan",
        display_name="Copy Fan",
        profile_image="",
        text="Arrived through the bulk ingest",
        create_time=int(timezone.now().timestamp()) - 60,
        likes=0,
        replies=0,
        owner=False,
        liked=False,
        pinned=False,
        status="PUBLIC",
    )
    ingest.comments_bulk_upsert(
        account=account, video=video, items=[item], now=timezone.now(), on_written=lambda r: None
    )
    assert "Arrived through the bulk ingest" in _get(c, url)[0]


def test_analytics_overview_shows_a_new_snapshot_at_once(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    account = make_account(workspace)
    today = timezone.localtime(timezone.now(), workspace.tz).date()
    snapshot = AccountDailySnapshot.objects.create(
        workspace=workspace, account=account, date=today - dt.timedelta(days=1), video_views=4321
    )
    c = client_for(owner)
    url = reverse("analytics:overview", args=[workspace.pk])
    _get(c, url)  # the first visit records the last workspace
    html, _ = _get(c, url)
    assert "4,321" in html or "4321" in html
    _, hit = _get(c, url)
    AccountDailySnapshot.objects.unscoped().filter(pk=snapshot.pk).update(video_views=98765)
    html, miss = _get(c, url)
    assert "98,765" in html or "98765" in html
    assert hit == 3 < miss  # the user, the accounts of the filter and the switcher


def test_agency_home_shows_a_failed_post_at_once(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    agency = agency_services.agency_create(owner=owner, name="Studio")
    Workspace.objects.filter(pk=workspace.pk).update(agency=agency)
    post = PostFactory.create(
        workspace=workspace,
        status=PostStatus.SCHEDULED,
        scheduled_at=timezone.now() + dt.timedelta(days=1),
    )
    c = client_for(owner)
    url = reverse("accounts:agency_home", args=[agency.pk])
    _get(c, url)
    html, _ = _get(c, url)
    assert '1<span class="sr-only"> failed posts' not in html
    _, hit = _get(c, url)
    Post.objects.unscoped().filter(pk=post.pk).update(status=PostStatus.FAILED)
    html, miss = _get(c, url)
    assert '1<span class="sr-only"> failed posts' in html
    # The user; the agency member, its clients and direct roles (agency access is not cached);
    # the switcher.
    assert hit == 5 < miss


def _membership(workspace: Workspace, user: User) -> Membership:
    return Membership.objects.for_workspace(workspace).get(user=user)


def test_a_removed_member_is_refused_on_the_very_next_request(
    workspace: Workspace, owner: User, editor: User, client_for: Callable[[User], Client]
) -> None:
    c = client_for(editor)
    url = _calendar_url(workspace, "month")
    _get(c, url)
    _, hit = _get(c, url)
    assert hit == 2  # the membership came from the cache
    services.membership_remove(
        workspace=workspace,
        actor=_membership(workspace, owner),
        membership_id=_membership(workspace, editor).pk,
    )
    assert c.get(url).status_code == 404
    # The same through a bare queryset delete (no service, no instance signal).
    MembershipFactory.create(workspace=workspace, user=editor)
    _get(c, url)
    _get(c, url)
    Membership.objects.for_workspace(workspace).filter(user=editor).delete()
    assert c.get(url).status_code == 404


def test_a_changed_role_counts_on_the_very_next_request(
    workspace: Workspace, owner: User, editor: User, client_for: Callable[[User], Client]
) -> None:
    c = client_for(editor)
    url = _calendar_url(workspace, "month")
    _get(c, url)
    assert 'data-testid="new-post"' in _get(c, url)[0]
    services.membership_change_role(
        workspace=workspace,
        actor=_membership(workspace, owner),
        membership_id=_membership(workspace, editor).pk,
        role="viewer",
    )
    assert 'data-testid="new-post"' not in _get(c, url)[0]
    compose = reverse("calendar_app:post_create", args=[workspace.pk])
    assert c.post(compose, {"caption": "x"}).status_code == 403


def test_a_new_notification_shows_on_the_very_next_request(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    c = client_for(owner)
    url = _calendar_url(workspace, "month")
    _get(c, url)
    html, _ = _get(c, url)
    assert "Launch approved" not in html
    services.notification_notify_members(
        workspace=workspace, kind="post_failed", title="Launch approved", min_role="owner"
    )
    html, _ = _get(c, url)
    assert "Launch approved" in html
    services.notification_mark_read(workspace=workspace, user=owner)
    assert "Launch approved" not in _get(c, url)[0]


def test_a_page_view_reads_the_session_from_the_cache(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    c = client_for(owner)
    url = _calendar_url(workspace, "month")
    _get(c, url)
    with CaptureQueriesContext(connection) as captured:
        assert c.get(url).status_code == 200
    assert not [q for q in captured if "django_session" in q["sql"]]
    # Signing out ends the session for the cache too.
    c.post(reverse("account_logout"))
    assert c.get(url).status_code == 302


def test_deleting_an_agency_moves_its_clients_pages_on_the_very_next_request(
    workspace: Workspace, owner: User, editor: User, client_for: Callable[[User], Client]
) -> None:
    """Deleting an agency empties its clients' `agency` with a bulk UPDATE (on_delete
    SET_NULL), which no save signal reports: the clients' data versions must move anyway, or
    the membership cached under them keeps the deleted agency."""
    agency = agency_services.agency_create(owner=owner, name="Brightbean Studio")
    actor = agency.members.get(user=owner)
    agency_services.agency_client_attach(actor=actor, workspace_id=workspace.pk)
    c = client_for(owner)
    report = reverse("analytics:report", args=[workspace.pk]) + "?range=7"
    calendar = _calendar_url(workspace, "month")
    _get(c, calendar)
    assert "prepared by Brightbean Studio" in _get(c, report)[0]
    before = data_version(workspace.pk)

    agency.delete()  # the admin's path: no service

    assert data_version(workspace.pk) != before
    assert "prepared by Brightbean Studio" not in _get(c, report)[0]
    _get(c, calendar)
    assert Workspace.objects.get(pk=workspace.pk).agency_id is None

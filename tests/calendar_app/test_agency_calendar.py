"""The cross-client calendar: every client's posts, filters, the client on each card, moving a
post through its own workspace's endpoint and role, and a fixed query count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import agency_services
from accounts.models import Agency, AgencyMember, Role, User, Workspace
from calendar_app.models import Post, PostStatus
from tests.calendar_app.test_views import future_day, make_post
from tests.factories import TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> User:
    return UserFactory.create(email="boss@agency.test")


@pytest.fixture
def agency(boss: User) -> Agency:
    return agency_services.agency_create(owner=boss, name="Northwind Social")


def _clients(agency: Agency, *spec: tuple[str, str]) -> list[Workspace]:
    actor = AgencyMember.objects.select_related("agency").get(agency=agency, role=Role.OWNER)
    return [
        agency_services.agency_client_create(actor=actor, name=name, time_zone=tz)
        for name, tz in spec
    ]


def _url(agency: Agency, **params: str) -> str:
    return reverse("calendar_app:agency_calendar", args=[agency.pk]) + "?" + urlencode(params)


def test_every_clients_posts_with_the_client_on_each_card(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    paris, tokyo = _clients(agency, ("Paris Bakery", "Europe/Paris"), ("Tokyo Ramen", "Asia/Tokyo"))
    pa = TikTokAccountFactory.create(workspace=paris)
    ta = TikTokAccountFactory.create(workspace=tokyo)
    # 16:30 UTC is already the next day in Tokyo: each post sits on its client's local day.
    when = future_day(10).replace(hour=16, minute=30)
    p1 = make_post(paris, pa, when, caption="Croissant drop")
    p2 = make_post(tokyo, ta, when, caption="Ramen night")
    c = client_for(boss)
    for view in ("month", "week", "list"):
        html = c.get(_url(agency, view=view, date=when.date().isoformat())).content.decode()
        assert f'data-post-id="{p1.pk}"' in html and f'data-post-id="{p2.pk}"' in html
        assert '<span class="cal-post-client" data-testid="post-client">Paris Bakery</span>' in html
        assert '<span class="cal-post-client" data-testid="post-client">Tokyo Ramen</span>' in html
        assert f'data-role="time">{when.astimezone(tokyo.tz):%H:%M}<' in html
    month = c.get(_url(agency, date=when.date().isoformat())).content.decode()
    paris_day = when.astimezone(paris.tz).date().isoformat()
    tokyo_day = when.astimezone(tokyo.tz).date().isoformat()
    assert paris_day != tokyo_day
    cell = month[month.index(f'data-date="{tokyo_day}"') :]
    cell = cell[: cell.index('data-date="', 10)]
    assert str(p2.pk) in cell and str(p1.pk) not in cell
    # Links and drop targets point into each post's own workspace.
    # calendar.js completes a draggable card's reschedule URL as its own URL + "reschedule/".
    tokyo_post = reverse("calendar_app:post_detail", args=[tokyo.pk, p2.pk])
    assert reverse("calendar_app:post_reschedule", args=[tokyo.pk, p2.pk]) == (
        tokyo_post + "reschedule/"
    )
    assert f'href="{tokyo_post}"' in month and 'data-reschedule-url=""' in month
    assert reverse("calendar_app:post_detail", args=[paris.pk, p1.pk]) in month


def test_filters_by_client_and_account(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    a, b = _clients(agency, ("Alpha", "UTC"), ("Beta", "UTC"))
    a1, a2 = TikTokAccountFactory.create(workspace=a), TikTokAccountFactory.create(workspace=a)
    b1 = TikTokAccountFactory.create(workspace=b)
    when = future_day(5)
    pa1, pa2, pb1 = make_post(a, a1, when), make_post(a, a2, when), make_post(b, b1, when)
    failed = make_post(b, b1, when, status=PostStatus.FAILED)
    c = client_for(boss)
    day = when.date().isoformat()
    only_a = c.get(_url(agency, date=day, client=str(a.pk))).content.decode()
    assert str(pa1.pk) in only_a and str(pa2.pk) in only_a and str(pb1.pk) not in only_a
    one_account = c.get(_url(agency, date=day, account=str(a2.pk))).content.decode()
    assert str(pa2.pk) in one_account and str(pa1.pk) not in one_account
    only_failed = c.get(_url(agency, date=day, status="failed")).content.decode()
    assert str(failed.pk) in only_failed and str(pb1.pk) not in only_failed
    # A client id from elsewhere is ignored (all clients), never another agency's posts.
    rival = agency_services.agency_create(owner=UserFactory.create(), name="Rival")
    (secret,) = _clients(rival, ("Secret", "UTC"))
    sp = make_post(secret, TikTokAccountFactory.create(workspace=secret), when)
    foreign = c.get(_url(agency, date=day, client=str(secret.pk))).content.decode()
    assert str(sp.pk) not in foreign and "Secret" not in foreign and str(pa1.pk) in foreign


def test_drag_handles_and_moves_follow_each_clients_role(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    a, b = _clients(agency, ("Alpha", "UTC"), ("Beta", "UTC"))
    editor = UserFactory.create(email="ed@agency.test")
    agency_services.agency_member_add(
        actor=AgencyMember.objects.select_related("agency").get(user=boss),
        email=editor.email,
        role=Role.VIEWER,
        all_clients=True,
    )
    from tests.factories import MembershipFactory

    MembershipFactory.create(workspace=a, user=editor, role=Role.EDITOR)
    when = future_day(5)
    pa = make_post(a, TikTokAccountFactory.create(workspace=a), when)
    pb = make_post(b, TikTokAccountFactory.create(workspace=b), when)
    c = client_for(editor)
    html = c.get(_url(agency, date=when.date().isoformat())).content.decode()
    card_a = html[html.index(f'data-post-id="{pa.pk}"') - 400 :][:900]
    card_b = html[html.index(f'data-post-id="{pb.pk}"') - 400 :][:900]
    assert 'draggable="true"' in card_a and 'draggable="true"' not in card_b
    target = (when + timedelta(days=2)).date().isoformat()
    moved = c.post(
        reverse("calendar_app:post_reschedule", args=[a.pk, pa.pk]),
        {"date": target},
        headers={"accept": "application/json"},
    )
    assert moved.status_code == 200, moved.content
    pa.refresh_from_db()
    assert pa.scheduled_at == when + timedelta(days=2)
    refused = c.post(reverse("calendar_app:post_reschedule", args=[b.pk, pb.pk]), {"date": target})
    assert refused.status_code == 403
    pb.refresh_from_db()
    assert pb.scheduled_at == when


def test_outsiders_get_404(
    agency: Agency, outsider: User, client_for: Callable[[User], Client]
) -> None:
    assert client_for(outsider).get(_url(agency)).status_code == 404


def test_query_count_does_not_grow_with_clients_or_posts(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    c = client_for(boss)
    month = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    counts = []
    for batch, zones in ((3, ("UTC",)), (200, ("UTC", "Europe/Paris", "Asia/Tokyo"))):
        clients = _clients(
            agency, *[(f"C{batch}-{i}", zones[i % len(zones)]) for i in range(batch)]
        )
        accounts = {ws.pk: TikTokAccountFactory.create(workspace=ws) for ws in clients}
        Post.objects.bulk_create(
            Post(
                workspace=ws,
                account=accounts[ws.pk],
                caption=f"post {n}",
                status=PostStatus.SCHEDULED,
                scheduled_at=month + timedelta(hours=7 * n),
                scheduled_tz=ws.time_zone,
                privacy_level="SELF_ONLY",
            )
            for ws in clients
            for n in range(10)
        )
        c.get(_url(agency, date="2027-02-10"))  # warm the session
        for view in ("month", "week", "list"):
            with CaptureQueriesContext(connection) as ctx:
                response = c.get(_url(agency, view=view, date="2027-02-10"))
            assert response.status_code == 200
            counts.append((view, len(ctx.captured_queries)))
    assert counts[:3] == counts[3:], counts
    assert dict(counts[:3])["month"] <= 11, counts
    assert timezone.now() < month  # the month is in the future: drop targets stay open

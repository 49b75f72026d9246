"""The agency home: one row per client with figures from every feature, at a fixed query count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import agency_services
from accounts.agency_selectors import agency_home
from accounts.models import AccountStatus, Agency, AgencyMember, Role, User, Workspace
from analytics.models import AccountDailySnapshot, DeliveryStatus, ReportDelivery, ReportSchedule
from calendar_app.models import PostStatus
from later.data_version import data_changed
from tests.calendar_app.factories import PostFactory
from tests.conversations.factories import make_comment, make_video
from tests.factories import TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)  # a Wednesday


def _seed(workspace: Workspace, *, with_report: bool = True) -> None:
    """Per client: 2 posts due this week (+1 later, +1 draft), 1 failed, 1 unconfirmed, one
    account of two needing reconnection, 3 unread comments of 4, 700 views this week against
    350 the week before, and a report sent for October."""
    account = TikTokAccountFactory.create(workspace=workspace)
    TikTokAccountFactory.create(workspace=workspace, status=AccountStatus.NEEDS_RECONNECT)
    for days, status in [
        (1, PostStatus.SCHEDULED),
        (6, PostStatus.SCHEDULED),
        (9, PostStatus.SCHEDULED),
        (2, PostStatus.DRAFT),
        (-3, PostStatus.FAILED),
        (-1, PostStatus.UNCONFIRMED),
    ]:
        PostFactory.create(
            workspace=workspace,
            account=account,
            status=status,
            scheduled_at=NOW + dt.timedelta(days=days),
        )
    clip = make_video(account)
    for n in range(4):
        make_comment(clip, read_at=NOW if n == 0 else None)
    AccountDailySnapshot.objects.bulk_create(
        AccountDailySnapshot(
            workspace=workspace,
            account=account,
            date=NOW.date() - dt.timedelta(days=back),
            video_views=100 if back < 7 else 50,
        )
        for back in range(14)
    )
    if with_report:
        schedule = ReportSchedule.objects.create(
            workspace=workspace, frequency="monthly", recipients=["c@x.test"], starts_at=NOW
        )
        ReportDelivery.objects.create(
            workspace=workspace,
            schedule=schedule,
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            status=DeliveryStatus.SENT,
        )


@pytest.fixture
def boss() -> User:
    return UserFactory.create(email="boss@agency.test")


@pytest.fixture
def agency(boss: User) -> Agency:
    return agency_services.agency_create(owner=boss, name="Northwind Social")


def _add_clients(agency: Agency, count: int, prefix: str) -> list[Workspace]:
    actor = AgencyMember.objects.select_related("agency").get(agency=agency, role=Role.OWNER)
    return [
        agency_services.agency_client_create(actor=actor, name=f"{prefix} {i:03d}", time_zone="UTC")
        for i in range(count)
    ]


def test_each_client_row_counts_what_needs_doing(boss: User, agency: Agency) -> None:
    acme, quiet = _add_clients(agency, 2, "Client")
    _seed(acme)
    member = AgencyMember.objects.select_related("agency").get(user=boss)
    with time_machine.travel(NOW, tick=False):
        rows = {row.workspace.pk: row for row in agency_home(member=member)}
    figures = {key: f.value for key, f in rows[acme.pk].figures.items()}
    assert figures == {
        "due": 2,
        "failed": 1,
        "unconfirmed": 1,
        "reconnect": 1,
        "unread_comments": 3,
        "views_week": 700,
        "report": 1,
    }
    assert rows[acme.pk].figures["views_week"].previous == 350
    assert rows[acme.pk].figures["views_week"].change == 100
    assert rows[acme.pk].needs_attention
    report = rows[acme.pk].figures["report"]
    assert report.url.endswith("?range=custom&start=2026-10-01&end=2026-10-31")
    assert report.caption == "Sent: 1 to 31 Oct 2026"
    # Every figure links into the client's own workspace.
    for f in rows[acme.pk].figures.values():
        assert f.url.startswith(f"/w/{acme.pk}/")
    quiet_figures = {key: f.value for key, f in rows[quiet.pk].figures.items()}
    assert quiet_figures["due"] == quiet_figures["unread_comments"] == 0
    assert quiet_figures["views_week"] is None and quiet_figures["report"] is None
    assert not rows[quiet.pk].needs_attention


def test_home_page_links_and_filters(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    acme, quiet = _add_clients(agency, 2, "Client")
    _seed(acme)
    c = client_for(boss)
    url = reverse("accounts:agency_home", args=[agency.pk])
    with time_machine.travel(NOW, tick=False):
        page = c.get(url).content.decode()
        attention = c.get(url, {"show": "attention"}).content.decode()
    assert f'href="/w/{acme.pk}/conversations/?status=unread"' in page
    assert f"/w/{acme.pk}/analytics/report/?range=custom" in page
    assert f"/w/{quiet.pk}/analytics/report/" in page  # no report sent: last month's
    assert "+100%" in page
    table = attention[attention.index('data-testid="agency-home"') :]
    assert "Client 000" in table and "Client 001" not in table


def _home_queries(client: Client, agency: Agency) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("accounts:agency_home", args=[agency.pk]))
    assert response.status_code == 200
    return len(captured)


def test_home_query_count_is_fixed_from_3_to_200_clients(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    c = client_for(boss)
    with time_machine.travel(NOW, tick=False):
        small_clients = _add_clients(agency, 3, "Small")
        for ws in small_clients:
            _seed(ws)
        _home_queries(c, agency)  # warm the session
        data_changed(*[ws.pk for ws in small_clients])  # the figures are not cached now
        small = _home_queries(c, agency)
        small_cached = _home_queries(c, agency)
        for ws in _add_clients(agency, 197, "Large"):
            _seed(ws, with_report=False)
        large = _home_queries(c, agency)
        large_cached = _home_queries(c, agency)
    # User, agency member; clients, direct roles; reconnect, calendar, comments, views,
    # reports; the switcher (the session is read from the cache). Pinned: an N+1 anywhere
    # fails here. Served from the fragment cache (later/data_version.py), the five figure
    # queries are not made.
    assert small == large == 10, (small, large)
    assert small_cached == large_cached == 5, (small_cached, large_cached)

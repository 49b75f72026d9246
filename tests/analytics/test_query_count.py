"""The overview runs the same number of queries for a small and a 2-year, 1,000-post history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import TikTokVideo, User, Workspace
from analytics.models import AccountDailySnapshot, VideoSnapshot
from tests.analytics.seed import NOW, business_account, day_row

pytestmark = pytest.mark.django_db


def _seed(workspace: Workspace, *, days: int, posts: int) -> None:
    account = business_account(workspace, username=f"acct{days}")
    today = NOW.date()
    AccountDailySnapshot.objects.bulk_create(
        day_row(account, today - dt.timedelta(days=i), followers=5000 - i, video_views=300 + i % 7)
        for i in range(days)
    )
    videos = TikTokVideo.objects.bulk_create(
        TikTokVideo(
            workspace=workspace,
            account=account,
            video_id=f"{days}-{i}",
            caption=f"post {i}",
            posted_at=NOW - dt.timedelta(hours=17 * i + 1),
            view_count=1000 + i,
        )
        for i in range(posts)
    )
    VideoSnapshot.objects.bulk_create(
        VideoSnapshot(
            workspace=workspace,
            video=item,
            bucket_at=item.posted_at + dt.timedelta(hours=hours),
            captured_at=item.posted_at + dt.timedelta(hours=hours),
            date=(item.posted_at + dt.timedelta(hours=hours)).date(),
            views=hours * 10,
        )
        for item in videos
        for hours in (1, 24, 168)
    )


def _queries(client: Client, workspace: Workspace) -> int:
    url = reverse("analytics:overview", args=[workspace.id])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"range": "90"})
    assert response.status_code == 200
    assert response.content.count(b"data-point") > 10
    return len(captured)


def test_overview_query_count_does_not_grow(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    from tests.factories import MembershipFactory, WorkspaceFactory

    small, large = WorkspaceFactory.create(), WorkspaceFactory.create()
    for ws in (small, large):
        MembershipFactory.create(workspace=ws, user=owner, role="owner")
    with time_machine.travel(NOW, tick=False):
        _seed(small, days=30, posts=10)
        _seed(large, days=730, posts=1000)
        client = client_for(owner)
        # The session is written only when the current workspace changes: warm each one.
        _queries(client, small)
        small_count = _queries(client, small)
        _queries(client, large)
        assert small_count == _queries(client, large)

"""Business video insights on a post's page; personal accounts see what Business would add."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountType, TikTokAccount, Workspace
from analytics.models import VideoSnapshot
from tests.analytics.seed import business_account, video

pytestmark = pytest.mark.django_db


def _snapshot(item, captured: dt.datetime, **insights) -> VideoSnapshot:
    return VideoSnapshot.objects.create(
        workspace_id=item.workspace_id,
        video=item,
        bucket_at=captured.replace(minute=0, second=0, microsecond=0),
        captured_at=captured,
        date=captured.date(),
        views=5000,
        **insights,
    )


def test_business_post_page_shows_every_insight(workspace: Workspace, client_for, owner):
    account = business_account(workspace)
    now = timezone.now()
    item = video(account, "b1", now - dt.timedelta(days=5), caption="insightful")
    _snapshot(
        item,
        now - dt.timedelta(hours=3),
        average_time_watched=7.25,
        full_video_watched_rate=0.183,
        new_followers=1234,
        retention=[[0, 1.0], [5, 0.62], [10, 0.41], [15, 0.2]],
        impression_sources={
            "For You": 0.71,
            "Follow": 0.14,
            "Personal Profile": 0.09,
            "Search": 0.06,
        },
        audience_types={
            "NEW_VIEWER": 0.8,
            "RETURN_VIEWER": 0.2,
            "FOLLOWER_PERCENT": 0.1,
            "NON_FOLLOWER_PERCENT": 0.9,
        },
    )
    page = client_for(owner).get(reverse("analytics:video", args=[workspace.pk, item.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "7.2 s" in html or "7.3 s" in html
    assert "18.3%" in html
    assert "1,234" in html
    assert 'data-testid="chart-retention"' in html
    assert "5 s: 62.0% of viewers still watching" in html
    for label in (
        "For You",
        "Following",
        "Profile",
        "Search",
        "New viewers",
        "Returning viewers",
        "Non-followers",
    ):
        assert label in html
    assert "71.0%" in html and "90.0%" in html
    assert "24\N{EN DASH}48 hours behind" in html

    table = client_for(owner).get(
        reverse("analytics:overview", args=[workspace.pk]), {"range": "7", "sort": "-watch_time"}
    )
    assert table.status_code == 200
    assert "Avg. watch time ↓" in table.content.decode()


def test_personal_post_page_lists_what_business_would_add(workspace: Workspace, client_for, owner):
    account = TikTokAccount.objects.create(
        workspace=workspace, open_id="p", username="personal.one", account_type=AccountType.PERSONAL
    )
    item = video(account, "p1", timezone.now() - dt.timedelta(days=5))
    html = (
        client_for(owner)
        .get(reverse("analytics:video", args=[workspace.pk, item.pk]))
        .content.decode()
    )
    assert 'data-testid="insights-personal"' in html
    for label in (
        "Average watch time",
        "Retention curve",
        "Audience types",
        "New followers gained",
    ):
        assert label in html


def test_a_young_business_video_waits_for_tiktok_lag(workspace: Workspace, client_for, owner):
    account = business_account(workspace)
    item = video(account, "young", timezone.now() - dt.timedelta(hours=6))
    html = (
        client_for(owner)
        .get(reverse("analytics:video", args=[workspace.pk, item.pk]))
        .content.decode()
    )
    assert "24\N{EN DASH}48 hours after publishing" in html


def test_posts_table_sorts_by_for_you_new_viewer_and_mid_video_shares(
    workspace: Workspace, client_for, owner
):
    from analytics.selectors import SORTS, videos_with_metrics

    account = business_account(workspace)
    now = timezone.now()
    # (For You, new viewers, retention curve): fractions for two, percents for the third, as
    # TikTok may send either; the latest snapshot that carried a breakdown counts.
    shapes = {
        "low": (
            {"For You": 0.2, "Follow": 0.8},
            {"NEW_VIEWER": 0.9},
            [[0, 1.0], [5, 0.3], [9, 0.1]],
        ),
        "mid": (
            {"FOR_YOU": 55.0, "SEARCH": 45.0},
            {"NEW_VIEWER": 10.0},
            [[0, 100], [5, 80], [9, 50]],
        ),
        "top": (
            {"For You": 0.9, "Search": 0.1},
            {"NEW_VIEWER": 0.5},
            [[0, 1.0], [5, 0.6], [9, 0.4]],
        ),
    }
    for name, (sources, audience, retention) in shapes.items():
        item = video(account, name, now - dt.timedelta(days=4), caption=f"post {name}")
        _snapshot(
            item,
            now - dt.timedelta(hours=30),
            impression_sources=sources,
            audience_types=audience,
            retention=retention,
        )
        _snapshot(item, now - dt.timedelta(hours=2))  # newer, without insights yet
    untouched = video(account, "none", now - dt.timedelta(days=4), caption="post none")
    _snapshot(untouched, now - dt.timedelta(hours=2))

    shares = {
        row["video_id"]: (row["for_you_share"], row["new_viewer_share"], row["retention_mid_share"])
        for row in videos_with_metrics(workspace=workspace).values(
            "video_id", *("for_you_share", "new_viewer_share", "retention_mid_share")
        )
    }
    assert shares == {
        "low": (pytest.approx(20.0), pytest.approx(90.0), pytest.approx(30.0)),
        "mid": (pytest.approx(55.0), pytest.approx(10.0), pytest.approx(80.0)),
        "top": (pytest.approx(90.0), pytest.approx(50.0), pytest.approx(60.0)),
        "none": (None, None, None),
    }
    assert {"for_you", "new_viewers", "retention_mid"} <= SORTS.keys()

    client = client_for(owner)
    url = reverse("analytics:overview", args=[workspace.pk])

    def order(sort: str) -> list[str]:
        html = client.get(url, {"range": "7", "sort": sort}).content.decode()
        return [name for name in re.findall(r">post (\w+)<", html)]

    assert order("-for_you") == ["top", "mid", "low", "none"]
    assert order("-new_viewers") == ["low", "top", "mid", "none"]
    assert order("-retention_mid") == ["mid", "top", "low", "none"]
    assert order("retention_mid") == ["low", "top", "mid", "none"]  # no data stays last
    html = client.get(url, {"range": "7", "sort": "-for_you"}).content.decode()
    assert "From For You" in html and ">90%<" in html

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
        workspace=workspace,
        open_id="p",
        username="personal.one",
        account_type=AccountType.PERSONAL,
        business_scopes=["user.account.type"],
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


def test_api_and_csv_carry_the_breakdown_shares_the_page_shows(
    workspace: Workspace, client_for, api_client_for, owner
):
    account = business_account(workspace)
    now = timezone.now()
    item = video(account, "shares", now - dt.timedelta(days=4), caption="post shares")
    _snapshot(
        item,
        now - dt.timedelta(hours=30),
        impression_sources={"For You": 0.705, "Follow": 0.295},
        audience_types={"NEW_VIEWER": 62.5, "RETURN_VIEWER": 37.5},
        retention=[[0, 1.0], [5, 0.4125], [9, 0.1]],
    )
    plain = video(account, "plain", now - dt.timedelta(days=3), caption="post plain")
    _snapshot(plain, now - dt.timedelta(hours=2))
    keys = ("for_you_share_percent", "new_viewer_share_percent", "retention_mid_share_percent")
    expected: dict[str, dict[str, float | None]] = {
        "shares": {
            "for_you_share_percent": 70.5,
            "new_viewer_share_percent": 62.5,
            "retention_mid_share_percent": 41.25,
        },
        "plain": {
            "for_you_share_percent": None,
            "new_viewer_share_percent": None,
            "retention_mid_share_percent": None,
        },
    }

    api = api_client_for(owner)
    listed = api.get(
        reverse("analytics:api_videos", args=[workspace.pk]), {"range": "7", "sort": "-for_you"}
    )
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [row["tiktok_video_id"] for row in rows] == ["shares", "plain"]
    for row in rows:
        assert {key: row[key] for key in keys} == expected[row["tiktok_video_id"]]
    detail = api.get(reverse("analytics:api_video", args=[workspace.pk, item.pk])).json()
    assert {key: detail[key] for key in keys} == expected["shares"]

    csv_text = (
        client_for(owner)
        .get(reverse("analytics:export_posts", args=[workspace.pk]), {"range": "7"})
        .content.decode()
    )
    import csv
    import io

    by_video = {row["tiktok_video_id"]: row for row in csv.DictReader(io.StringIO(csv_text))}
    assert {key: by_video["shares"][key] for key in keys} == {
        "for_you_share_percent": "70.5",
        "new_viewer_share_percent": "62.5",
        "retention_mid_share_percent": "41.25",
    }
    assert {key: by_video["plain"][key] for key in keys} == dict.fromkeys(keys, "")

    # The page shows the same figures (rounded to whole percents).
    html = (
        client_for(owner)
        .get(reverse("analytics:overview", args=[workspace.pk]), {"range": "7"})
        .content.decode()
    )
    assert ">70%<" in html or ">71%<" in html
    assert ">62%<" in html or ">63%<" in html
    assert ">41%<" in html


def test_the_openapi_schema_names_every_field_the_video_api_returns(
    workspace: Workspace, api_client_for, owner
):
    from drf_spectacular.generators import SchemaGenerator

    item = video(business_account(workspace), "v", timezone.now() - dt.timedelta(days=2))
    _snapshot(item, timezone.now() - dt.timedelta(hours=1))
    body = (
        api_client_for(owner)
        .get(reverse("analytics:api_video", args=[workspace.pk, item.pk]))
        .json()
    )
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert set(components["VideoDetail"]["properties"]) == set(body)
    assert set(components["VideoSnapshot"]["properties"]) == set(body["snapshots"][0])
    page = components["VideoPage"]["properties"]["results"]["items"]["$ref"]
    assert page.endswith("/VideoMetrics")
    assert set(components["VideoMetrics"]["properties"]) == set(body) - {"snapshots"}
    assert "retention_mid_share_percent" in components["VideoMetrics"]["properties"]


@pytest.mark.parametrize(
    ("business_scopes", "says", "never"),
    [
        # Login Kit alone cannot tell the type (fact sheet): the page must not call it personal.
        ([], "TikTok did not tell us this account's type.", "This is a personal account."),
        (["user.account.type"], "This is a personal account.", "did not tell us"),
    ],
)
def test_post_page_says_personal_only_when_tiktok_said_so(
    workspace: Workspace, client_for, owner, business_scopes, says, never
):
    account = TikTokAccount.objects.create(
        workspace=workspace,
        open_id="q",
        username="some.one",
        account_type=AccountType.PERSONAL,
        business_scopes=business_scopes,
    )
    item = video(account, "q1", timezone.now() - dt.timedelta(days=5))
    html = (
        client_for(owner)
        .get(reverse("analytics:video", args=[workspace.pk, item.pk]))
        .content.decode()
    )
    assert says in html and never not in html

"""The numbers shown (cards, changes, engagement, velocity) against hand-computed values."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User, Workspace
from tests.analytics.seed import NOW, seed_hand_computed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _card(html: str, key: str) -> str:
    start = html.index(f'data-testid="card-{key}"')
    return html[start : html.index("</div>\n</div>", start)]


def test_cards_changes_and_engagement(
    workspace: Workspace, viewer: User, client_for: Callable[[User], Client]
) -> None:
    seed_hand_computed(workspace)
    response = client_for(viewer).get(
        reverse("analytics:overview", args=[workspace.id]), {"range": "7"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    views = _card(html, "video_views")
    assert "600" in views  # 6 measured days x 100; the missing day adds nothing
    assert "+71.4%" in views  # (600 - 350) / 350
    assert "an-card-headline" in html[: html.index('data-testid="card-video_views"') + 40]
    followers = _card(html, "followers")
    assert "1,220" in followers and "+22.0%" in followers  # Mar 20 vs Mar 13 (1000)
    engagement = _card(html, "engagement_rate")
    assert "13.00%" in engagement  # (60 + 12 + 6) / 600
    assert "+1.00 pts" in engagement  # previous (35 + 7 + 0) / 350 = 12.00%
    posts = _card(html, "posts")
    assert ">\n    2\n" in posts or "2" in posts.split("data-value>")[1][:40]
    assert "+100.0%" in posts  # 2 this week vs 1 the week before
    assert "1 day without a measurement is left blank" in html


def test_posts_table_velocity_and_sorting(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    seed_hand_computed(workspace)
    client = client_for(owner)
    url = reverse("analytics:overview", args=[workspace.id])
    html = client.get(url, {"range": "7"}).content.decode()
    table = html[html.index('data-testid="posts-table"') :]
    assert table.index("Video views") < table.index("Published")
    row = table[table.index("1,000") :]
    assert "10.00%" in row[:900]  # (50 + 30 + 20) / 1000
    for value in (">40<", ">300<", ">900<"):
        assert value in row[:1200]
    ascending = client.get(url, {"range": "7", "sort": "views"}).content.decode()
    assert ascending.index("@someone") < ascending.index("HYPERLINK")


def test_api_returns_the_same_numbers(
    workspace: Workspace, viewer: User, api_client_for: Callable[[User], APIClient]
) -> None:
    _, first = seed_hand_computed(workspace)
    api = api_client_for(viewer)
    body = api.get(reverse("analytics:api_overview", args=[workspace.id]), {"range": "7"}).json()
    cards = {card["key"]: card for card in body["cards"]}
    assert cards["video_views"]["value"] == 600
    assert cards["video_views"]["previous"] == 350
    assert cards["video_views"]["change_percent"] == 71.43
    assert cards["video_views"]["days_with_data"] == 6
    assert cards["engagement_rate"]["value"] == 13.0
    daily = {row["date"]: row for row in body["daily"]}
    assert daily["2026-03-17"]["video_views"] is None

    videos = api.get(reverse("analytics:api_videos", args=[workspace.id]), {"range": "7"}).json()
    assert videos["count"] == 2
    top = videos["results"][0]
    assert top["video_views"] == 1000 and top["engagement_rate_percent"] == 10.0
    assert (top["views_1h"], top["views_24h"], top["views_7d"]) == (40, 300, 900)

    detail = api.get(reverse("analytics:api_video", args=[workspace.id, first.pk])).json()
    assert [s["views"] for s in detail["snapshots"]] == [10, 40, 300, 900, 1000]


def test_bad_custom_range_explains_and_keeps_input(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).get(
        reverse("analytics:overview", args=[workspace.id]),
        {"range": "custom", "start": "2026-03-10", "end": "2026-03-01"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The start date must be on or before the end date." in html
    assert 'value="2026-03-10"' in html and 'value="2026-03-01"' in html


def test_csv_exports_neutralise_formulas(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    seed_hand_computed(workspace)
    client = client_for(owner)
    posts = client.get(reverse("analytics:export_posts", args=[workspace.id]), {"range": "7"})
    assert posts["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(posts.content.decode())))
    captions = {row["tiktok_video_id"]: row["caption"] for row in rows}
    assert captions["v-first"] == '\'=HYPERLINK("http://evil")'
    assert captions["v-second"] == "'@someone -5 +3"
    first = next(row for row in rows if row["tiktok_video_id"] == "v-first")
    assert (first["video_views"], first["views_24h"], first["engagement_rate_percent"]) == (
        "1000",
        "300",
        "10.0",
    )
    account = client.get(reverse("analytics:export_account", args=[workspace.id]), {"range": "7"})
    account_rows = list(csv.DictReader(io.StringIO(account.content.decode())))
    assert len(account_rows) == 6
    assert sum(int(row["video_views"]) for row in account_rows) == 600
    assert account_rows[0]["account"] == "'@corner.cafe"


def test_empty_states(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    from tests.factories import TikTokAccountFactory

    client = client_for(owner)
    url = reverse("analytics:overview", args=[workspace.id])
    assert 'data-testid="empty-no-accounts"' in client.get(url).content.decode()
    TikTokAccountFactory.create(workspace=workspace)
    html = client.get(url).content.decode()
    assert 'data-testid="empty-just-connected"' in html
    assert 'data-testid="empty-personal"' in html


@pytest.mark.parametrize(
    ("business_scopes", "note", "notice"),
    [
        # Login Kit alone cannot tell the type (fact sheet): not "(personal)".
        ([], "(type unknown)", "Account type unknown:"),
        (["user.account.type"], "(personal)", "Personal account:"),
    ],
)
def test_a_non_business_account_is_named_by_what_tiktok_said(
    workspace: Workspace,
    owner: User,
    client_for: Callable[[User], Client],
    business_scopes: list[str],
    note: str,
    notice: str,
) -> None:
    from tests.factories import TikTokAccountFactory

    TikTokAccountFactory.create(
        workspace=workspace, username="some.one", business_scopes=business_scopes
    )
    text = (
        client_for(owner).get(reverse("analytics:overview", args=[workspace.id])).content.decode()
    )

    assert f"@some.one {note}" in text
    assert notice in text
    other = "(personal)" if note == "(type unknown)" else "(type unknown)"
    assert other not in text


@pytest.mark.parametrize(
    ("accept_language", "followers"),
    [
        ("", "1,220"),
        ("en-GB,en;q=0.9", "1,220"),
        ("de-DE,de;q=0.9,en;q=0.5", "1.220"),
        ("fr-FR,fr;q=0.9", "1\xa0220"),
        ("xx-YY, de;q=0.4", "1.220"),  # the first locale Django knows
        ("zz", "1,220"),
    ],
)
def test_figures_follow_the_readers_locale_and_the_text_stays_english(
    workspace: Workspace,
    viewer: User,
    client_for: Callable[[User], Client],
    accept_language: str,
    followers: str,
) -> None:
    seed_hand_computed(workspace)
    response = client_for(viewer).get(
        reverse("analytics:overview", args=[workspace.id]),
        {"range": "7"},
        headers={"Accept-Language": accept_language} if accept_language else {},
    )
    html = response.content.decode()
    assert followers in _card(html, "followers")
    assert "Video views" in html  # only how numbers are written changes

"""One video's figures agree on its card, its snapshot row, the posts table, the CSV, the API and
Conversations' Post view.

The regression: the comment sync re-lists videos every few minutes and rewrites TikTokVideo's
counters without taking a snapshot, so the card (TikTokVideo) said 96 comments while the
latest snapshot row said 42.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.urls import reverse

from accounts.models import TikTokVideo, Workspace
from analytics.models import VideoSnapshot
from tests.analytics.seed import business_account, video

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def _card(html: str, key: str) -> str:
    match = re.search(rf'data-testid="card-{key}".*?data-value>\s*(.*?)\s*</div>', html, re.S)
    assert match, key
    return match.group(1)


def _dd(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</dd>', html)
    assert match, testid
    return match.group(1)


def test_card_snapshot_row_table_csv_and_api_agree(
    workspace: Workspace, client_for, owner, api_client_for
):
    account = business_account(workspace)
    item = video(account, "v1", NOW - dt.timedelta(days=3), caption="launch")
    captured = NOW - dt.timedelta(hours=2)
    VideoSnapshot.objects.create(
        workspace=workspace,
        video=item,
        bucket_at=captured.replace(minute=0),
        captured_at=captured,
        date=captured.date(),
        views=12345,
        likes=678,
        comments=42,
        shares=9,
    )
    # The comment sync's video refresh rewrote the counters afterwards, with no snapshot.
    TikTokVideo.objects.for_workspace(workspace).filter(pk=item.pk).update(
        view_count=13000, like_count=700, comment_count=96, share_count=10
    )
    client = client_for(owner)
    with time_machine.travel(NOW):
        page = client.get(reverse("analytics:video", args=[workspace.pk, item.pk])).content.decode()
        post_view = client.get(
            reverse("conversations:post", args=[workspace.pk, item.pk])
        ).content.decode()
        post_view_de = client.get(
            reverse("conversations:post", args=[workspace.pk, item.pk]),
            HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9",
        ).content.decode()
        table = client.get(reverse("analytics:overview", args=[workspace.pk]), {"range": "7"})
        exported = client.get(
            reverse("analytics:export_posts", args=[workspace.pk]), {"range": "7"}
        ).content.decode()
        api = (
            api_client_for(owner)
            .get(reverse("analytics:api_videos", args=[workspace.pk]), {"range": "7"})
            .json()["results"][0]
        )
        detail = (
            api_client_for(owner)
            .get(reverse("analytics:api_video", args=[workspace.pk, item.pk]))
            .json()
        )

    assert _card(page, "video_views") == "12,345"
    assert _card(page, "comments") == "42"
    snapshot_row = re.search(
        r"<tbody>\s*<tr>(.*?)</tr>", page.split('data-testid="measured-at"')[1], re.S
    )
    assert snapshot_row and ">12,345<" in snapshot_row.group(1) and ">42<" in snapshot_row.group(1)
    assert "our latest snapshot" in page

    # Conversations' Post view: the same snapshot, said to be one, with its time.
    assert _dd(post_view, "post-views") == "12,345"
    assert _dd(post_view, "post-likes") == "678"
    assert _dd(post_view, "post-comments") == "42"
    assert "96" not in _dd(post_view, "post-comments") and "13,000" not in post_view
    measured = captured.astimezone(workspace.tz).strftime("%b %-d, %Y %H:%M")
    assert f"as measured {measured}" in post_view and "our latest snapshot" in post_view
    assert _dd(post_view_de, "post-views") == "12.345"

    row = (
        table.content.decode().split("launch")[0].rsplit("<tr>", 1)[1]
        + table.content.decode().split("launch")[1].split("</tr>")[0]
    )
    assert "12,345" in row and ">42<" in row and ">96<" not in row

    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["video_views"] == "12345"
    assert rows[0]["comments"] == "42"
    assert rows[0]["likes"] == "678"
    assert rows[0]["measured_at"] == captured.astimezone(workspace.tz).strftime("%Y-%m-%d %H:%M")

    for body in (api, detail):
        assert body["video_views"] == 12345
        assert body["comments"] == 42
        assert body["measured_at"] == captured.isoformat()
    assert detail["snapshots"][-1]["comments"] == 42
    # Engagement uses the same figures everywhere: (678 + 42 + 9) / 12345.
    assert api["engagement_rate_percent"] == round(729 / 12345 * 100, 2)
    assert rows[0]["engagement_rate_percent"] == str(round(729 / 12345 * 100, 2))


def test_a_video_without_snapshots_says_when_it_was_listed(workspace: Workspace, client_for, owner):
    account = business_account(workspace)
    item = video(account, "v2", NOW - dt.timedelta(days=1), comment_count=5)
    page = client_for(owner).get(reverse("analytics:video", args=[workspace.pk, item.pk]))
    assert (
        "no snapshot yet" in page.content.decode()
        or "as TikTok last listed them" in page.content.decode()
    )
    assert _card(page.content.decode(), "comments") == "5"
    post_view = client_for(owner).get(reverse("conversations:post", args=[workspace.pk, item.pk]))
    assert _dd(post_view.content.decode(), "post-comments") == "5"
    assert "no snapshot yet" in post_view.content.decode()

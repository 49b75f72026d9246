"""Display API: user info per scope, video list pagination, video query."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.tiktok_client.conftest import AVA, BEN, RecordingTransport
from tiktok_client import TikTokClient, TikTokInvalidRequest, TikTokScopeError, Video
from tiktok_client.simulator import SimulatorApp

TokenFor = Callable[..., str]
ALL_FIELDS = [
    "open_id", "union_id", "avatar_url", "display_name", "bio_description", "is_verified",
    "username", "follower_count", "following_count", "likes_count", "video_count",
]  # fmt: skip


def test_user_info_returns_requested_fields_only(
    tiktok: TikTokClient, token_for: TokenFor, transport: RecordingTransport
) -> None:
    token = token_for(AVA)
    user = tiktok.get_user_info(access_token=token, fields=["open_id", "display_name"])
    assert (user.open_id, user.display_name) == (AVA, "Ava Creates")
    assert user.username is None and user.follower_count is None
    request = transport.last("/v2/user/info/")
    assert request.method == "GET"
    assert request.url.params["fields"] == "open_id,display_name"
    assert request.headers["authorization"] == f"Bearer {token}"

    full = tiktok.get_user_info(access_token=token, fields=ALL_FIELDS)
    assert full.username == "ava.creates"
    assert full.is_verified is True
    assert full.follower_count and full.follower_count > 40000
    assert full.video_count == 24
    assert full.likes_count and full.likes_count > 0


def test_field_needing_ungranted_scope_fails(tiktok: TikTokClient, token_for: TokenFor) -> None:
    token = token_for(AVA, scopes=("user.info.basic",))
    assert tiktok.get_user_info(access_token=token, fields=["display_name"]).display_name
    with pytest.raises(TikTokScopeError) as excinfo:
        tiktok.get_user_info(access_token=token, fields=["display_name", "username"])
    # Corrections: a field whose scope was not granted is 401 scope_not_authorized.
    assert (excinfo.value.code, excinfo.value.http_status) == ("scope_not_authorized", 401)


def test_endpoint_scope_missing(tiktok: TikTokClient, token_for: TokenFor) -> None:
    with pytest.raises(TikTokScopeError) as excinfo:
        tiktok.list_videos(access_token=token_for(AVA, scopes=("user.info.basic",)))
    assert excinfo.value.code == "scope_not_authorized"


def test_video_list_paginates_newest_first_with_ms_cursor(
    tiktok: TikTokClient, token_for: TokenFor, transport: RecordingTransport
) -> None:
    token = token_for(AVA)
    seen: list[Video] = []
    cursor = None
    pages = 0
    while True:
        page = tiktok.list_videos(access_token=token, cursor=cursor, max_count=10)
        pages += 1
        seen.extend(page.videos)
        if not page.has_more:
            break
        assert page.cursor == page.videos[-1].create_time * 1000 + (page.cursor % 1000)
        cursor = page.cursor
    assert pages == 3
    assert len(seen) == 24 == len({v.id for v in seen})
    times = [v.create_time for v in seen]
    assert times == sorted(times, reverse=True)
    request = transport.last("/v2/video/list/")
    assert request.method == "POST"
    assert json.loads(request.content) == {"max_count": 10, "cursor": cursor}
    assert request.url.params["fields"].split(",")[0] == "id"


def test_video_list_respects_fields_and_limits(tiktok: TikTokClient, token_for: TokenFor) -> None:
    token = token_for(AVA)
    page = tiktok.list_videos(access_token=token, fields=["id", "create_time"], max_count=2)
    assert page.videos[0].view_count is None and page.videos[0].title is None
    with pytest.raises(TikTokInvalidRequest):
        tiktok.list_videos(access_token=token, max_count=21)
    with pytest.raises(TikTokInvalidRequest):
        tiktok.list_videos(access_token=token, fields=["id", "secret_field"])


def test_video_stats_grow_with_simulated_time(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    newest = tiktok.list_videos(access_token=token, max_count=1).videos[0]
    sim.clock.advance(6 * 3600)  # longer than a 2 h access token lives: ask with a fresh one
    later = tiktok.list_videos(access_token=token_for(AVA), max_count=1).videos[0]
    assert later.id == newest.id
    assert newest.view_count is not None and later.view_count is not None
    assert later.view_count > newest.view_count
    assert (later.like_count or 0) >= (newest.like_count or 0)


def test_seeded_data_is_deterministic(sim: SimulatorApp) -> None:
    from tiktok_client.simulator import create_app

    other = create_app()
    mine = sorted(v.id for v in sim.state.videos.values())
    theirs = sorted(v.id for v in other.state.videos.values())
    assert mine == theirs


def test_private_account_lists_follower_videos(tiktok: TikTokClient, token_for: TokenFor) -> None:
    assert len(tiktok.list_videos(access_token=token_for(BEN)).videos) == 6


def test_cover_urls_expire(tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp) -> None:
    import httpx

    video = tiktok.list_videos(access_token=token_for(AVA), max_count=1).videos[0]
    assert video.cover_image_url
    raw = httpx.Client(transport=httpx.WSGITransport(app=sim))
    assert raw.get(video.cover_image_url).status_code == 200
    sim.clock.advance(6 * 3600 + 1)
    assert raw.get(video.cover_image_url).status_code == 403


def test_an_avatar_shows_the_creators_initials(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    import httpx

    user = tiktok.get_user_info(access_token=token_for(AVA), fields=["open_id", "avatar_url"])
    assert user.avatar_url
    raw = httpx.Client(transport=httpx.WSGITransport(app=sim))
    svg = raw.get(user.avatar_url).text
    assert ">AC</text>" in svg  # Ava Creates; the open_id's last two letters read "IC"

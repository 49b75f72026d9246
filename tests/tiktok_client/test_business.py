"""TikTok API for Business: account analytics, video insights and comment moderation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import AVA, CAFE, RecordingTransport, upload_all
from tiktok_client import (
    PostInfo,
    TikTokAuthError,
    TikTokClient,
    TikTokError,
    TikTokInvalidRequest,
    TikTokScopeError,
    plan_chunks,
)
from tiktok_client.simulator import SimulatorApp
from tiktok_client.simulator.rules import BUSINESS_SCOPES

SIM_BUSINESS_SCOPES = tuple(sorted(BUSINESS_SCOPES))

TokenFor = Callable[..., str]
BizFor = Callable[..., tuple[str, str]]


@pytest.fixture
def biz_for(sim: SimulatorApp) -> BizFor:
    """Business tokens and business_id (the Business app's open_id) minted in the simulator."""

    def _biz(creator: str, scopes: tuple[str, ...] = SIM_BUSINESS_SCOPES) -> tuple[str, str]:
        with sim.state.lock:
            data = sim.state.issue_business_tokens(creator_id=creator, scopes=scopes)
        return str(data["access_token"]), str(data["open_id"])

    return _biz


def _today(sim: SimulatorApp) -> dt.date:
    return dt.date.fromtimestamp(sim.clock.now())


def test_account_profile_and_request_shape(
    tiktok: TikTokClient, biz_for: BizFor, transport: RecordingTransport
) -> None:
    token, cafe = biz_for(CAFE)
    account = tiktok.business_get_account(
        access_token=token,
        business_id=cafe,
        fields=["is_business_account", "username", "display_name", "followers_count",
                "videos_count", "total_likes", "audience_genders"],
    )  # fmt: skip
    assert account.is_business_account is True
    assert (account.username, account.display_name) == ("corner.cafe", "Corner Cafe")
    assert account.videos_count == 30
    assert account.followers_count and account.followers_count > 15000
    assert [g for g, _ in account.audience_genders] == ["Female", "Male", "Other"]
    assert abs(sum(p for _, p in account.audience_genders) - 1) < 0.01
    assert account.metrics == ()
    request = transport.last("/open_api/v1.3/business/get/")
    assert request.method == "GET"
    assert request.headers["access-token"] == token
    assert "authorization" not in request.headers
    assert json.loads(request.url.params["fields"])[0] == "is_business_account"
    assert request.url.params["business_id"] == cafe


def test_business_errors_are_http_200_with_codes(
    tiktok: TikTokClient, biz_for: BizFor, sim: SimulatorApp
) -> None:
    token, cafe = biz_for(CAFE, scopes=("user.info.profile", "video.list"))
    with pytest.raises(TikTokError) as excinfo:
        tiktok.business_get_account(access_token=token, business_id=cafe, fields=["username"])
    assert (excinfo.value.code, excinfo.value.http_status) == ("40130", 200)
    assert excinfo.value.log_id  # request_id is kept
    with pytest.raises(TikTokInvalidRequest):
        tiktok.business_list_videos(access_token=biz_for(CAFE)[0], business_id=AVA)
    full, cafe = biz_for(CAFE)
    sim.clock.advance(86401)
    with pytest.raises(TikTokAuthError, match="expired"):
        tiktok.business_list_videos(access_token=full, business_id=cafe)
    with pytest.raises(TikTokAuthError, match="incorrect"):
        tiktok.business_list_videos(access_token="act.bogus", business_id=cafe)


def test_video_insights_paginate(
    tiktok: TikTokClient, biz_for: BizFor, transport: RecordingTransport
) -> None:
    token, cafe = biz_for(CAFE)
    first = tiktok.business_list_videos(access_token=token, business_id=cafe, max_count=20)
    assert len(first.videos) == 20 and first.has_more
    second = tiktok.business_list_videos(
        access_token=token, business_id=cafe, cursor=first.cursor, max_count=20
    )
    assert len(second.videos) == 10 and not second.has_more
    assert not {v.item_id for v in first.videos} & {v.item_id for v in second.videos}
    video = first.videos[0]
    assert video.create_time and video.caption and video.share_url
    assert video.video_views is not None and video.reach is not None
    assert video.impression_sources[0][0] == "For You"
    params = transport.last("/open_api/v1.3/business/video/list/").url.params
    assert json.loads(params["fields"])[:2] == ["item_id", "create_time"]
    filtered = tiktok.business_list_videos(
        access_token=token, business_id=cafe, video_ids=[video.item_id], fields=["item_id"]
    )
    assert [v.item_id for v in filtered.videos] == [video.item_id]
    assert filtered.videos[0].caption is None
    params = transport.last("/open_api/v1.3/business/video/list/").url.params
    assert json.loads(params["filters"]) == {"video_ids": [video.item_id]}
    with pytest.raises(TikTokInvalidRequest):
        tiktok.business_list_videos(access_token=token, business_id=cafe, max_count=21)


def _video_id(tiktok: TikTokClient, token: str, cafe: str, index: int = 5) -> str:
    page = tiktok.business_list_videos(access_token=token, business_id=cafe, max_count=20)
    return page.videos[index].item_id


def test_comment_list_pagination_and_replies(
    tiktok: TikTokClient, biz_for: BizFor, transport: RecordingTransport
) -> None:
    token, cafe = biz_for(CAFE)
    video_id = _video_id(tiktok, token, cafe)
    first = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=30
    )
    assert len(first.comments) == 30 and first.has_more and first.cursor == 30
    rest = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, cursor=first.cursor
    )
    assert len(rest.comments) == 6 and not rest.has_more
    times = [c.create_time for c in first.comments]
    assert times == sorted(times, reverse=True)
    params = transport.last("/open_api/v1.3/business/comment/list/").url.params
    assert params["include_replies"] == "false" and params["status"] == "ALL"

    threaded = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, include_replies=True
    )
    parent = next(c for c in threaded.comments if c.replies)
    assert len(parent.reply_list) == parent.replies
    assert all(r.parent_comment_id == parent.comment_id for r in parent.reply_list)
    assert parent.parent_comment_id is None
    replies = tiktok.business_list_replies(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=parent.comment_id
    )
    assert {r.comment_id for r in replies.comments} == {r.comment_id for r in parent.reply_list}
    with pytest.raises(TikTokInvalidRequest):
        tiktok.business_list_comments(
            access_token=token, business_id=cafe, video_id=video_id, max_count=31
        )


def test_a_commenters_avatar_resolves_through_the_simulator(
    tiktok: TikTokClient, biz_for: BizFor, sim: SimulatorApp
) -> None:
    """The demo inbox loads every commenter's avatar: no link to a host nobody serves."""
    import httpx

    token, cafe = biz_for(CAFE)
    video_id = _video_id(tiktok, token, cafe)
    fan = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=1
    ).comments[0]
    reply = tiktok.business_reply_to_comment(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
        text="Thanks!",
    )  # fmt: skip
    assert fan.profile_image.startswith("http://sim.test/")
    raw = httpx.Client(transport=httpx.WSGITransport(app=sim))
    avatar = raw.get(fan.profile_image)
    assert avatar.status_code == 200
    assert avatar.headers["content-type"] == "image/svg+xml"
    assert f">{fan.display_name[0].upper()}</text>" in avatar.text  # "Mila" shows M
    assert ">CC</text>" in raw.get(reply.profile_image).text  # the owner, Corner Cafe
    sim.clock.advance(2 * 3600 + 1)  # expiring like TikTok's CDN links
    assert raw.get(fan.profile_image).status_code == 403


def test_a_videos_cover_resolves_through_the_simulator(
    tiktok: TikTokClient, biz_for: BizFor, sim: SimulatorApp
) -> None:
    """The demo inbox shows each post's cover: the link points at the simulator's own host."""
    import httpx

    token, cafe = biz_for(CAFE)
    videos = tiktok.business_list_videos(access_token=token, business_id=cafe, max_count=5).videos
    assert videos
    raw = httpx.Client(transport=httpx.WSGITransport(app=sim))
    for video in videos:
        assert video.thumbnail_url and video.thumbnail_url.startswith("http://sim.test/")
        cover = raw.get(video.thumbnail_url)
        assert cover.status_code == 200
        assert cover.headers["content-type"].startswith("image/")


def test_reply_hide_like_delete(tiktok: TikTokClient, biz_for: BizFor) -> None:
    token, cafe = biz_for(CAFE)
    video_id = _video_id(tiktok, token, cafe)
    fan = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=1
    ).comments[0]

    reply = tiktok.business_reply_to_comment(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
        text="Thanks for stopping by!",
    )  # fmt: skip
    assert reply.owner and reply.text == "Thanks for stopping by!"
    assert reply.parent_comment_id == fan.comment_id
    assert reply.username == "corner.cafe"
    with pytest.raises(TikTokInvalidRequest, match="150"):
        tiktok.business_reply_to_comment(
            access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
            text="x" * 151,
        )  # fmt: skip

    tiktok.business_set_comment_hidden(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
        hidden=True,
    )  # fmt: skip
    everything = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=30
    )
    hidden = next(c for c in everything.comments if c.comment_id == fan.comment_id)
    assert hidden.status == "HIDDEN"
    public = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, status="PUBLIC", max_count=30
    )
    assert fan.comment_id not in {c.comment_id for c in public.comments}
    tiktok.business_set_comment_hidden(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
        hidden=False,
    )  # fmt: skip

    tiktok.business_set_comment_liked(
        access_token=token, business_id=cafe, comment_id=fan.comment_id, liked=True
    )
    liked = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=1
    ).comments[0]
    assert (liked.status, liked.liked, liked.likes) == ("PUBLIC", True, fan.likes + 1)
    tiktok.business_set_comment_liked(
        access_token=token, business_id=cafe, comment_id=fan.comment_id, liked=False
    )

    with pytest.raises(TikTokInvalidRequest, match="Only comments posted by the business"):
        tiktok.business_delete_comment(
            access_token=token, business_id=cafe, comment_id=fan.comment_id
        )
    tiktok.business_delete_comment(
        access_token=token, business_id=cafe, comment_id=reply.comment_id
    )
    replies = tiktok.business_list_replies(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id
    )
    assert reply.comment_id not in {c.comment_id for c in replies.comments}


def test_comment_writes_need_manage_scope(tiktok: TikTokClient, biz_for: BizFor) -> None:
    reader, cafe = biz_for(CAFE, scopes=("video.list", "comment.list"))
    video_id = _video_id(tiktok, *biz_for(CAFE))
    comment = tiktok.business_list_comments(
        access_token=reader, business_id=cafe, video_id=video_id, max_count=1
    ).comments[0]
    with pytest.raises(TikTokScopeError):
        tiktok.business_reply_to_comment(
            access_token=reader, business_id=cafe, video_id=video_id,
            comment_id=comment.comment_id, text="hi",
        )  # fmt: skip


def test_fans_comment_on_new_posts_over_time(
    tiktok: TikTokClient, token_for: TokenFor, biz_for: BizFor, sim: SimulatorApp
) -> None:
    token = token_for(CAFE)
    business_token, cafe = biz_for(CAFE)
    data = mp4(2048)
    plan = plan_chunks(len(data))
    init = tiktok.init_video_post(
        access_token=token,
        post_info=PostInfo(title="New pastry", privacy_level="PUBLIC_TO_EVERYONE"),
        chunk_plan=plan,
    )
    assert init.upload_url
    upload_all(tiktok, upload_url=init.upload_url, data=data, chunk_plan=plan)
    sim.clock.advance(15)
    (video_id,) = tiktok.fetch_publish_status(
        access_token=token, publish_id=init.publish_id
    ).publicly_available_post_ids

    def count() -> int:
        return len(
            tiktok.business_list_comments(
                access_token=business_token, business_id=cafe, video_id=video_id, max_count=30
            ).comments
        )

    assert count() == 0
    sim.clock.advance(600)
    early = count()
    sim.clock.advance(3 * 3600)
    assert 0 < early < count()

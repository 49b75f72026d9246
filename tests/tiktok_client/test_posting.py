"""Content Posting API: creator info, inits, chunked upload, status machine, caps."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import (
    AVA,
    BEN,
    CAFE,
    DANCE,
    PAUSED,
    QUIET,
    RecordingTransport,
    upload_all,
)
from tiktok_client import (
    ChunkPlan,
    PostInfo,
    TikTokClient,
    TikTokInvalidRequest,
    TikTokPostingCapError,
    TikTokPrivacyLevelMismatch,
    TikTokScopeError,
    TikTokUploadError,
    plan_chunks,
)
from tiktok_client.simulator import SimulatorApp

MB = 1024 * 1024
PUBLIC = "PUBLIC_TO_EVERYONE"
VIDEO = mp4(4008)
TokenFor = Callable[..., str]


def _post(title: str = "Launch day #fyp", privacy: str = PUBLIC, **flags: bool) -> PostInfo:
    return PostInfo(title, privacy, **flags)


def _publish(tiktok: TikTokClient, token: str, post_info: PostInfo | None = None) -> str:
    plan = plan_chunks(len(VIDEO))
    init = tiktok.init_video_post(
        access_token=token, post_info=post_info or _post(), chunk_plan=plan
    )
    assert init.upload_url
    assert upload_all(tiktok, upload_url=init.upload_url, data=VIDEO, chunk_plan=plan) == 201
    return init.publish_id


@pytest.mark.parametrize(
    ("open_id", "options", "comment", "duet", "stitch", "max_duration"),
    [
        (
            AVA,
            ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
            False,
            False,
            False,
            600,
        ),
        (
            BEN,
            ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
            False,
            False,
            False,
            600,
        ),
        (
            CAFE,
            ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
            False,
            False,
            False,
            300,
        ),
        (
            DANCE,
            ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
            False,
            True,
            True,
            600,
        ),
        (
            QUIET,
            ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
            True,
            False,
            False,
            60,
        ),
    ],
)
def test_creator_info_reflects_seeded_creators(
    tiktok: TikTokClient,
    token_for: TokenFor,
    transport: RecordingTransport,
    open_id: str,
    options: tuple[str, ...],
    comment: bool,
    duet: bool,
    stitch: bool,
    max_duration: int,
) -> None:
    token = token_for(open_id)
    info = tiktok.query_creator_info(access_token=token)
    assert info.privacy_level_options == options
    assert (info.comment_disabled, info.duet_disabled, info.stitch_disabled) == (
        comment,
        duet,
        stitch,
    )
    assert info.max_video_post_duration_sec == max_duration
    assert info.nickname and info.username and info.avatar_url.startswith("http://sim.test/")
    request = transport.last("/v2/post/publish/creator_info/query/")
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {token}"
    assert request.headers["content-type"] == "application/json; charset=UTF-8"


def test_creator_who_cannot_post_gets_an_error(tiktok: TikTokClient, token_for: TokenFor) -> None:
    with pytest.raises(TikTokPostingCapError) as excinfo:
        tiktok.query_creator_info(access_token=token_for(PAUSED))
    assert excinfo.value.code == "spam_risk_user_banned_from_posting"
    assert excinfo.value.http_status == 200  # Corrections: "cannot post now" is HTTP 200
    assert "temporarily blocked" in excinfo.value.user_message
    with pytest.raises(TikTokPostingCapError):
        tiktok.init_video_post(
            access_token=token_for(PAUSED), post_info=_post(), chunk_plan=plan_chunks(100)
        )


def test_scope_is_enforced_per_endpoint(tiktok: TikTokClient, token_for: TokenFor) -> None:
    token = token_for(AVA, scopes=("user.info.basic", "video.upload"))
    with pytest.raises(TikTokScopeError) as excinfo:
        tiktok.query_creator_info(access_token=token)
    assert (excinfo.value.code, excinfo.value.http_status) == ("scope_not_authorized", 401)
    with pytest.raises(TikTokScopeError):
        tiktok.init_video_post(access_token=token, post_info=_post(), chunk_plan=plan_chunks(10))
    # video.upload alone is enough for inbox drafts.
    assert tiktok.init_inbox_video(access_token=token, chunk_plan=plan_chunks(10)).publish_id


def test_direct_post_request_shape_and_publish_flow(
    tiktok: TikTokClient, token_for: TokenFor, transport: RecordingTransport, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    post_info = PostInfo(
        title="Hello #fyp @friend",
        privacy_level=PUBLIC,
        disable_comment=True,
        video_cover_timestamp_ms=1200,
        brand_organic_toggle=True,
        is_aigc=True,
    )
    plan = plan_chunks(len(VIDEO))
    init = tiktok.init_video_post(access_token=token, post_info=post_info, chunk_plan=plan)
    assert init.publish_id.startswith("v_pub_file~v2-1.")
    assert init.upload_url and init.upload_url.startswith("http://sim.test/video/?upload_id=")
    assert "upload_token=" in init.upload_url
    body = json.loads(transport.last("/v2/post/publish/video/init/").content)
    assert body == {
        "post_info": {
            "title": "Hello #fyp @friend",
            "privacy_level": PUBLIC,
            "disable_comment": True,
            "disable_duet": False,
            "disable_stitch": False,
            "brand_content_toggle": False,
            "brand_organic_toggle": True,
            "is_aigc": True,
            "video_cover_timestamp_ms": 1200,
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": len(VIDEO),
            "chunk_size": len(VIDEO),
            "total_chunk_count": 1,
        },
    }
    before = tiktok.fetch_publish_status(access_token=token, publish_id=init.publish_id)
    assert (before.status, before.uploaded_bytes) == ("PROCESSING_UPLOAD", 0)

    status = tiktok.upload_chunk(
        upload_url=init.upload_url, data=VIDEO, start=0, end_inclusive=len(VIDEO) - 1,
        total=len(VIDEO),
    )  # fmt: skip
    assert status == 201
    put = transport.requests[-1]
    assert put.method == "PUT"
    assert put.headers["content-range"] == f"bytes 0-{len(VIDEO) - 1}/{len(VIDEO)}"
    assert put.headers["content-type"] == "video/mp4"
    assert "authorization" not in put.headers

    processing = tiktok.fetch_publish_status(access_token=token, publish_id=init.publish_id)
    assert processing.status == "PROCESSING_UPLOAD"
    assert processing.uploaded_bytes == len(VIDEO)
    assert not processing.is_terminal

    sim.clock.advance(3)
    done = tiktok.fetch_publish_status(access_token=token, publish_id=init.publish_id)
    assert done.status == "PUBLISH_COMPLETE"
    assert done.publicly_available_post_ids == ()  # still in moderation
    sim.clock.advance(10)
    public = tiktok.fetch_publish_status(access_token=token, publish_id=init.publish_id)
    (post_id,) = public.publicly_available_post_ids
    assert public.fail_reason is None

    listed = tiktok.list_videos(access_token=token, max_count=5)
    assert listed.videos[0].id == post_id
    assert listed.videos[0].title == "Hello #fyp @friend"
    assert sim.counters.publishes[init.publish_id]["status_fetches"] == 4
    assert sim.counters.successes("/v2/post/publish/video/init/", AVA) == 1


def test_private_posts_never_get_a_public_id(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    publish_id = _publish(tiktok, token, _post(privacy="SELF_ONLY"))
    sim.clock.advance(3600)
    status = tiktok.fetch_publish_status(access_token=token, publish_id=publish_id)
    assert status.status == "PUBLISH_COMPLETE"
    assert status.publicly_available_post_ids == ()
    assert all(v.title != "Launch day #fyp" for v in tiktok.list_videos(access_token=token).videos)


def test_published_video_shows_in_business_video_list(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(CAFE)
    publish_id = _publish(tiktok, token, _post(title="Latte art"))
    sim.clock.advance(20)
    (post_id,) = tiktok.fetch_publish_status(
        access_token=token, publish_id=publish_id
    ).publicly_available_post_ids
    with sim.state.lock:  # the Business API wants the Business app's token and open_id
        business = sim.state.issue_business_tokens(
            creator_id=CAFE, scopes=("video.list", "video.insights")
        )
    page = tiktok.business_list_videos(
        access_token=business["access_token"],
        business_id=business["open_id"],
        video_ids=[post_id],
    )
    assert [(v.item_id, v.caption) for v in page.videos] == [(post_id, "Latte art")]


def test_multi_chunk_upload_206_then_201(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    data = bytes(range(256)) * (12 * MB // 256)
    plan = ChunkPlan(video_size=len(data), chunk_size=5 * MB, total_chunk_count=2)
    token = token_for(AVA)
    init = tiktok.init_video_post(access_token=token, post_info=_post(), chunk_plan=plan)
    assert init.upload_url
    (first, second) = list(plan.ranges())
    assert second == (5 * MB, 12 * MB - 1)  # the last chunk absorbs the remainder
    statuses = [
        tiktok.upload_chunk(
            upload_url=init.upload_url, data=data[s : e + 1], start=s, end_inclusive=e,
            total=len(data),
        )
        for s, e in (first, second)
    ]  # fmt: skip
    assert statuses == [206, 201]
    assert sim.counters.publishes[init.publish_id]["chunks"] == 2


def test_out_of_order_chunk_is_416(tiktok: TikTokClient, token_for: TokenFor) -> None:
    data = b"z" * (10 * MB)
    plan = ChunkPlan(video_size=len(data), chunk_size=5 * MB, total_chunk_count=2)
    init = tiktok.init_video_post(access_token=token_for(AVA), post_info=_post(), chunk_plan=plan)
    assert init.upload_url
    with pytest.raises(TikTokUploadError) as excinfo:
        tiktok.upload_chunk(
            upload_url=init.upload_url, data=data[5 * MB :], start=5 * MB,
            end_inclusive=10 * MB - 1, total=len(data),
        )  # fmt: skip
    assert (excinfo.value.http_status, excinfo.value.code) == (416, "range_mismatch")
    # Wrong declared total is also a range mismatch.
    with pytest.raises(TikTokUploadError):
        tiktok.upload_chunk(
            upload_url=init.upload_url, data=data[: 5 * MB], start=0,
            end_inclusive=5 * MB - 1, total=len(data) + 1,
        )  # fmt: skip
    assert (
        tiktok.upload_chunk(
            upload_url=init.upload_url, data=data[: 5 * MB], start=0,
            end_inclusive=5 * MB - 1, total=len(data),
        )
        == 206
    )  # fmt: skip


def test_upload_url_expires_after_an_hour(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    plan = plan_chunks(len(VIDEO))
    init = tiktok.init_video_post(access_token=token_for(AVA), post_info=_post(), chunk_plan=plan)
    assert init.upload_url
    sim.clock.advance(3601)
    with pytest.raises(TikTokUploadError) as excinfo:
        upload_all(tiktok, upload_url=init.upload_url, data=VIDEO, chunk_plan=plan)
    assert excinfo.value.http_status == 403
    tampered = init.upload_url.replace("upload_token=", "upload_token=x")
    with pytest.raises(TikTokUploadError):
        upload_all(tiktok, upload_url=tampered, data=VIDEO, chunk_plan=plan)


@pytest.mark.parametrize(
    "plan",
    [
        ChunkPlan(video_size=15 * MB, chunk_size=10 * MB, total_chunk_count=1),
        ChunkPlan(video_size=100, chunk_size=50, total_chunk_count=2),
        ChunkPlan(video_size=200 * MB, chunk_size=10 * MB, total_chunk_count=19),
    ],
)
def test_invalid_chunk_plan_rejected_at_init(
    tiktok: TikTokClient, token_for: TokenFor, plan: ChunkPlan
) -> None:
    with pytest.raises(TikTokInvalidRequest) as excinfo:
        tiktok.init_video_post(access_token=token_for(AVA), post_info=_post(), chunk_plan=plan)
    assert excinfo.value.code == "invalid_param"  # Corrections: singular on init
    assert excinfo.value.message == "The chunk size is invalid"
    assert excinfo.value.http_status == 400


def test_inbox_init_reports_singular_invalid_param(
    tiktok: TikTokClient, token_for: TokenFor
) -> None:
    with pytest.raises(TikTokInvalidRequest) as excinfo:
        tiktok.init_inbox_video(
            access_token=token_for(AVA),
            chunk_plan=ChunkPlan(video_size=15 * MB, chunk_size=10 * MB, total_chunk_count=1),
        )
    assert excinfo.value.code == "invalid_param"


def test_privacy_level_must_be_offered(tiktok: TikTokClient, token_for: TokenFor) -> None:
    with pytest.raises(TikTokPrivacyLevelMismatch) as excinfo:
        tiktok.init_video_post(
            access_token=token_for(BEN), post_info=_post(privacy=PUBLIC), chunk_plan=plan_chunks(9)
        )
    assert excinfo.value.code == "privacy_level_option_mismatch"
    assert "audience" in excinfo.value.user_message


@pytest.mark.parametrize(
    ("open_id", "post_info"),
    [
        (QUIET, PostInfo("t", PUBLIC, disable_comment=False)),
        (DANCE, PostInfo("t", PUBLIC, disable_duet=False, disable_stitch=True)),
        (DANCE, PostInfo("t", PUBLIC, disable_duet=True, disable_stitch=False)),
    ],
)
def test_creator_interaction_settings_are_honoured(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp, open_id: str, post_info: PostInfo
) -> None:
    # Corrections: interactions the creator switched off are switched off, not refused.
    init = tiktok.init_video_post(
        access_token=token_for(open_id), post_info=post_info, chunk_plan=plan_chunks(9)
    )
    stored = sim.state.publishes[init.publish_id].post_info
    creator = sim.state.creators[open_id]
    for creator_flag, post_flag in [
        ("comment_disabled", "disable_comment"),
        ("duet_disabled", "disable_duet"),
        ("stitch_disabled", "disable_stitch"),
    ]:
        if getattr(creator, creator_flag):
            assert stored[post_flag] is True


def test_settings_respected_posts_are_accepted(tiktok: TikTokClient, token_for: TokenFor) -> None:
    ok = tiktok.init_video_post(
        access_token=token_for(DANCE),
        post_info=_post(disable_duet=True, disable_stitch=True),
        chunk_plan=plan_chunks(9),
    )
    assert ok.publish_id


def test_branded_content_cannot_be_private(tiktok: TikTokClient, token_for: TokenFor) -> None:
    with pytest.raises(TikTokInvalidRequest, match="Branded content"):
        tiktok.init_video_post(
            access_token=token_for(AVA),
            post_info=_post(privacy="SELF_ONLY", brand_content_toggle=True),
            chunk_plan=plan_chunks(9),
        )


def test_daily_direct_post_cap(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    for index in range(15):
        if index and index % 6 == 0:
            sim.clock.advance(61)  # stay inside the 6/min init window
        tiktok.init_video_post(access_token=token, post_info=_post(), chunk_plan=plan_chunks(9))
    sim.clock.advance(61)
    with pytest.raises(TikTokPostingCapError) as excinfo:
        tiktok.init_video_post(access_token=token, post_info=_post(), chunk_plan=plan_chunks(9))
    assert (excinfo.value.code, excinfo.value.http_status) == ("spam_risk_too_many_posts", 403)
    assert "per day" in excinfo.value.user_message
    with pytest.raises(TikTokPostingCapError):
        tiktok.query_creator_info(access_token=token)
    # The cap is per creator and shared across tokens, and it rolls over after 24 h.
    with pytest.raises(TikTokPostingCapError):
        tiktok.init_video_post(
            access_token=token_for(AVA), post_info=_post(), chunk_plan=plan_chunks(9)
        )
    sim.clock.advance(86400)  # the 24 h access token expired too
    assert tiktok.init_video_post(
        access_token=token_for(AVA), post_info=_post(), chunk_plan=plan_chunks(9)
    ).publish_id


def test_pending_inbox_share_cap(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(CAFE)
    plan = plan_chunks(len(VIDEO))
    drafts = []
    for _ in range(5):
        init = tiktok.init_inbox_video(access_token=token, chunk_plan=plan)
        assert init.publish_id.startswith("v_inbox_file~v2.")
        assert init.upload_url
        upload_all(tiktok, upload_url=init.upload_url, data=VIDEO, chunk_plan=plan)
        drafts.append(init.publish_id)
    sim.clock.advance(61)
    with pytest.raises(TikTokPostingCapError) as excinfo:
        tiktok.init_inbox_video(access_token=token, chunk_plan=plan)
    assert excinfo.value.code == "spam_risk_too_many_pending_share"

    status = tiktok.fetch_publish_status(access_token=token, publish_id=drafts[0])
    assert status.status == "SEND_TO_USER_INBOX"
    assert status.is_terminal
    # The creator posts one draft in the TikTok app: a slot frees up.
    with sim.state.lock:
        sim.state.resolve_inbox(drafts[0], "post")
    posted = tiktok.fetch_publish_status(access_token=token, publish_id=drafts[0])
    assert posted.status == "PUBLISH_COMPLETE"
    assert tiktok.init_inbox_video(access_token=token, chunk_plan=plan).publish_id


def test_unaudited_client_only_posts_self_only_to_private_accounts(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.state.apps["sim-client-key"].audited = False
    with pytest.raises(TikTokPostingCapError) as excinfo:
        tiktok.init_video_post(
            access_token=token_for(AVA), post_info=_post(privacy="SELF_ONLY"),
            chunk_plan=plan_chunks(9),
        )  # fmt: skip
    assert excinfo.value.code == "unaudited_client_can_only_post_to_private_accounts"
    assert tiktok.init_video_post(
        access_token=token_for(BEN), post_info=_post(privacy="SELF_ONLY"), chunk_plan=plan_chunks(9)
    ).publish_id


def test_active_user_cap(tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp) -> None:
    sim.state.apps["sim-client-key"].active_user_cap = 1
    tiktok.init_video_post(
        access_token=token_for(AVA), post_info=_post(), chunk_plan=plan_chunks(9)
    )
    with pytest.raises(TikTokPostingCapError) as excinfo:
        tiktok.init_video_post(
            access_token=token_for(CAFE), post_info=_post(), chunk_plan=plan_chunks(9)
        )
    assert excinfo.value.code == "reached_active_user_cap"


def test_injected_failure_reason(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.faults.add(
        "/v2/post/publish/video/init/", "publish_fail", fail_reason="duration_check_failed"
    )
    token = token_for(AVA)
    publish_id = _publish(tiktok, token)
    sim.clock.advance(5)
    status = tiktok.fetch_publish_status(access_token=token, publish_id=publish_id)
    assert (status.status, status.fail_reason) == ("FAILED", "duration_check_failed")
    # One-shot: the next publish succeeds.
    second = _publish(tiktok, token)
    sim.clock.advance(5)
    assert tiktok.fetch_publish_status(access_token=token, publish_id=second).status == (
        "PUBLISH_COMPLETE"
    )


def test_stuck_publish_never_leaves_processing(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.faults.add("/v2/post/publish/video/init/", "stuck")
    token = token_for(AVA)
    publish_id = _publish(tiktok, token)
    sim.clock.advance(7000)  # within the 2 h the access token lives
    assert tiktok.fetch_publish_status(access_token=token, publish_id=publish_id).status == (
        "PROCESSING_UPLOAD"
    )


def test_status_of_someone_elses_publish_is_invalid(
    tiktok: TikTokClient, token_for: TokenFor
) -> None:
    publish_id = _publish(tiktok, token_for(AVA))
    with pytest.raises(TikTokInvalidRequest):
        tiktok.fetch_publish_status(access_token=token_for(CAFE), publish_id=publish_id)

"""The quick start's simulator keeps its world across restarts (simulator/persistence.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import AVA, CAFE, LOGIN_KIT_SCOPES, ConnectFn, upload_all
from tiktok_client import NoRateLimiter, PostInfo, TikTokClient, TikTokConfig, plan_chunks
from tiktok_client.errors import TikTokAuthError
from tiktok_client.simulator import SimulatorApp, create_app
from tiktok_client.simulator.persistence import (
    PeriodicSaver,
    UnusableStateFile,
    load_state,
    load_state_or_start_fresh,
    save_state,
)
from tiktok_client.simulator.rules import BUSINESS_SCOPES

VIDEO = mp4(4008)
HOUR = 3600.0
Restart = Callable[..., tuple[SimulatorApp, TikTokClient]]


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "var" / "simulator-state.json"


@pytest.fixture
def restart(state_file: Path, config: TikTokConfig) -> Iterator[Restart]:
    """Save ``sim``, start a new simulator from the file and return it with a client on it;
    ``stopped_for`` seconds pass while it is stopped."""
    clients: list[TikTokClient] = []

    def _restart(
        sim: SimulatorApp, *, stopped_for: float = 0.0
    ) -> tuple[SimulatorApp, TikTokClient]:
        save_state(sim.state, state_file)
        if stopped_for:
            saved = json.loads(state_file.read_text())
            saved["saved_at"] -= stopped_for
            state_file.write_text(json.dumps(saved))
        fresh = create_app(moderation_delay=10.0)
        assert load_state(fresh.state, state_file)
        client = TikTokClient(
            config, transport=httpx.WSGITransport(app=fresh), rate_limiter=NoRateLimiter()
        )
        clients.append(client)
        return fresh, client

    yield _restart
    for client in clients:
        client.close()


def _uploaded_publish(tiktok: TikTokClient, token: str) -> str:
    plan = plan_chunks(len(VIDEO))
    init = tiktok.init_video_post(
        access_token=token,
        post_info=PostInfo("Launch day #fyp", "PUBLIC_TO_EVERYONE"),
        chunk_plan=plan,
    )
    assert init.upload_url
    assert upload_all(tiktok, upload_url=init.upload_url, data=VIDEO, chunk_plan=plan) == 201
    return init.publish_id


def test_a_connected_account_keeps_working_after_a_restart(
    sim: SimulatorApp, connect: ConnectFn, restart: Restart
) -> None:
    tokens = connect(AVA)

    _, tiktok = restart(sim)

    user = tiktok.get_user_info(access_token=tokens.access_token, fields=["open_id", "username"])
    assert (user.open_id, user.username) == (AVA, "ava.creates")
    refreshed = tiktok.refresh_access_token(refresh_token=tokens.refresh_token)
    assert refreshed.open_id == AVA
    assert tiktok.get_user_info(access_token=refreshed.access_token, fields=["open_id"])


def test_time_passes_while_stopped_and_an_expired_token_is_refused(
    sim: SimulatorApp, connect: ConnectFn, restart: Restart
) -> None:
    tokens = connect(AVA)  # access tokens live 2 hours (token profile B)
    before = sim.clock.now()

    restarted, tiktok = restart(sim, stopped_for=3 * HOUR)

    assert restarted.clock.now() - before >= 3 * HOUR
    with pytest.raises(TikTokAuthError):
        tiktok.get_user_info(access_token=tokens.access_token, fields=["open_id"])
    # The refresh token (180 days) still renews the grant, as on TikTok.
    refreshed = tiktok.refresh_access_token(refresh_token=tokens.refresh_token)
    assert tiktok.get_user_info(access_token=refreshed.access_token, fields=["open_id"])


def test_a_publish_keeps_its_status_and_its_post(
    sim: SimulatorApp, tiktok: TikTokClient, connect: ConnectFn, restart: Restart
) -> None:
    token = connect(AVA).access_token
    published = _uploaded_publish(tiktok, token)
    sim.clock.advance(13)  # processed and out of moderation
    (post_id,) = tiktok.fetch_publish_status(
        access_token=token, publish_id=published
    ).publicly_available_post_ids
    processing = _uploaded_publish(tiktok, token)
    assert tiktok.fetch_publish_status(access_token=token, publish_id=processing).status == (
        "PROCESSING_UPLOAD"
    )

    _, restarted = restart(sim, stopped_for=20)

    done = restarted.fetch_publish_status(access_token=token, publish_id=published)
    assert (done.status, done.publicly_available_post_ids) == ("PUBLISH_COMPLETE", (post_id,))
    # It finished processing while the simulator was stopped.
    later = restarted.fetch_publish_status(access_token=token, publish_id=processing)
    assert later.status == "PUBLISH_COMPLETE"
    listed = restarted.list_videos(access_token=token, max_count=5)
    assert post_id in [video.id for video in listed.videos]
    # New publish_ids do not repeat the earlier run's.
    assert _uploaded_publish(restarted, token) not in (published, processing)


def test_comments_and_their_moderation_are_kept(
    sim: SimulatorApp, tiktok: TikTokClient, restart: Restart
) -> None:
    with sim.state.lock:
        issued = sim.state.issue_business_tokens(
            creator_id=CAFE, scopes=tuple(sorted(BUSINESS_SCOPES))
        )
    token, cafe = str(issued["access_token"]), str(issued["open_id"])
    video_id = (
        tiktok.business_list_videos(access_token=token, business_id=cafe, max_count=20)
        .videos[5]
        .item_id
    )
    fan = tiktok.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=1
    ).comments[0]
    reply = tiktok.business_reply_to_comment(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
        text="Thanks for stopping by!",
    )  # fmt: skip
    tiktok.business_set_comment_hidden(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id,
        hidden=True,
    )  # fmt: skip

    _, restarted = restart(sim)

    listed = restarted.business_list_comments(
        access_token=token, business_id=cafe, video_id=video_id, max_count=30
    )
    kept = next(c for c in listed.comments if c.comment_id == fan.comment_id)
    assert kept.status == "HIDDEN"
    replies = restarted.business_list_replies(
        access_token=token, business_id=cafe, video_id=video_id, comment_id=fan.comment_id
    )
    assert [(r.comment_id, r.text) for r in replies.comments] == [
        (reply.comment_id, "Thanks for stopping by!")
    ]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"format": 0, "tokens": []}),
        json.dumps({"format": 1, "seed": 1234}),
        "\xff\xfe garbage",
    ],
    ids=["damaged", "old_format", "missing_parts", "not_text"],
)
def test_an_unusable_state_file_starts_fresh_with_one_clear_line(
    state_file: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    state_file.parent.mkdir(parents=True)
    state_file.write_bytes(content.encode("latin-1"))
    sim = create_app()
    fresh_videos = set(sim.state.videos)

    with caplog.at_level(logging.WARNING):
        assert not load_state_or_start_fresh(sim.state, state_file)

    (line,) = [r.getMessage() for r in caplog.records]
    assert "not loaded, starting fresh" in line and str(state_file) in line
    assert set(sim.state.videos) == fresh_videos
    assert not sim.state.access_tokens and not sim.state.publishes


def test_a_file_that_fails_halfway_leaves_the_fresh_state_untouched(
    sim: SimulatorApp, token_for: Callable[..., str], state_file: Path
) -> None:
    token_for(AVA, LOGIN_KIT_SCOPES)
    save_state(sim.state, state_file)
    saved = json.loads(state_file.read_text())
    saved["comments"] = [{"comment_id": "1", "unexpected": True}]
    state_file.write_text(json.dumps(saved))
    fresh = create_app()

    with pytest.raises(UnusableStateFile):
        load_state(fresh.state, state_file)

    assert not fresh.state.access_tokens


def test_no_state_file_is_a_fresh_start_and_saving_leaves_only_the_file(
    sim: SimulatorApp, token_for: Callable[..., str], state_file: Path
) -> None:
    assert not load_state(create_app().state, state_file)
    token_for(AVA)
    saver = PeriodicSaver(sim.state, state_file, interval=3600)
    saver.start()
    saver.stop()  # the last save happens on stop

    assert [p.name for p in state_file.parent.iterdir()] == [state_file.name]
    assert len(json.loads(state_file.read_text())["access_tokens"]) == 1

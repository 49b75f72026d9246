"""Contract: signed webhooks delivered at least once to a real HTTP receiver (§2.8, §4.6)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import AVA, CAFE
from tests.tiktok_client.contract import bearer, business_tokens, login_kit_tokens
from tiktok_client.simulator import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_CLIENT_KEY,
    DEFAULT_CLIENT_SECRET,
    SimulatorApp,
)

MB = 1_000_000


class Receiver:
    """A webhook endpoint on a loopback port that records what arrives."""

    def __init__(self, answer: int = 200) -> None:
        self.answer = answer
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {key.lower(): value for key, value in self.headers.items()}
                receiver.received.append((headers, body))
                self.send_response(receiver.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tiktok/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _, body in self.received]


@pytest.fixture
def receiver(sim: SimulatorApp) -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    sim.state.webhooks.stop()
    hook.server.shutdown()


def _configure(http: httpx.Client, **settings: Any) -> dict[str, Any]:
    answer = http.post("/_sim/webhooks/config", json=settings)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _flush(http: httpx.Client) -> list[dict[str, Any]]:
    body = http.post("/_sim/webhooks/flush", json={"timeout": 10}).json()
    assert body["flushed"] is True
    return list(body["deliveries"])


def _direct_post(http: httpx.Client, token: str, sim: SimulatorApp) -> str:
    init = http.post(
        "/v2/post/publish/video/init/",
        json={
            "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "hi"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": MB,
                "chunk_size": MB,
                "total_chunk_count": 1,
            },
        },
        headers=bearer(token),
    ).json()["data"]
    upload = http.put(
        init["upload_url"],
        content=mp4(MB),
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{MB - 1}/{MB}"},
    )
    assert upload.status_code == 201
    return str(init["publish_id"])


def test_publish_events_are_signed_and_in_order(
    http: httpx.Client, sim: SimulatorApp, receiver: Receiver
) -> None:
    # §2.8: body {client_key, event, create_time, user_openid, content (JSON string)};
    # TikTok-Signature t=<unix>,s=hex(HMAC-SHA256(client secret, t + "." + body)); events in the
    # order of the status changes (§5.17).
    sim.settings.moderation_delay = 0
    # exactly_once: this test reads the n-th delivery as the n-th status change, which a
    # duplicate or a late copy would shift (those are test_default_delivery_...'s subject).
    _configure(http, callback_url=receiver.url, client_key=DEFAULT_CLIENT_KEY, exactly_once=True)
    token = str(login_kit_tokens(http, AVA)["access_token"])
    publish_id = _direct_post(http, token, sim)
    sim.clock.advance(30)
    http.post(
        "/v2/post/publish/status/fetch/", json={"publish_id": publish_id}, headers=bearer(token)
    )
    _flush(http)
    assert receiver.events() == ["post.publish.complete", "post.publish.publicly_available"]
    headers, raw = receiver.received[0]
    body = json.loads(raw)
    assert body["client_key"] == DEFAULT_CLIENT_KEY
    assert body["user_openid"] == AVA
    assert isinstance(body["create_time"], int)
    assert json.loads(body["content"]) == {
        "publish_id": publish_id,
        "publish_type": "DIRECT_PUBLISH",
    }
    stamp, signature = (part.split("=", 1)[1] for part in headers["tiktok-signature"].split(","))
    expected = hmac.new(
        DEFAULT_CLIENT_SECRET.encode(), f"{stamp}.{raw.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    assert signature == expected
    public = json.loads(json.loads(receiver.received[1][1])["content"])
    assert isinstance(public["post_id"], str) and public["post_id"].isdigit()


def test_events_are_sent_without_polling(
    http: httpx.Client, sim: SimulatorApp, receiver: Receiver
) -> None:
    # §2.8: webhooks report outcomes; the product must not have to poll for them to fire.
    sim.settings.moderation_delay = 3600
    _configure(http, callback_url=receiver.url)
    token = str(login_kit_tokens(http, AVA)["access_token"])
    _direct_post(http, token, sim)
    sim.clock.advance(30)
    _flush(http)  # the sender thread ticks the simulated world itself
    assert set(receiver.events()) == {"post.publish.complete"}  # at least once


def test_duplicates_and_failures_are_retried(
    http: httpx.Client, sim: SimulatorApp, receiver: Receiver
) -> None:
    # §2.8: at least once, retried on non-200, may repeat. One set duplicate and no jitter or
    # random ones: with jitter, a copy's first attempt could come after the receiver turns to
    # 200 (the first copy's fast retries fill the count), and then it was never refused.
    _configure(
        http,
        callback_url=receiver.url,
        duplicates=1,
        retry_base_seconds=0.05,
        max_attempts=50,
        jitter_seconds=0,
        duplicate_rate=0,
    )
    receiver.answer = 500
    tokens = login_kit_tokens(http, AVA)
    http.post(
        "/_sim/authorizations/remove", json={"open_id": AVA, "client_key": DEFAULT_CLIENT_KEY}
    )
    deliveries = [d for d in sim.state.webhooks.log() if d["event"] == "authorization.removed"]
    assert len(deliveries) >= 2  # the event and one duplicate (or two: the default rate)
    deadline = time.monotonic() + 10
    while len(receiver.received) < len(deliveries) and time.monotonic() < deadline:
        time.sleep(0.02)  # every copy refused once
    receiver.answer = 200
    deliveries = _flush(http)
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert all(d["attempts"] >= 2 for d in deliveries)
    assert receiver.events().count("authorization.removed") >= 4
    content = json.loads(json.loads(receiver.received[-1][1])["content"])
    assert content == {"reason": 1}  # user disconnected
    # The removed authorization really ends the tokens.
    after = http.get(
        "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(tokens["access_token"])
    )
    assert after.status_code == 401


def test_drop_fault_and_reorder(http: httpx.Client, sim: SimulatorApp, receiver: Receiver) -> None:
    # §2.8 at-least-once and out of order; fault injection can drop a delivery.
    # No jitter and no random duplicates: the order asserted is the reorder knob's alone.
    _configure(
        http,
        callback_url=receiver.url,
        delay_seconds=0.3,
        reorder=True,
        jitter_seconds=0,
        duplicate_rate=0,
    )
    http.post("/_sim/faults", json={"kind": "webhook_drop", "endpoint": "comment.update"})
    biz = business_tokens(http, CAFE)
    with sim.state.lock:
        video = next(v for v in sim.state.videos.values() if v.open_id == CAFE)
    first = http.post("/_sim/comments/fan", json={"video_id": video.id, "text": "one"}).json()
    second = http.post("/_sim/comments/fan", json={"video_id": video.id, "text": "two"}).json()
    third = http.post("/_sim/comments/fan", json={"video_id": video.id, "text": "three"}).json()
    deliveries = _flush(http)
    statuses = {json.loads(d["body"]["content"])["comment_id"]: d["status"] for d in deliveries}
    assert statuses[first["comment_id"]] == "dropped"
    got = [json.loads(json.loads(raw)["content"])["comment_id"] for _, raw in receiver.received]
    assert got == [third["comment_id"], second["comment_id"]]  # newest first when reordering
    assert all(
        json.loads(raw)["client_key"] == DEFAULT_BUSINESS_APP_ID for _, raw in receiver.received
    )
    assert all(json.loads(raw)["user_openid"] == biz["open_id"] for _, raw in receiver.received)


def _fan_comments(http: httpx.Client, sim: SimulatorApp, count: int) -> list[str]:
    business_tokens(http, CAFE)
    with sim.state.lock:
        video = next(v for v in sim.state.videos.values() if v.open_id == CAFE)
    return [
        http.post("/_sim/comments/fan", json={"video_id": video.id, "text": f"c{n}"}).json()[
            "comment_id"
        ]
        for n in range(count)
    ]


def _received_comment_ids(receiver: Receiver) -> list[str]:
    return [json.loads(json.loads(raw)["content"])["comment_id"] for _, raw in receiver.received]


def test_default_delivery_duplicates_some_events_and_reorders_others(
    http: httpx.Client, sim: SimulatorApp, receiver: Receiver
) -> None:
    # §2.8: "at least once ... may repeat or arrive out of order", with no knob turned: the
    # simulator is never more lenient than TikTok out of the box.
    _configure(http, callback_url=receiver.url)
    sent = _fan_comments(http, sim, 40)
    _flush(http)
    got = _received_comment_ids(receiver)
    assert set(got) == set(sent)  # every event at least once
    assert len(got) > len(sent)  # some twice
    firsts = list(dict.fromkeys(got))
    assert firsts != sent  # some out of order


def test_exactly_once_is_an_explicit_opt_out(
    http: httpx.Client, sim: SimulatorApp, receiver: Receiver
) -> None:
    # More lenient than TikTok, so never the default: for tests that count or order deliveries.
    settings = _configure(http, callback_url=receiver.url, exactly_once=True)["settings"]
    assert settings["exactly_once"] is True
    sent = _fan_comments(http, sim, 40)
    _flush(http)
    assert _received_comment_ids(receiver) == sent


def test_events_without_a_callback_are_logged(http: httpx.Client) -> None:
    # Inspection: what TikTok would have sent is visible even with no callback configured.
    login_kit_tokens(http, AVA)
    http.post("/_sim/authorizations/remove", json={"open_id": AVA, "reason": 4})
    log = http.get("/_sim/webhooks").json()["deliveries"]
    assert [(d["event"], d["status"]) for d in log] == [("authorization.removed", "no_callback")]


def test_post_made_private_sends_no_longer_public(http: httpx.Client, sim: SimulatorApp) -> None:
    # §2.8: post.publish.no_longer_publicaly_available (the sheet's spelling) after a post that
    # was announced public stops being public.
    sim.settings.moderation_delay = 0
    token = str(login_kit_tokens(http, AVA)["access_token"])
    publish_id = _direct_post(http, token, sim)
    sim.clock.advance(30)
    with sim.state.lock:
        sim.state.tick()
        video_id = sim.state.publishes[publish_id].video_id
    http.post("/_sim/videos/withdraw", json={"video_id": video_id})
    events = [d["event"] for d in http.get("/_sim/webhooks").json()["deliveries"]]
    assert events == [
        "post.publish.complete",
        "post.publish.publicly_available",
        "post.publish.no_longer_publicaly_available",
    ]
    status = http.post(
        "/v2/post/publish/status/fetch/", json={"publish_id": publish_id}, headers=bearer(token)
    ).json()["data"]
    assert status["publicaly_available_post_id"] == []


def test_inbox_draft_sends_inbox_delivered(http: httpx.Client, sim: SimulatorApp) -> None:
    # §2.8 + §5.17: post.publish.inbox_delivered with publish_type INBOX_SHARE.
    token = str(login_kit_tokens(http, AVA)["access_token"])
    init = http.post(
        "/v2/post/publish/inbox/video/init/",
        json={
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": MB,
                "chunk_size": MB,
                "total_chunk_count": 1,
            }
        },
        headers=bearer(token),
    ).json()["data"]
    http.put(
        init["upload_url"],
        content=mp4(MB),
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{MB - 1}/{MB}"},
    )
    sim.clock.advance(30)
    with sim.state.lock:
        sim.state.tick()
    (delivery,) = sim.state.webhooks.log()
    assert delivery["event"] == "post.publish.inbox_delivered"
    assert json.loads(delivery["body"]["content"])["publish_type"] == "INBOX_SHARE"

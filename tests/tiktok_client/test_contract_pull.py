"""Contract: PULL_FROM_URL really downloads (§2.5, §2.6, §2.7, §5.15), Business publishing
(§4.4, Corrections "Two apps") and the hashtag helper (§4.5).

A tiny origin server stands in for the product's public media host; ``pull_resolve`` is the
TLS-terminating proxy in front of it, so the URLs the client sends stay https.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import AVA, CAFE
from tests.tiktok_client.contract import BIZ, BIZ_SCOPES, bearer, business_tokens, login_kit_tokens
from tiktok_client.simulator import SimulatorApp

P = "/v2/post/publish"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2000
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 1000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
MP4 = mp4(5024)
VERIFIED = "https://media.later.test/"


class Origin:
    """Serves ``files[path] = (status, body, headers)`` and records every GET."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.gets: list[str] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.gets.append(self.path)
                status, body, headers = origin.files.get(self.path, (404, b"", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def origin(sim: SimulatorApp) -> Iterator[Origin]:
    served = Origin()
    sim.settings.pull_resolve = f"{VERIFIED}={served.url}"
    sim.settings.download_seconds = 0.0
    sim.settings.min_processing_seconds = 0.0
    sim.settings.moderation_delay = 0.0
    yield served
    served.server.shutdown()


def _settled(fetch: Any, *, pending: str = "PROCESSING_DOWNLOAD") -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        data: dict[str, Any] = fetch()
        if data.get("status") != pending or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def _photo_post(http: httpx.Client, token: str, images: list[str]) -> httpx.Response:
    return http.post(
        f"{P}/content/init/",
        json={
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": {"privacy_level": "SELF_ONLY", "title": "pics", "description": "d"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": images,
                "photo_cover_index": len(images) - 1,
            },
        },
        headers=bearer(token),
    )


def _status(http: httpx.Client, token: str, publish_id: str) -> dict[str, Any]:
    answer = http.post(f"{P}/status/fetch/", json={"publish_id": publish_id}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["data"])


def test_photo_pull_downloads_every_image(
    http: httpx.Client, sim: SimulatorApp, origin: Origin
) -> None:
    # §2.5 + §2.6: TikTok fetches each photo itself; downloaded_bytes is what it fetched.
    origin.files = {"/a.jpg": (200, JPEG, {}), "/b.webp": (200, WEBP, {})}
    token = login_kit_tokens(http, AVA)["access_token"]
    answer = _photo_post(http, token, [f"{VERIFIED}a.jpg", f"{VERIFIED}b.webp"])
    assert answer.status_code == 200, answer.text
    publish_id = answer.json()["data"]["publish_id"]
    data = _settled(lambda: _status(http, token, publish_id))
    assert data["status"] == "PUBLISH_COMPLETE"
    assert data["downloaded_bytes"] == len(JPEG) + len(WEBP)
    assert sorted(origin.gets) == ["/a.jpg", "/b.webp"]


@pytest.mark.parametrize(
    ("served", "reason"),
    [
        ((404, b"", {}), "photo_pull_failed"),  # §2.6: must stay downloadable
        ((302, b"", {"Location": "https://elsewhere.test/a.jpg"}), "photo_pull_failed"),  # no 3xx
        ((200, PNG, {}), "file_format_check_failed"),  # §2.5: JPEG or WebP only, by content
    ],
)
def test_a_pull_that_fails_fails_the_publish(
    http: httpx.Client, sim: SimulatorApp, origin: Origin, served: Any, reason: str
) -> None:
    # §2.7: FAILED with fail_reason photo_pull_failed (or the format check) in the status.
    origin.files = {"/ok.jpg": (200, JPEG, {}), "/bad.jpg": served}
    token = login_kit_tokens(http, AVA)["access_token"]
    answer = _photo_post(http, token, [f"{VERIFIED}ok.jpg", f"{VERIFIED}bad.jpg"])
    data = _settled(lambda: _status(http, token, answer.json()["data"]["publish_id"]))
    assert (data["status"], data["fail_reason"]) == ("FAILED", reason)


def _jpeg(width: int, height: int) -> bytes:
    """A JPEG whose SOF0 segment (after an APP0) announces ``width`` x ``height``."""
    app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\x00" + bytes(9)
    sof0 = b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08"
    sof0 += height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + bytes(9)
    return b"\xff\xd8" + app0 + sof0 + bytes(2000)


def _webp(width: int, height: int) -> bytes:
    """An extended-format WebP (VP8X) announcing ``width`` x ``height``."""
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + bytes(4)
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + bytes(4) + b"WEBP" + vp8x + bytes(1000)


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (_jpeg(1080, 1920), None),  # portrait 1080p
        (_webp(1920, 1080), None),  # landscape 1080p
        (_jpeg(1080, 1080), None),
        (_jpeg(3024, 4032), "picture_size_check_failed"),  # a phone photo
        (_webp(1440, 1440), "picture_size_check_failed"),
        (_jpeg(1200, 1900), "picture_size_check_failed"),  # short side over 1080
    ],
)
def test_photos_larger_than_1080p_fail_the_picture_size_check(
    http: httpx.Client, sim: SimulatorApp, origin: Origin, image: bytes, reason: str | None
) -> None:
    # §2.5: photos are at most 1080p (1080 x 1920 either way round); §2.7
    # picture_size_check_failed. Dimensions the header does not announce are not judged.
    origin.files = {"/a.jpg": (200, image, {})}
    token = login_kit_tokens(http, AVA)["access_token"]
    answer = _photo_post(http, token, [f"{VERIFIED}a.jpg"])
    data = _settled(lambda: _status(http, token, answer.json()["data"]["publish_id"]))
    if reason is None:
        assert data["status"] == "PUBLISH_COMPLETE", data
    else:
        assert (data["status"], data["fail_reason"]) == ("FAILED", reason)


def test_video_pull_failure_is_video_pull_failed(
    http: httpx.Client, sim: SimulatorApp, origin: Origin
) -> None:
    # §2.6, §5.15: a video URL that cannot be fetched -> FAILED / video_pull_failed.
    token = login_kit_tokens(http, AVA)["access_token"]

    def init(url: str) -> str:
        answer = http.post(
            f"{P}/video/init/",
            json={
                "post_info": {"privacy_level": "SELF_ONLY", "title": "v"},
                "source_info": {"source": "PULL_FROM_URL", "video_url": url},
            },
            headers=bearer(token),
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"]["publish_id"])

    origin.files = {"/v.mp4": (200, MP4, {})}
    good, gone = init(f"{VERIFIED}v.mp4"), init(f"{VERIFIED}missing.mp4")
    assert _settled(lambda: _status(http, token, good))["status"] == "PUBLISH_COMPLETE"
    failed = _settled(lambda: _status(http, token, gone))
    assert (failed["status"], failed["fail_reason"]) == ("FAILED", "video_pull_failed")


def test_a_pulled_video_outside_the_specs_fails_with_tiktoks_reason(
    http: httpx.Client, sim: SimulatorApp, origin: Origin
) -> None:
    # §2.6 video specs hold for a pulled video too (§2.7 fail_reason names).
    token = login_kit_tokens(http, AVA)["access_token"]
    origin.files = {
        "/slow.mp4": (200, mp4(5024, fps=12), {}),
        "/small.mp4": (200, mp4(5024, width=240, height=320), {}),
        "/empty.mp4": (200, mp4(5024, seconds=0), {}),
        "/fine.mp4": (200, mp4(5024, fps=24, width=1080, height=1920), {}),
    }
    expected = {
        "slow": ("FAILED", "frame_rate_check_failed"),
        "small": ("FAILED", "picture_size_check_failed"),
        "empty": ("FAILED", "duration_check_failed"),
        "fine": ("PUBLISH_COMPLETE", None),
    }
    for name, (state, reason) in expected.items():
        answer = http.post(
            f"{P}/video/init/",
            json={
                "post_info": {"privacy_level": "SELF_ONLY", "title": name},
                "source_info": {"source": "PULL_FROM_URL", "video_url": f"{VERIFIED}{name}.mp4"},
            },
            headers=bearer(token),
        )
        assert answer.status_code == 200, answer.text
        publish_id = str(answer.json()["data"]["publish_id"])
        status = _settled(lambda publish_id=publish_id: _status(http, token, publish_id))
        assert (status["status"], status.get("fail_reason")) == (state, reason), name


def test_url_properties_domains_and_prefixes(http: httpx.Client, sim: SimulatorApp) -> None:
    # §4.4 URL properties: a domain covers its subdomains; a prefix ends with "/" and covers
    # only what starts with it (a look-alike host is not covered).
    control = http.post("/_sim/url_properties", json={"properties": ["cdn.shop.test", VERIFIED]})
    assert control.json()["ok"]
    token = login_kit_tokens(http, AVA)["access_token"]
    assert _photo_post(http, token, ["https://img.cdn.shop.test/a.jpg"]).status_code == 200
    for url in ("https://media.later.test.evil.test/a.jpg", "https://shop.test/a.jpg"):
        answer = _photo_post(http, token, [url])
        assert (answer.status_code, answer.json()["error"]["code"]) == (
            403,
            "url_ownership_unverified",
        )
    refused = http.post("/_sim/url_properties", json={"properties": ["https://no-slash.test"]})
    assert refused.status_code == 400


# ------------------------------------------------------------------ TikTok API for Business

PUBLISH_SCOPES = (*BIZ_SCOPES, "video.publish")


def _biz(http: httpx.Client, creator: str, scopes: tuple[str, ...] = PUBLISH_SCOPES) -> Any:
    tokens = business_tokens(http, creator, scopes)
    token, business_id = str(tokens["access_token"]), str(tokens["open_id"])

    def post(path: str, **body: Any) -> dict[str, Any]:
        answer = http.post(
            f"{BIZ}{path}",
            json={"business_id": business_id, **body},
            headers={"Access-Token": token},
        )
        assert answer.status_code == 200  # §0: Business errors are HTTP 200 too
        return dict(answer.json())

    def get(path: str, **params: Any) -> dict[str, Any]:
        answer = http.get(
            f"{BIZ}{path}",
            params={"business_id": business_id, **params},
            headers={"Access-Token": token},
        )
        assert answer.status_code == 200
        return dict(answer.json())

    return post, get


def test_business_video_publish_pulls_and_reports_post_ids(
    http: httpx.Client, sim: SimulatorApp, origin: Origin
) -> None:
    # §4.4: /business/video/publish/ (PULL from a verified URL) -> share_id; status through
    # /business/publish/status/ with post_ids.
    origin.files = {"/v.mp4": (200, MP4, {})}
    post, get = _biz(http, CAFE)
    body = post("/business/video/publish/", video_url=f"{VERIFIED}v.mp4",
                post_info={"caption": "Fresh bread #bakery"})  # fmt: skip
    assert body["code"] == 0, body
    share_id = body["data"]["share_id"]
    data = _settled(lambda: get("/business/publish/status/", publish_id=share_id)["data"])
    assert data["status"] == "PUBLISH_COMPLETE"
    (post_id,) = data["post_ids"]
    assert sim.state.videos[post_id].title == "Fresh bread #bakery"


def test_business_publish_refusals(http: httpx.Client, sim: SimulatorApp, origin: Origin) -> None:
    # Corrections: video.publish is a Business scope (40130 without it); a Login Kit token is
    # refused by the Business API (40105); the URL must be a verified property; §4.4: photos
    # need privacy_level; a Personal account gets no Business publishing (40001, strict [U]).
    post, _ = _biz(http, CAFE, BIZ_SCOPES)
    assert post("/business/video/publish/", video_url=f"{VERIFIED}v.mp4")["code"] == 40130
    post, get = _biz(http, CAFE)
    unverified = post("/business/video/publish/", video_url="https://cdn.example.com/v.mp4")
    assert unverified["code"] == 40002 and "url_ownership_unverified" in unverified["message"]
    no_privacy = post("/business/photo/publish/", photo_images=[f"{VERIFIED}a.jpg"],
                      post_info={"title": "t"})  # fmt: skip
    assert no_privacy["code"] == 40002
    login_kit = login_kit_tokens(http, AVA)["access_token"]
    answer = http.post(f"{BIZ}/business/video/publish/", json={"business_id": "x"},
                       headers={"Access-Token": login_kit})  # fmt: skip
    assert answer.json()["code"] == 40105
    personal, _ = _biz(http, AVA)
    assert personal("/business/video/publish/", video_url=f"{VERIFIED}v.mp4")["code"] == 40001
    assert get("/business/publish/status/", publish_id="v_pub_url~v2.1")["code"] == 40002


def test_business_posts_share_the_daily_direct_post_cap(
    http: httpx.Client, sim: SimulatorApp, origin: Origin
) -> None:
    # §2.9 [C2]: the per-creator daily direct-post cap is shared across all API clients; the
    # Business API names no init error for it, its status reports §2.7's reasons (§4.4).
    origin.files = {"/v.mp4": (200, MP4, {})}
    sim.settings.daily_post_cap = 2
    post, get = _biz(http, CAFE)

    def publish(**post_info: Any) -> dict[str, Any]:
        body = post("/business/video/publish/", video_url=f"{VERIFIED}v.mp4", post_info=post_info)
        assert body["code"] == 0, body
        share_id = body["data"]["share_id"]
        return _settled(lambda: get("/business/publish/status/", publish_id=share_id)["data"])

    assert [publish()["status"] for _ in range(2)] == ["PUBLISH_COMPLETE"] * 2
    third = publish()
    assert (third["status"], third["reason"]) == ("FAILED", "spam_risk_too_many_posts")
    assert publish(upload_to_draft=True)["status"] == "SEND_TO_USER_INBOX"  # a draft is no post
    sim.clock.advance(86400)  # a day later (with a new token: the old one lived 24 h)
    post, get = _biz(http, CAFE)
    assert publish()["status"] == "PUBLISH_COMPLETE"


def test_business_photo_publish_pull_failure(
    http: httpx.Client, sim: SimulatorApp, origin: Origin
) -> None:
    # §4.4 + §2.7: a photo the Business pull cannot fetch -> FAILED, reason photo_pull_failed.
    post, get = _biz(http, CAFE)
    body = post(
        "/business/photo/publish/",
        photo_images=[f"{VERIFIED}gone.jpg"],
        photo_cover_index=0,
        post_info={"title": "t", "caption": "c", "privacy_level": "PUBLIC_TO_EVERYONE"},
    )
    assert body["code"] == 0, body
    share_id = body["data"]["share_id"]
    data = _settled(lambda: get("/business/publish/status/", publish_id=share_id)["data"])
    assert (data["status"], data["reason"]) == ("FAILED", "photo_pull_failed")


def test_hashtag_suggestions(http: httpx.Client) -> None:
    # §4.5 [C1]: /business/hashtag/suggestion/ -> suggestions[{name, view_count}]; a Business
    # token is needed (a Login Kit one is refused) and the keyword is required.
    _, get = _biz(http, CAFE, BIZ_SCOPES)
    body = get("/business/hashtag/suggestion/", keyword="#Bread", language="en")
    assert body["code"] == 0
    names = [s["name"] for s in body["data"]["suggestions"]]
    assert "bread" in names and all(
        isinstance(s["view_count"], int) for s in body["data"]["suggestions"]
    )
    assert get("/business/hashtag/suggestion/", keyword="")["code"] == 40002
    login_kit = login_kit_tokens(http, AVA)["access_token"]
    answer = http.get(f"{BIZ}/business/hashtag/suggestion/",
                      params={"business_id": "x", "keyword": "a"},
                      headers={"Access-Token": login_kit})  # fmt: skip
    assert answer.json()["code"] == 40105

"""Contract: Content Posting and the upload host, status codes and error names per Corrections."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.media_samples import mp4, webm
from tests.tiktok_client.conftest import AVA, BEN, CAFE, DANCE, PAUSED, QUIET
from tests.tiktok_client.contract import bearer, login_kit_tokens, query_of
from tiktok_client import media_probe
from tiktok_client.simulator import DEFAULT_CLIENT_KEY, DEFAULT_CLIENT_SECRET, SimulatorApp, rules
from tiktok_client.simulator.rules import chunk_plan_problem

P = "/v2/post/publish"
MB = 1_000_000
MIB = 1024 * 1024


def _token(http: httpx.Client, creator: str) -> str:
    return str(login_kit_tokens(http, creator)["access_token"])


def _init(
    http: httpx.Client, token: str, *, size: int, chunk: int | None = None, count: int = 1,
    **post_info: Any,
) -> httpx.Response:  # fmt: skip
    info = {"privacy_level": "SELF_ONLY", "title": "hello", **post_info}
    source = {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": size if chunk is None else chunk,
        "total_chunk_count": count,
    }
    return http.post(
        f"{P}/video/init/", json={"post_info": info, "source_info": source}, headers=bearer(token)
    )


def _error(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, str(answer.json()["error"]["code"])


def test_creator_info_cannot_post_now_is_http_200(http: httpx.Client) -> None:
    # Corrections: "cannot post now" answers come back with HTTP 200 and a non-ok error.code.
    answer = http.post(f"{P}/creator_info/query/", headers=bearer(_token(http, PAUSED)))
    assert _error(answer) == (200, "spam_risk_user_banned_from_posting")


def test_creator_info_daily_cap_is_http_200(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections + §2.9: spam_risk_too_many_posts through creator_info is HTTP 200 too.
    sim.settings.daily_post_cap = 0
    answer = http.post(f"{P}/creator_info/query/", headers=bearer(_token(http, AVA)))
    assert _error(answer) == (200, "spam_risk_too_many_posts")


@pytest.mark.parametrize(
    ("size", "chunk", "count", "refused"),
    [
        (3 * MB, 3 * MB, 1, False),  # §2.6: < 5 MB is one whole chunk
        (64 * MB, 64 * MB, 1, False),  # Corrections: single chunk up to 64,000,000 bytes
        (64 * MB + 1, 64 * MB + 1, 1, True),  # over 64,000,000 must be multi-chunk
        (20 * MB, 10 * MB, 2, False),  # §2.6: floor(video/chunk) chunks
        (20 * MB, 10 * MB, 3, True),  # wrong count
        (12 * MB, 6 * MB, 1, True),  # §2.11: one chunk whose size is not the video size
        (20 * MB, 4 * MB, 5, True),  # chunk under 5 MB
        (200 * MB, 65 * MB, 3, True),  # chunk over 64,000,000
        (10 * MB, 0, 1, True),
    ],
)
def test_chunk_plans(http: httpx.Client, size: int, chunk: int, count: int, refused: bool) -> None:
    # Corrections: a bad chunk plan is 400 invalid_param "The chunk size is invalid".
    answer = _init(http, _token(http, AVA), size=size, chunk=chunk, count=count)
    if refused:
        assert _error(answer) == (400, "invalid_param")
        assert answer.json()["error"]["message"] == "The chunk size is invalid"
    else:
        assert answer.status_code == 200, answer.text


def test_refuse_multi_chunk_setting(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections [C1, single report]: multi-chunk plans refused since ~2026-08, as an option.
    token = _token(http, AVA)
    sim.settings.refuse_multi_chunk = True
    assert _error(_init(http, token, size=20 * MB, chunk=10 * MB, count=2)) == (
        400, "invalid_param",
    )  # fmt: skip
    assert _init(http, token, size=60 * MB).status_code == 200


def test_simulator_imports_only_stdlib_and_itself() -> None:
    # Issue 13: the simulator keeps its own reading of TikTok's rules; a test double that
    # imported the product's rules (tiktok_client.chunks) would pass every contract test.
    package = Path(rules.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                # media_probe reads files and holds no rule: the product's and the simulator's
                # limits stay apart, the byte readers are one.
                assert name.startswith("tiktok_client.simulator") or (
                    name == "tiktok_client.media_probe" or top in sys.stdlib_module_names
                ), f"{module.name} imports {name}"
    for node in ast.walk(ast.parse(Path(media_probe.__file__).read_text())):
        if isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else []
            modules += [] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert all(m.split(".")[0] in sys.stdlib_module_names for m in modules if m)
    assert chunk_plan_problem(5 * MIB, 5 * MIB, 1, refuse_multi_chunk=False) is None


def test_privacy_level_option_mismatch_is_403(http: httpx.Client) -> None:
    # Corrections: privacy_level_option_mismatch is 403 (ben is private: no PUBLIC_TO_EVERYONE).
    answer = _init(http, _token(http, BEN), size=MB, privacy_level="PUBLIC_TO_EVERYONE")
    assert _error(answer) == (403, "privacy_level_option_mismatch")


def test_missing_privacy_is_invalid_param(http: httpx.Client) -> None:
    # Corrections: a bad parameter at init is 400 invalid_param.
    answer = _init(http, _token(http, AVA), size=MB, privacy_level="")
    assert _error(answer) == (400, "invalid_param")


def test_switched_off_interactions_are_switched_off_not_refused(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # Corrections: toggles the creator disabled are switched off by TikTok, not refused.
    quiet = _init(http, _token(http, QUIET), size=MB, disable_comment=False)
    dance = _init(http, _token(http, DANCE), size=MB, disable_duet=False, disable_stitch=False)
    assert quiet.status_code == dance.status_code == 200
    publishes = sim.state.publishes
    assert publishes[quiet.json()["data"]["publish_id"]].post_info["disable_comment"] is True
    dance_info = publishes[dance.json()["data"]["publish_id"]].post_info
    assert dance_info["disable_duet"] is True and dance_info["disable_stitch"] is True


def test_status_fetch_error_names(http: httpx.Client) -> None:
    # Corrections: 400 invalid_publish_id (unknown), 400
    # token_not_authorized_for_specified_publish_id (another user's publish).
    ava, ben = _token(http, AVA), _token(http, BEN)
    publish_id = _init(http, ava, size=MB).json()["data"]["publish_id"]
    unknown = http.post(f"{P}/status/fetch/", json={"publish_id": "v_pub_x"}, headers=bearer(ava))
    assert _error(unknown) == (400, "invalid_publish_id")
    foreign = http.post(f"{P}/status/fetch/", json={"publish_id": publish_id}, headers=bearer(ben))
    assert _error(foreign) == (400, "token_not_authorized_for_specified_publish_id")
    cancel = http.post(f"{P}/cancel/", json={"publish_id": publish_id}, headers=bearer(ben))
    assert _error(cancel) == (400, "token_not_authorized_for_specified_publish_id")


def test_cancel_applies_only_to_downloads(http: httpx.Client) -> None:
    # Corrections: publish_not_cancellable unless PULL_FROM_URL is still downloading.
    token = _token(http, AVA)
    file_publish = _init(http, token, size=MB).json()["data"]["publish_id"]
    answer = http.post(f"{P}/cancel/", json={"publish_id": file_publish}, headers=bearer(token))
    assert _error(answer) == (400, "publish_not_cancellable")
    pull = http.post(
        f"{P}/video/init/",
        json={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "video_url": "https://media.later.test/v.mp4",
            },
        },
        headers=bearer(token),
    ).json()["data"]["publish_id"]
    assert http.post(f"{P}/cancel/", json={"publish_id": pull}, headers=bearer(token)).json()[
        "error"
    ]["code"] == "ok"  # fmt: skip


def _upload(http: httpx.Client, url: str, body: bytes, first: int, total: int) -> httpx.Response:
    headers = {
        "Content-Type": "video/mp4",
        "Content-Range": f"bytes {first}-{first + len(body) - 1}/{total}",
    }
    return http.put("/video/", params=query_of(url), content=body, headers=headers)


def test_upload_status_codes_and_progress_header(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: 206 partial, 201 done, 400 malformed headers or length mismatch, 404 unknown
    # upload task, 416 Content-Range not matching progress; accepted chunks carry
    # Content-Range: bytes 0-{last byte received}/{total}.
    size, chunk = 12 * MIB, 6 * MIB
    token = _token(http, CAFE)
    data = _init(http, token, size=size, chunk=chunk, count=2, privacy_level="SELF_ONLY").json()
    url = data["data"]["upload_url"]
    blob = mp4(size)
    assert _upload(http, url, blob[chunk:], chunk, size).status_code == 416  # out of order
    no_range = http.put("/video/", params=query_of(url), content=blob[:chunk],
                        headers={"Content-Type": "video/mp4"})  # fmt: skip
    assert no_range.status_code == 400
    short = _upload(http, url, blob[: chunk - 1], 0, size)
    assert short.status_code == 400  # not the declared chunk size
    first = _upload(http, url, blob[:chunk], 0, size)
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-{chunk - 1}/{size}"
    assert _upload(http, url, blob[:chunk], 0, size).status_code == 416  # already received
    last = _upload(http, url, blob[chunk:], chunk, size)
    assert last.status_code == 201
    assert last.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    unknown = http.put(
        "/video/", params={"upload_id": "123", "upload_token": "x"}, content=b"x",
        headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-0/1"},
    )  # fmt: skip
    assert unknown.status_code == 404


def test_upload_url_expires_after_an_hour(http: httpx.Client, sim: SimulatorApp) -> None:
    # §2.3 + Corrections: upload_url valid 1 hour; 403 when expired.
    token = _token(http, AVA)
    url = _init(http, token, size=MB).json()["data"]["upload_url"]
    sim.clock.advance(3601)
    assert _upload(http, url, b"v" * MB, 0, MB).status_code == 403


def test_upload_5xx_is_injectable(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: 5xx -> retry the chunk.
    token = _token(http, AVA)
    url = _init(http, token, size=MB).json()["data"]["upload_url"]
    sim.faults.add("/video/", "http_500")
    assert _upload(http, url, mp4(MB), 0, MB).status_code == 500
    assert _upload(http, url, mp4(MB), 0, MB).status_code == 201


def test_public_post_id_is_a_list_of_int64(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: publicaly_available_post_id is a list of int64.
    sim.settings.moderation_delay = 0
    token = _token(http, AVA)
    data = _init(http, token, size=MB, privacy_level="PUBLIC_TO_EVERYONE").json()["data"]
    assert _upload(http, data["upload_url"], mp4(MB), 0, MB).status_code == 201
    sim.clock.advance(60)
    status = http.post(
        f"{P}/status/fetch/", json={"publish_id": data["publish_id"]}, headers=bearer(token)
    ).json()["data"]
    assert status["status"] == "PUBLISH_COMPLETE"
    (post_id,) = status["publicaly_available_post_id"]
    assert isinstance(post_id, int) and post_id < 2**63


def test_user_info_field_without_its_scope_is_401(http: httpx.Client) -> None:
    # Corrections + §1.8: a field whose scope was not granted -> 401 scope_not_authorized.
    token = login_kit_tokens(http, AVA, scopes=("user.info.basic", "video.publish"))
    answer = http.get(
        "/v2/user/info/",
        params={"fields": "open_id,username"},
        headers=bearer(token["access_token"]),
    )
    assert _error(answer) == (401, "scope_not_authorized")


def _photo(http: httpx.Client, token: str, images: list[str], **post_info: Any) -> httpx.Response:
    return http.post(
        f"{P}/content/init/",
        json={
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": {"privacy_level": "SELF_ONLY", "title": "pics", **post_info},
            "source_info": {"source": "PULL_FROM_URL", "photo_images": images},
        },
        headers=bearer(token),
    )


def test_photo_posts(http: httpx.Client, sim: SimulatorApp) -> None:
    # §2.5: PULL_FROM_URL only, <= 35 JPEG/WebP images on a verified prefix, title <= 90.
    token = _token(http, AVA)
    ok = _photo(http, token, ["https://media.later.test/a.jpg", "https://media.later.test/b.webp"])
    assert ok.status_code == 200
    assert ok.json()["data"]["publish_id"].startswith("p_pub_url~v2.")  # §2.3 id shapes
    png = _photo(http, token, ["https://media.later.test/a.png"])
    assert _error(png) == (400, "invalid_param")
    too_many = _photo(http, token, [f"https://media.later.test/{n}.jpg" for n in range(36)])
    assert _error(too_many) == (400, "invalid_param")
    foreign = _photo(http, token, ["https://cdn.example.com/a.jpg"])
    assert _error(foreign) == (403, "url_ownership_unverified")  # §2.6
    long_title = _photo(http, token, ["https://media.later.test/a.jpg"], title="x" * 91)
    assert _error(long_title) == (400, "invalid_param")


def test_a_photo_description_holds_4000_utf16_units(http: httpx.Client, sim: SimulatorApp) -> None:
    # §2.5: description <= 4000 UTF-16 units; an emoji outside the BMP counts two.
    token = _token(http, AVA)
    one = ["https://media.later.test/a.jpg"]
    assert _photo(http, token, one, description="😀" * 2000).status_code == 200
    assert _error(_photo(http, token, one, description="😀" * 2000 + "x")) == (400, "invalid_param")


def test_an_inbox_photo_keeps_the_text_limits(http: httpx.Client, sim: SimulatorApp) -> None:
    token = _token(http, AVA)

    def inbox(**post_info: Any) -> httpx.Response:
        return http.post(
            f"{P}/content/init/",
            json={
                "media_type": "PHOTO",
                "post_mode": "MEDIA_UPLOAD",
                "post_info": post_info,
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_images": ["https://media.later.test/a.jpg"],
                },
            },
            headers=bearer(token),
        )

    assert _error(inbox(title="x" * 91)) == (400, "invalid_param")
    assert _error(inbox(description="x" * 4001)) == (400, "invalid_param")
    assert inbox(title="x" * 90, description="x" * 4000).status_code == 200


def test_pull_from_url_needs_a_verified_prefix(http: httpx.Client, sim: SimulatorApp) -> None:
    # §2.6, §5.15: unverified URL -> 403 url_ownership_unverified at init; downloads progress.
    token = _token(http, AVA)

    def pull(url: str) -> httpx.Response:
        return http.post(
            f"{P}/video/init/",
            json={
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {"source": "PULL_FROM_URL", "video_url": url},
            },
            headers=bearer(token),
        )

    assert _error(pull("https://cdn.example.com/v.mp4")) == (403, "url_ownership_unverified")
    assert _error(pull("http://media.later.test/v.mp4")) == (403, "url_ownership_unverified")
    publish_id = pull("https://media.later.test/v.mp4").json()["data"]["publish_id"]
    assert publish_id.startswith("v_pub_url~v2.")
    status = http.post(
        f"{P}/status/fetch/", json={"publish_id": publish_id}, headers=bearer(token)
    ).json()["data"]
    assert status["status"] == "PROCESSING_DOWNLOAD"


def _status(http: httpx.Client, token: str, publish_id: str) -> dict[str, Any]:
    answer = http.post(f"{P}/status/fetch/", json={"publish_id": publish_id}, headers=bearer(token))
    return dict(answer.json()["data"])


def test_uploaded_bytes_that_are_no_video_fail_the_format_check(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §2.7: file_format_check_failed. A FILE_UPLOAD is checked like a pulled file (§2.6 video
    # specs: MP4/WebM/MOV); random bytes are not published.
    token = _token(http, AVA)
    data = _init(http, token, size=MB).json()["data"]
    assert _upload(http, data["upload_url"], b"v" * MB, 0, MB).status_code == 201
    sim.clock.advance(60)
    status = _status(http, token, data["publish_id"])
    assert (status["status"], status["fail_reason"]) == ("FAILED", "file_format_check_failed")


def test_a_video_longer_than_the_creators_cap_fails_the_duration_check(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §2.2 + §5.12: max_video_post_duration_sec must be honoured (QUIET: 60 s); TikTok reports
    # duration_check_failed (§2.7). A video within the cap is published.
    token = _token(http, QUIET)
    too_long = _init(http, token, size=MB).json()["data"]
    assert _upload(http, too_long["upload_url"], mp4(MB, seconds=61), 0, MB).status_code == 201
    fits = _init(http, token, size=MB).json()["data"]
    assert _upload(http, fits["upload_url"], mp4(MB, seconds=59.5), 0, MB).status_code == 201
    sim.clock.advance(60)
    refused = _status(http, token, too_long["publish_id"])
    assert (refused["status"], refused["fail_reason"]) == ("FAILED", "duration_check_failed")
    assert _status(http, token, fits["publish_id"])["status"] == "PUBLISH_COMPLETE"


@pytest.mark.parametrize(
    ("video", "fail_reason"),
    [
        ({"fps": 15}, "frame_rate_check_failed"),
        ({"fps": 61}, "frame_rate_check_failed"),
        ({"seconds": 0}, "duration_check_failed"),
        ({"width": 320, "height": 240}, "picture_size_check_failed"),
        ({"width": 4320, "height": 7680}, "picture_size_check_failed"),
        ({"codec": b"mp4v"}, "file_format_check_failed"),
        ({"fps": 23, "width": 360, "height": 640}, None),
        ({"fps": 60, "width": 4096, "height": 2160, "codec": b"hvc1"}, None),
    ],
)
def test_an_uploaded_video_outside_the_specs_fails_with_tiktoks_reason(
    http: httpx.Client, sim: SimulatorApp, video: dict[str, Any], fail_reason: str | None
) -> None:
    # §2.6 video specs: H.264/H.265/VP8/VP9, 23-60 fps, 360-4096 px per side; a breach fails
    # the publish with §2.7's fail_reason, an edge of the range is published.
    token = _token(http, AVA)
    data = _init(http, token, size=MB).json()["data"]
    assert _upload(http, data["upload_url"], mp4(MB, **video), 0, MB).status_code == 201
    sim.clock.advance(60)
    status = _status(http, token, data["publish_id"])
    if fail_reason is None:
        assert status["status"] == "PUBLISH_COMPLETE", status
    else:
        assert (status["status"], status["fail_reason"]) == ("FAILED", fail_reason)


@pytest.mark.parametrize(
    ("video", "fail_reason"),
    [
        ({"fps": 15}, "frame_rate_check_failed"),
        ({"fps": 15, "default_duration": False}, "frame_rate_check_failed"),
        ({"fps": 61}, "frame_rate_check_failed"),
        ({"seconds": 601}, "duration_check_failed"),
        ({"seconds": None}, "duration_check_failed"),
        ({"width": 200, "height": 200}, "picture_size_check_failed"),
        ({"width": 4320, "height": 7680}, "picture_size_check_failed"),
        ({"codec": "V_AV1"}, "file_format_check_failed"),
        ({"doc_type": "matroska"}, "file_format_check_failed"),
        ({"fps": 23, "width": 360, "height": 640, "codec": "V_VP8"}, None),
        ({"fps": 60, "width": 4096, "height": 2160, "default_duration": False}, None),
    ],
)
def test_an_uploaded_webm_outside_the_specs_fails_with_tiktoks_reason(
    http: httpx.Client, sim: SimulatorApp, video: dict[str, Any], fail_reason: str | None
) -> None:
    # §2.6 holds for WebM as for MP4: VP8/VP9 (or H.264/H.265), 23-60 fps, 360-4096 px, <= 10 min.
    token = _token(http, AVA)
    data = _init(http, token, size=MB).json()["data"]
    assert _upload(http, data["upload_url"], webm(size=MB, **video), 0, MB).status_code == 201
    sim.clock.advance(60)
    status = _status(http, token, data["publish_id"])
    if fail_reason is None:
        assert status["status"] == "PUBLISH_COMPLETE", status
    else:
        assert (status["status"], status["fail_reason"]) == ("FAILED", fail_reason)


def test_a_truncated_webm_fails_the_format_check(http: httpx.Client, sim: SimulatorApp) -> None:
    token = _token(http, AVA)
    cut = webm()[:150]
    data = _init(http, token, size=len(cut)).json()["data"]
    assert _upload(http, data["upload_url"], cut, 0, len(cut)).status_code == 201
    sim.clock.advance(60)
    status = _status(http, token, data["publish_id"])
    assert (status["status"], status["fail_reason"]) == ("FAILED", "file_format_check_failed")


def _inbox_photo(http: httpx.Client, token: str) -> httpx.Response:
    return http.post(
        f"{P}/content/init/",
        json={
            "media_type": "PHOTO",
            "post_mode": "MEDIA_UPLOAD",
            "post_info": {"title": "pics"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": ["https://media.later.test/a.jpg"],
            },
        },
        headers=bearer(token),
    )


def test_a_creator_banned_from_posting_cannot_send_drafts_either(http: httpx.Client) -> None:
    # §2.4 error table: 403 spam_risk_user_banned_from_posting on the inbox inits too, for
    # videos and for photos sent as MEDIA_UPLOAD.
    token = _token(http, PAUSED)
    video = http.post(
        f"{P}/inbox/video/init/",
        json={"source_info": {"source": "FILE_UPLOAD", "video_size": MB, "chunk_size": MB,
                              "total_chunk_count": 1}},
        headers=bearer(token),
    )  # fmt: skip
    assert _error(video) == (403, "spam_risk_user_banned_from_posting")
    assert _error(_inbox_photo(http, token)) == (403, "spam_risk_user_banned_from_posting")
    assert _inbox_photo(http, _token(http, AVA)).status_code == 200


def test_an_inbox_video_pull_needs_a_verified_prefix(http: httpx.Client) -> None:
    # §2.4 error table + §2.6: 403 url_ownership_unverified on the inbox init too.
    answer = http.post(
        f"{P}/inbox/video/init/",
        json={"source_info": {"source": "PULL_FROM_URL",
                              "video_url": "https://cdn.example.com/v.mp4"}},
        headers=bearer(_token(http, AVA)),
    )  # fmt: skip
    assert _error(answer) == (403, "url_ownership_unverified")


def test_an_inbox_video_over_ten_minutes_fails_the_duration_check(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §2.6 video specs: at most 10 min at API level, drafts included (the creator's own
    # max_video_post_duration_sec is for direct posts, §2.2); duration_check_failed (§2.7).
    token = _token(http, AVA)
    source = {"source": "FILE_UPLOAD", "video_size": MB, "chunk_size": MB, "total_chunk_count": 1}
    ids = []
    for seconds in (601, 599):
        data = http.post(
            f"{P}/inbox/video/init/", json={"source_info": source}, headers=bearer(token)
        ).json()["data"]
        assert _upload(http, data["upload_url"], mp4(MB, seconds=seconds), 0, MB).status_code == 201
        ids.append(data["publish_id"])
    sim.clock.advance(60)
    too_long, fits = (_status(http, token, publish_id) for publish_id in ids)
    assert (too_long["status"], too_long["fail_reason"]) == ("FAILED", "duration_check_failed")
    assert fits["status"] == "SEND_TO_USER_INBOX"


def test_an_upload_that_is_not_a_video_type_is_400(http: httpx.Client) -> None:
    # §2.6: PUT with Content-Type video/mp4|video/quicktime|video/webm; Corrections: 400 for
    # malformed headers.
    url = _init(http, _token(http, AVA), size=MB).json()["data"]["upload_url"]
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes 0-{MB - 1}/{MB}",
    }
    answer = http.put("/video/", params=query_of(url), content=mp4(MB), headers=headers)
    assert answer.status_code == 400
    assert _upload(http, url, mp4(MB), 0, MB).status_code == 201


def test_creator_info_and_display_rate_windows(http: httpx.Client) -> None:
    # §2.1: creator_info 20 req/min; §3: /v2/user/info/ 600 req/min; over -> 429
    # rate_limit_exceeded, per access token (§5.10).
    token = _token(http, AVA)
    creator_info = [
        http.post(f"{P}/creator_info/query/", headers=bearer(token)).status_code for _ in range(21)
    ]
    assert creator_info == [200] * 20 + [429]
    user_info = [
        http.get("/v2/user/info/", params={"fields": "open_id"}, headers=bearer(token))
        for _ in range(601)
    ]
    assert [answer.status_code for answer in user_info[:600]] == [200] * 600
    assert _error(user_info[600]) == (429, "rate_limit_exceeded")
    other = _token(http, AVA)
    assert http.post(f"{P}/creator_info/query/", headers=bearer(other)).status_code == 200


def test_a_video_title_holds_2200_utf16_units(http: httpx.Client) -> None:
    # §2.3: title <= 2200 UTF-16 code units; longer is 400 invalid_param (Corrections).
    token = _token(http, AVA)
    assert _init(http, token, size=MB, title="😀" * 1100).status_code == 200
    assert _error(_init(http, token, size=MB, title="😀" * 1100 + "x")) == (400, "invalid_param")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("disable_comment", "no"),
        ("disable_duet", 0),
        ("disable_stitch", "false"),
        ("brand_content_toggle", ""),
        ("brand_organic_toggle", "true"),
        ("is_aigc", "1"),
        ("video_cover_timestamp_ms", True),
        ("video_cover_timestamp_ms", 1.5),
    ],
)
def test_video_post_info_fields_keep_their_json_types(
    http: httpx.Client, field: str, value: Any
) -> None:
    # §2.3: the interaction and disclosure switches are bool, video_cover_timestamp_ms an int;
    # another JSON type is a bad parameter, 400 invalid_param (Corrections).
    token = _token(http, AVA)
    well_typed = 0 if field == "video_cover_timestamp_ms" else False
    assert _init(http, token, size=MB, **{field: well_typed}).status_code == 200
    assert _error(_init(http, token, size=MB, **{field: value})) == (400, "invalid_param")


def test_photo_fields_keep_their_json_types(http: httpx.Client) -> None:
    # §2.5: photo_cover_index is a 0-based int (JSON true is not 1); disable_comment and
    # auto_add_music are bool, for a direct post and a draft alike.
    token = _token(http, AVA)
    two = ["https://media.later.test/a.jpg", "https://media.later.test/b.jpg"]

    def photo(mode: str, cover: Any = 1, **post_info: Any) -> httpx.Response:
        info = {"privacy_level": "SELF_ONLY", **post_info} if mode == "DIRECT_POST" else post_info
        return http.post(
            f"{P}/content/init/",
            json={
                "media_type": "PHOTO",
                "post_mode": mode,
                "post_info": info,
                "source_info": {
                    "source": "PULL_FROM_URL", "photo_images": two, "photo_cover_index": cover,
                },
            },
            headers=bearer(token),
        )  # fmt: skip

    assert photo("DIRECT_POST", 1, disable_comment=True, auto_add_music=False).status_code == 200
    assert _error(photo("DIRECT_POST", True)) == (400, "invalid_param")
    assert _error(photo("DIRECT_POST", disable_comment="yes")) == (400, "invalid_param")
    assert _error(photo("MEDIA_UPLOAD", auto_add_music=1)) == (400, "invalid_param")
    assert photo("MEDIA_UPLOAD", 0, auto_add_music=True).status_code == 200


def test_video_query_takes_20_own_ids(http: httpx.Client) -> None:
    # §3.3, §5.18: up to 20 ids of the token's user; foreign ids are left out [U].
    ava, ben = _token(http, AVA), _token(http, BEN)

    def listed(token: str) -> list[str]:
        answer = http.post(
            "/v2/video/list/", params={"fields": "id"}, json={"max_count": 20},
            headers=bearer(token),
        )  # fmt: skip
        return [video["id"] for video in answer.json()["data"]["videos"]]

    def query(token: str, ids: list[str]) -> httpx.Response:
        return http.post(
            "/v2/video/query/", params={"fields": "id"},
            json={"filters": {"video_ids": ids}}, headers=bearer(token),
        )  # fmt: skip

    own, foreign = listed(ava), listed(ben)
    assert _error(query(ava, own[:20] + foreign[:1])) == (400, "invalid_params")
    found = query(ava, own[:19] + foreign[:1]).json()["data"]["videos"]
    assert [video["id"] for video in found] == own[:19]


@pytest.mark.parametrize("body", [{"max_count": True}, {"max_count": 5.0}, {"cursor": True}])
def test_video_list_numbers_are_json_integers(http: httpx.Client, body: dict[str, Any]) -> None:
    # §3.2: cursor is an int64 ms timestamp and max_count an int (<= 20); JSON true is not 1.
    token = _token(http, AVA)

    def video_list(json: dict[str, Any]) -> httpx.Response:
        return http.post(
            "/v2/video/list/", params={"fields": "id"}, json=json, headers=bearer(token)
        )

    assert video_list({"max_count": 1, "cursor": 0}).status_code == 200
    assert _error(video_list(body)) == (400, "invalid_params")


def test_an_unaudited_client_posts_self_only_to_private_accounts_of_few_users(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §2.9, §5.11: unaudited clients post SELF_ONLY only, to private accounts only (403
    # unaudited_client_can_only_post_to_private_accounts, photos too), for at most 5 distinct
    # users per 24 h (403 reached_active_user_cap).
    sim.state.apps["sim-client-key"].audited = False
    ben, ava = _token(http, BEN), _token(http, AVA)
    unaudited = (403, "unaudited_client_can_only_post_to_private_accounts")
    assert _error(_init(http, ava, size=MB)) == unaudited
    assert _error(_init(http, ben, size=MB, privacy_level="FOLLOWER_OF_CREATOR")) == unaudited
    assert _error(_photo(http, ava, ["https://media.later.test/a.jpg"])) == unaudited
    assert _init(http, ben, size=MB).status_code == 200
    others = [AVA, CAFE, DANCE, QUIET, "sim-tiny-bakery"]
    for creator in others:
        sim.state.creators[creator].is_private = True
    answers = [_init(http, _token(http, creator), size=MB) for creator in others]
    assert [answer.status_code for answer in answers[:4]] == [200] * 4
    assert _error(answers[4]) == (403, "reached_active_user_cap")


def test_a_post_still_processing_when_authorization_ends_fails_auth_removed(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # §2.7 fail_reason auth_removed; §1.5 revoke ends the grant: what was still processing is
    # not published, and post.publish.failed follows authorization.removed (§2.8). A draft
    # already in the inbox stays there.
    token = _token(http, AVA)
    video = mp4(5024)
    pending = _init(http, token, size=len(video)).json()["data"]["publish_id"]
    draft = http.post(
        f"{P}/inbox/video/init/",
        json={"source_info": {"source": "FILE_UPLOAD", "video_size": len(video),
                              "chunk_size": len(video), "total_chunk_count": 1}},
        headers=bearer(token),
    ).json()["data"]  # fmt: skip
    assert _upload(http, draft["upload_url"], video, 0, len(video)).status_code == 201
    sim.clock.advance(60)
    assert _status(http, token, draft["publish_id"])["status"] == "SEND_TO_USER_INBOX"
    revoked = http.post(
        "/v2/oauth/revoke/",
        data={"client_key": DEFAULT_CLIENT_KEY, "client_secret": DEFAULT_CLIENT_SECRET,
              "token": token},
    )  # fmt: skip
    assert revoked.json() == {}
    again = _token(http, AVA)
    assert _status(http, again, pending) == {
        "status": "FAILED", "fail_reason": "auth_removed", "publicaly_available_post_id": [],
        "uploaded_bytes": 0, "downloaded_bytes": 0,
    }  # fmt: skip
    assert _status(http, again, draft["publish_id"])["status"] == "SEND_TO_USER_INBOX"
    events = [
        d["event"] for d in sim.state.webhooks.log() if d["event"] != "post.publish.inbox_delivered"
    ]
    assert events == ["authorization.removed", "post.publish.failed"]

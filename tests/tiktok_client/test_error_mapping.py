"""Every TikTok error shape maps to one typed exception (driven by a mock transport)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable

import httpx
import pytest

from tiktok_client import (
    NoRateLimiter,
    TikTokAuthError,
    TikTokClient,
    TikTokConfig,
    TikTokError,
    TikTokInvalidRequest,
    TikTokOAuthError,
    TikTokPostingCapError,
    TikTokPrivacyLevelMismatch,
    TikTokRateLimited,
    TikTokReconnectRequired,
    TikTokScopeError,
    TikTokUnavailable,
    TikTokUploadError,
)

Responder = Callable[[httpx.Request], httpx.Response]


def _client(responder: Responder) -> TikTokClient:
    return TikTokClient(
        TikTokConfig.for_simulator("http://mock.test"),
        transport=httpx.MockTransport(responder),
        rate_limiter=NoRateLimiter(),
    )


def _v2(status: int, code: str, headers: dict[str, str] | None = None) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        body = {"data": {}, "error": {"code": code, "message": f"msg {code}", "log_id": "LOG1"}}
        return httpx.Response(status, json=body, headers=headers)

    return respond


@pytest.mark.parametrize(
    ("status", "code", "exc_type", "retryable"),
    [
        (401, "access_token_invalid", TikTokAuthError, False),
        (401, "scope_not_authorized", TikTokScopeError, False),
        (400, "scope_permission_missed", TikTokScopeError, False),
        (429, "rate_limit_exceeded", TikTokRateLimited, True),
        (403, "spam_risk_too_many_posts", TikTokPostingCapError, False),
        (403, "spam_risk_too_many_pending_share", TikTokPostingCapError, False),
        (403, "spam_risk_user_banned_from_posting", TikTokPostingCapError, False),
        (403, "reached_active_user_cap", TikTokPostingCapError, False),
        (403, "unaudited_client_can_only_post_to_private_accounts", TikTokPostingCapError, False),
        (400, "privacy_level_option_mismatch", TikTokPrivacyLevelMismatch, False),
        (400, "invalid_params", TikTokInvalidRequest, False),
        (400, "invalid_param", TikTokInvalidRequest, False),
        (400, "invalid_file_upload", TikTokInvalidRequest, False),
        (403, "url_ownership_unverified", TikTokInvalidRequest, False),
        (403, "app_version_check_failed", TikTokInvalidRequest, False),
        (500, "internal_error", TikTokUnavailable, True),
        (503, "service_unavailable", TikTokUnavailable, True),
        (401, "some_new_auth_code", TikTokAuthError, False),
    ],
)
def test_v2_error_codes(
    status: int, code: str, exc_type: type[TikTokError], retryable: bool
) -> None:
    client = _client(_v2(status, code))
    with pytest.raises(exc_type) as excinfo:
        client.query_creator_info(access_token="act.x")
    error = excinfo.value
    assert type(error) is exc_type
    assert (error.code, error.http_status, error.log_id) == (code, status, "LOG1")
    assert error.message == f"msg {code}"
    assert error.retryable is retryable
    assert error.user_message and "act.x" not in str(error)


def test_rate_limit_retry_after_header_and_default() -> None:
    with pytest.raises(TikTokRateLimited) as excinfo:
        _client(_v2(429, "rate_limit_exceeded", {"Retry-After": "17"})).query_creator_info(
            access_token="act.x"
        )
    assert excinfo.value.retry_after == 17.0
    assert excinfo.value.local is False
    with pytest.raises(TikTokRateLimited) as excinfo:
        _client(_v2(429, "rate_limit_exceeded")).query_creator_info(access_token="act.x")
    assert excinfo.value.retry_after == 60.0


@pytest.mark.parametrize("header", ["inf", "1e309", "nan", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_retry_after_no_wait_can_be_made_of_is_the_default(header: str) -> None:
    with pytest.raises(TikTokRateLimited) as excinfo:
        _client(_v2(429, "rate_limit_exceeded", {"Retry-After": header})).query_creator_info(
            access_token="act.x"
        )
    assert excinfo.value.retry_after == (0.0 if header == "-5" else 60.0)


def test_ok_code_with_error_status_is_still_an_error() -> None:
    with pytest.raises(TikTokUnavailable):
        _client(_v2(502, "ok")).query_creator_info(access_token="act.x")


@pytest.mark.parametrize(
    ("status", "body", "exc_type"),
    [
        (200, b"<html>gateway</html>", TikTokUnavailable),
        (200, b'{"data": {"publish_id": "v_pub', TikTokUnavailable),
        (200, b'{"data": {}}', TikTokUnavailable),
        (502, b"Bad gateway", TikTokUnavailable),
        (429, b"", TikTokRateLimited),
        (401, b"nope", TikTokAuthError),
        (404, b"not found", TikTokInvalidRequest),
        (200, b"[" * 50_000 + b"]" * 50_000, TikTokUnavailable),
        (200, b'{"data":' * 5_000 + b"1" + b"}" * 5_000, TikTokUnavailable),
    ],
)
def test_unparsable_bodies(status: int, body: bytes, exc_type: type[TikTokError]) -> None:
    client = _client(lambda request: httpx.Response(status, content=body))
    with pytest.raises(exc_type):
        client.fetch_publish_status(access_token="act.x", publish_id="p")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "connection_error"),
        (httpx.RemoteProtocolError("Server disconnected"), "connection_error"),
        (TimeoutError("socket"), "timeout"),
    ],
)
def test_transport_failures_are_unavailable(exc: Exception, code: str) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(TikTokUnavailable) as excinfo:
        _client(boom).get_user_info(access_token="act.x", fields=["open_id"])
    assert excinfo.value.code == code
    assert excinfo.value.retryable


@pytest.mark.parametrize("status", [200, 400, 401])
def test_oauth_flat_error_under_any_status(status: int) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        body = {"error": "invalid_grant", "error_description": "expired", "log_id": "L2"}
        return httpx.Response(status, json=body)

    with pytest.raises(TikTokOAuthError) as excinfo:
        _client(respond).refresh_access_token(refresh_token="rft.x")
    assert (excinfo.value.error, excinfo.value.log_id) == ("invalid_grant", "L2")
    assert excinfo.value.message == "expired"


def test_oauth_server_error_is_unavailable() -> None:
    with pytest.raises(TikTokUnavailable):
        _client(lambda r: httpx.Response(503, json={})).refresh_access_token(refresh_token="r")


@pytest.mark.parametrize(
    ("code", "message", "exc_type"),
    [
        (40100, "Too many requests", TikTokRateLimited),
        (40132, "Frequency limited", TikTokRateLimited),
        (61000, "Too many requests", TikTokRateLimited),
        (40102, "Access token has expired.", TikTokAuthError),
        (40104, "Access token is empty.", TikTokAuthError),
        (40103, "Refresh token has expired.", TikTokReconnectRequired),
        (40107, "Refresh token is invalid.", TikTokReconnectRequired),
        (40130, "The scope is not authorized.", TikTokScopeError),
        (40105, "Access token is incorrect or has been revoked.", TikTokAuthError),
        (40999, "Access token has expired", TikTokAuthError),
        (40001, "No permission to operate.", TikTokScopeError),
        (40002, "Invalid params", TikTokInvalidRequest),
        (51065, "Something is wrong", TikTokUnavailable),
    ],
)
def test_business_codes_under_http_200(
    code: int, message: str, exc_type: type[TikTokError]
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"code": code, "message": message, "request_id": "REQ9", "data": {}}
        )

    with pytest.raises(exc_type) as excinfo:
        _client(respond).business_list_videos(access_token="act.x", business_id="b")
    assert type(excinfo.value) is exc_type
    assert (excinfo.value.code, excinfo.value.log_id) == (str(code), "REQ9")


def test_business_http_failures() -> None:
    with pytest.raises(TikTokRateLimited):
        _client(lambda r: httpx.Response(429)).business_list_videos(
            access_token="a", business_id="b"
        )
    with pytest.raises(TikTokUnavailable):
        _client(lambda r: httpx.Response(500, text="oops")).business_list_videos(
            access_token="a", business_id="b"
        )


@pytest.mark.parametrize(
    ("status", "exc_type", "code"),
    [
        (403, TikTokUploadError, "upload_url_expired"),
        (416, TikTokUploadError, "range_mismatch"),
        (502, TikTokUnavailable, "upload_failed"),
        (400, TikTokUploadError, "http_400"),
    ],
)
def test_upload_statuses(status: int, exc_type: type[TikTokError], code: str) -> None:
    client = _client(lambda request: httpx.Response(status))
    with pytest.raises(exc_type) as excinfo:
        client.upload_chunk(
            upload_url="http://mock.test/video/?upload_id=1&upload_token=t",
            data=b"abc", start=0, end_inclusive=2, total=3,
        )  # fmt: skip
    assert excinfo.value.code == code


def test_upload_chunk_validates_range_locally() -> None:
    client = _client(lambda request: httpx.Response(201))
    with pytest.raises(ValueError):
        client.upload_chunk(upload_url="http://mock.test/video/", data=b"ab", start=0,
                            end_inclusive=5, total=6)  # fmt: skip


def test_tokens_never_reach_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tiktok_client")
    secret = "act.SUPERSECRET"
    for responder in (_v2(401, "access_token_invalid"), _v2(200, "ok")):
        with contextlib.suppress(TikTokError):
            _client(responder).query_creator_info(access_token=secret)
    with pytest.raises(TikTokUploadError):
        _client(lambda r: httpx.Response(403)).upload_chunk(
            upload_url="http://mock.test/video/?upload_id=1&upload_token=TOKSECRET",
            data=b"a", start=0, end_inclusive=0, total=1,
        )  # fmt: skip
    assert caplog.records
    assert "SUPERSECRET" not in caplog.text and "TOKSECRET" not in caplog.text


def test_every_request_carries_the_configured_timeout() -> None:
    seen: list[dict[str, float | None]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"data": {}, "error": {"code": "ok"}})

    client = TikTokClient(
        TikTokConfig.for_simulator("http://mock.test", timeout_seconds=3.5),
        transport=httpx.MockTransport(respond),
    )
    client.query_creator_info(access_token="act.x")
    assert seen[0] == {"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}


def test_user_messages_are_plain_sentences() -> None:
    errors = [
        TikTokPostingCapError(code="spam_risk_too_many_posts"),
        TikTokPostingCapError(code="something_new"),
        TikTokAuthError(),
        TikTokScopeError(),
        TikTokOAuthError(code="access_denied"),
        TikTokRateLimited(),
        TikTokPrivacyLevelMismatch(),
        TikTokInvalidRequest(code="url_ownership_unverified"),
        TikTokUnavailable(),
        TikTokUploadError(),
    ]
    messages = [e.user_message for e in errors]
    assert messages[0] == (
        "TikTok limits how many posts a creator can publish per day; this account has "
        "reached it. Try again tomorrow."
    )
    assert len(set(messages)) == len(messages)
    assert all(m.endswith(".") and "_" not in m for m in messages)


def test_success_payload_parsing_is_defensive() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        data = {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7300001],
                "uploaded_bytes": "12", "downloaded_bytes": None}  # fmt: skip
        return httpx.Response(200, json={"data": data, "error": {"code": "ok", "log_id": "x"}})

    status = _client(respond).fetch_publish_status(access_token="a", publish_id="p")
    assert status.publicly_available_post_ids == ("7300001",)
    assert (status.uploaded_bytes, status.downloaded_bytes) == (12, 0)
    assert json.dumps(status.publicly_available_post_ids)


def test_business_scope_refusal_names_the_scope() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 40130, "message": "scope", "request_id": "R"})

    with pytest.raises(TikTokScopeError) as excinfo:
        _client(respond).business_list_comments(access_token="act.x", business_id="b", video_id="1")
    assert "comment.list" in excinfo.value.user_message


def test_a_refused_chunk_plan_ends_with_tiktoks_words_and_what_to_do() -> None:
    from tiktok_client import ChunkPlan, PostInfo

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "data": {},
                "error": {
                    "code": "invalid_param",
                    "message": "The chunk size is invalid",
                    "log_id": "L",
                },
            },
        )

    with pytest.raises(TikTokInvalidRequest) as excinfo:
        _client(respond).init_video_post(
            access_token="act.x",
            post_info=PostInfo(title="t", privacy_level="SELF_ONLY"),
            chunk_plan=ChunkPlan(
                video_size=100_000_000, chunk_size=50_000_000, total_chunk_count=2
            ),
        )
    message = excinfo.value.user_message
    assert "The chunk size is invalid" in message and "64 MB" in message

"""TikTok's Retry-After is kept per access token and endpoint in the shared rate budget:
after a 429 nothing calls that token and endpoint again before it elapses. Also: an answer
TikTok sent but we cannot read, and a budget store that is down, are distinct errors."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tiktok_client import TikTokClient, TikTokConfig, TikTokRateLimited
from tiktok_client.errors import (
    TikTokRequestNotSent,
    TikTokResponseUnreadable,
    TikTokUnavailable,
)
from tiktok_client.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter

USER_INFO = "/v2/user/info/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
OK = {"data": {"user": {"open_id": "o"}}, "error": {"code": "ok", "message": "", "log_id": "L"}}
LIMITED = {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "", "log_id": "L"}}


class FakeTikTok:
    """Answers 429 with `retry_after` the first time each path is called, then OK."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after
        self.calls: Counter[tuple[str, str]] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.path, request.headers["Authorization"])
        self.calls[key] += 1
        if self.calls[key] == 1:
            return httpx.Response(429, json=LIMITED, headers={"Retry-After": self.retry_after})
        return httpx.Response(200, json=OK)


def _client(fake: FakeTikTok, limiter: RateLimiter) -> TikTokClient:
    return TikTokClient(
        TikTokConfig.for_simulator("http://mock.test"),
        transport=httpx.MockTransport(fake),
        rate_limiter=limiter,
    )


def _redis_limiter() -> RedisRateLimiter:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    return RedisRateLimiter(url, key_prefix=f"test-holds-{time.monotonic_ns()}")


@pytest.mark.parametrize("make_limiter", [InMemoryRateLimiter, _redis_limiter])
def test_after_a_429_the_same_token_and_endpoint_wait_for_retry_after(
    make_limiter: Callable[[], RateLimiter],
) -> None:
    fake = FakeTikTok(retry_after="1")
    limiter = make_limiter()
    client = _client(fake, limiter)

    with pytest.raises(TikTokRateLimited) as first:
        client.get_user_info(access_token="act.a", fields=["open_id"])
    assert not first.value.local and first.value.retry_after == 1.0

    # Called again at once: refused here, TikTok never sees it.
    with pytest.raises(TikTokRateLimited) as again:
        client.get_user_info(access_token="act.a", fields=["open_id"])
    assert again.value.local and 0 < again.value.retry_after <= 1.0
    assert fake.calls[(USER_INFO, "Bearer act.a")] == 1

    # Another token, or another endpoint of the same token, is not held: they reach TikTok.
    with pytest.raises(TikTokRateLimited) as other_token:
        client.get_user_info(access_token="act.b", fields=["open_id"])
    assert not other_token.value.local
    with pytest.raises(TikTokRateLimited) as other_endpoint:
        client.query_creator_info(access_token="act.a")
    assert not other_endpoint.value.local
    assert fake.calls[(CREATOR_INFO, "Bearer act.a")] == 1

    time.sleep(1.05)
    assert client.get_user_info(access_token="act.a", fields=["open_id"]).open_id == "o"
    assert fake.calls[(USER_INFO, "Bearer act.a")] == 2


def test_the_hold_is_shared_by_every_worker_through_redis() -> None:
    fake = FakeTikTok(retry_after="30")
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"test-shared-{time.monotonic_ns()}"
    worker_a = _client(fake, RedisRateLimiter(url, key_prefix=prefix))
    worker_b = _client(fake, RedisRateLimiter(url, key_prefix=prefix))
    with pytest.raises(TikTokRateLimited):
        worker_a.get_user_info(access_token="act.a", fields=["open_id"])
    with pytest.raises(TikTokRateLimited) as other_worker:
        worker_b.get_user_info(access_token="act.a", fields=["open_id"])
    assert other_worker.value.local and 29 < other_worker.value.retry_after <= 30
    assert fake.calls[(USER_INFO, "Bearer act.a")] == 1


def test_a_shorter_retry_after_never_shortens_a_hold() -> None:
    limiter = InMemoryRateLimiter()
    limiter.hold(access_token="t", endpoint="/e", seconds=30)
    limiter.hold(access_token="t", endpoint="/e", seconds=1)
    assert limiter.held_for(access_token="t", endpoint="/e") > 29
    shared = _redis_limiter()
    shared.hold(access_token="t", endpoint="/e", seconds=30)
    shared.hold(access_token="t", endpoint="/e", seconds=1)
    assert shared.held_for(access_token="t", endpoint="/e") > 29


def test_a_budget_store_that_is_down_means_the_request_was_never_sent() -> None:
    sent: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=OK)

    client = TikTokClient(
        TikTokConfig.for_simulator("http://mock.test"),
        transport=httpx.MockTransport(respond),
        # The shared budget's Redis is down (nothing listens on port 1).
        rate_limiter=RedisRateLimiter("redis://127.0.0.1:1/0", key_prefix="test-down"),
    )
    with pytest.raises(TikTokRequestNotSent) as excinfo:
        client.query_creator_info(access_token="act.a")
    assert excinfo.value.code == "rate_budget_unavailable"
    assert isinstance(excinfo.value, TikTokUnavailable)
    assert sent == []


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b"<html>upstream hiccup"), (200, b'{"data": {"publish_id": "v_pub_'), (504, b"")],
)
def test_an_answer_that_cannot_be_read_says_the_request_reached_tiktok(
    status: int, body: bytes
) -> None:
    client = TikTokClient(
        TikTokConfig.for_simulator("http://mock.test"),
        transport=httpx.MockTransport(lambda request: httpx.Response(status, content=body)),
        rate_limiter=InMemoryRateLimiter(),
    )
    with pytest.raises(TikTokResponseUnreadable) as excinfo:
        client.query_creator_info(access_token="act.a")
    assert excinfo.value.reached_tiktok and excinfo.value.http_status == status

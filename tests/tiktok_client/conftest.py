"""Fixtures: an in-process simulator mounted through httpx.WSGITransport and a client on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis

from tiktok_client import (
    ChunkPlan,
    InMemoryRateLimiter,
    NoRateLimiter,
    RedisRateLimiter,
    TikTokClient,
    TikTokConfig,
    TokenSet,
    pkce_pair,
)
from tiktok_client.ratelimit import RateLimiter
from tiktok_client.simulator import SimulatorApp, create_app
from tiktok_client.simulator.rules import BUSINESS_SCOPES

SIM_BASE = "http://sim.test"
REDIRECT_URI = "http://localhost:8000/connect/tiktok/callback/"

AVA = "sim-ava-public"
BEN = "sim-ben-private"
CAFE = "sim-cafe-business"
DANCE = "sim-dance-business"
QUIET = "sim-quiet-chef"
PAUSED = "sim-paused-poster"
LOGIN_KIT_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
)


class RecordingTransport(httpx.BaseTransport):
    """Keeps every request so tests can assert wire shapes."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    def last(self, path: str) -> httpx.Request:
        matching = [r for r in self.requests if r.url.path == path]
        assert matching, f"no request to {path}"
        return matching[-1]


@pytest.fixture
def sim() -> SimulatorApp:
    return create_app(moderation_delay=10.0)


@pytest.fixture
def transport(sim: SimulatorApp) -> RecordingTransport:
    return RecordingTransport(httpx.WSGITransport(app=sim))


@pytest.fixture
def config() -> TikTokConfig:
    # The Login Kit app may only ask for consumer scopes (Corrections "Two apps").
    return TikTokConfig.for_simulator(SIM_BASE, redirect_uri=REDIRECT_URI, scopes=LOGIN_KIT_SCOPES)


@pytest.fixture
def tiktok(config: TikTokConfig, transport: RecordingTransport) -> Iterator[TikTokClient]:
    """Client without a local budget, so TikTok's own limits are observable."""
    with TikTokClient(config, transport=transport, rate_limiter=NoRateLimiter()) as client:
        yield client


@pytest.fixture
def browser(transport: RecordingTransport) -> Iterator[httpx.Client]:
    """A plain HTTP client standing in for the user's browser on the consent page."""
    with httpx.Client(transport=transport, base_url=SIM_BASE) as client:
        yield client


ConnectFn = Callable[..., TokenSet]


@pytest.fixture
def connect(tiktok: TikTokClient, browser: httpx.Client) -> ConnectFn:
    """Run the real Login Kit flow for a seeded creator and return its tokens."""

    def _connect(open_id: str, scopes: tuple[str, ...] | None = None) -> TokenSet:
        verifier, challenge = pkce_pair()
        url = tiktok.authorize_url(state="s1", code_challenge=challenge, scopes=scopes)
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        response = browser.post("/v2/auth/authorize/", data={**query, "open_id": open_id})
        assert response.status_code == 302, response.text
        code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
        return tiktok.exchange_code(code=code, code_verifier=verifier)

    return _connect


@pytest.fixture
def token_for(sim: SimulatorApp) -> Callable[..., str]:
    """Mint an access token directly in the simulator (skips the consent page)."""

    def _token(open_id: str, scopes: tuple[str, ...] | None = None) -> str:
        with sim.state.lock:
            issued = sim.state.issue_tokens(
                open_id=open_id,
                scopes=scopes or LOGIN_KIT_SCOPES,
            )
        return str(issued["access_token"])

    return _token


@pytest.fixture
def http(sim: SimulatorApp) -> Iterator[httpx.Client]:
    """Plain HTTP on the simulator, for the contract tests (no product code in between)."""
    from tests.tiktok_client.contract import raw_client

    with raw_client(sim) as client:
        yield client


def upload_all(client: TikTokClient, *, upload_url: str, data: bytes, chunk_plan: ChunkPlan) -> int:
    """Send a whole in-memory video chunk by chunk, as the publishing pipeline does from disk."""
    status = 0
    for start, end in chunk_plan.ranges():
        status = client.upload_chunk(
            upload_url=upload_url,
            data=data[start : end + 1],
            start=start,
            end_inclusive=end,
            total=chunk_plan.video_size,
        )
    return status


# Rate budgets shared by workers (test_app_budget.py, test_business_account_budget.py).


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable")
    return url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in Redis, its keys deleted afterwards."""
    prefix = f"test:budget:{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(redis_url())
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def in_memory_workers(_prefix: str) -> tuple[RateLimiter, RateLimiter]:
    shared = InMemoryRateLimiter()  # one process: its threads share one limiter
    return shared, shared


def redis_workers(prefix: str) -> tuple[RateLimiter, RateLimiter]:
    url = redis_url()  # two processes, one Redis
    return RedisRateLimiter(url, key_prefix=prefix), RedisRateLimiter(url, key_prefix=prefix)


#: Parametrizes `make_workers` with both kinds of shared limiter.
BOTH_LIMITERS = pytest.mark.parametrize(
    "make_workers", [in_memory_workers, redis_workers], ids=["in_memory", "redis"]
)
Workers = Callable[[str], tuple[RateLimiter, RateLimiter]]


def business_token(sim: SimulatorApp, creator: str) -> tuple[str, str]:
    """(access token, business_id) of a Business token with every Business scope."""
    with sim.state.lock:
        data = sim.state.issue_business_tokens(
            creator_id=creator, scopes=tuple(sorted(BUSINESS_SCOPES))
        )
    return str(data["access_token"]), str(data["open_id"])


def business_get_account(client: TikTokClient, token: tuple[str, str]) -> None:
    client.business_get_account(access_token=token[0], business_id=token[1], fields=["username"])

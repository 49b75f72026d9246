"""Fault injection, request counters and rate limiting (client-side and TikTok's own)."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.media_samples import mp4
from tests.tiktok_client.conftest import AVA, CAFE, SIM_BASE, RecordingTransport, upload_all
from tiktok_client import (
    InMemoryRateLimiter,
    PostInfo,
    RedisRateLimiter,
    TikTokClient,
    TikTokConfig,
    TikTokRateLimited,
    TikTokUnavailable,
    plan_chunks,
)
from tiktok_client.simulator import SimulatorApp

TokenFor = Callable[..., str]
INIT = "/v2/post/publish/video/init/"
POST = PostInfo(title="t", privacy_level="PUBLIC_TO_EVERYONE")


def _init(tiktok: TikTokClient, token: str) -> str:
    return tiktok.init_video_post(
        access_token=token, post_info=POST, chunk_plan=plan_chunks(10)
    ).publish_id


def test_http_500_fault(tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp) -> None:
    token = token_for(AVA)
    sim.faults.add(INIT, "http_500", count=2)
    for _ in range(2):
        with pytest.raises(TikTokUnavailable) as excinfo:
            _init(tiktok, token)
        assert (excinfo.value.code, excinfo.value.http_status) == ("internal_error", 500)
        assert excinfo.value.retryable and excinfo.value.log_id
    assert _init(tiktok, token)
    assert sim.counters.requests_to(INIT) == 3
    assert sim.counters.successes(INIT, AVA) == 1
    assert len(sim.state.publishes) == 1


def test_http_429_fault_sets_retry_after(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.faults.add(INIT, "http_429", seconds=12)
    with pytest.raises(TikTokRateLimited) as excinfo:
        _init(tiktok, token_for(AVA))
    assert (excinfo.value.retry_after, excinfo.value.http_status) == (12.0, 429)
    assert not excinfo.value.local


def test_business_faults(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tiktok_client")
    path = "/open_api/v1.3/business/video/list/"
    sim.faults.add(path, "http_429")
    sim.faults.add(path, "http_500")
    with sim.state.lock:  # Business calls need the API for Business app's token and open_id
        issued = sim.state.issue_business_tokens(
            creator_id=CAFE, scopes=("video.list", "video.insights")
        )
    token, cafe = str(issued["access_token"]), str(issued["open_id"])
    with pytest.raises(TikTokRateLimited) as excinfo:
        tiktok.business_list_videos(access_token=token, business_id=cafe)
    assert (excinfo.value.code, excinfo.value.http_status) == ("40100", 200)
    with pytest.raises(TikTokUnavailable):
        tiktok.business_list_videos(access_token=token, business_id=cafe)
    # A rate limit is expected and handled by the caller: logged, but not as a warning.
    failures = {
        r.getMessage().split("failed: ")[1][:5]: r.levelno
        for r in caplog.records
        if "failed:" in r.getMessage()
    }
    assert failures["40100"] == logging.INFO
    assert max(failures.values()) == logging.WARNING  # the 500 still warns
    assert tiktok.business_list_videos(access_token=token, business_id=cafe).videos


def test_timeout_fault_in_process(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.faults.add(INIT, "timeout")
    with pytest.raises(TikTokUnavailable) as excinfo:
        _init(tiktok, token_for(AVA))
    assert excinfo.value.code == "timeout"
    assert sim.state.publishes == {}  # a timed-out request was not processed


def test_drop_after_accept_performs_the_action(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.faults.add(INIT, "drop_after_accept")
    with pytest.raises(TikTokUnavailable) as excinfo:
        _init(tiktok, token_for(AVA))
    assert excinfo.value.code == "malformed_response"
    # TikTok created the publish even though we never saw its id.
    assert sim.counters.successes(INIT, AVA) == 1
    (publish,) = sim.state.publishes.values()
    assert publish.open_id == AVA


def test_malformed_fault(tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp) -> None:
    sim.faults.add("*", "malformed")
    with pytest.raises(TikTokUnavailable):
        tiktok.get_user_info(access_token=token_for(AVA), fields=["open_id"])
    assert tiktok.get_user_info(access_token=token_for(AVA), fields=["open_id"]).open_id == AVA


def test_latency_fault_and_global_latency(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    sim.faults.add("/v2/user/info/", "latency", seconds=0.2)
    started = time.perf_counter()
    tiktok.get_user_info(access_token=token, fields=["open_id"])
    assert time.perf_counter() - started >= 0.2
    sim.faults.latency_seconds = 0.05
    started = time.perf_counter()
    tiktok.get_user_info(access_token=token, fields=["open_id"])
    tiktok.get_user_info(access_token=token, fields=["open_id"])
    assert time.perf_counter() - started >= 0.1


def test_faults_can_target_one_creator(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    sim.faults.add(INIT, "http_500", count=None, open_id=CAFE)
    assert _init(tiktok, token_for(AVA))
    with pytest.raises(TikTokUnavailable):
        _init(tiktok, token_for(CAFE))
    with pytest.raises(TikTokUnavailable):
        _init(tiktok, token_for(CAFE))
    sim.faults.clear()
    assert _init(tiktok, token_for(CAFE))


def test_token_revocation_by_the_simulator(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp, transport: RecordingTransport
) -> None:
    token = token_for(AVA)
    control = httpx.Client(transport=transport, base_url=SIM_BASE)
    assert control.post("/_sim/tokens/revoke", json={"open_id": AVA}).json()["revoked"] == 2
    with pytest.raises(Exception) as excinfo:
        tiktok.query_creator_info(access_token=token)
    assert type(excinfo.value).__name__ == "TikTokAuthError"


def test_http_control_endpoints(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp, transport: RecordingTransport
) -> None:
    control = httpx.Client(transport=transport, base_url=SIM_BASE)
    issued = control.post("/_sim/tokens/issue", json={"open_id": CAFE}).json()["token"]
    token = issued["access_token"]
    fault = control.post("/_sim/faults", json={"endpoint": INIT, "kind": "http_500", "count": 1})
    assert fault.json()["fault"]["remaining"] == 1
    assert control.post("/_sim/faults", json={"kind": "nope"}).status_code == 400
    with pytest.raises(TikTokUnavailable):
        _init(tiktok, token)
    publish_id = _init(tiktok, token)

    counters = control.get("/_sim/counters").json()
    assert counters["requests"][INIT] == 2
    assert counters["responses"][INIT] == {"500": 1, "200": 1}
    assert counters["succeeded"][INIT] == {CAFE: 1}
    assert counters["by_open_id"][CAFE][INIT] == 2

    before = control.get("/_sim/clock").json()["now"]
    assert control.post("/_sim/clock/advance", json={"seconds": 3600}).json()["now"] >= (
        before + 3600
    )
    assert control.post("/_sim/moderation_delay", json={"seconds": 120}).json()["seconds"] == 120
    assert sim.settings.moderation_delay == 120
    assert control.post("/_sim/config", json={"token_profile": "A"}).json()["ok"]
    assert control.post("/_sim/config", json={"bogus": 1}).status_code == 400
    creators = control.get("/_sim/creators").json()["creators"]
    assert {c["username"] for c in creators} >= {"ava.creates", "corner.cafe"}
    state = control.get("/_sim/state").json()
    assert publish_id in state["publishes"]
    assert control.post("/_sim/latency", json={"seconds": 0}).json()["ok"]

    assert control.post("/_sim/reset").json()["ok"]
    assert sim.state.publishes == {}
    assert control.get("/_sim/counters").json()["requests"] == {}
    assert sim.settings.token_profile == "B"


def test_http_inbox_resolution(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp, transport: RecordingTransport
) -> None:
    token = token_for(CAFE)
    data = mp4(1000)
    plan = plan_chunks(len(data))
    init = tiktok.init_inbox_video(access_token=token, chunk_plan=plan)
    assert init.upload_url
    upload_all(tiktok, upload_url=init.upload_url, data=data, chunk_plan=plan)
    sim.clock.advance(5)
    control = httpx.Client(transport=transport, base_url=SIM_BASE)
    resolved = control.post(
        "/_sim/inbox/resolve", json={"publish_id": init.publish_id, "action": "post"}
    ).json()
    assert resolved["status"] == "PUBLISH_COMPLETE" and resolved["video_id"]


# ---------------------------------------------------------------------- rate limiting


def test_simulator_enforces_six_inits_per_minute(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    for _ in range(6):
        _init(tiktok, token)
    with pytest.raises(TikTokRateLimited) as excinfo:
        _init(tiktok, token)
    assert excinfo.value.http_status == 429 and excinfo.value.code == "rate_limit_exceeded"
    assert 1 <= excinfo.value.retry_after <= 61
    # Per token: another token of the same creator has its own window.
    assert _init(tiktok, token_for(AVA))
    sim.clock.advance(60)
    assert _init(tiktok, token)


def test_simulator_status_window_is_thirty(
    tiktok: TikTokClient, token_for: TokenFor, sim: SimulatorApp
) -> None:
    token = token_for(AVA)
    publish_id = _init(tiktok, token)
    for _ in range(30):
        tiktok.fetch_publish_status(access_token=token, publish_id=publish_id)
    with pytest.raises(TikTokRateLimited):
        tiktok.fetch_publish_status(access_token=token, publish_id=publish_id)


def test_client_budget_raises_before_sending(
    config: TikTokConfig, transport: RecordingTransport, token_for: TokenFor, sim: SimulatorApp
) -> None:
    fake_now = [1000.0]
    limiter = InMemoryRateLimiter(clock=lambda: fake_now[0])
    client = TikTokClient(config, transport=transport, rate_limiter=limiter)
    token = token_for(AVA)
    for _ in range(6):
        _init(client, token)
    with pytest.raises(TikTokRateLimited) as excinfo:
        _init(client, token)
    assert excinfo.value.local and excinfo.value.http_status is None
    assert 59 < excinfo.value.retry_after <= 60
    assert sim.counters.requests_to(INIT) == 6  # the 7th never reached TikTok
    # Other families and other tokens have their own budgets.
    client.query_creator_info(access_token=token)
    _init(client, token_for(CAFE))
    fake_now[0] += 60.5
    sim.clock.advance(61)
    _init(client, token)
    assert sim.counters.requests_to(INIT) == 8


def test_in_memory_limiter_families() -> None:
    limiter = InMemoryRateLimiter(clock=lambda: 0.0)
    assert all(limiter.acquire(access_token="a", family="status") == 0 for _ in range(30))
    assert limiter.acquire(access_token="a", family="status") > 0
    assert all(limiter.acquire(access_token="a", family="creator_info") == 0 for _ in range(20))
    assert limiter.acquire(access_token="a", family="creator_info") > 0
    assert all(limiter.acquire(access_token="a", family="display") == 0 for _ in range(600))
    assert limiter.acquire(access_token="a", family="display") > 0
    assert limiter.acquire(access_token="a", family="unlisted") == 0


@pytest.fixture
def redis_limiters() -> Iterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable")
    prefix = f"test:tiktok:{uuid.uuid4().hex}"
    yield RedisRateLimiter(url, key_prefix=prefix), RedisRateLimiter(url, key_prefix=prefix)
    connection = redis.Redis.from_url(url)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def test_redis_limiter_shares_budget_between_workers(
    redis_limiters: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    worker_a, worker_b = redis_limiters
    granted = [
        (worker_a if i % 2 else worker_b).acquire(access_token="act.shared", family="init")
        for i in range(6)
    ]
    assert granted == [0.0] * 6
    wait = worker_a.acquire(access_token="act.shared", family="init")
    assert 0 < wait <= 60
    assert worker_b.acquire(access_token="act.shared", family="init") > 0
    assert worker_b.acquire(access_token="act.other", family="init") == 0.0
    worker_a.reset(access_token="act.shared", family="init")
    assert worker_b.acquire(access_token="act.shared", family="init") == 0.0


def test_redis_limiter_window_slides() -> None:
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable")
    limiter = RedisRateLimiter(
        url, {"init": 2}, window_seconds=0.3, key_prefix=f"test:tiktok:{uuid.uuid4().hex}"
    )
    assert limiter.acquire(access_token="t", family="init") == 0.0
    assert limiter.acquire(access_token="t", family="init") == 0.0
    assert limiter.acquire(access_token="t", family="init") > 0
    time.sleep(0.35)
    assert limiter.acquire(access_token="t", family="init") == 0.0


def test_redis_keys_do_not_contain_tokens(
    redis_limiters: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    import redis

    worker, _ = redis_limiters
    worker.acquire(access_token="act.VERYSECRET", family="init")
    connection = redis.Redis.from_url("redis://127.0.0.1:6379/15", decode_responses=True)
    keys = [str(k) for k in connection.keys("test:*")]
    assert keys and not any("VERYSECRET" in k for k in keys)


def test_redis_admit_checks_the_hold_and_takes_a_slot_in_one_step(
    redis_limiters: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    worker_a, worker_b = redis_limiters
    endpoint = "/v2/post/publish/video/init/"
    admit = functools.partial(worker_a.admit, access_token="act.a", endpoint=endpoint)
    assert [admit(family="init") for _ in range(6)] == [(0.0, 0.0, 0.0)] * 6
    held, wait, _ = admit(family="init")
    assert held == 0.0 and 0 < wait <= 60  # the budget is spent, shared with worker b
    assert 0 < worker_b.acquire(access_token="act.a", family="init") <= 60
    assert admit(family=None) == (0.0, 0.0, 0.0)  # an endpoint without a budget

    worker_b.hold(access_token="act.b", endpoint=endpoint, seconds=30)
    held, wait, _ = worker_a.admit(access_token="act.b", endpoint=endpoint, family="init")
    assert 29 < held <= 30 and wait == 0.0
    # A running hold took no slot: all six are still there once it ends.
    worker_a._redis.delete(worker_a._hold_key("act.b", endpoint))
    granted = [
        worker_a.admit(access_token="act.b", endpoint=endpoint, family="init") for _ in range(6)
    ]
    assert granted == [(0.0, 0.0, 0.0)] * 6

"""The API for Business's per-account budget: about 40 calls a minute per account and endpoint
(fact sheet, Corrections "Business limits"; the simulator answers 40100 beyond it). The client
keeps it on our side, shared by every worker, keyed on the account (its business_id), so the
41st call of a minute is refused here and never reaches TikTok."""

from __future__ import annotations

import pytest

from tests.tiktok_client.conftest import (
    BOTH_LIMITERS,
    CAFE,
    DANCE,
    SIM_BASE,
    RecordingTransport,
    Workers,
    business_get_account,
    business_token,
)
from tiktok_client import (
    InMemoryRateLimiter,
    TikTokClient,
    TikTokConfig,
    TikTokRateLimited,
)
from tiktok_client.ratelimit import DEFAULT_LIMITS, business_family, limit_of
from tiktok_client.simulator import SimulatorApp

BUSINESS_GET = "/open_api/v1.3/business/get/"
COMMENT_LIST = "/open_api/v1.3/business/comment/list/"
PER_ACCOUNT = 40


def test_the_budget_is_tiktoks_and_each_endpoint_has_its_own() -> None:
    assert DEFAULT_LIMITS["business"] == PER_ACCOUNT
    assert business_family(BUSINESS_GET) != business_family(COMMENT_LIST)
    assert limit_of(DEFAULT_LIMITS, business_family(COMMENT_LIST)) == PER_ACCOUNT
    assert limit_of(
        {"business": 5, business_family(COMMENT_LIST): 2}, business_family(COMMENT_LIST)
    )
    assert limit_of(DEFAULT_LIMITS, "init") == 6
    assert limit_of(DEFAULT_LIMITS, None) is None
    assert limit_of(DEFAULT_LIMITS, "unknown") is None


@BOTH_LIMITERS
def test_the_41st_call_of_a_minute_is_refused_here_and_tiktok_never_sees_it(
    make_workers: Workers, redis_prefix: str, transport: RecordingTransport, sim: SimulatorApp
) -> None:
    limiter_a, limiter_b = make_workers(redis_prefix)
    config = TikTokConfig.for_simulator(SIM_BASE)
    worker_a = TikTokClient(config, transport=transport, rate_limiter=limiter_a)
    worker_b = TikTokClient(config, transport=transport, rate_limiter=limiter_b)
    cafe, dance = business_token(sim, CAFE), business_token(sim, DANCE)
    for i in range(PER_ACCOUNT):
        business_get_account(worker_a if i % 2 else worker_b, cafe)

    with pytest.raises(TikTokRateLimited) as refused:
        business_get_account(worker_a, cafe)
    assert refused.value.local and 0 < refused.value.retry_after <= 60
    # TikTok answered every call it received: none was over its limit.
    assert sim.counters.requests_to(BUSINESS_GET) == PER_ACCOUNT
    assert sim.counters.successes(BUSINESS_GET) == PER_ACCOUNT

    # Another endpoint of the same account, and the same endpoint of another account, pass.
    video_id = next(v.id for v in sim.state.videos.values() if v.open_id == CAFE)
    worker_b.business_list_comments(access_token=cafe[0], business_id=cafe[1], video_id=video_id)
    business_get_account(worker_b, dance)
    assert sim.counters.successes(COMMENT_LIST) == 1
    assert sim.counters.requests_to(BUSINESS_GET) == PER_ACCOUNT + 1


@BOTH_LIMITERS
def test_a_refreshed_token_does_not_start_the_accounts_minute_afresh(
    make_workers: Workers, redis_prefix: str, transport: RecordingTransport, sim: SimulatorApp
) -> None:
    client = TikTokClient(
        TikTokConfig.for_simulator(SIM_BASE),
        transport=transport,
        rate_limiter=make_workers(redis_prefix)[0],
    )
    first = business_token(sim, CAFE)
    for _ in range(PER_ACCOUNT):
        business_get_account(client, first)
    second = business_token(sim, CAFE)
    assert second[0] != first[0] and second[1] == first[1]  # a new token, the same account
    with pytest.raises(TikTokRateLimited) as refused:
        business_get_account(client, second)
    assert refused.value.local
    assert sim.counters.requests_to(BUSINESS_GET) == PER_ACCOUNT


def test_the_accounts_window_slides(transport: RecordingTransport, sim: SimulatorApp) -> None:
    now = [1000.0]
    client = TikTokClient(
        TikTokConfig.for_simulator(SIM_BASE),
        transport=transport,
        rate_limiter=InMemoryRateLimiter(clock=lambda: now[0]),
    )
    cafe = business_token(sim, CAFE)
    for _ in range(PER_ACCOUNT):
        business_get_account(client, cafe)
        now[0] += 1.0
    with pytest.raises(TikTokRateLimited) as refused:
        business_get_account(client, cafe)
    # The oldest call of the window leaves it 60 s after it was made.
    assert refused.value.retry_after == pytest.approx(60.0 - PER_ACCOUNT)
    now[0] += refused.value.retry_after + 0.01
    sim.clock.advance(61)
    business_get_account(client, cafe)
    assert sim.counters.successes(BUSINESS_GET) == PER_ACCOUNT + 1

"""The API for Business app's per-minute budget across all its accounts and endpoints (fact
sheet, Corrections "Business limits": ~600/min, 40100 beyond), kept on our side and shared by
every worker; background passes stop at their share of it, so people's actions find room."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from tests.tiktok_client.conftest import (
    AVA,
    BOTH_LIMITERS,
    CAFE,
    DANCE,
    SIM_BASE,
    RecordingTransport,
    Workers,
    business_get_account,
    business_token,
    redis_url,
)
from tiktok_client import (
    AppBudget,
    InMemoryRateLimiter,
    RedisRateLimiter,
    TikTokAppBudgetSpent,
    TikTokClient,
    TikTokConfig,
    TikTokRateLimited,
)
from tiktok_client.simulator import SimulatorApp

BUSINESS_GET = "/open_api/v1.3/business/get/"
COMMENT_LIST = "/open_api/v1.3/business/comment/list/"
# The simulator's app allows 10 a minute; background passes may fill 6 of them.
APP_LIMIT = 10
BACKGROUND_CEILING = 6


@pytest.fixture
def app_config() -> TikTokConfig:
    return TikTokConfig.for_simulator(
        SIM_BASE, business_app_rate_limit=APP_LIMIT, business_background_share=0.6
    )


@pytest.fixture
def limited_sim(sim: SimulatorApp) -> SimulatorApp:
    sim.settings.business_app_rate_limit = APP_LIMIT
    return sim


def _business_answers(sim: SimulatorApp) -> tuple[int, int]:
    """(requests, successes) over every Business endpoint, counted by the simulator."""
    counters = sim.counters
    paths = [path for path in list(counters.requests) if path.startswith("/open_api/v1.3/")]
    return (
        sum(counters.requests_to(path) for path in paths),
        sum(counters.successes(path) for path in paths),
    )


def test_the_default_budget_is_tiktoks_and_background_gets_most_of_it() -> None:
    config = TikTokConfig.for_simulator(SIM_BASE)
    assert (config.business_app_rate_limit, config.business_background_ceiling) == (600, 480)
    with pytest.raises(ValueError):
        TikTokConfig.for_simulator(SIM_BASE, business_app_rate_limit=0)
    with pytest.raises(ValueError):
        TikTokConfig.for_simulator(SIM_BASE, business_background_share=1.5)


@BOTH_LIMITERS
def test_two_workers_share_the_app_budget_across_accounts(
    make_workers: Workers,
    redis_prefix: str,
    app_config: TikTokConfig,
    transport: RecordingTransport,
    limited_sim: SimulatorApp,
) -> None:
    limiter_a, limiter_b = make_workers(redis_prefix)
    worker_a = TikTokClient(app_config, transport=transport, rate_limiter=limiter_a)
    worker_b = TikTokClient(app_config, transport=transport, rate_limiter=limiter_b)
    cafe, dance = business_token(limited_sim, CAFE), business_token(limited_sim, DANCE)
    for i in range(APP_LIMIT):
        business_get_account(worker_a if i % 2 else worker_b, cafe if i % 3 else dance)

    for worker, token in ((worker_a, dance), (worker_b, cafe)):
        with pytest.raises(TikTokAppBudgetSpent) as spent:
            business_get_account(worker, token)
        assert spent.value.local and 0 < spent.value.retry_after <= 60
    # Refused here: TikTok saw only what its budget allows, and answered every one of them.
    assert _business_answers(limited_sim) == (APP_LIMIT, APP_LIMIT)


@BOTH_LIMITERS
def test_background_stops_at_its_ceiling_and_people_still_pass(
    make_workers: Workers,
    redis_prefix: str,
    app_config: TikTokConfig,
    transport: RecordingTransport,
    limited_sim: SimulatorApp,
) -> None:
    limiter_a, limiter_b = make_workers(redis_prefix)
    sync_worker = TikTokClient(app_config, transport=transport, rate_limiter=limiter_a)
    web_worker = TikTokClient(app_config, transport=transport, rate_limiter=limiter_b)
    background = sync_worker.for_background()
    assert background.for_background() is background and sync_worker.for_background() is background
    cafe = business_token(limited_sim, CAFE)

    for _ in range(BACKGROUND_CEILING):
        business_get_account(background, cafe)
    with pytest.raises(TikTokAppBudgetSpent) as deferred:
        business_get_account(background, cafe)
    assert 0 < deferred.value.retry_after <= 60

    # People's actions have the rest of the app's minute, on any worker.
    for _ in range(APP_LIMIT - BACKGROUND_CEILING):
        business_get_account(web_worker, cafe)
    with pytest.raises(TikTokRateLimited) as limited:
        business_get_account(sync_worker, cafe)
    assert isinstance(limited.value, TikTokAppBudgetSpent)
    assert "Try again in a minute" in limited.value.user_message
    assert _business_answers(limited_sim) == (APP_LIMIT, APP_LIMIT)


def test_the_app_window_slides_and_login_kit_calls_are_not_in_it(
    app_config: TikTokConfig,
    transport: RecordingTransport,
    limited_sim: SimulatorApp,
    token_for: Callable[..., str],
) -> None:
    now = [1000.0]
    client = TikTokClient(
        app_config, transport=transport, rate_limiter=InMemoryRateLimiter(clock=lambda: now[0])
    )
    background = client.for_background()
    cafe = business_token(limited_sim, CAFE)
    ava = token_for(AVA)
    for _ in range(BACKGROUND_CEILING):
        client.get_user_info(access_token=ava, fields=["open_id"])  # Login Kit: another app
        business_get_account(background, cafe)
        now[0] += 1.0
    with pytest.raises(TikTokAppBudgetSpent) as deferred:
        business_get_account(background, cafe)
    # The oldest call of the window leaves it 60 s after it was made.
    assert deferred.value.retry_after == pytest.approx(60.0 - BACKGROUND_CEILING)
    now[0] += deferred.value.retry_after + 0.01
    limited_sim.clock.advance(61)
    business_get_account(background, cafe)


def test_a_refusal_takes_no_slot_of_the_other_budget(redis_prefix: str) -> None:
    # One step: when the app's window is full, the token's init budget keeps its slot (and
    # the other way round), in Redis as in memory.
    limiters: list[InMemoryRateLimiter | RedisRateLimiter] = [
        InMemoryRateLimiter(),
        RedisRateLimiter(redis_url(), key_prefix=redis_prefix),
    ]
    for limiter in limiters:
        app = AppBudget(app_id="app-1", ceiling=1)
        admit = functools.partial(limiter.admit, access_token="act.a", endpoint="/e")
        assert admit(family="init", app=app) == (0.0, 0.0, 0.0)
        held, wait, app_wait = admit(family="init", app=app)
        assert held == 0.0 and wait == 0.0 and 0 < app_wait <= 60
        # 1 of the token's 6 init slots is taken, not 2.
        granted = [limiter.acquire(access_token="act.a", family="init") for _ in range(6)]
        assert granted[:5] == [0.0] * 5 and granted[5] > 0
        # A token whose init budget is spent takes nothing from another app's window.
        other = AppBudget(app_id="app-2", ceiling=1)
        held, wait, app_wait = admit(family="init", app=other)
        assert wait > 0 and app_wait == 0.0
        assert admit(family=None, app=other) == (0.0, 0.0, 0.0)


def test_a_background_ceiling_below_a_fuller_window_waits_for_enough_calls_to_age_out() -> None:
    now = [0.0]
    limiter = InMemoryRateLimiter(clock=lambda: now[0])
    people, background = AppBudget("app", ceiling=4), AppBudget("app", ceiling=2)
    for _ in range(4):  # people fill the window, one call a second
        assert limiter.admit(access_token="t", endpoint="/e", family=None, app=people).app_wait == 0
        now[0] += 1.0
    # Background needs the window below 2: the third call (made at t=2) must age out.
    assert limiter.admit(
        access_token="t", endpoint="/e", family=None, app=background
    ).app_wait == pytest.approx(62.0 - now[0])


def test_every_business_endpoint_counts_in_the_one_app_window(
    app_config: TikTokConfig, transport: RecordingTransport, limited_sim: SimulatorApp
) -> None:
    client = TikTokClient(app_config, transport=transport, rate_limiter=InMemoryRateLimiter())
    token, business_id = business_token(limited_sim, CAFE)
    video_id = next(v.id for v in limited_sim.state.videos.values() if v.open_id == CAFE)
    for _ in range(APP_LIMIT):
        client.business_list_comments(
            access_token=token, business_id=business_id, video_id=video_id
        )
    with pytest.raises(TikTokAppBudgetSpent):
        business_get_account(client, (token, business_id))
    assert limited_sim.counters.requests_to(COMMENT_LIST) == APP_LIMIT
    assert limited_sim.counters.requests_to(BUSINESS_GET) == 0

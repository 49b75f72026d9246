"""Comment sync and analytics for 50,000 business accounts against TikTok's budgets, simulated.

    .venv/bin/python bench/sync_schedule_sim.py                # 50,000 accounts, one day
    BENCH_SIM_ACCOUNTS=5000 .venv/bin/python bench/sync_schedule_sim.py

No database and no HTTP: a discrete simulation minute by minute on the TikTok simulator's clock
(`tiktok_client.simulator.clock.SimClock`, advanced by hand) with the simulator's per-account
Business budget (`rules.BUSINESS_RATE_LIMIT_PER_MINUTE`, 40 calls/min per account and endpoint)
and the per-app budget of the fact sheet (docs: "about 600/min per app at the default level").

Two schedules are compared:
- polling as `conversations.sync` does it today (`POLL_TIERS`: videos younger than 2 days every
  55 s, younger than 14 days hourly, older daily; one hourly full pass): its call rate is computed
  from the same constants and set beside the app budget;
- webhook-led sync inside the budget: every comment's `comment.update` webhook marks its video
  (99% delivered, 1-10 s late); each minute the app budget left after analytics is spent on the
  videos waiting longest, one call reading up to 30 comments (one page), shared out like the
  built fan-out (`conversations.sync.accounts_due_for_comment_sync`): each account at most a
  quarter of the minute in round one, topped up to its own budget (36) with what is left;
  a sweep reads every video younger than 2 days every 6 h with a fixed share
  of the budget, which finds what lost webhooks hid.

Comment rates are realistic for small and mid-size business accounts: a log-normal rate per
account (median 12 comments a day at the evening peak, a long tail of viral accounts, quieter
at night: ~23 a day on average), one new video a
day per account, 55% of a video's comments on its first day, 25% on the second, the rest over
its first two weeks, and a day curve peaking in the evening. Reported: sync freshness (comment
written -> stored) p50/p99, API calls per hour against the budget, database rows per day.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, report

ACCOUNTS = int(os.environ.get("BENCH_SIM_ACCOUNTS", "50000"))
MINUTES = 24 * 60
WARMUP_MINUTES = 6 * 60
APP_CALLS_PER_MINUTE = 600  # fact sheet: Business API, default level, per app
PAGE = 30  # TikTok's comment page size (conversations.sync.PAGE_SIZE)
WEBHOOK_LOSS = 0.01
SWEEP_EVERY_MINUTES = 6 * 60
SWEEP_SHARE = 0.15  # of the app budget
VIDEOS_KEPT = 30  # one video a day (current_policy_calls_per_hour)
ANALYTICS_CALLS_PER_ACCOUNT_DAY = 3  # account insights, video list with insights, profile


def _day_curve(minute: int) -> float:
    """Relative comment activity by hour (UTC-ish audience): low at night, peak at 20:00."""
    hour = (minute // 60) % 24
    return 0.35 + 0.65 * math.exp(-(((hour - 20) % 24) ** 2) / 18) + 0.2 * (8 <= hour <= 18)


def current_policy_calls_per_hour(accounts: int) -> float:
    """What today's poll tiers ask of TikTok (conversations.sync constants), per hour."""
    from conversations import sync

    per_account = 0.0
    ages_days = range(VIDEOS_KEPT)
    for age in ages_days:
        age_td = __import__("datetime").timedelta(days=age + 0.5)
        interval = next(
            (iv for max_age, iv in sync.POLL_TIERS if age_td < max_age), sync.OLD_VIDEO_POLL
        )
        per_account += 3600 / interval.total_seconds()
    return per_account * accounts


def simulate(accounts: int, seed: int = 18) -> dict[str, float]:
    from conversations.sync import CALLS_PER_MINUTE
    from conversations.tasks import account_calls_per_minute
    from tiktok_client.simulator.clock import SimClock
    from tiktok_client.simulator.rules import BUSINESS_RATE_LIMIT_PER_MINUTE

    rng = random.Random(seed)
    clock = SimClock(speed=0.0, start=0.0)
    rates = [min(5000.0, rng.lognormvariate(math.log(12), 1.55)) for _ in range(accounts)]
    cumulative = list(itertools.accumulate(rates))
    total_rate = cumulative[-1]
    post_minute = [rng.randrange(MINUTES) for _ in range(accounts)]
    analytics_per_minute = accounts * ANALYTICS_CALLS_PER_ACCOUNT_DAY / MINUTES
    sweep_per_minute = APP_CALLS_PER_MINUTE * SWEEP_SHARE
    sync_budget = APP_CALLS_PER_MINUTE - analytics_per_minute - sweep_per_minute
    account_cap = account_calls_per_minute(int(sync_budget))
    # Our own per-account comment budget, below TikTok's per-account limit.
    account_limit = min(CALLS_PER_MINUTE, BUSINESS_RATE_LIMIT_PER_MINUTE)
    busiest_account_calls = 0
    due_read = 0

    # video key = (account, day index relative to the start: -14..1)
    pending: dict[tuple[int, int], list[float]] = {}  # comments waiting, by creation time
    hidden: dict[tuple[int, int], list[float]] = {}  # lost webhooks: found by a read
    queue: list[tuple[float, tuple[int, int]]] = []  # (oldest waiting comment, video)
    queued: set[tuple[int, int]] = set()
    freshness: list[float] = []
    calls_per_hour: dict[int, int] = {}
    comments_stored = 0
    sweep_cursor = 0

    def video_for(account: int, minute: int) -> tuple[int, int]:
        newest = (minute - post_minute[account]) // MINUTES  # the day of the newest video
        roll = rng.random()
        if roll < 0.55:
            return (account, newest)
        if roll < 0.80:
            return (account, newest - 1)
        return (account, newest - 2 - rng.randrange(12))

    def read(video: tuple[int, int], now: float, budget_left: int) -> int:
        """Read the video's waiting comments, one call per page; returns the calls made."""
        nonlocal comments_stored
        waiting = pending.pop(video, []) + hidden.pop(video, [])
        calls = max(1, min(budget_left, math.ceil(len(waiting) / PAGE)))
        served = waiting[: calls * PAGE]
        rest = waiting[calls * PAGE :]
        if rest:
            pending[video] = rest
            heapq.heappush(queue, (rest[0], video))
            queued.add(video)
        for created in served:
            if created >= WARMUP_MINUTES * 60:
                freshness.append(now - created)
        comments_stored += len(served)
        return calls

    total_minutes = WARMUP_MINUTES + MINUTES
    for minute in range(total_minutes):
        now = clock.advance(60.0) if minute else clock.now()
        # Arrivals this minute, with their webhooks.
        expected = total_rate / MINUTES * _day_curve(minute)
        count = int(expected) + (rng.random() < expected - int(expected))
        for _ in range(count):
            account = bisect.bisect_left(cumulative, rng.random() * total_rate)
            video = video_for(min(account, accounts - 1), minute)
            created = now + rng.random() * 60
            if rng.random() < WEBHOOK_LOSS:
                hidden.setdefault(video, []).append(created)
                continue
            arrives = created + rng.uniform(1, 10)
            pending.setdefault(video, []).append(created)
            if video not in queued and arrives <= now + 60:
                heapq.heappush(queue, (created, video))
                queued.add(video)
        # Webhook-led reads, oldest waiting first, within both budgets, shared out as
        # conversations.sync.accounts_due_for_comment_sync does: round one caps each account
        # at `account_cap` calls, round two tops the capped ones up to CALLS_PER_MINUTE.
        end_of_minute = now + 60
        spent = 0
        per_account: dict[int, int] = {}
        capped: list[tuple[int, int]] = []
        while queue and spent < sync_budget:
            _, video = heapq.heappop(queue)
            queued.discard(video)
            if video not in pending:
                continue
            due_read += 1
            used = per_account.get(video[0], 0)
            if used >= account_cap:
                capped.append(video)  # waits for round two, or for the next minute
                continue
            calls = read(video, end_of_minute, min(account_cap - used, int(sync_budget) - spent))
            per_account[video[0]] = used + calls
            spent += calls
        for video in capped:
            used = per_account.get(video[0], 0)
            if spent >= sync_budget or video not in pending or used >= account_limit:
                continue
            calls = read(video, end_of_minute, min(account_limit - used, int(sync_budget) - spent))
            per_account[video[0]] = used + calls
            spent += calls
        busiest_account_calls = max(busiest_account_calls, max(per_account.values(), default=0))
        # Put back the videos skipped for the per-account cap.
        for video, waiting in pending.items():
            if video not in queued and waiting:
                heapq.heappush(queue, (waiting[0], video))
                queued.add(video)
        # The sweep: every video younger than 2 days every SWEEP_EVERY_MINUTES, round robin.
        young = accounts * 2
        # The sweep's pace: every young video every SWEEP_EVERY_MINUTES, but never more than
        # its share of the budget (then a sweep round simply takes longer).
        per_minute = min(young / SWEEP_EVERY_MINUTES, sweep_per_minute)
        sweep_calls = 0
        for _ in range(int(per_minute) + (rng.random() < per_minute - int(per_minute))):
            index = sweep_cursor % young
            sweep_cursor += 1
            account = index // 2
            newest = (minute - post_minute[account]) // MINUTES
            video = (account, newest - index % 2)
            sweep_calls += read(video, end_of_minute, 1)
        if minute >= WARMUP_MINUTES:
            hour = (minute - WARMUP_MINUTES) // 60
            calls_per_hour[hour] = (
                calls_per_hour.get(hour, 0) + spent + sweep_calls + round(analytics_per_minute)
            )
    measured_comments = sum(1 for f in freshness)
    video_snapshots = accounts * (30 + 48)  # a daily row per video kept, hourly rows at < 48 h
    rows_per_day = measured_comments + accounts + video_snapshots
    return {
        "p50": percentile(freshness, 50),
        "p99": percentile(freshness, 99),
        "calls_per_hour_max": max(calls_per_hour.values()),
        "calls_per_hour_mean": sum(calls_per_hour.values()) / max(1, len(calls_per_hour)),
        "comments_per_day": measured_comments,
        "rows_per_day": rows_per_day,
        "video_snapshots": video_snapshots,
        "account_cap": account_cap,
        "busiest_account_calls": busiest_account_calls,
        "due_videos_read_per_minute": due_read / total_minutes,
    }


def main() -> None:
    started = time.perf_counter()
    budget_per_hour = APP_CALLS_PER_MINUTE * 60
    polling = current_policy_calls_per_hour(ACCOUNTS)
    fits = int(budget_per_hour / (polling / ACCOUNTS))
    print(
        f"{ACCOUNTS:,} business accounts, one simulated day after {WARMUP_MINUTES // 60} h warm-up"
    )
    print(
        f"today's poll tiers would need {polling:,.0f} calls/hour; the app budget is "
        f"{budget_per_hour:,} (fits {fits:,} accounts)"
    )
    result = simulate(ACCOUNTS)
    print(
        f"webhook-led, budgeted: freshness p50 {result['p50']:.0f} s, p99 {result['p99']:.0f} s; "
        f"calls/hour mean {result['calls_per_hour_mean']:,.0f}, peak "
        f"{result['calls_per_hour_max']:,.0f} of {budget_per_hour:,}; "
        f"{result['comments_per_day']:,.0f} comments/day stored; database rows/day "
        f"{result['rows_per_day']:,.0f} (comments + {ACCOUNTS:,} account snapshots + "
        f"{result['video_snapshots']:,.0f} video snapshots)"
    )
    print(
        f"per-account cap {result['account_cap']} calls in round one; the busiest account "
        f"took {result['busiest_account_calls']} calls in one minute; the fan-out read "
        f"{result['due_videos_read_per_minute']:,.0f} due videos a minute on average (the old "
        f"aggregate read every video kept: {ACCOUNTS * VIDEOS_KEPT:,})"
    )
    print(f"simulated in {time.perf_counter() - started:.0f}s")
    report(
        name=f"comment sync freshness p50, {ACCOUNTS:,} accounts (simulated)",
        value=result["p50"],
        unit="s",
        baseline_name="today's 55 s poll interval for new videos",
        baseline_value=55.0,
    )
    report(
        name=f"comment sync freshness p99, {ACCOUNTS:,} accounts (simulated)",
        value=result["p99"],
        unit="s",
        baseline_name="today's 55 s poll interval for new videos",
        baseline_value=55.0,
    )
    report(
        name=f"TikTok calls per hour at peak, {ACCOUNTS:,} accounts (simulated)",
        value=result["calls_per_hour_max"],
        unit="calls/h",
        baseline_name="per-app budget (600/min)",
        baseline_value=budget_per_hour,
        note=f"today's poll tiers: {polling:,.0f} calls/h (fits {fits:,} accounts)",
    )
    report(
        name=f"database rows per day, {ACCOUNTS:,} accounts (simulated)",
        value=result["rows_per_day"],
        unit="rows",
        baseline_name="comments stored per day",
        baseline_value=result["comments_per_day"],
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "later.settings")
    os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
    import django

    django.setup()
    main()

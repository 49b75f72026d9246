"""Best-time-to-post heatmap over 2 years of snapshots for 50 accounts, in SQL.

    .venv/bin/python bench/best_times.py
    BENCH_BEST_TIMES_DB=later_bench_bt_mine BENCH_KEEP_DB=1 .venv/bin/python bench/best_times.py

Seeds a throwaway PostgreSQL database with one workspace, 50 Business accounts, 730 days of
daily account rows (each with 24 hours of `audience_activity`), one video per account per day
and four snapshots per video (1 h, 24 h, 7 d, 30 d), with each video's views at 24 h stored
as the snapshot writer stores them. Measures `best_times_build` for the whole
workspace and for one account, their query counts, and `best_times_suggest`, beside a floor
measured in the same run: one plain aggregate scan over the same video snapshots.

The time budget: each of the three answers within BUDGET_MS (the best-times page and the
composer's suggestions wait for it), reported as within or OVER beside the ratio to the floor.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import drop_database, fresh_database, median, report, setup_django

#: Its own database (dropped with FORCE when the run starts): give each concurrent run a name.
DB_NAME = os.environ.get("BENCH_BEST_TIMES_DB", "later_bench_best_times")
ACCOUNTS = 50
DAYS = 730
RUNS = 5
#: Query count the selectors promise whatever the history length.
MAX_QUERIES = 3
#: Time budget for each answer (median of RUNS), whole workspace included.
BUDGET_MS = 1000.0


def seed() -> str:
    from accounts.models import TikTokAccount, TikTokVideo, User
    from accounts.services import workspace_create
    from analytics.models import AccountDailySnapshot, VideoSnapshot
    from analytics.services import video_views_24h_settle

    user = User.objects.create_user("bench@example.com", "bench-password")
    ws = workspace_create(owner=user, name="Bench", time_zone="Europe/Paris")
    rng = random.Random(17)
    today = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=DAYS)
    for index in range(ACCOUNTS):
        account = TikTokAccount.objects.create(
            workspace=ws,
            open_id=f"bench-{index}",
            username=f"bench{index}",
            account_type="business",
            scopes=["video.list", "user.insights"],
        )
        days = [start.date() + dt.timedelta(days=offset) for offset in range(DAYS)]
        AccountDailySnapshot.objects.bulk_create(
            [
                AccountDailySnapshot(
                    workspace=ws,
                    account=account,
                    date=day,
                    followers=1000 + offset * 3,
                    video_views=rng.randint(500, 5000),
                    audience_activity=[rng.randint(10, 400) for _hour in range(24)],
                )
                for offset, day in enumerate(days)
            ],
            batch_size=2000,
        )
        videos = TikTokVideo.objects.bulk_create(
            [
                TikTokVideo(
                    workspace=ws,
                    account=account,
                    video_id=f"{index}-{offset}",
                    posted_at=start + dt.timedelta(days=offset, hours=rng.randint(6, 22)),
                    view_count=rng.randint(100, 100_000),
                )
                for offset in range(DAYS)
            ],
            batch_size=2000,
        )
        snapshots = []
        for item in videos:
            views = rng.randint(100, 50_000)
            for after, factor in ((1, 0.1), (24, 1.0), (24 * 7, 1.6), (24 * 30, 1.9)):
                at = item.posted_at + dt.timedelta(hours=after, minutes=15)
                snapshots.append(
                    VideoSnapshot(
                        workspace=ws,
                        video=item,
                        bucket_at=at.replace(minute=0),
                        captured_at=at,
                        date=at.date(),
                        views=int(views * factor),
                    )
                )
        VideoSnapshot.objects.bulk_create(snapshots, batch_size=5000)
        # What the snapshot writer stores when it writes the 24 h snapshot.
        video_views_24h_settle(workspace_id=ws.pk, video_ids=[item.pk for item in videos])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return str(ws.pk)


def timed(fn: object) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples = []
    queries = 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            fn()  # type: ignore[operator]
            samples.append((time.perf_counter() - began) * 1000)
        queries = len(captured)
    return median(samples), queries


def main() -> None:
    url = fresh_database(DB_NAME)
    try:
        setup_django(url)
        began = time.perf_counter()
        workspace_id = seed()
        print(f"seeded in {time.perf_counter() - began:.0f} s")

        from django.db import connection

        from accounts.models import TikTokAccount, Workspace
        from analytics.best_times import best_times_build, best_times_suggest
        from analytics.models import VideoSnapshot

        ws = Workspace.objects.get(pk=workspace_id)
        account = TikTokAccount.objects.for_workspace(ws).order_by("username").first()
        snapshot_rows = VideoSnapshot.objects.for_workspace(ws).count()

        def floor() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*), SUM(views) FROM analytics_videosnapshot"
                    " WHERE workspace_id = %s",
                    [ws.pk],
                )
                cursor.fetchall()

        floor_ms, _ = timed(floor)
        workspace_ms, workspace_queries = timed(lambda: best_times_build(workspace=ws))
        account_ms, account_queries = timed(lambda: best_times_build(workspace=ws, account=account))
        suggest_ms, suggest_queries = timed(
            lambda: best_times_suggest(workspace=ws, account=account)
        )
        data = best_times_build(workspace=ws)
        print(
            f"{ACCOUNTS} accounts, {DAYS} days, {snapshot_rows:,} video snapshots; "
            f"posts source {data.sources[0].samples:,} posts, "
            f"audience source {data.sources[1].samples:,} account-days"
        )
        print(f"floor: one aggregate scan of the video snapshots  {floor_ms:8.1f} ms")
        print(f"heatmap, whole workspace  {workspace_ms:8.1f} ms  {workspace_queries} queries")
        print(f"heatmap, one account      {account_ms:8.1f} ms  {account_queries} queries")
        print(f"suggestions, one account  {suggest_ms:8.1f} ms  {suggest_queries} queries")
        for name, value, queries in (
            ("best_times_workspace_ms", workspace_ms, workspace_queries),
            ("best_times_account_ms", account_ms, account_queries),
            ("best_times_suggest_ms", suggest_ms, suggest_queries),
        ):
            report(
                name=name,
                value=value,
                unit="ms",
                baseline_name="aggregate scan of the same snapshots",
                baseline_value=floor_ms,
                note=f"{queries} queries (fixed ≤ {MAX_QUERIES}); budget {BUDGET_MS:.0f} ms",
            )
            assert queries <= MAX_QUERIES, f"{name}: {queries} queries"
        within = max(workspace_ms, account_ms, suggest_ms) <= BUDGET_MS
        print(
            f"time budget {BUDGET_MS:.0f} ms each: "
            + ("within the budget" if within else "OVER the budget")
            + f" (load average {os.getloadavg()[0]:.1f})"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not os.environ.get("BENCH_KEEP_DB"):
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()

"""Week view at 5,000 posts against the bare week view, in the same run.

    .venv/bin/python bench/calendar_week.py

Seeds a throwaway PostgreSQL database, renders the week view in-process (Django test client)
with no posts (the bare view: layout, hours, slots), then with 5,000 posts in that week. The week
view shows at most MAX_POSTS_SHOWN_PER_HOUR cards per hour and "+N more", so its size and time
must stay within the page budget below whatever the week holds. (Before the cap: 757 KB and up
to 1.4 s for a busy week.)
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import drop_database, fresh_database, median, report, setup_django

DB_NAME = "later_bench_calendar_week"
POSTS = 5_000
RUNS = 7
#: The page budget: HTML bytes, and time as a multiple of the bare week view.
BUDGET_BYTES = 450_000
BUDGET_RATIO = 5.0


def main() -> None:
    setup_django(fresh_database(DB_NAME), REDIS_URL="")
    try:
        ok = week_view()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)
    sys.exit(0 if ok else 1)


def _measure(client: object, url: str) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, size, queries = [], 0, 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.get(url)  # type: ignore[attr-defined]
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
        size, queries = len(response.content), len(ctx.captured_queries)
    return median(timings), size, queries


def week_view() -> bool:
    from django.test import Client

    from accounts.models import TikTokAccount, User
    from accounts.services import workspace_create
    from calendar_app.models import MediaAsset, Post

    user = User.objects.create_user("bench@example.com", "bench-password")
    ws = workspace_create(owner=user, name="Bench", time_zone="Europe/Paris")
    accounts = [
        TikTokAccount.objects.create(workspace=ws, open_id=f"b{i}", username=f"bench{i}")
        for i in range(5)
    ]
    media = MediaAsset.objects.create(
        workspace=ws,
        kind="video",
        file="bench.mp4",
        thumbnail="thumbnails/bench.jpg",
        original_name="bench.mp4",
        content_type="video/mp4",
        size_bytes=1,
    )
    client = Client()
    client.force_login(user)
    url = f"/w/{ws.id}/calendar/?view=week&date=2027-02-10"
    client.get(url)  # warm up
    bare_ms, bare_bytes, bare_queries = _measure(client, url)
    print(f"bare week view: {bare_queries} queries, {bare_bytes / 1000:.0f} KB, {bare_ms:.1f} ms")

    rng = random.Random(7)
    start = datetime(2027, 2, 8, tzinfo=UTC)  # Monday
    Post.objects.bulk_create(
        [
            Post(
                workspace=ws,
                account=rng.choice(accounts),
                media=media,
                caption=f"Post {i} #bench " + "x" * rng.randrange(40, 300),
                status=rng.choice(["scheduled", "draft", "published", "failed"]),
                allow_comment=rng.random() < 0.5,
                scheduled_at=start + timedelta(minutes=rng.randrange(7 * 24 * 60)),
                scheduled_tz="Europe/Paris",
            )
            for i in range(POSTS)
        ],
        batch_size=1000,
    )
    busy_ms, busy_bytes, busy_queries = _measure(client, url)
    print(
        f"week view, {POSTS} posts: {busy_queries} queries, {busy_bytes / 1000:.0f} KB, "
        f"{busy_ms:.1f} ms ({busy_ms / bare_ms:.2f}x the bare view)"
    )
    report(
        name=f"calendar week view, {POSTS} posts",
        value=busy_ms,
        unit="ms",
        baseline_name="bare week view",
        baseline_value=bare_ms,
        note=f"{busy_queries} queries; budget {BUDGET_RATIO}x",
    )
    report(
        name=f"calendar week view size, {POSTS} posts",
        value=busy_bytes / 1000,
        unit="KB",
        baseline_name="page budget",
        baseline_value=BUDGET_BYTES / 1000,
        note=f"bare view {bare_bytes / 1000:.0f} KB",
    )
    within = busy_bytes <= BUDGET_BYTES and busy_ms <= bare_ms * BUDGET_RATIO
    within = within and busy_queries == bare_queries
    print("within the page budget" if within else "OVER the page budget")
    return within


if __name__ == "__main__":
    main()

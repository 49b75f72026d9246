"""The agency home and the cross-client calendar with 3 and then 200 clients.

    .venv/bin/python bench/agency_home.py

Seeds a throwaway PostgreSQL database with an agency whose clients each have two accounts, ten
posts this month (due, failed, unconfirmed, drafts), 20 comments and two weeks of daily
snapshots, and a sent report. Renders the agency home and the all-clients month in-process
(Django test client). The query count must not change from 3 to 200 clients; render time is
printed beside a bare page measured in the same run (the signed-in "new agency" form: the base
layout with its session, user and switcher queries, and one field).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import drop_database, fresh_database, median, report, setup_django

DB_NAME = "later_bench_agency"
SIZES = (3, 200)
RUNS = 7


def main() -> None:
    setup_django(fresh_database(DB_NAME), REDIS_URL="")
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def seed(agency_id: object, actor: object, start: int, stop: int, now: datetime) -> None:
    from accounts.agency_services import agency_client_create
    from accounts.models import AccountStatus, TikTokAccount, TikTokVideo
    from analytics.models import AccountDailySnapshot, ReportDelivery, ReportSchedule
    from calendar_app.models import Post
    from conversations.models import Comment

    zones = ("Europe/Paris", "America/New_York", "Asia/Tokyo")
    posts, comments, snapshots = [], [], []
    for i in range(start, stop):
        ws = agency_client_create(actor=actor, name=f"Client {i:03d}", time_zone=zones[i % 3])  # type: ignore[arg-type]
        accounts = [
            TikTokAccount.objects.create(
                workspace=ws,
                open_id=f"o{i}-{n}",
                username=f"client{i}_{n}",
                status=AccountStatus.NEEDS_RECONNECT
                if (i + n) % 7 == 0
                else AccountStatus.CONNECTED,
            )
            for n in range(2)
        ]
        video = TikTokVideo.objects.create(
            workspace=ws, account=accounts[0], video_id=f"v{i}", posted_at=now - timedelta(days=3)
        )
        for n in range(10):
            posts.append(
                Post(
                    workspace=ws,
                    account=accounts[n % 2],
                    caption=f"Post {n} of client {i}",
                    status=("scheduled", "scheduled", "failed", "unconfirmed", "draft")[n % 5],
                    scheduled_at=now + timedelta(hours=17 * n - 40),
                    scheduled_tz=ws.time_zone,
                )
            )
        for n in range(20):
            comments.append(
                Comment(
                    workspace=ws,
                    video=video,
                    account=accounts[0],
                    comment_id=f"c{i}-{n}",
                    author_key=f"fan{n}",
                    text=f"Comment {n}",
                    created_at_tiktok=now - timedelta(minutes=n),
                    read_at=now if n % 3 == 0 else None,
                )
            )
        for back in range(14):
            for account in accounts:
                snapshots.append(
                    AccountDailySnapshot(
                        workspace=ws,
                        account=account,
                        date=now.date() - timedelta(days=back),
                        video_views=100 + back,
                    )
                )
        schedule = ReportSchedule.objects.create(
            workspace=ws, frequency="monthly", recipients=["c@example.com"], starts_at=now
        )
        ReportDelivery.objects.create(
            workspace=ws,
            schedule=schedule,
            period_start=date(2026, 10, 1),
            period_end=date(2026, 10, 31),
            status="sent",
        )
    Post.objects.bulk_create(posts, batch_size=1000)
    Comment.objects.bulk_create(comments, batch_size=1000)
    AccountDailySnapshot.objects.bulk_create(snapshots, batch_size=1000)


def timed(client: object, url: str) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.get(url)  # type: ignore[attr-defined]
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return median(timings), len(ctx.captured_queries)


def run() -> None:
    from django.test import Client

    from accounts.agency_services import agency_create
    from accounts.models import AgencyMember, User

    now = datetime.now(UTC)
    user = User.objects.create_user("bench@example.com", "bench-password")
    agency = agency_create(owner=user, name="Bench Agency")
    actor = AgencyMember.objects.select_related("agency").get(agency=agency)
    client = Client()
    client.force_login(user)
    home = f"/agencies/{agency.pk}/"
    calendar = f"/agencies/{agency.pk}/calendar/?view=month&date={now.date().isoformat()}"
    bare = "/agencies/new/"
    client.get(bare)
    have = 0
    queries: dict[str, list[int]] = {"home": [], "calendar": []}
    for size in SIZES:
        seed(agency.pk, actor, have, size, now)
        have = size
        bare_ms, bare_queries = timed(client, bare)
        for name, url in (("home", home), ("calendar", calendar)):
            ms, count = timed(client, url)
            queries[name].append(count)
            label = "agency home" if name == "home" else "all clients' month"
            print(
                f"{label}, {size:>3} clients: {count} queries, {ms:.1f} ms "
                f"(bare page: {bare_queries} queries, {bare_ms:.1f} ms)"
            )
            report(
                name=f"{label}, {size} clients",
                value=ms,
                unit="ms",
                baseline_name="bare signed-in page, same run",
                baseline_value=bare_ms,
                note=f"{count} queries",
            )
    for name, counts in queries.items():
        assert len(set(counts)) == 1, f"{name}: query count grew with clients: {counts}"


if __name__ == "__main__":
    main()

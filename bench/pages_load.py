"""Page latency under concurrent load (calendar month, week and list, inbox page 1, analytics
overview, agency home), beside a bare Django JSON view.

    .venv/bin/python bench/pages_load.py

Seeds a throwaway PostgreSQL database (5 accounts, 5,000 posts, 200 videos, 100,000 comments,
90 days of analytics; the workspace is one of an agency's 40 clients, each with its own posts,
comments and snapshots), serves it the way the Dockerfile does (gunicorn, 3 sync workers,
production settings, Redis cache) on a loopback port, and drives it with a
bounded threaded load generator. The ceiling is `/healthz/` (a bare Django JSON view doing
`SELECT 1`) measured in the same run with the same concurrency.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, drop_database, fresh_database, percentile, report, setup_django

DB_NAME = "later_bench_pages"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "240"))
POSTS, VIDEOS, COMMENTS = 5_000, 200, 100_000


def seed() -> tuple[str, str, str, str]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import TikTokAccount, TikTokVideo, User
    from accounts.services import workspace_create
    from calendar_app.models import Post, PostStatus
    from conversations.models import Comment

    user = User.objects.create_user("bench@example.com", "bench-password")
    ws = workspace_create(owner=user, name="Bench", time_zone="Europe/Paris")
    accounts = [
        TikTokAccount.objects.create(
            workspace=ws,
            open_id=f"bench-{i}",
            username=f"bench{i}",
            display_name=f"Bench {i}",
            account_type="business",
            scopes=["comment.list", "video.publish"],
        )
        for i in range(5)
    ]
    now = timezone.now()
    rng = random.Random(7)
    statuses = [PostStatus.SCHEDULED, PostStatus.PUBLISHED, PostStatus.DRAFT, PostStatus.FAILED]
    # Month view of "now" holds ~1/3 of the posts: a busy agency calendar.
    Post.objects.bulk_create(
        [
            Post(
                workspace=ws,
                account=accounts[i % 5],
                caption=f"Post {i} #coffee",
                status=statuses[i % 4],
                privacy_level="PUBLIC_TO_EVERYONE",
                scheduled_at=now + timedelta(minutes=rng.randint(-45 * 24 * 60, 45 * 24 * 60)),
            )
            for i in range(POSTS)
        ],
        batch_size=1000,
    )
    videos = TikTokVideo.objects.bulk_create(
        [
            TikTokVideo(
                workspace=ws,
                account=accounts[i % 5],
                video_id=f"v{i}",
                caption=f"Video {i}",
                posted_at=now - timedelta(hours=i * 7),
            )
            for i in range(VIDEOS)
        ]
    )
    Comment.objects.bulk_create(
        [
            Comment(
                workspace=ws,
                video=videos[i % VIDEOS],
                account=videos[i % VIDEOS].account,
                comment_id=f"c{i}",
                author_key=f"fan{i % 5000}",
                author_username=f"fan{i % 5000}",
                text=f"Great video number {i}!",
                created_at_tiktok=now - timedelta(seconds=i * 13),
            )
            for i in range(COMMENTS)
        ],
        batch_size=5000,
    )
    _seed_analytics(ws, accounts, videos, now)
    agency_id = _seed_agency(user, ws, now)
    from django.db import connection

    with connection.cursor() as cursor:
        # What autovacuum would have done by the time a real workspace got this big.
        cursor.execute("ANALYZE")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(ws.id), session.session_key or "", now.date().isoformat(), str(agency_id)


#: A busy agency: the bench workspace and this many more clients, each with its own accounts,
#: posts (some failed or unconfirmed), videos, comments and analytics.
AGENCY_CLIENTS = 40


def _seed_agency(user, ws, now):
    """The bench workspace joins an agency of AGENCY_CLIENTS clients; returns the agency id."""
    from accounts.agency_services import agency_create
    from accounts.models import TikTokAccount, TikTokVideo, Workspace
    from analytics.models import AccountDailySnapshot
    from calendar_app.models import Post, PostStatus
    from conversations.models import Comment

    agency = agency_create(owner=user, name="Bench agency")
    Workspace.objects.filter(pk=ws.pk).update(agency=agency)
    statuses = [PostStatus.SCHEDULED, PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.DRAFT]
    posts, videos, snapshots = [], [], []
    for n in range(AGENCY_CLIENTS - 1):
        client = Workspace.objects.create(name=f"Client {n:02d}", agency=agency)
        for a in range(2):
            account = TikTokAccount.objects.create(
                workspace=client,
                open_id=f"client-{n}-{a}",
                username=f"client{n}_{a}",
                display_name=f"Client {n} account {a}",
                account_type="business",
                scopes=["comment.list", "video.publish"],
                status="needs_reconnect" if (n + a) % 17 == 0 else "connected",
            )
            for i in range(60):
                posts.append(
                    Post(
                        workspace=client,
                        account=account,
                        caption=f"Client {n} post {i}",
                        status=statuses[i % 4],
                        privacy_level="PUBLIC_TO_EVERYONE",
                        scheduled_at=now + timedelta(hours=(i - 30) * 11 + n),
                    )
                )
            videos.append(
                TikTokVideo(
                    workspace=client,
                    account=account,
                    video_id=f"client-{n}-{a}",
                    caption="Client video",
                    posted_at=now - timedelta(days=3),
                )
            )
            for d in range(30):
                snapshots.append(
                    AccountDailySnapshot(
                        workspace=client,
                        account=account,
                        date=now.date() - timedelta(days=d),
                        source="business",
                        followers=5_000 + 20 * (30 - d),
                        video_views=900 + d,
                        likes=100,
                        comments=20,
                        shares=5,
                        new_followers=10,
                        lost_followers=2,
                        net_followers=8,
                    )
                )
    Post.objects.bulk_create(posts, batch_size=2000)
    TikTokVideo.objects.bulk_create(videos)
    AccountDailySnapshot.objects.bulk_create(snapshots, batch_size=2000)
    Comment.objects.bulk_create(
        [
            Comment(
                workspace=video.workspace,
                video=video,
                account=video.account,
                comment_id=f"{video.video_id}-c{i}",
                author_key=f"fan{i}",
                author_username=f"fan{i}",
                text=f"Nice {i}",
                created_at_tiktok=now - timedelta(minutes=i * 7),
            )
            for video in videos
            for i in range(250)
        ],
        batch_size=5000,
    )
    return agency.pk


def _seed_analytics(ws, accounts, videos, now) -> None:
    """90 days of account snapshots and a daily snapshot per video since it was posted."""
    from analytics.models import AccountDailySnapshot, VideoSnapshot

    today = now.date()
    AccountDailySnapshot.objects.bulk_create(
        [
            AccountDailySnapshot(
                workspace=ws,
                account=account,
                date=today - timedelta(days=d),
                source="business",
                followers=10_000 + 37 * (90 - d) + n,
                likes_total=50_000 + 400 * (90 - d),
                video_count=40 + (90 - d) // 3,
                video_views=2_000 + (d * 97 + n * 13) % 1_500,
                profile_views=300 + d % 50,
                likes=400 + d % 70,
                comments=60 + d % 20,
                shares=20 + d % 9,
                new_followers=40 + d % 11,
                lost_followers=5 + d % 4,
                net_followers=35 + d % 7,
            )
            for n, account in enumerate(accounts)
            for d in range(90)
        ],
        batch_size=1000,
    )
    rows = []
    for video in videos:
        age = (today - video.posted_at.date()).days
        for d in range(min(age, 60) + 1):
            day = video.posted_at.date() + timedelta(days=d)
            bucket = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            rows.append(
                VideoSnapshot(
                    workspace=ws, video=video, bucket_at=bucket, captured_at=bucket, date=day,
                    views=1_000 * (d + 1), likes=80 * (d + 1), comments=9 * (d + 1), shares=d,
                )
            )  # fmt: skip
    VideoSnapshot.objects.bulk_create(rows, batch_size=2000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(base: str, path: str, cookie: str) -> tuple[list[float], float, int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [REQUESTS]

    def worker() -> None:
        nonlocal errors
        with httpx.Client(
            base_url=base, headers={"Cookie": f"sessionid={cookie}"}, timeout=30
        ) as c:
            c.get(path)  # warm the connection and the worker
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                t0 = time.perf_counter()
                r = c.get(path)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed * 1000)
                    if r.status_code != 200:
                        errors += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    wall = time.perf_counter() - started
    return latencies, len(latencies) / wall, errors


def main() -> None:
    url = fresh_database(DB_NAME)
    static_root = tempfile.mkdtemp(prefix="later-bench-static-")
    env = {
        "DEBUG": "False",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "TOKEN_ENCRYPTION_KEYS": "ZGV2LW9ubHktdG9rZW4ta2V5LWRvLW5vdC11c2UtMzI=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "STATIC_ROOT": static_root,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
    }
    server = None
    try:
        setup_django(url, **env)
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        t0 = time.perf_counter()
        ws_id, cookie, today, agency_id = seed()
        seconds = time.perf_counter() - t0
        print(f"seeded {POSTS} posts, {VIDEOS} videos, {COMMENTS} comments in {seconds:.1f}s")
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "later.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "3",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, **env, "DATABASE_URL": url},
        )
        base = f"http://127.0.0.1:{port}"
        import httpx

        for _ in range(100):
            try:
                if httpx.get(base + "/healthz/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        pages = {
            "healthz (bare JSON view)": "/healthz/",
            "calendar month, 5k posts": f"/w/{ws_id}/calendar/?view=month&date={today}",
            "calendar week": f"/w/{ws_id}/calendar/?view=week&date={today}",
            "calendar list": f"/w/{ws_id}/calendar/?view=list&date={today}",
            "inbox page 1, 100k comments": f"/w/{ws_id}/conversations/",
            "analytics overview, 90 days": f"/w/{ws_id}/analytics/",
            f"agency home, {AGENCY_CLIENTS} clients": f"/agencies/{agency_id}/",
        }
        results = {}
        for label, path in pages.items():
            # The first request renders and stores the page body (a fragment-cache miss);
            # the load that follows is served from it until the data changes.
            t0 = time.perf_counter()
            httpx.get(base + path, headers={"Cookie": f"sessionid={cookie}"}, timeout=30)
            print(
                f"{label:32s} first render (cache miss) {(time.perf_counter() - t0) * 1000:.0f} ms"
            )
            latencies, rps, errors = load(base, path, cookie)
            results[label] = (latencies, rps)
            p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
            print(
                f"{label:32s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms"
                f"  {rps:7.1f} req/s  errors {errors}"
            )
            if errors:
                raise SystemExit(f"{label}: {errors} non-200 responses")
        base_lat, base_rps = results["healthz (bare JSON view)"]
        base_p95 = percentile(base_lat, 95)
        print(f"\nbare view: {base_rps:.1f} req/s, p95 {base_p95:.1f} ms (target: >= 0.25, < 4x)")
        for label, (lat, rps) in results.items():
            if label.startswith("healthz"):
                continue
            p95 = percentile(lat, 95)
            print(
                f"{label:32s} {rps:7.1f} req/s = {rps / base_rps:5.2f} of bare"
                f"   p95 {p95:7.1f} ms = {p95 / base_p95:5.2f}x bare"
            )
        for label, (lat, rps) in results.items():
            if label.startswith("healthz"):
                continue
            report(
                name=f"{label}: p95 latency at {CONCURRENCY} concurrent",
                value=percentile(lat, 95),
                unit="ms",
                baseline_name="bare Django JSON view p95",
                baseline_value=percentile(base_lat, 95),
            )
            report(
                name=f"{label}: throughput",
                value=rps,
                unit="req/s",
                baseline_name="bare Django JSON view",
                baseline_value=base_rps,
            )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()

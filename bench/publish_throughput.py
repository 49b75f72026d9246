"""Publishing throughput: 2,000 posts due at the same instant, real Celery workers, simulator.

Run (PostgreSQL and Redis on localhost, as for the tests):

    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/publish_throughput.py
    .venv/bin/python bench/publish_throughput.py --posts 500 --concurrency 4   # quicker

It creates a throwaway database (bench_publish), an in-process simulator that adds 30-80 ms to
every request, N accounts with 5 posts each (TikTok allows 6 inits per minute per token), and
starts one `celery -A later worker --pool=prefork -c <concurrency>` subprocess. It then plays
Celery beat itself (dispatcher every 5 s, sweeper every 60 s) and prints:

- dispatch lateness p50/p99: scheduled time -> claimed by the dispatcher;
- publish lateness p50/p99: scheduled time -> TikTok reported PUBLISH_COMPLETE;
- throughput (posts/s) next to the ceiling concurrency / (requests per post x mean latency),
  requests per post being what the simulator actually received, and the ratio.

The broker is REDIS_URL's database: give the benchmark one no test run is flushing meanwhile
(stale messages from earlier runs are harmless: they name posts that no longer exist).
It stops by itself: when every post has settled or after --deadline seconds (default 240),
then kills its worker and drops its database.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    drop_database,
    fresh_database,
    percentile,
    report,
    setup_django,
)

DB_NAME = "bench_publish"


class LatencySim:
    """WSGI wrapper adding a uniform random delay per TikTok request (not per control call)."""

    def __init__(self, app: Any, low: float, high: float) -> None:
        self.app, self.low, self.high = app, low, high

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO", "").startswith("/_sim/"):
            time.sleep(random.uniform(self.low, self.high))
        return self.app(environ, start_response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--posts-per-account", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", default="30-80")
    parser.add_argument("--dispatch-interval", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=240.0)
    args = parser.parse_args()
    low, high = (float(x) / 1000 for x in args.latency_ms.split("-"))

    database_url = fresh_database(DB_NAME)
    worker: subprocess.Popen[bytes] | None = None
    stop_sim = None
    try:
        setup_django(database_url)
        from django.conf import settings
        from django.utils import timezone

        from tiktok_client.simulator.app import create_app
        from tiktok_client.simulator.server import build_server

        sim = create_app(min_processing_seconds=0.2, moderation_delay=0.0, daily_post_cap=100)
        server = build_server(LatencySim(sim, low, high), port=0)  # type: ignore[arg-type]
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stop_sim = server.shutdown
        settings.TIKTOK_AUTH_BASE_URL = settings.TIKTOK_OPEN_API_BASE_URL = base_url
        settings.TIKTOK_BUSINESS_API_BASE_URL = f"{base_url}/open_api/v1.3"

        media_root = ROOT / "var" / "bench-media"
        settings.MEDIA_ROOT = str(media_root)
        scheduled_at = _seed(sim, args, timezone.now())
        print(
            f"seeded {args.posts} posts on {args.posts // args.posts_per_account} accounts, "
            f"due at {scheduled_at:%H:%M:%S}",
            flush=True,
        )

        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CONN_MAX_AGE": "60",
            "TIKTOK_AUTH_BASE_URL": base_url,
            "TIKTOK_OPEN_API_BASE_URL": base_url,
            "TIKTOK_BUSINESS_API_BASE_URL": f"{base_url}/open_api/v1.3",
            "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
            "MEDIA_ROOT": str(media_root),
            "PUBLISHING_POLL_IN_TASK_SECONDS": os.environ.get(
                "PUBLISHING_POLL_IN_TASK_SECONDS", "0"
            ),
            "PUBLISHING_POLL_FIRST_INTERVAL": "0.3",
        }
        worker = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "later",
                "worker",
                "--pool=prefork",
                "-c",
                str(args.concurrency),
                "--without-mingle",
                "--without-gossip",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        return _drive(sim, args, scheduled_at, low, high)
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        if stop_sim is not None:
            stop_sim()
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def _seed(sim: Any, args: argparse.Namespace, now: Any) -> Any:
    import datetime as dt

    from django.core.files.base import ContentFile

    from accounts.crypto import encrypt_token
    from accounts.models import TikTokAccount, Workspace
    from calendar_app.models import MediaAsset, Post, PostStatus
    from tiktok_client.simulator.models import Creator

    workspace = Workspace.objects.create(name="Bench agency")
    media = MediaAsset(
        workspace=workspace,
        kind="video",
        original_name="clip.mp4",
        content_type="video/mp4",
        size_bytes=256 * 1024,
        duration_seconds=15,
    )
    media.file.save("clip.mp4", ContentFile(os.urandom(256 * 1024)), save=False)
    media.save()
    accounts = []
    for n in range(max(1, args.posts // args.posts_per_account)):
        open_id = f"bench-{n:04d}"
        with sim.state.lock:
            sim.state.creators[open_id] = Creator(
                open_id=open_id,
                username=f"bench.{n}",
                nickname=f"Bench {n}",
                bio="",
                is_business=False,
                is_private=False,
                seeded_videos=0,
            )
            tokens = sim.state.issue_tokens(
                open_id=open_id, scopes=("video.publish", "video.upload")
            )
        accounts.append(
            TikTokAccount(
                workspace=workspace,
                open_id=open_id,
                username=f"bench.{n}",
                access_token_encrypted=encrypt_token(tokens["access_token"]),
                refresh_token_encrypted=encrypt_token(tokens["refresh_token"]),
                access_token_expires_at=now + dt.timedelta(days=1),
                refresh_token_expires_at=now + dt.timedelta(days=300),
            )
        )
    TikTokAccount.objects.bulk_create(accounts)
    scheduled_at = now + dt.timedelta(seconds=8)  # leaves the worker time to boot
    Post.objects.bulk_create(
        Post(
            workspace=workspace,
            account=accounts[n % len(accounts)],
            media=media,
            caption=f"bench post {n}",
            privacy_level="SELF_ONLY",
            status=PostStatus.SCHEDULED,
            scheduled_at=scheduled_at,
        )
        for n in range(args.posts)
    )
    return scheduled_at


def _drive(sim: Any, args: argparse.Namespace, scheduled_at: Any, low: float, high: float) -> int:
    from django.conf import settings
    from django.utils import timezone

    from calendar_app import tasks
    from calendar_app.models import Post, PostEvent, PostStatus
    from calendar_app.publishing import dispatch

    settled = {PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.UNCONFIRMED}
    sweep_every = float(settings.CELERY_BEAT_SCHEDULE["sweep-stale-publishing"]["schedule"])  # type: ignore[arg-type]
    started = time.monotonic()
    last_dispatch = last_sweep = 0.0
    while time.monotonic() - started < args.deadline:
        now = time.monotonic()
        if now - last_dispatch >= args.dispatch_interval:
            last_dispatch = now
            tasks.dispatch_due_posts()  # what beat's task does (with its wake-up when due)
        if now - last_sweep >= sweep_every:
            last_sweep = now
            dispatch.posts_sweep_stale()
        posts = Post.objects.unscoped()
        if timezone.now() > scheduled_at and not posts.exclude(status__in=settled).exists():
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started

    posts = Post.objects.unscoped()
    counts = {s: posts.filter(status=s).count() for s in PostStatus.values}
    published = [
        p
        for p in posts.filter(status=PostStatus.PUBLISHED).values_list("published_at", flat=True)
        if p is not None
    ]
    queued = PostEvent.objects.unscoped().filter(kind="queued")
    lateness = [float(e["data"].get("lateness_seconds", 0)) for e in queued.values("data")]
    publish_lateness = [(p - scheduled_at).total_seconds() for p in published]
    requests = sum(
        n
        for endpoint, n in sim.state.counters.requests.items()
        if not endpoint.startswith("/_sim/")
    )
    inits = sim.state.counters.successes("/v2/post/publish/video/init/")
    in_flight = posts.exclude(publish_id="").exclude(status=PostStatus.PUBLISHED).count()
    breakdown = {
        endpoint.rsplit("/", 2)[-2]: n
        for endpoint, n in sorted(sim.state.counters.requests.items())
        if not endpoint.startswith("/_sim/")
    }
    print({k: v for k, v in counts.items() if v}, f"after {elapsed:.0f}s", flush=True)
    if not published:
        print("nothing was published before the deadline")
        return 1
    window = (max(published) - scheduled_at).total_seconds()
    throughput = len(published) / window if window > 0 else float("nan")
    per_post = requests / max(1, inits)  # each accepted init is one post on its way
    mean_latency = (low + high) / 2
    ceiling = args.concurrency / (per_post * mean_latency)
    print(
        f"dispatch lateness p50 {percentile(lateness, 50):.2f}s  "
        f"p99 {percentile(lateness, 99):.2f}s\n"
        f"publish lateness  p50 {percentile(publish_lateness, 50):.2f}s  "
        f"p99 {percentile(publish_lateness, 99):.2f}s\n"
        f"throughput {throughput:.1f} posts/s; ceiling {ceiling:.1f} posts/s = "
        f"{args.concurrency} slots / ({per_post:.1f} requests/post "
        f"x {mean_latency * 1000:.0f} ms); "
        f"ratio {throughput / ceiling:.2f}\n"
        f"TikTok accepted {inits} inits for {args.posts} posts "
        f"({'one per post' if inits == len(published) + in_flight else 'MISMATCH'}); "
        f"requests by endpoint {breakdown}",
        flush=True,
    )
    report(
        name="publish dispatch lateness p99",
        value=percentile(lateness, 99),
        unit="s",
        baseline_name="beat interval",
        baseline_value=args.dispatch_interval,
    )
    report(
        name="publish throughput",
        value=throughput,
        unit="posts/s",
        baseline_name="ceiling concurrency/(requests per post x latency)",
        baseline_value=ceiling,
        note=f"{args.posts} posts, -c {args.concurrency}, {args.latency_ms} ms/request",
    )
    return 0 if counts.get(PostStatus.PUBLISHED, 0) == args.posts else 1


if __name__ == "__main__":
    raise SystemExit(main())

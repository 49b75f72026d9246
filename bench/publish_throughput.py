"""Publishing throughput: 2,000 posts due at the same instant, real Celery workers, simulator.

Run (PostgreSQL and Redis on localhost, as for the tests):

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/publish_throughput.py
    .venv/bin/python bench/publish_throughput.py --posts 500 --concurrency 4 --scaling ''

It creates a throwaway database (bench_publish), an in-process simulator that adds 30-80 ms to
every request, N accounts with 5 posts each (TikTok allows 6 inits per minute per token), and
starts one `celery -A later worker -Q publishing --pool=prefork -c <concurrency>` subprocess. It
then plays Celery beat itself (the dispatcher task every second, as the product's beat
schedule does; the sweeper on the product's interval) and prints:

- dispatch lateness p50/p99: scheduled time -> claimed by the dispatcher;
- publish lateness p50/p99: scheduled time -> TikTok reported PUBLISH_COMPLETE;
- throughput (posts/s) next to the ceiling: slots / TikTok time per post, TikTok's time being
  what the simulator clocked for the requests it received (its delay and its own work), and
  the ratio; the delay-only ceiling beside it;
- CPU per post of the worker processes, of this process (simulator and driver) and of
  PostgreSQL, beside the CPU per post the machine's cores allow at the measured rate.

Then the scaling phases (--scaling 1,2,4): the same with 1, 2 and 4 worker processes (`-c N`,
one post at a time each) and 100 posts per process, each throughput beside the first phase's
times the process count (docs/scaling.md "Workers"). The one-process phase is also reported
against its own ceiling (the pipeline's cost per post without CPU contention), and the
largest phase's dispatch lateness as the usual peak's (a few hundred posts due together).

The broker is REDIS_URL's database: give the benchmark one no test run is flushing meanwhile.
Each phase empties the publishing queue before its worker starts, so messages an interrupted
run left behind take no slot time.
Each phase stops by itself: when every post has settled or after --deadline seconds (default
240), then kills its worker and drops its database.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import resource
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
    Beat,
    celery_worker,
    core_speed,
    cpu_seconds,
    drop_database,
    fresh_database,
    load_average,
    percentile,
    postgres_backend_pids,
    report,
    setup_django,
)

DB_NAME = "bench_publish"


class LatencySim:
    """WSGI wrapper adding a uniform random delay per TikTok request (not per control call).

    It also clocks TikTok's side of every request (`tiktok_seconds`): from the moment the
    simulator has read the request to its answer, the delay and the simulator's own work.
    """

    def __init__(self, app: Any, low: float, high: float) -> None:
        self.app, self.low, self.high = app, low, high
        self.tiktok_seconds = 0.0
        self.delay_seconds = 0.0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/_sim/"):
            return self.app(environ, start_response)
        started = time.monotonic()
        delay = random.uniform(self.low, self.high)
        time.sleep(delay)
        body = list(self.app(environ, start_response))
        with self._lock:
            self.tiktok_seconds += time.monotonic() - started
            self.delay_seconds += delay
        return body


def serve_simulator(low: float, high: float) -> tuple[Any, Any, str]:
    """The publishing benches' TikTok: an in-process simulator on a free port, each request
    delayed by `low`-`high` seconds, with this process's settings pointed at it. Call after
    `setup_django`. Returns the simulator app, its server (to shut down) and its URL."""
    from django.conf import settings

    from tiktok_client.simulator.app import create_app
    from tiktok_client.simulator.server import build_server

    sim = create_app(min_processing_seconds=0.2, moderation_delay=0.0, daily_post_cap=100)
    server = build_server(LatencySim(sim, low, high), port=0)  # type: ignore[arg-type]
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.TIKTOK_AUTH_BASE_URL = settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = f"{base_url}/open_api/v1.3"
    return sim, server, base_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--posts-per-account", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", default="30-80")
    parser.add_argument("--dispatch-interval", type=float, default=1.0)
    parser.add_argument("--deadline", type=float, default=240.0)
    parser.add_argument(
        "--scaling",
        default="1,2,4",
        help="worker process counts for the scaling phases ('' to skip them)",
    )
    parser.add_argument("--scaling-posts-per-process", type=int, default=100)
    args = parser.parse_args()
    ok = _phase(args, concurrency=args.concurrency, posts=args.posts, main=True)
    scaling: list[tuple[int, float, float]] = []
    lateness: list[tuple[int, float]] = []
    for processes in [int(n) for n in args.scaling.split(",") if n.strip()]:
        result = _phase(
            args,
            concurrency=processes,
            posts=processes * args.scaling_posts_per_process,
            main=False,
        )
        scaling.append((processes, result["throughput"], result["ceiling"]))
        lateness.append((processes * args.scaling_posts_per_process, result["lateness_p99"]))
    if scaling:
        print("worker processes -> posts/s (ceiling):", flush=True)
        for processes, throughput, ceiling in scaling:
            print(f"  {processes}: {throughput:.1f} ({ceiling:.1f})", flush=True)
        first_processes, first, first_ceiling = scaling[0]
        # One process has the machine's cores to itself: what is left between its throughput
        # and the ceiling is the pipeline's own cost per post (Celery, ORM, httpx), not CPU
        # contention, which the 8-slot phase above adds on 2 cores.
        report(
            name=f"publish throughput, {first_processes} worker process",
            value=first,
            unit="posts/s",
            baseline_name="ceiling slots / TikTok time per post",
            baseline_value=first_ceiling,
            note=load_average(),
        )
        # A large agency's usual peak: a few hundred posts due on the same minute.
        busiest, busiest_p99 = max(lateness)
        report(
            name=f"publish dispatch lateness p99, {busiest} posts due together",
            value=busiest_p99,
            unit="s",
            baseline_name="beat interval",
            baseline_value=args.dispatch_interval,
            note=load_average(),
        )
        for processes, throughput, ceiling in scaling[1:]:
            report(
                name=f"publish throughput, {processes} worker processes",
                value=throughput,
                unit="posts/s",
                baseline_name=f"{first_processes} process x {processes / first_processes:g}",
                baseline_value=first * processes / first_processes,
                note=f"ceiling {ceiling:.1f} posts/s; {load_average()}",
            )
    return 0 if ok["ok"] else 1


def _phase(args: argparse.Namespace, *, concurrency: int, posts: int, main: bool) -> dict[str, Any]:
    low, high = (float(x) / 1000 for x in args.latency_ms.split("-"))
    database_url = fresh_database(DB_NAME)
    worker: subprocess.Popen[bytes] | None = None
    stop_sim = None
    try:
        setup_django(database_url)
        from django.conf import settings
        from django.db import connections
        from django.utils import timezone

        connections.close_all()
        sim, server, base_url = serve_simulator(low, high)
        stop_sim = server.shutdown

        media_root = ROOT / "var" / "bench-media"
        settings.MEDIA_ROOT = str(media_root)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CONN_MAX_AGE": "60",
            # As a deployed worker runs: no query log, no debug cursor (it needs real secrets).
            "DEBUG": "False",
            "SECRET_KEY": "bench-publish-" + os.urandom(24).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
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
        _purge_publishing_queue()
        worker = celery_worker(env, concurrency=concurrency, queues="publishing")
        seed_args = argparse.Namespace(posts=posts, posts_per_account=args.posts_per_account)
        scheduled_at = _seed(sim, seed_args, timezone.now())
        print(
            f"{'' if main else 'scaling: '}seeded {posts} posts on "
            f"{posts // args.posts_per_account} accounts, due at {scheduled_at:%H:%M:%S}; "
            f"-c {concurrency}",
            flush=True,
        )
        return _drive(sim, server.get_app(), args, scheduled_at, worker, posts, concurrency, main)
    finally:
        if worker is not None:
            with contextlib.suppress(ProcessLookupError):  # it may have exited by itself
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        if stop_sim is not None:
            stop_sim()
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def _purge_publishing_queue() -> None:
    from calendar_app.tasks import publish_post

    dropped = publish_post.app.control.purge()  # the queues this app's routes name
    if dropped:
        print(f"dropped {dropped} messages an earlier run left in the queue", flush=True)


def _seed(sim: Any, args: argparse.Namespace, now: Any) -> Any:
    import datetime as dt

    from django.core.files.base import ContentFile

    from accounts.crypto import encrypt_token
    from accounts.models import TikTokAccount, Workspace
    from calendar_app.models import MediaAsset, Post, PostStatus
    from tests.media_samples import mp4
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
    # Within TikTok's video specs (§2.6), which the simulator checks.
    media.file.save("clip.mp4", ContentFile(mp4(256 * 1024, seconds=15)), save=False)
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
    # 8 s leave the worker time to boot; a whole second, as users schedule (whole minutes).
    scheduled_at = (now + dt.timedelta(seconds=8)).replace(microsecond=0)
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


def _drive(
    sim: Any,
    latency: LatencySim,
    args: argparse.Namespace,
    scheduled_at: Any,
    worker: subprocess.Popen[bytes],
    n_posts: int,
    concurrency: int,
    main: bool,
) -> dict[str, Any]:
    from django.utils import timezone

    from calendar_app.models import Post, PostEvent, PostStatus

    settled = {PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.UNCONFIRMED}
    beat = Beat.publishing()
    started = time.monotonic()
    cpu_before: dict[str, float] = {}
    while time.monotonic() - started < args.deadline:
        if worker.poll() is not None:
            break
        if not cpu_before and timezone.now() >= scheduled_at:
            # From the due time on: the worker's boot (Django, its pool) is not a post's CPU.
            cpu_before = {"bench": _own_cpu(), "workers": cpu_seconds([worker.pid])}
        next_tick = beat.tick()
        posts = Post.objects.unscoped()
        if timezone.now() > scheduled_at and not posts.exclude(status__in=settled).exists():
            break
        time.sleep(max(0.0, min(next_tick, 0.5)))
    elapsed = time.monotonic() - started
    cpu = {
        "workers": cpu_seconds([worker.pid]) - cpu_before.get("workers", 0.0),
        "simulator+driver": _own_cpu() - cpu_before.get("bench", 0.0),
        "postgres": cpu_seconds(postgres_backend_pids(DB_NAME)),
    }

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
    events = PostEvent.objects.unscoped()
    kinds = collections.Counter(events.values_list("kind", flat=True))
    retries = collections.Counter(
        e["data"].get("code", "") for e in events.filter(kind="retry_scheduled").values("data")
    )
    print(f"events {dict(kinds)}; retries by code {dict(retries)}", flush=True)
    timeline = _timeline(events, scheduled_at)
    if timeline:
        print(timeline, flush=True)
    if worker.returncode is not None:
        print(f"the worker exited (code {worker.returncode}): no figures from this run")
    elif not published:
        print("nothing was published before the deadline")
    if worker.returncode is not None or not published:
        return {
            "ok": False,
            "throughput": 0.0,
            "ceiling": float("nan"),
            "lateness_p99": float("nan"),
        }
    window = (max(published) - scheduled_at).total_seconds()
    throughput = len(published) / window if window > 0 else float("nan")
    per_post = requests / max(1, inits)  # each accepted init is one post on its way
    # TikTok's time per post as the simulator clocked it (its delay and its own work), and
    # the delay alone: the ceiling a pipeline with no cost of its own would reach.
    tiktok_per_post = latency.tiktok_seconds / max(1, inits)
    delay_per_post = latency.delay_seconds / max(1, inits)
    ceiling = concurrency / tiktok_per_post
    cpu_ms = {k: 1000 * v / max(1, len(published)) for k, v in cpu.items()}
    speed = core_speed()
    print(
        f"dispatch lateness p50 {percentile(lateness, 50):.2f}s  "
        f"p99 {percentile(lateness, 99):.2f}s\n"
        f"publish lateness  p50 {percentile(publish_lateness, 50):.2f}s  "
        f"p99 {percentile(publish_lateness, 99):.2f}s\n"
        f"throughput {throughput:.1f} posts/s; ceiling {ceiling:.1f} posts/s = "
        f"{concurrency} slots / {tiktok_per_post * 1000:.0f} ms of TikTok time per post "
        f"({per_post:.1f} requests: {delay_per_post * 1000:.0f} ms delay + "
        f"{(tiktok_per_post - delay_per_post) * 1000:.0f} ms simulator work); "
        f"ratio {throughput / ceiling:.2f} (delay alone: ceiling "
        f"{concurrency / delay_per_post:.1f}, "
        f"ratio {throughput * delay_per_post / concurrency:.2f})\n"
        f"CPU per post: "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in cpu_ms.items())
        + f" (2 cores = {2000 * window / max(1, len(published)):.0f} ms of CPU per post "
        f"at this rate); {load_average()}; {speed}\n"
        f"TikTok accepted {inits} inits for {n_posts} posts "
        f"({'one per post' if inits == len(published) + in_flight else 'MISMATCH'}); "
        f"requests by endpoint {breakdown}",
        flush=True,
    )
    if main:
        report(
            name="publish dispatch lateness p99",
            value=percentile(lateness, 99),
            unit="s",
            baseline_name="beat interval",
            baseline_value=args.dispatch_interval,
            note=load_average(),
        )
        report(
            name="publish throughput",
            value=throughput,
            unit="posts/s",
            baseline_name="ceiling slots / TikTok time per post",
            baseline_value=ceiling,
            note=f"{n_posts} posts, -c {concurrency}, {args.latency_ms} ms/request; "
            f"{load_average()}; {speed}",
        )
    return {
        "ok": counts.get(PostStatus.PUBLISHED, 0) == n_posts,
        "throughput": throughput,
        "ceiling": ceiling,
        "lateness_p99": percentile(lateness, 99),
    }


def _timeline(events: Any, scheduled_at: Any) -> str:
    """Where a burst's window goes at its ends: how long after the due time the first post
    started (slots idle meanwhile), and how long the last posts took after the last start."""
    from django.db.models import Max, Min

    def span(kind: str) -> dict[str, Any]:
        return events.filter(kind=kind).aggregate(first=Min("created_at"), last=Max("created_at"))

    checking, published = span("checking"), span("published")
    if checking["first"] is None or published["last"] is None:
        return ""

    def after(at: Any) -> float:
        return float((at - scheduled_at).total_seconds())

    return (
        f"timeline after the due time: first start {after(checking['first']):.2f}s, "
        f"first published {after(published['first']):.2f}s, "
        f"last start {after(checking['last']):.2f}s, "
        f"last published {after(published['last']):.2f}s"
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())

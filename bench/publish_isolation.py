"""Publishing isolated from background work: 2,000 posts due while a comment sync of 10,000
business accounts is due at the same moment, against the same 2,000 posts alone (same run).

Run (PostgreSQL and Redis on localhost, as for the tests):

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/publish_isolation.py
    .venv/bin/python bench/publish_isolation.py --posts 500 --accounts 2000   # quicker

Both phases run the production layout (README "Worker pools"): a publishing pool
(`-Q publishing`) and a background pool (`-Q default,sync,analytics`) as separate Celery
worker processes, the background one at the lower CPU priority docker-compose.yml gives it.
Publishing talks to an in-process simulator (30-80 ms per request, as bench/publish_throughput);
the sync talks to a second simulator in its own process (bench/_sim_process.py) holding the
10,000 business accounts, so the two kinds of work do not share TikTok's side.

1. alone: the posts come due; the background pool is idle;
2. with sync: the posts come due and, at that moment, a comment sync of every account is sent:
   10,000 sync tasks on the `sync` queue. That is the worst case, not beat's fan-out, which
   sends at most the app's background calls of a minute (480) to the accounts waiting longest
   (conversations.tasks.schedule_comment_sync): this keeps the load the benchmark has always
   measured.

Prints publish lateness p50/p99 (scheduled -> TikTok reported the post complete) for each
phase, how many accounts the sync finished meanwhile, and the ratio p99 with / p99 alone
(goal: at most 1.2).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    Beat,
    celery_worker,
    drop_database,
    fresh_database,
    load_average,
    percentile,
    report,
    setup_django,
)
from bench.publish_throughput import _seed, serve_simulator  # noqa: E402

DB_NAME = "bench_isolation"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--posts-per-account", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--background-concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", default="30-80")
    parser.add_argument("--deadline", type=float, default=240.0)
    args = parser.parse_args()

    tokens_file = Path(tempfile.mkstemp(prefix="bench-sync-tokens-", suffix=".jsonl")[1])
    sync_sim = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "_sim_process.py"),
            "--accounts",
            str(args.accounts),
            "--latency-ms",
            args.latency_ms,
            "--out",
            str(tokens_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert sync_sim.stdout is not None
        sync_port = int(json.loads(sync_sim.stdout.readline())["port"])
        sync_url = f"http://127.0.0.1:{sync_port}"
        results = {
            phase: _phase(
                args, sync_url=sync_url if phase == "with sync" else "", tokens=tokens_file
            )
            for phase in ("alone", "with sync")
        }
    finally:
        os.killpg(sync_sim.pid, signal.SIGKILL)
        sync_sim.wait()
        tokens_file.unlink(missing_ok=True)
    alone, with_sync = results["alone"], results["with sync"]
    ratio = with_sync["p99"] / alone["p99"] if alone["p99"] else float("nan")
    print(
        f"publish lateness p99 alone {alone['p99']:.1f} s, with the sync {with_sync['p99']:.1f} s: "
        f"ratio {ratio:.2f} (goal <= 1.2); the sync finished {with_sync['synced']} of "
        f"{args.accounts} accounts meanwhile",
        flush=True,
    )
    censored = [phase for phase, r in results.items() if r["published"] < args.posts]
    if censored:
        print(
            f"not every post was published before the deadline ({', '.join(censored)}): the "
            "p99 figures are cut off there, compare the posts published instead",
            flush=True,
        )
    report(
        name="posts published before the deadline with the sync due",
        value=with_sync["published"],
        unit="posts",
        baseline_name="without the sync, same run",
        baseline_value=alone["published"],
        note=f"deadline {args.deadline:.0f} s; {load_average()}",
    )
    report(
        name="publish lateness p99 with a 10,000-account sync due",
        value=with_sync["p99"],
        unit="s",
        baseline_name="p99 without the sync, same run",
        baseline_value=alone["p99"],
        note=(
            f"{args.posts} posts, publishing -c {args.concurrency}, background "
            f"-c {args.background_concurrency} (nice 10); {with_sync['synced']}/{args.accounts} "
            f"accounts synced meanwhile; goal ratio <= 1.2; {load_average()}"
        ),
    )
    ok = all(r["published"] == args.posts for r in results.values())
    return 0 if ok else 1


def _phase(args: argparse.Namespace, *, sync_url: str, tokens: Path) -> dict[str, Any]:
    low, high = (float(x) / 1000 for x in args.latency_ms.split("-"))
    database_url = fresh_database(DB_NAME)
    workers: list[subprocess.Popen[bytes]] = []
    server = None
    try:
        setup_django(database_url)
        from django.conf import settings
        from django.db import connections
        from django.utils import timezone

        sim, server, base_url = serve_simulator(low, high)
        media_root = ROOT / "var" / "bench-media"
        settings.MEDIA_ROOT = str(media_root)
        common = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CONN_MAX_AGE": "60",
            "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
            "MEDIA_ROOT": str(media_root),
            "PUBLISHING_POLL_FIRST_INTERVAL": "0.3",
        }

        def pointed_at(url: str) -> dict[str, str]:
            return {
                **common,
                "TIKTOK_AUTH_BASE_URL": url,
                "TIKTOK_OPEN_API_BASE_URL": url,
                "TIKTOK_BUSINESS_API_BASE_URL": f"{url}/open_api/v1.3",
            }

        workers.append(
            celery_worker(
                pointed_at(base_url),
                concurrency=args.concurrency,
                queues="publishing",
                name="publishing",
            )
        )
        workers.append(
            celery_worker(
                pointed_at(sync_url or base_url),
                concurrency=args.background_concurrency,
                queues="default,sync,analytics",
                name="background",
                nice=10,
                log=Path(os.environ["BENCH_WORKER_LOG"])
                if "BENCH_WORKER_LOG" in os.environ
                else None,
            )
        )
        if sync_url:
            _seed_sync_accounts(tokens, args.accounts)
        seed_args = argparse.Namespace(posts=args.posts, posts_per_account=args.posts_per_account)
        scheduled_at = _seed(sim, seed_args, timezone.now())
        phase = "with sync" if sync_url else "alone"
        print(f"{phase}: {args.posts} posts due at {scheduled_at:%H:%M:%S}", flush=True)
        result = _drive(args, scheduled_at, with_sync=bool(sync_url))
        connections.close_all()
        return result
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        if server is not None:
            server.shutdown()
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def _seed_sync_accounts(tokens: Path, count: int) -> None:
    """`count` connected business accounts (100 per agency workspace) with the second
    simulator's tokens, so that beat's fan-out sends one sync task for each."""
    import datetime as dt

    from django.utils import timezone

    from accounts.crypto import encrypt_token
    from accounts.models import AccountStatus, AccountType, BusinessStatus, TikTokAccount, Workspace
    from tiktok_client.config import BUSINESS_SCOPES

    now = timezone.now()
    rows = [json.loads(line) for line in tokens.read_text().splitlines()[:count]]
    workspaces = Workspace.objects.bulk_create(
        Workspace(name=f"Sync agency {n}") for n in range((len(rows) + 99) // 100)
    )
    TikTokAccount.objects.bulk_create(
        (
            TikTokAccount(
                workspace=workspaces[n // 100],
                open_id=row["open_id"],
                username=row["open_id"].replace("-", "."),
                account_type=AccountType.BUSINESS,
                status=AccountStatus.CONNECTED,
                scopes=["user.info.basic"],
                access_token_encrypted=encrypt_token(row["login"]["access_token"]),
                refresh_token_encrypted=encrypt_token(row["login"]["refresh_token"]),
                access_token_expires_at=now + dt.timedelta(days=1),
                refresh_token_expires_at=now + dt.timedelta(days=300),
                business_id=str(row["business"]["open_id"]),
                business_status=BusinessStatus.CONNECTED,
                business_scopes=list(BUSINESS_SCOPES),
                business_access_token_encrypted=encrypt_token(row["business"]["access_token"]),
                business_refresh_token_encrypted=encrypt_token(row["business"]["refresh_token"]),
                business_access_token_expires_at=now + dt.timedelta(days=1),
                business_refresh_token_expires_at=now + dt.timedelta(days=300),
            )
            for n, row in enumerate(rows)
        ),
        batch_size=1000,
    )


def _send_every_sync() -> None:
    from django.db import connection

    from accounts.models import AccountType, TikTokAccount
    from conversations.tasks import sync_account_comments

    try:
        accounts = list(
            TikTokAccount.objects.unscoped()
            .filter(account_type=AccountType.BUSINESS)
            .values_list("pk", "workspace_id")
        )
        for account_id, workspace_id in accounts:
            sync_account_comments.delay(workspace_id=str(workspace_id), account_id=str(account_id))
    finally:
        connection.close()


def _drive(args: argparse.Namespace, scheduled_at: Any, *, with_sync: bool) -> dict[str, Any]:
    from django.utils import timezone

    from accounts.models import TikTokVideo
    from calendar_app.models import Post, PostStatus

    beat = Beat.publishing()
    settled = {PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.UNCONFIRMED}
    started = time.monotonic()
    sync_sent = not with_sync
    while time.monotonic() - started < args.deadline:
        if not sync_sent and timezone.now() >= scheduled_at:
            # Every account's sync, due at the same moment (the worst case; see the docstring),
            # sent beside this loop as a fan-out task would be, so beat's ticks keep time.
            threading.Thread(target=_send_every_sync, daemon=True).start()
            sync_sent = True
        next_tick = beat.tick()
        posts = Post.objects.unscoped()
        if timezone.now() > scheduled_at and not posts.exclude(status__in=settled).exists():
            break
        time.sleep(max(0.0, min(next_tick, 0.25)))
    posts = Post.objects.unscoped()
    counts = collections.Counter(posts.values_list("status", flat=True))
    lateness = [
        (at - scheduled_at).total_seconds()
        for at in posts.filter(status=PostStatus.PUBLISHED).values_list("published_at", flat=True)
        if at is not None
    ]
    synced = (
        TikTokVideo.objects.unscoped()
        .filter(comments_synced_at__isnull=False)
        .values("account_id")
        .distinct()
        .count()
    )
    result = {
        "p50": percentile(lateness, 50),
        "p99": percentile(lateness, 99),
        "published": counts.get(PostStatus.PUBLISHED, 0),
        "synced": synced,
    }
    print(
        f"  {dict(counts)}; publish lateness p50 {result['p50']:.1f} s, p99 {result['p99']:.1f} s; "
        f"{synced} accounts synced; {load_average()}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    raise SystemExit(main())

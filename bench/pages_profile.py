"""Profile one request of each page of `pages_load.py` on its data: queries, time, hot spots.

    .venv/bin/python bench/pages_profile.py            # seed (once) and profile every page
    .venv/bin/python bench/pages_profile.py month -n 20 # one page, 20 timed requests
    .venv/bin/python bench/pages_profile.py --uncached  # every request misses the page cache

Keeps its database (later_bench_pages_profile) between runs; pass --reseed to start over.
Not part of `make bench` (it prints no BENCH lines): a tool for finding where time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PG_ADMIN_URL, fresh_database, setup_django

DB_NAME = "later_bench_pages_profile"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="*")
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="store_true")
    parser.add_argument(
        "--uncached", action="store_true", help="a fresh page token per request (a cache miss)"
    )
    args = parser.parse_args()
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [DB_NAME]).fetchone()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
    if args.reseed or not exists:
        url = fresh_database(DB_NAME)
    env = {
        "DEBUG": "False",
        "SECRET_KEY": "profile" * 8,
        "TOKEN_ENCRYPTION_KEYS": "ZGV2LW9ubHktdG9rZW4ta2V5LWRvLW5vdC11c2UtMzI=",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"),
        "STATIC_ROOT": f"/tmp/{DB_NAME}-static",
    }
    setup_django(url, **env)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from bench import pages_load

    state = Path(f"/tmp/{DB_NAME}.state")
    if args.reseed or not exists or not state.exists():
        ws_id, cookie, today, agency_id = pages_load.seed()
        state.write_text(f"{ws_id} {cookie} {today} {agency_id}")
    ws_id, cookie, today, agency_id = state.read_text().split()
    from django.db import connection
    from django.test import Client

    if args.uncached:
        _miss_every_page()

    pages = {
        "month": f"/w/{ws_id}/calendar/?view=month&date={today}",
        "week": f"/w/{ws_id}/calendar/?view=week&date={today}",
        "list": f"/w/{ws_id}/calendar/?view=list&date={today}",
        "inbox": f"/w/{ws_id}/conversations/",
        "analytics": f"/w/{ws_id}/analytics/",
        "agency": f"/agencies/{agency_id}/",
        "healthz": "/healthz/",
    }
    client = Client()
    client.cookies["sessionid"] = cookie
    for name, path in pages.items():
        if args.pages and name not in args.pages:
            continue
        r = client.get(path)
        assert r.status_code == 200, (name, r.status_code)
        captured: list[tuple[float, str]] = []

        def log(execute, sql, params, many, context, captured=captured):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                captured.append(((time.perf_counter() - t0) * 1000, sql))

        with connection.execute_wrapper(log):
            client.get(path)
        times = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            r = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(
            f"{name:10s} {len(captured):3d} queries  median {times[len(times) // 2]:7.1f} ms"
            f"  min {times[0]:7.1f} ms  {len(r.content) / 1024:7.1f} KB"
        )
        if args.sql:
            for ms, sql in captured:
                print(f"   {ms:6.1f} ms  {sql[:400]}")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(5):
                client.get(path)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def _miss_every_page() -> None:
    """Every page takes a fresh token, as if each request followed a write to its data."""
    import uuid

    from accounts import agency_views
    from analytics import views as analytics_views
    from calendar_app import views as calendar_views
    from conversations import views as conversations_views

    def fresh(*workspace_ids, clock=True):
        return uuid.uuid4().hex

    for module in (agency_views, analytics_views, calendar_views, conversations_views):
        module.page_token = fresh  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

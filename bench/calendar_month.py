"""Month view cost as the workspace grows, and MP4 inspection without ffmpeg.

    .venv/bin/python bench/calendar_month.py

Seeds a throwaway PostgreSQL database with 50, 500 and then 5,000 posts inside one month and
renders the month view in-process (Django test client) each time: the query count must stay
flat; render time is printed beside the 50-post baseline. Then times the pure-Python MP4 box
parser against asking the ffmpeg binary for the same facts.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import drop_database, fresh_database, median, report, setup_django

DB_NAME = "later_bench_calendar"
SIZES = (50, 500, 5_000)
RUNS = 5


def main() -> None:
    setup_django(fresh_database(DB_NAME), REDIS_URL="")
    try:
        month_view()
        mp4_inspection()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def month_view() -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import TikTokAccount, User
    from accounts.services import workspace_create
    from calendar_app.models import Post

    user = User.objects.create_user("bench@example.com", "bench-password")
    ws = workspace_create(owner=user, name="Bench", time_zone="Europe/Paris")
    accounts = [
        TikTokAccount.objects.create(workspace=ws, open_id=f"b{i}", username=f"bench{i}")
        for i in range(5)
    ]
    client = Client()
    client.force_login(user)
    url = f"/w/{ws.id}/calendar/?view=month&date=2027-02-10"
    client.get(url)
    rng = random.Random(5)
    start = datetime(2027, 2, 1, tzinfo=UTC)
    have = 0
    baseline_ms = 0.0
    for size in SIZES:
        Post.objects.bulk_create(
            [
                Post(
                    workspace=ws,
                    account=rng.choice(accounts),
                    caption=f"Post {i}",
                    status=rng.choice(["scheduled", "draft", "published", "failed"]),
                    scheduled_at=start + timedelta(minutes=rng.randrange(27 * 24 * 60)),
                    scheduled_tz="Europe/Paris",
                )
                for i in range(have, size)
            ],
            batch_size=1000,
        )
        have = size
        timings = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as ctx:
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        ms = median(timings)
        baseline_ms = baseline_ms or ms
        print(f"month view, {size:>5} posts: {len(ctx.captured_queries)} queries, {ms:.1f} ms")
        report(
            name=f"calendar month view, {size} posts",
            value=ms,
            unit="ms",
            baseline_name="same view, 50 posts",
            baseline_value=baseline_ms,
            note=f"{len(ctx.captured_queries)} queries",
        )


def mp4_inspection() -> None:
    from calendar_app.media import ffmpeg_exe, inspect_file

    exe = ffmpeg_exe()
    if exe is None:
        print("ffmpeg unavailable; skipping the inspection benchmark")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        subprocess.run(
            [
                exe,
                "-y",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=1080x1920:rate=30",
                "-t",
                "20",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
        )
        ours, theirs = [], []
        for _ in range(RUNS):
            began = time.perf_counter()
            inspect_file(path)
            ours.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True)
            theirs.append((time.perf_counter() - began) * 1000)
    print(f"MP4 inspection: box parser {median(ours):.2f} ms, ffmpeg probe {median(theirs):.1f} ms")
    report(
        name="MP4 inspection (20 s 1080x1920)",
        value=median(ours),
        unit="ms",
        baseline_name="ffmpeg -i on the same file",
        baseline_value=median(theirs),
    )


if __name__ == "__main__":
    main()

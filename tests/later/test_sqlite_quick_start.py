"""The SQLite quick start survives web, worker and beat writing at once (no "database is
locked"): WAL, IMMEDIATE transactions and a busy timeout, as configured in settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WRITER = """
import django, sys
django.setup()
from django.db import connection, transaction
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, who TEXT)")
    mode = c.execute("PRAGMA journal_mode").fetchone()[0]
assert mode == "wal", mode
for n in range(150):
    # Read, then write, in one transaction: the pattern that deadlocks deferred transactions.
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT count(*) FROM hits").fetchone()
        c.execute("INSERT INTO hits (who) VALUES (%s)", [sys.argv[1]])
print("ok")
"""


def test_three_processes_write_one_sqlite_file_without_locking_errors(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quick.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "later.settings",
    }
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, who],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("web", "worker", "beat")
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert out.strip() == "ok"
    import sqlite3

    with sqlite3.connect(tmp_path / "quick.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM hits").fetchone()[0] == 450


PAGES = """
import datetime as dt
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

call_command("migrate", verbosity=0)
from accounts.models import User
from accounts.services import workspace_create
from tests.analytics.seed import business_account, seed_hand_computed, snapshot, video
from tests.conversations.factories import make_comment, make_video

user = User.objects.create_user(email="quick@example.com", password="pw-quick-start-1")
workspace = workspace_create(owner=user, name="Quick start")
account, _ = seed_hand_computed(workspace)
now = timezone.now()
clip = video(account, "breakdowns", now - dt.timedelta(days=2))
snapshot(
    clip,
    dt.timedelta(hours=30),
    900,
    retention=[[0, 1.0], [5, 0.62], [10, 0.41], [15, 0.2]],
    impression_sources={"For You": 0.71, "Follow": 0.29},
    audience_types={"NEW_VIEWER": 63.1, "RETURNING_VIEWER": 36.9},
)
for minutes in (10, 30):
    make_comment(
        make_video(account),
        created_at_tiktok=now - dt.timedelta(hours=2),
        is_question=True,
        first_response_at=now - dt.timedelta(hours=2) + dt.timedelta(minutes=minutes),
        first_response_by=user,
    )
# Views at 24 h: stored by the snapshot writer and by the data migration, read back the same.
import importlib
from django.apps import apps
from accounts.video_sync import FetchedVideo
from analytics.models import VideoViews24h
from analytics.selectors import videos_with_metrics
from analytics.services import video_snapshots_record

fresh = video(account, "settled", now - dt.timedelta(days=3))
video_snapshots_record(
    account=account,
    videos=[fresh],
    fetched=[FetchedVideo(video_id="settled", posted_at=fresh.posted_at, views=4321)],
    captured_at=fresh.posted_at + dt.timedelta(hours=24, minutes=20),
)
early = video(account, "early", now - dt.timedelta(days=4))
snapshot(early, dt.timedelta(hours=25), 1234)  # written before the writer stored the figure
importlib.import_module("analytics.migrations.0005_video_views_24h").settle_existing(apps, None)
settled = dict(
    VideoViews24h.objects.for_workspace(workspace).values_list("video__video_id", "views")
)
assert settled["settled"] == 4321 and settled["early"] == 1234, settled
table = {v.video_id: getattr(v, "views_24h", 0) for v in videos_with_metrics(workspace=workspace)}
assert all(table[key] == value for key, value in settled.items()), (table, settled)

client = Client()
client.force_login(user)
ws = workspace.pk
pages = [reverse("analytics:overview", args=[ws])]
pages += [pages[0] + f"?sort=-{key}" for key in ("for_you", "new_viewers", "retention_mid")]
pages += [
    reverse("analytics:best_times", args=[ws]),
    reverse("analytics:best_times", args=[ws]) + f"?account={account.pk}",
    reverse("conversations:response_times", args=[ws]),
    reverse("conversations:inbox", args=[ws]),
    reverse("calendar_app:calendar", args=[ws]),
]
for url in pages:
    status = client.get(url).status_code
    print(status, url)
    assert status == 200, url
print("ok")
"""


def test_the_pages_with_hand_written_sql_answer_on_the_quick_starts_sqlite(
    tmp_path: Path,
) -> None:
    # The suite runs on PostgreSQL; these pages use SQL the quick start's SQLite must also
    # read (JSON breakdown sorts, response-time percentiles, the best-times heatmap). All three
    # once answered 500 there.
    _run_on_sqlite(tmp_path, PAGES, DEBUG="True")


PUBLISH = """
import argparse, datetime as dt, time
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone

call_command("migrate", verbosity=0)
from bench.publish_throughput import _seed, serve_simulator
from calendar_app.models import Post, PostStatus
from calendar_app.publishing import dispatch, run

sim, server, _ = serve_simulator(0.0, 0.0)
due = timezone.now() - dt.timedelta(minutes=1)
_seed(sim, argparse.Namespace(posts=2, posts_per_account=1), due)
for post_id, token in dispatch.posts_dispatch_due():
    run.post_publish(post_id=post_id, claim_token=token)  # check, init, upload: parked
time.sleep(0.5)  # the simulator's processing time
resumed = dispatch.posts_resume_due_polls(now=timezone.now() + dt.timedelta(minutes=1))
for post in Post.objects.unscoped().exclude(claim_token=None):
    run.post_publish(post_id=post.pk, claim_token=post.claim_token)  # the status poll
statuses = sorted(Post.objects.unscoped().values_list("status", flat=True))
assert resumed == 2 and statuses == [PostStatus.PUBLISHED] * 2, (resumed, statuses)
assert sim.state.counters.successes("/v2/post/publish/video/init/") == 2
server.shutdown()
print("ok")
"""


def test_the_publishing_pipeline_publishes_on_the_quick_starts_sqlite(tmp_path: Path) -> None:
    # The pipeline's hottest statements are hand-written SQL built once per process
    # (calendar_app/publishing/run.py, state.py); the quick start runs them on SQLite, where
    # UUIDs and datetimes must be adapted by Django's fields, not by psycopg. Once the run
    # passed a bare UUID there and every post stopped at "queued".
    _run_on_sqlite(
        tmp_path,
        PUBLISH,
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        MEDIA_ROOT=str(tmp_path / "media"),
    )


def _run_on_sqlite(tmp_path: Path, script: str, **env: str) -> None:
    """Run `script` in a fresh interpreter on a SQLite file in `tmp_path`; it must print "ok"."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'quick.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "later.settings",
            **env,
        },
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")

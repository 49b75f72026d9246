"""Shared pieces of the end-to-end journeys: a real Celery worker subprocess, browser logins,
bounded waits and small seeders for the journeys that start from an existing workspace."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import AccountType, TikTokAccount, TikTokVideo, User, Workspace
from analytics.models import AccountDailySnapshot
from calendar_app.models import Post, PostStatus
from conversations.models import Comment
from tiktok_client.config import DEFAULT_SCOPES
from tiktok_client.simulator.app import SimulatorApp

REPO = Path(__file__).resolve().parents[2]
CALLBACK_PATH = "/connect/tiktok/callback/"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.5,
    tick: Callable[[], object] | None = None,
    what: str = "condition",
) -> None:
    """Poll `predicate` (running `tick` before each check) until it holds or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if tick is not None:
            tick()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(interval)


class CeleryWorker:
    """`celery -A later worker` in its own process group, against the test database.

    `start()` returns at once so the worker boots while the browser works; `wait_ready()`
    blocks until Celery logs that it consumes.
    """

    def __init__(self, *, sim_base_url: str, media_root: str, log_dir: Path) -> None:
        db_name = connection.settings_dict["NAME"]
        base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/later")
        self.env = {
            **os.environ,
            "DATABASE_URL": base.rsplit("/", 1)[0] + "/" + db_name,
            "CONN_MAX_AGE": "0",
            "TIKTOK_AUTH_BASE_URL": sim_base_url,
            "TIKTOK_OPEN_API_BASE_URL": sim_base_url,
            "TIKTOK_BUSINESS_API_BASE_URL": f"{sim_base_url}/open_api/v1.3",
            "TIKTOK_TIMEOUT_SECONDS": "5",
            "TOKEN_ENCRYPTION_KEYS": ",".join(settings.TOKEN_ENCRYPTION_KEYS),
            "MEDIA_ROOT": media_root,
            "PUBLISHING_POLL_FIRST_INTERVAL": "0.3",
            "PUBLISHING_POLL_MAX_INTERVAL": "0.6",
        }
        self.log = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "later",
                "worker",
                "--pool=prefork",
                "-c",
                "2",
                "-n",
                f"e2e-{uuid.uuid4().hex[:8]}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-f",
                str(self.log),
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None, "start() the worker first"
        deadline = time.monotonic() + timeout
        while " ready." not in self.log_text():
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready after {timeout:.0f}s; see {self.log}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@contextlib.contextmanager
def running_worker(**kwargs: Any) -> Iterator[CeleryWorker]:
    worker = CeleryWorker(**kwargs)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def login_cookie(user: User, live_server_url: str) -> dict[str, str]:
    """The session cookie of a logged-in `user`, for a Playwright context."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server_url,
    }


def sim_account(
    sim: SimulatorApp,
    workspace: Workspace,
    open_id: str,
    *,
    color: str = "#7c3aed",
) -> TikTokAccount:
    """A connected account holding real simulator tokens (the UI connect is journey 1's)."""
    with sim.state.lock:
        tokens = sim.state.issue_tokens(open_id=open_id, scopes=DEFAULT_SCOPES)
        creator = sim.state.creators[open_id]
    now = timezone.now()
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=open_id,
        username=creator.username,
        display_name=creator.nickname,
        account_type=AccountType.BUSINESS if creator.is_business else AccountType.PERSONAL,
        scopes=list(DEFAULT_SCOPES),
        color=color,
        access_token_encrypted=encrypt_token(str(tokens["access_token"])),
        refresh_token_encrypted=encrypt_token(str(tokens["refresh_token"])),
        access_token_expires_at=now + dt.timedelta(hours=20),
        refresh_token_expires_at=now + dt.timedelta(days=300),
    )


def seed_client(
    workspace: Workspace,
    account: TikTokAccount,
    *,
    label: str,
    scheduled_in: dt.timedelta = dt.timedelta(days=2),
) -> dict[str, Any]:
    """A workspace's visible footprint: a scheduled post, a published post with its video,
    a fan comment on it and a week of account snapshots. Every text carries `label`."""
    from tests.calendar_app.factories import MediaAssetFactory

    media = MediaAssetFactory.create(workspace=workspace, original_name=f"{label}-clip.mp4")
    when = timezone.now() + scheduled_in
    scheduled = Post.objects.create(
        workspace=workspace,
        account=account,
        media=media,
        caption=f"{label} upcoming post",
        privacy_level="PUBLIC_TO_EVERYONE",
        status=PostStatus.SCHEDULED,
        scheduled_at=when,
        scheduled_local=when.astimezone(workspace.tz).strftime("%Y-%m-%dT%H:%M"),
        scheduled_tz=workspace.time_zone,
    )
    posted_at = timezone.now() - dt.timedelta(hours=5)
    video = TikTokVideo.objects.create(
        workspace=workspace,
        account=account,
        video_id=str(7_390_000_000_000_000_000 + zlib.crc32(label.encode())),
        caption=f"{label} launch video",
        share_url=f"https://www.tiktok.com/@{account.username}/video/1",
        posted_at=posted_at,
        view_count=1234,
        like_count=56,
        comment_count=1,
        share_count=7,
    )
    published = Post.objects.create(
        workspace=workspace,
        account=account,
        media=media,
        caption=f"{label} launch video",
        privacy_level="PUBLIC_TO_EVERYONE",
        status=PostStatus.PUBLISHED,
        scheduled_at=posted_at,
        scheduled_local=posted_at.astimezone(workspace.tz).strftime("%Y-%m-%dT%H:%M"),
        scheduled_tz=workspace.time_zone,
        published_at=posted_at,
        publish_id=f"v_pub_{label}",
        tiktok_post_id=video.video_id,
        tiktok_share_url=video.share_url,
        video=video,
    )
    comment = Comment.objects.create(
        workspace=workspace,
        account=account,
        video=video,
        comment_id=str(7_490_000_000_000_000_000 + zlib.crc32(label.encode())),
        author_key=f"{label.lower()}-fan-key",
        author_username=f"{label.lower()}.fan",
        author_display_name=f"{label} Fan",
        text=f"{label} fan says hello",
        created_at_tiktok=timezone.now() - dt.timedelta(hours=1),
    )
    today = timezone.now().astimezone(workspace.tz).date()
    AccountDailySnapshot.objects.bulk_create(
        AccountDailySnapshot(
            workspace=workspace,
            account=account,
            date=today - dt.timedelta(days=offset),
            followers=900 + offset,
            video_views=100 * offset,
            likes=10,
            comments=1,
            shares=1,
        )
        for offset in range(1, 8)
    )
    return {
        "scheduled": scheduled,
        "published": published,
        "video": video,
        "comment": comment,
        "texts": [
            account.username,
            scheduled.caption,
            published.caption,
            comment.text,
            comment.author_display_name,
        ],
    }

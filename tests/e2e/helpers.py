"""Shared pieces of the end-to-end journeys: a real Celery worker subprocess, browser logins,
bounded waits and small seeders for the journeys that start from an existing workspace."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
from analytics.models import AccountDailySnapshot
from calendar_app.models import Post, PostStatus
from conversations.models import Comment
from tests.celery_worker import CeleryWorker, worker_env
from tiktok_client.config import DEFAULT_SCOPES
from tiktok_client.simulator.app import SimulatorApp


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


@contextlib.contextmanager
def running_worker(*, sim_base_url: str, media_root: str, log_dir: Path) -> Iterator[CeleryWorker]:
    """A worker that boots while the test goes on (`wait_ready()` before relying on it)."""
    env = worker_env(
        sim_base_url=sim_base_url,
        media_root=media_root,
        TIKTOK_TIMEOUT_SECONDS="5",
        PUBLISHING_POLL_FIRST_INTERVAL="0.3",
        PUBLISHING_POLL_MAX_INTERVAL="0.6",
    )
    worker = CeleryWorker(env, log_dir, name="e2e")
    worker.launch()
    try:
        yield worker
    finally:
        worker.stop()


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

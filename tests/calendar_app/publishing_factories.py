"""Fixtures and builders shared by the publishing tests (a module, not a conftest, so that the
calendar tests' own conftest stays theirs). Import the fixtures you use by name."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import TikTokAccount, Workspace
from calendar_app.models import MediaAsset, Post, PostStatus
from calendar_app.publishing import dispatch, run
from tests.media_samples import mp4
from tiktok_client.simulator.app import SimulatorApp, create_app
from tiktok_client.simulator.models import Creator
from tiktok_client.simulator.server import run_in_thread

INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
STATUS = "/v2/post/publish/status/fetch/"
UPLOAD = "/video/"


@dataclass
class Sim:
    app: SimulatorApp
    base_url: str

    @property
    def state(self) -> Any:
        return self.app.state

    def add_creator(self, open_id: str, **fields: Any) -> Creator:
        creator = Creator(
            open_id=open_id,
            username=fields.pop("username", open_id.replace("-", ".")),
            nickname=fields.pop("nickname", open_id),
            bio="",
            is_business=False,
            is_private=fields.pop("is_private", False),
            seeded_videos=0,
            **fields,
        )
        with self.state.lock:
            self.state.creators[open_id] = creator
        return creator

    def publishes_by_title(self) -> dict[str, list[Any]]:
        by_title: dict[str, list[Any]] = {}
        with self.state.lock:
            self.state.tick()
            for publish in self.state.publishes.values():
                by_title.setdefault(str(publish.post_info.get("title", "")), []).append(publish)
        return by_title


def flush_rate_limits() -> None:
    url = os.environ.get("REDIS_URL")
    if url:
        redis.Redis.from_url(url).flushdb()


@pytest.fixture
def pub_sim(settings: Any, tmp_path: Path) -> Iterator[Sim]:
    """A threaded simulator on a loopback port with fast processing, settings pointed at it."""
    flush_rate_limits()
    app = create_app(min_processing_seconds=0.2, moderation_delay=0.0)
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = f"{base_url}/open_api/v1.3"
    settings.TIKTOK_TIMEOUT_SECONDS = 2.0
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PUBLISHING_POLL_FIRST_INTERVAL = 0.1
    settings.PUBLISHING_POLL_MAX_INTERVAL = 0.3
    settings.PUBLISHING_RETRY_BASE_SECONDS = 0.0
    settings.PUBLISHING_POLL_IN_TASK_SECONDS = 5.0  # in-process runs settle in one pass
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield Sim(app=app, base_url=base_url)
    stop()


def connect_account(sim: Sim, workspace: Workspace, open_id: str) -> TikTokAccount:
    with sim.state.lock:
        creator = sim.state.creators[open_id]
        tokens = sim.state.issue_tokens(
            open_id=open_id,
            scopes=("user.info.basic", "video.publish", "video.upload", "video.list"),
        )
    now = timezone.now()
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=open_id,
        username=creator.username,
        display_name=creator.nickname,
        is_private=creator.is_private,
        scopes=tokens["scope"].split(","),
        access_token_encrypted=encrypt_token(tokens["access_token"]),
        refresh_token_encrypted=encrypt_token(tokens["refresh_token"]),
        access_token_expires_at=now + dt.timedelta(seconds=tokens["expires_in"]),
        refresh_token_expires_at=now + dt.timedelta(seconds=tokens["refresh_expires_in"]),
    )


def make_video(
    workspace: Workspace, *, size: int = 64 * 1024, duration: float = 12.0
) -> MediaAsset:
    asset = MediaAsset(
        workspace=workspace,
        kind="video",
        original_name="clip.mp4",
        content_type="video/mp4",
        size_bytes=size,
        duration_seconds=duration,
    )
    # TikTok's checks read the container's boxes (§2.6 video specs).
    asset.file.save("clip.mp4", ContentFile(mp4(size, seconds=duration)), save=False)
    asset.save()
    return asset


def make_post(
    account: TikTokAccount,
    *,
    media: MediaAsset | None = None,
    caption: str | None = None,
    status: str = PostStatus.SCHEDULED,
    scheduled_at: dt.datetime | None = None,
    **fields: Any,
) -> Post:
    fields.setdefault("privacy_level", "SELF_ONLY")
    return Post.objects.create(
        workspace=account.workspace,
        account=account,
        media=media if media is not None else make_video(account.workspace),
        caption=caption or f"post {uuid.uuid4().hex[:10]}",
        status=status,
        scheduled_at=scheduled_at or timezone.now() - dt.timedelta(seconds=1),
        **fields,
    )


def run_until_settled(
    post: Post, claim_token: Any, *, passes: int = 10, pause: float = 0.0
) -> None:
    """Run the pipeline in-process as worker and dispatcher would, until it stops polling.

    A pending status poll parks the post; the dispatcher resumes it when due, which here is
    asked for at once (the dispatcher's clock is moved forward instead of sleeping).
    """
    token = claim_token
    for _ in range(passes):
        result = run.post_publish(post_id=post.pk, claim_token=token)
        if result is None or result.poll_again_in is None:
            return
        time.sleep(min(result.poll_again_in, pause))
        wait = dt.timedelta(seconds=result.poll_again_in)
        dispatch.posts_resume_due_polls(now=timezone.now() + wait)
        token = Post.objects.unscoped().values_list("claim_token", flat=True).get(pk=post.pk)

"""Fixtures for the calendar, composer and media library tests.

Test videos are real files made by the ffmpeg binary shipped with imageio-ffmpeg and cached
for the whole session; TikTok is the threaded simulator.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import TikTokAccount, Workspace
from tiktok_client.schemas import CreatorInfo
from tiktok_client.simulator import create_app
from tiktok_client.simulator.app import SimulatorApp
from tiktok_client.simulator.server import run_in_thread

SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@pytest.fixture(scope="session")
def make_media(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """make_media(size="720x1280", rate=30, seconds=2, fmt="mp4") -> cached file path."""
    cache = tmp_path_factory.mktemp("media")
    made: dict[tuple[Any, ...], Path] = {}

    def make(size: str = "360x640", rate: int = 30, seconds: float = 2, fmt: str = "mp4") -> Path:
        key = (size, rate, seconds, fmt)
        if key in made:
            return made[key]
        out = cache / f"{size}-{rate}-{seconds}.{fmt}"
        cmd = [
            _ffmpeg(),
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate={rate}",
        ]
        if fmt in ("jpg", "webp", "png"):
            cmd += ["-frames:v", "1"]
            if fmt == "webp":
                cmd += ["-c:v", "libwebp"]
        elif fmt == "webm":
            cmd += ["-t", str(seconds), "-c:v", "libvpx", "-b:v", "200k"]
        else:
            cmd += [
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ]
            if fmt == "mov":
                cmd += ["-f", "mov"]
        subprocess.run([*cmd, str(out)], check=True, timeout=120)
        made[key] = out
        return out

    return make


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@dataclass
class TikTokSim:
    app: SimulatorApp
    base_url: str

    def connect(
        self, workspace: Workspace, open_id: str = "sim-ava-public", *, color: str = "#7c3aed"
    ) -> TikTokAccount:
        """An account holding real simulator tokens (the OAuth flow is the accounts app's test)."""
        with self.app.state.lock:
            tokens = self.app.state.issue_tokens(open_id=open_id, scopes=SCOPES)
            creator = self.app.state.creators[open_id]
        now = timezone.now()
        return TikTokAccount.objects.create(
            workspace=workspace,
            open_id=open_id,
            username=creator.username,
            display_name=creator.nickname,
            scopes=list(SCOPES),
            color=color,
            access_token_encrypted=encrypt_token(str(tokens["access_token"])),
            refresh_token_encrypted=encrypt_token(str(tokens["refresh_token"])),
            access_token_expires_at=now + timedelta(hours=20),
            refresh_token_expires_at=now + timedelta(days=300),
        )


@pytest.fixture
def tiktok_sim(settings: Any) -> Iterator[TikTokSim]:
    app = create_app()
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = base_url + "/open_api/v1.3"
    try:
        yield TikTokSim(app, base_url)
    finally:
        stop()


def creator_info(**overrides: Any) -> CreatorInfo:
    values: dict[str, Any] = {
        "avatar_url": "",
        "username": "ava.creates",
        "nickname": "Ava Creates",
        "privacy_level_options": ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": False,
        "max_video_post_duration_sec": 600,
    }
    values.update(overrides)
    return CreatorInfo(**values)

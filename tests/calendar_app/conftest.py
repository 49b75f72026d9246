"""Fixtures for the calendar, composer and media library tests.

Test videos are real files made by the ffmpeg binary shipped with imageio-ffmpeg and cached
for the whole session; TikTok is the threaded simulator.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accounts.models import TikTokAccount, Workspace
from tests.simulator import account_with_simulator_tokens, running_simulator
from tiktok_client.schemas import CreatorInfo
from tiktok_client.simulator.app import SimulatorApp

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
        return account_with_simulator_tokens(
            self.app, workspace, open_id=open_id, scopes=SCOPES, color=color
        )


@pytest.fixture
def tiktok_sim(settings: Any) -> Iterator[TikTokSim]:
    with running_simulator(settings) as (app, base_url):
        yield TikTokSim(app, base_url)


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

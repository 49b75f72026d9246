"""Builders for photo carousels and pulled media (shared by the photo publishing tests).

TikTok pulls from `MEDIA_PUBLIC_BASE_URL` (https, verified); in tests the simulator reaches
that prefix on the live server through `pull_resolve`, a TLS-terminating proxy in effect.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image

from accounts.models import TikTokAccount, Workspace
from calendar_app.models import MediaAsset, Post, PostPhoto
from tests.calendar_app.publishing_factories import Sim, make_post

PUBLIC_BASE = "https://media.later.test/public-media/"


def point_pulls_at(sim: Sim, settings: Any, live_url: str, base: str = PUBLIC_BASE) -> None:
    settings.MEDIA_PUBLIC_BASE_URL = base
    sim.state.settings.pull_resolve = f"{PUBLIC_BASE}={live_url}/public-media/"
    sim.state.settings.download_seconds = 0.0


def make_image(workspace: Workspace, path: Path, name: str = "photo.jpg") -> MediaAsset:
    data = path.read_bytes()
    content_type = "image/webp" if path.suffix == ".webp" else "image/jpeg"
    asset = MediaAsset(
        workspace=workspace,
        kind="image",
        original_name=name,
        content_type=content_type,
        size_bytes=len(data),
        width=360,
        height=640,
    )
    asset.file.save(name, ContentFile(data), save=False)
    asset.save()
    return asset


def make_carousel(
    account: TikTokAccount,
    make_media: Callable[..., Path],
    *,
    count: int = 3,
    cover: int = 1,
    **fields: Any,
) -> Post:
    images = [
        make_image(account.workspace, make_media(fmt="webp" if i % 2 else "jpg"), f"p{i}.jpg")
        for i in range(count)
    ]
    fields.setdefault("title", "Our new menu")
    post = make_post(
        account,
        media=images[cover],
        caption=fields.pop("caption", "Swipe through the new menu #food"),
        photo_cover_index=cover,
        **fields,
    )
    for position, image in enumerate(images):
        PostPhoto.objects.create(
            workspace=account.workspace, post=post, media=image, position=position
        )
    return post


RED, BLUE = (220, 20, 20), (20, 20, 220)
ORIENTATION = 0x0112
GPS_IFD = 0x8825
# Latitude/longitude refs and degrees, minutes, seconds: a spot in Amsterdam.
GPS_POSITION = {1: "N", 2: (52.0, 22.0, 25.5), 3: "E", 4: (4.0, 53.0, 36.2)}


def photo(
    width: int,
    height: int,
    *,
    fmt: str = "JPEG",
    orientation: int = 1,
    mode: str = "RGB",
    icc: bytes | None = None,
    gps: bool = False,
) -> bytes:
    """A photo whose top-left quarter is red and the rest blue (as stored, before EXIF); with
    `gps`, its EXIF carries where it was taken (GPS_POSITION), as a phone's camera writes it."""
    img = Image.new(mode, (width, height), BLUE + ((255,) if mode == "RGBA" else ()))
    img.paste(RED, (0, 0, width // 2, height // 2))
    exif = Image.Exif()
    if orientation != 1:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = GPS_POSITION
    out = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    img.save(out, fmt, quality=90, exif=exif.tobytes(), **extra)
    return out.getvalue()

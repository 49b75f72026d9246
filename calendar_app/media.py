"""Media inspection: what a file really is, read from its bytes, never from its name.

MP4/MOV/WebM metadata and photo sizes come from tiktok_client.media_probe, a pure-Python reader
shared with the TikTok simulator, so validation works on hosts without ffmpeg. The ffmpeg binary
shipped by imageio-ffmpeg only makes video thumbnails.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest

from later.errors import ValidationFailed
from tiktok_client import media_probe

logger = logging.getLogger(__name__)

MIN_SIDE_PX = 360
MAX_SIDE_PX = 4096
MIN_FPS = 23.0
MAX_FPS = 60.0
# §2.6: H.264, H.265, VP8 or VP9; as MP4/MOV sample entries and as WebM (Matroska) CodecIDs.
VIDEO_CODECS = frozenset(
    {"avc1", "avc3", "hvc1", "hev1", "vp08", "vp09"}
    | {"V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC", "V_VP8", "V_VP9"}
)
# How people know the codecs TikTok refuses, by their MP4/MOV sample entry or Matroska CodecID.
CODEC_NAMES = {
    "av01": "AV1",
    "V_AV1": "AV1",
    "mp4v": "MPEG-4 Part 2",
    "V_MPEG4/ISO/ASP": "MPEG-4 Part 2",
    "V_MPEG4/ISO/SP": "MPEG-4 Part 2",
    "V_MPEG2": "MPEG-2",
    "V_THEORA": "Theora",
    "jpeg": "Motion JPEG",
    "V_MJPEG": "Motion JPEG",
    "apcn": "Apple ProRes",
    "apch": "Apple ProRes",
    "apcs": "Apple ProRes",
    "apco": "Apple ProRes",
    "ap4h": "Apple ProRes",
}
# TikTok's API-level cap; each creator's own max_video_post_duration_sec is checked in the composer.
DEFAULT_MAX_VIDEO_SECONDS = 600

VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
IMAGE_TYPES = ("image/jpeg", "image/webp")


def _codec_name(codec: str) -> str:
    if not codec:
        return "an unknown codec"
    return CODEC_NAMES.get(codec, f'an unfamiliar codec ("{codec}")')


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" | "image"
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None
    codec: str | None = None  # None: not read (the check is skipped)


class MediaRejected(ValidationFailed):
    code = "media_rejected"


def upload_cut_short(request: HttpRequest) -> bool:
    """Whether the body ended before its Content-Length, i.e. HTTP's "incomplete message".

    wsgiref and gunicorn pass a short body on as if it were whole; call after parsing.
    """
    stream = getattr(getattr(request, "_request", request), "_stream", None)
    if not isinstance(stream, LimitedStream):
        return False
    return int(getattr(stream, "_pos", stream.limit)) < stream.limit


UPLOAD_CUT_SHORT = "The upload ended before the whole file arrived; nothing was saved. Try again."


def max_video_seconds() -> int:
    return int(getattr(settings, "MEDIA_MAX_VIDEO_SECONDS", DEFAULT_MAX_VIDEO_SECONDS))


_CONTENT_TYPES = {
    "mp4": "video/mp4",
    "quicktime": "video/quicktime",
    "webm": "video/webm",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}


def sniff_content_type(head: bytes) -> str:
    """Content type from magic bytes. Raises MediaRejected for anything TikTok cannot take."""
    kind = media_probe.container_kind(head)
    if kind in _CONTENT_TYPES:
        return _CONTENT_TYPES[kind]
    if kind == "matroska":
        raise MediaRejected(
            "This is a Matroska (.mkv) file. TikTok accepts MP4, MOV or WebM videos."
        )
    if kind == "png":
        raise MediaRejected(
            "PNG images can't be posted to TikTok: photo posts accept JPEG or WebP only. "
            "Export the image as JPEG and upload it again."
        )
    if kind == "gif":
        raise MediaRejected("GIFs can't be posted to TikTok. Upload an MP4 video instead.")
    raise MediaRejected(
        "This file isn't a supported video (MP4, MOV, WebM) or photo (JPEG, WebP). "
        "We check the file's contents, not its name."
    )


def inspect_video(fh: BinaryIO, size: int, content_type: str) -> MediaInfo:
    """MP4/MOV/WebM metadata from the file's boxes or elements (tiktok_client.media_probe)."""
    try:
        # "video/mp4", "video/quicktime", "video/webm": the container kinds media_probe names.
        facts = media_probe.read_video(fh, size, kind=content_type.removeprefix("video/"))
    except media_probe.DamagedMedia as exc:
        raise MediaRejected(str(exc)) from exc
    return MediaInfo(
        kind="video",
        content_type=content_type,
        width=facts.width,
        height=facts.height,
        duration_seconds=facts.duration_seconds,
        frame_rate=facts.frame_rate,
        codec=facts.codec,
    )


# --- ffmpeg -----------------------------------------------------------------------------------


def ffmpeg_exe() -> str | None:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception:  # the binary is optional; callers degrade
        logger.warning("ffmpeg binary unavailable", exc_info=True)
        return None


def video_thumbnail(path: Path, info: MediaInfo) -> bytes | None:
    """A small JPEG of a frame for the library, or None (the UI shows a placeholder) if it can't
    be made. Photos get theirs from the decode that makes their rendition (renditions.py)."""
    exe = ffmpeg_exe()
    if exe is None:
        return None
    at = min(1.0, (info.duration_seconds or 0) / 2)
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-ss", f"{at:.2f}", "-i", str(path)]
    cmd += ["-frames:v", "1", "-vf", "scale=320:-2", "-f", "image2pipe", "-c:v", "mjpeg", "-"]
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        logger.warning("thumbnail extraction failed", exc_info=True)
        return None
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        logger.warning("thumbnail extraction failed: %s", result.stderr[-300:])
        return None
    return result.stdout


# --- the one entry point ----------------------------------------------------------------------


def inspect_file(path: Path) -> MediaInfo:
    """Identify and measure the file at `path`, then check it against TikTok's limits."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(64)
        content_type = sniff_content_type(head)
        if content_type in VIDEO_TYPES:
            info = inspect_video(fh, size, content_type)
        else:
            dims = media_probe.image_size(fh)
            if dims is None:
                raise MediaRejected("This image is damaged: we couldn't read its dimensions.")
            info = MediaInfo(kind="image", content_type=content_type, width=dims[0], height=dims[1])
    check_limits(info, size)
    return info


def check_limits(info: MediaInfo, size: int) -> None:
    if info.kind == "video":
        limit = settings.MEDIA_MAX_VIDEO_BYTES
        if size > limit:
            raise MediaRejected(
                f"This video is {_mb(size)}; the limit is {_mb(limit)}.", code="media_too_large"
            )
        if info.duration_seconds is None or info.duration_seconds <= 0:
            raise MediaRejected("We couldn't read this video's duration; re-export it as MP4.")
        max_seconds = max_video_seconds()
        if info.duration_seconds > max_seconds:
            raise MediaRejected(
                f"This video is {info.duration_seconds:.0f} s long; TikTok accepts at most "
                f"{max_seconds} s.",
                code="media_too_long",
            )
        if not info.width or not info.height:
            raise MediaRejected("We couldn't read this video's resolution.")
        for side in (info.width, info.height):
            if not MIN_SIDE_PX <= side <= MAX_SIDE_PX:
                raise MediaRejected(
                    f"This video is {info.width}x{info.height} px; TikTok needs each side between "
                    f"{MIN_SIDE_PX} and {MAX_SIDE_PX} px.",
                    code="media_bad_resolution",
                )
        if info.codec is not None and info.codec not in VIDEO_CODECS:
            raise MediaRejected(
                f"This video is encoded as {_codec_name(info.codec)}; TikTok accepts "
                "H.264, H.265, VP8 or VP9. Export it again as an H.264 MP4.",
                code="media_bad_codec",
            )
        if info.frame_rate is None or not MIN_FPS <= info.frame_rate <= MAX_FPS:
            shown = f"{info.frame_rate:g} fps" if info.frame_rate else "an unreadable frame rate"
            raise MediaRejected(
                f"This video has {shown}; TikTok needs between 23 and 60 fps.",
                code="media_bad_frame_rate",
            )
    else:
        limit = settings.MEDIA_MAX_IMAGE_BYTES
        if size > limit:
            raise MediaRejected(
                f"This image is {_mb(size)}; the limit is {_mb(limit)}.", code="media_too_large"
            )
        # The header's claim is checked before any decoder allocates for it (decompression bombs).
        pixels = (info.width or 0) * (info.height or 0)
        max_pixels = settings.MEDIA_MAX_IMAGE_PIXELS
        if not pixels:
            raise MediaRejected("This image is damaged: it claims to have no pixels.")
        if pixels > max_pixels:
            raise MediaRejected(
                f"This image is {info.width}x{info.height} px ({pixels / 1e6:.0f} megapixels); "
                f"the limit is {max_pixels / 1e6:.0f} megapixels. Resize it and upload again.",
                code="media_too_many_pixels",
            )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"

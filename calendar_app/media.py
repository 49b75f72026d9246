"""Media inspection: what a file really is, read from its bytes, never from its name.

MP4/MOV metadata comes from a pure-Python walk of the ISO-BMFF boxes (mvhd, tkhd, mdhd,
stts), so validation works on hosts without ffmpeg. WebM needs a Matroska parser; there we
ask the ffmpeg binary shipped by imageio-ffmpeg and refuse the file if it cannot tell.
"""

from __future__ import annotations

import logging
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest

from later.errors import ValidationFailed

logger = logging.getLogger(__name__)

MIN_SIDE_PX = 360
MAX_SIDE_PX = 4096
MIN_FPS = 23.0
MAX_FPS = 60.0
# TikTok's API-level cap; each creator's own max_video_post_duration_sec is checked in the composer.
DEFAULT_MAX_VIDEO_SECONDS = 600

VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
IMAGE_TYPES = ("image/jpeg", "image/webp")


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" | "image"
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None


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


def sniff_content_type(head: bytes) -> str:
    """Content type from magic bytes. Raises MediaRejected for anything TikTok cannot take."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return "video/webm"
        raise MediaRejected(
            "This is a Matroska (.mkv) file. TikTok accepts MP4, MOV or WebM videos."
        )
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        raise MediaRejected(
            "PNG images can't be posted to TikTok: photo posts accept JPEG or WebP only. "
            "Export the image as JPEG and upload it again."
        )
    if head.startswith(b"GIF8"):
        raise MediaRejected("GIFs can't be posted to TikTok. Upload an MP4 video instead.")
    raise MediaRejected(
        "This file isn't a supported video (MP4, MOV, WebM) or photo (JPEG, WebP). "
        "We check the file's contents, not its name."
    )


# --- ISO-BMFF (MP4/MOV) -----------------------------------------------------------------------

MAX_BOX_DEPTH = 16
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}


@dataclass
class _Track:
    handler: bytes = b""
    width: float = 0.0
    height: float = 0.0
    timescale: int = 0
    duration: int = 0
    sample_count: int = 0
    sample_delta_total: int = 0


def _iter_boxes(fh: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload_start, payload_end) for each box in [start, end)."""
    boxes: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            break
        size, box_type = struct.unpack(">I4s", header)
        header_len = 8
        if size == 1:
            large = fh.read(8)
            if len(large) < 8:
                break
            size = struct.unpack(">Q", large)[0]
            header_len = 16
        elif size == 0:
            size = end - pos
        if size < header_len or pos + size > end:
            raise MediaRejected("This video file is damaged (a box runs past the end of the file).")
        boxes.append((box_type, pos + header_len, pos + size))
        pos += size
    return boxes


def _read(fh: BinaryIO, start: int, length: int) -> bytes:
    fh.seek(start)
    data = fh.read(length)
    if len(data) < length:
        raise MediaRejected("This video file is truncated.")
    return data


def _parse_track(fh: BinaryIO, start: int, end: int, track: _Track, depth: int = 0) -> None:
    if depth > MAX_BOX_DEPTH:  # real files nest a handful deep; a crafted one, thousands
        raise MediaRejected("This video file is damaged (its boxes nest too deeply).")
    for box_type, s, e in _iter_boxes(fh, start, end):
        if box_type in _CONTAINERS:
            _parse_track(fh, s, e, track, depth + 1)
        elif box_type == b"tkhd":
            version = _read(fh, s, 1)[0]
            offset = s + (88 if version == 1 else 76)
            w, h = struct.unpack(">II", _read(fh, offset, 8))
            track.width, track.height = w / 65536, h / 65536
        elif box_type == b"mdhd":
            version = _read(fh, s, 1)[0]
            if version == 1:
                track.timescale, track.duration = struct.unpack(">IQ", _read(fh, s + 20, 12))
            else:
                track.timescale, track.duration = struct.unpack(">II", _read(fh, s + 12, 8))
        elif box_type == b"hdlr" and not track.handler:
            # QuickTime also puts a data-handler hdlr inside minf; the media one (mdia) comes first.
            track.handler = _read(fh, s + 8, 4)
        elif box_type == b"stts":
            (entries,) = struct.unpack(">I", _read(fh, s + 4, 4))
            table = _read(fh, s + 8, 8 * min(entries, (e - s - 8) // 8))
            for i in range(0, len(table), 8):
                count, delta = struct.unpack(">II", table[i : i + 8])
                track.sample_count += count
                track.sample_delta_total += count * delta


def inspect_mp4(fh: BinaryIO, size: int) -> MediaInfo:
    top = _iter_boxes(fh, 0, size)
    moov = next(((s, e) for t, s, e in top if t == b"moov"), None)
    if moov is None:
        raise MediaRejected("This video has no index (moov box); re-export it from your editor.")
    movie_duration: float | None = None
    tracks: list[_Track] = []
    for box_type, s, e in _iter_boxes(fh, *moov):
        if box_type == b"mvhd":
            version = _read(fh, s, 1)[0]
            if version == 1:
                timescale, duration = struct.unpack(">IQ", _read(fh, s + 20, 12))
            else:
                timescale, duration = struct.unpack(">II", _read(fh, s + 12, 8))
            if timescale:
                movie_duration = duration / timescale
        elif box_type == b"trak":
            track = _Track()
            _parse_track(fh, s, e, track)
            tracks.append(track)
    video = next((t for t in tracks if t.handler == b"vide"), None)
    if video is None:
        raise MediaRejected("This file has no video track.")
    media_seconds = video.duration / video.timescale if video.timescale else None
    fps = None
    if video.sample_count and video.sample_delta_total and video.timescale:
        fps = round(video.sample_count * video.timescale / video.sample_delta_total, 3)
    content_type = sniff_content_type(_read(fh, 0, 12))
    return MediaInfo(
        kind="video",
        content_type=content_type,
        width=round(video.width) or None,
        height=round(video.height) or None,
        duration_seconds=movie_duration if movie_duration else media_seconds,
        frame_rate=fps,
    )


# --- images -----------------------------------------------------------------------------------


def _jpeg_size(fh: BinaryIO) -> tuple[int, int] | None:
    fh.seek(2)
    while True:
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
            continue
        length_bytes = fh.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
            data = fh.read(5)
            height, width = struct.unpack(">HH", data[1:5])
            return width, height
        fh.seek(length - 2, 1)


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    return None


# --- ffmpeg -----------------------------------------------------------------------------------


def ffmpeg_exe() -> str | None:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception:  # the binary is optional; callers degrade
        logger.warning("ffmpeg binary unavailable", exc_info=True)
        return None


_DURATION_RE = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM_RE = re.compile(r"Video: .*?(\d{2,5})x(\d{2,5})")
_FPS_RE = re.compile(r"(\d+(?:\.\d+)?) (?:fps|tbr)")


def inspect_with_ffmpeg(path: Path, content_type: str) -> MediaInfo:
    exe = ffmpeg_exe()
    if exe is None:
        raise MediaRejected("We can't read WebM files on this server; upload an MP4 instead.")
    try:
        result = subprocess.run(
            [exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaRejected("We couldn't read this video; upload an MP4 instead.") from exc
    out = result.stderr
    duration = size = fps = None
    if m := _DURATION_RE.search(out):
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    video_line = next((line for line in out.splitlines() if "Video:" in line), "")
    if m := _STREAM_RE.search(video_line):
        size = (int(m.group(1)), int(m.group(2)))
    if m := _FPS_RE.search(video_line):
        fps = float(m.group(1))
    if size is None:
        raise MediaRejected("This file has no readable video track.")
    return MediaInfo(
        kind="video",
        content_type=content_type,
        width=size[0],
        height=size[1],
        duration_seconds=duration,
        frame_rate=fps,
    )


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
        if content_type in ("video/mp4", "video/quicktime"):
            info = inspect_mp4(fh, size)
        elif content_type == "video/webm":
            info = inspect_with_ffmpeg(path, content_type)
        else:
            dims = _jpeg_size(fh) if content_type == "image/jpeg" else _webp_size(head)
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

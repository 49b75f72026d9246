"""What a media file's own bytes say it is: container, size, duration, frame rate and codec.

Standard library only, and rule-free: the product's upload checks (calendar_app/media.py) and the
simulator's checks of what TikTok receives (simulator/media_checks.py) read files with these same
readers, and each applies its own reading of TikTok's limits to what they find.

MP4/MOV metadata comes from a walk of the ISO-BMFF boxes (mvhd, tkhd, mdhd, hdlr, stsd, stts);
JPEG and WebP sizes from their frame headers. WebM (Matroska) is not read here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

# Real files nest a handful of boxes deep; a crafted one, thousands.
MAX_BOX_DEPTH = 16
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}


class DamagedMedia(ValueError):
    """The file announces a container it does not hold together as; the text says how."""


@dataclass(frozen=True)
class VideoFacts:
    width: int | None
    height: int | None
    duration_seconds: float | None
    frame_rate: float | None
    codec: str  # the video sample entry's four-character code: "avc1", "hvc1", "vp09", ...


def container_kind(head: bytes) -> str | None:
    """The container a file's first 64 bytes announce: "mp4", "quicktime", "webm", "matroska",
    "jpeg", "webp", "png", "gif", or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "quicktime" if head[8:12] == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "matroska"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"GIF8"):
        return "gif"
    return None


# --- ISO-BMFF (MP4/MOV) -----------------------------------------------------------------------


@dataclass
class _Track:
    handler: bytes = b""
    codec: bytes = b""
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
            raise DamagedMedia("This video file is damaged (a box runs past the end of the file).")
        boxes.append((box_type, pos + header_len, pos + size))
        pos += size
    return boxes


def _read(fh: BinaryIO, start: int, length: int) -> bytes:
    fh.seek(start)
    data = fh.read(length)
    if len(data) < length:
        raise DamagedMedia("This video file is truncated.")
    return data


def _parse_track(fh: BinaryIO, start: int, end: int, track: _Track, depth: int = 0) -> None:
    if depth > MAX_BOX_DEPTH:
        raise DamagedMedia("This video file is damaged (its boxes nest too deeply).")
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
        elif box_type == b"stsd" and not track.codec and e - s >= 16:
            # version/flags, entry count, then the first sample entry's size and type.
            track.codec = _read(fh, s + 12, 4)
        elif box_type == b"stts":
            (entries,) = struct.unpack(">I", _read(fh, s + 4, 4))
            table = _read(fh, s + 8, 8 * min(entries, (e - s - 8) // 8))
            for i in range(0, len(table), 8):
                count, delta = struct.unpack(">II", table[i : i + 8])
                track.sample_count += count
                track.sample_delta_total += count * delta


def read_mp4(fh: BinaryIO, size: int) -> VideoFacts:
    """The facts of the MP4/MOV in `fh` (`size` bytes). Raises DamagedMedia."""
    top = _iter_boxes(fh, 0, size)
    moov = next(((s, e) for t, s, e in top if t == b"moov"), None)
    if moov is None:
        raise DamagedMedia("This video has no index (moov box); re-export it from your editor.")
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
        raise DamagedMedia("This file has no video track.")
    media_seconds = video.duration / video.timescale if video.timescale else None
    fps = None
    if video.sample_count and video.sample_delta_total and video.timescale:
        fps = round(video.sample_count * video.timescale / video.sample_delta_total, 3)
    return VideoFacts(
        width=round(video.width) or None,
        height=round(video.height) or None,
        duration_seconds=movie_duration if movie_duration else media_seconds,
        frame_rate=fps,
        codec=video.codec.decode("latin-1"),
    )


# --- images -----------------------------------------------------------------------------------

# JPEG markers with no length field; SOFn markers that are not frames (DHT, JPG, DAC).
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_JPEG_NOT_FRAMES = frozenset({0xC4, 0xC8, 0xCC})


def jpeg_size(fh: BinaryIO) -> tuple[int, int] | None:
    """Width and height a JPEG's frame header (SOFn, after EXIF and other segments) announces."""
    fh.seek(2)
    while True:
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] == 0xFF:  # fill byte before a marker
            fh.seek(-1, 1)
            continue
        if marker[1] in _JPEG_STANDALONE:
            continue
        length_bytes = fh.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if 0xC0 <= marker[1] <= 0xCF and marker[1] not in _JPEG_NOT_FRAMES:
            data = fh.read(5)
            if len(data) < 5:
                return None
            height, width = struct.unpack(">HH", data[1:5])
            return width, height
        if length < 2:
            return None
        fh.seek(length - 2, 1)


def webp_size(head: bytes) -> tuple[int, int] | None:
    """Width and height a WebP's VP8, VP8L or VP8X header (in its first 30 bytes) announces."""
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP" or len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(head[26:28], "little") & 0x3FFF,
            int.from_bytes(head[28:30], "little") & 0x3FFF,
        )
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def image_size(fh: BinaryIO) -> tuple[int, int] | None:
    """Width and height of the JPEG or WebP in `fh`, as its header announces them."""
    fh.seek(0)
    head = fh.read(64)
    kind = container_kind(head)
    if kind == "jpeg":
        return jpeg_size(fh)
    if kind == "webp":
        return webp_size(head)
    return None

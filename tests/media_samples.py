"""MP4 files built box by box, for tests and benchmarks that need a video without ffmpeg.

They hold the boxes TikTok's checks read (ftyp; moov with mvhd, and a video trak with tkhd,
mdhd, hdlr, stsd and stts; fact sheet §2.6) and no real frames; `mdat` pads them to the size
asked for. The defaults are within TikTok's video specs.
"""

from __future__ import annotations

FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def _box(kind: bytes, payload: bytes) -> bytes:
    return (len(payload) + 8).to_bytes(4, "big") + kind + payload


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def mp4(
    size: int = 64 * 1024,
    *,
    seconds: float = 10.0,
    fps: float = 30.0,
    width: int = 720,
    height: int = 1280,
    codec: bytes = b"avc1",
) -> bytes:
    """`size` bytes of an MP4 announcing `seconds`, `fps`, `width`x`height` and `codec`."""
    timescale, delta = round(fps * 1000), 1000
    frames = max(1, round(seconds * fps)) if seconds > 0 else 0
    movie_duration = round(seconds * 1000)
    mvhd = _box(b"mvhd", bytes(12) + _u32(1000) + _u32(movie_duration) + bytes(80))
    tkhd = _box(b"tkhd", bytes(76) + _u32(width << 16) + _u32(height << 16))
    mdhd = _box(b"mdhd", bytes(12) + _u32(timescale) + _u32(frames * delta) + bytes(4))
    hdlr = _box(b"hdlr", bytes(8) + b"vide" + bytes(13))
    stsd = _box(b"stsd", bytes(4) + _u32(1) + _box(codec, bytes(78)))
    stts = _box(b"stts", bytes(4) + _u32(1) + _u32(frames) + _u32(delta))
    stbl = _box(b"stbl", stsd + stts)
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + _box(b"minf", stbl)))
    head = FTYP + _box(b"moov", mvhd + trak)
    if size < len(head) + 8:
        raise ValueError(f"an MP4 with these boxes needs at least {len(head) + 8} bytes")
    return head + _box(b"mdat", bytes(size - len(head) - 8))

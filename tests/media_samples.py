"""MP4 and WebM files built box by box (element by element), for tests and benchmarks that need
a video without ffmpeg.

They hold the boxes TikTok's checks read (ftyp; moov with mvhd, and a video trak with tkhd,
mdhd, hdlr, stsd and stts; fact sheet §2.6) and no real frames; `mdat` pads them to the size
asked for. The defaults are within TikTok's video specs.
"""

from __future__ import annotations

import struct

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
    location: str | None = None,
) -> bytes:
    """`size` bytes of an MP4 announcing `seconds`, `fps`, `width`x`height` and `codec`; with
    `location`, its metadata says where it was filmed as a phone writes it (`LOCATIONS`)."""
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
    head = FTYP + _box(b"moov", mvhd + trak + (LOCATIONS[location]() if location else b""))
    if size < len(head) + 8:
        raise ValueError(f"an MP4 with these boxes needs at least {len(head) + 8} bytes")
    return head + _box(b"mdat", bytes(size - len(head) - 8))


# --- Where a video was filmed, as phones and editors write it ---------------------------------

PLACE = b"+48.8577+002.2950+035.000/"


def _android_xyz() -> bytes:
    """moov/udta/©xyz: a 16-bit length, a 16-bit language, the ISO 6709 string."""
    return _box(b"udta", _box(b"\xa9xyz", len(PLACE).to_bytes(2, "big") + b"\x15\xc7" + PLACE))


def _apple_keys(*names: bytes) -> bytes:
    keys = b"".join(_u32(len(name) + 8) + b"mdta" + name for name in names)
    return _box(b"keys", bytes(4) + _u32(len(names)) + keys)


def _apple_item(index: int, value: bytes) -> bytes:
    return _box(index.to_bytes(4, "big"), _box(b"data", _u32(1) + bytes(4) + value))


def _apple_meta(*items: tuple[bytes, bytes]) -> bytes:
    """moov/meta as an iPhone writes it: QuickTime's meta (no version), hdlr mdta, keys, ilst."""
    hdlr = _box(b"hdlr", bytes(8) + b"mdta" + bytes(13))
    ilst = _box(b"ilst", b"".join(_apple_item(i, v) for i, (_, v) in enumerate(items, 1)))
    return _box(b"meta", hdlr + _apple_keys(*(name for name, _ in items)) + ilst)


def _apple() -> bytes:
    return _apple_meta(
        (b"com.apple.quicktime.make", b"Apple"),
        (b"com.apple.quicktime.location.ISO6709", PLACE),
    )


def _apple_without_place() -> bytes:
    return _apple_meta((b"com.apple.quicktime.make", b"Apple"))


def _loci() -> bytes:
    """3GPP's location information (udta/loci), in a full box."""
    return _box(b"udta", _box(b"loci", bytes(4) + b"\x15\xc7home\x00" + bytes(13)))


def _xmp() -> bytes:
    packet = b'<x:xmpmeta><rdf:Description exif:GPSLatitude="48,51.46N"/></x:xmpmeta>'
    return _box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + packet)


def _itunes_ilst() -> bytes:
    """udta/meta (ISO, version and flags) with an iTunes-style ilst holding ©xyz."""
    hdlr = _box(b"hdlr", bytes(8) + b"mdir" + bytes(13))
    xyz = _box(b"\xa9xyz", _box(b"data", _u32(1) + bytes(4) + PLACE))
    return _box(b"udta", _box(b"meta", bytes(4) + hdlr + _box(b"ilst", xyz)))


LOCATIONS = {
    "android": _android_xyz,
    "apple": _apple,
    "loci": _loci,
    "xmp": _xmp,
    "itunes": _itunes_ilst,
    # Metadata without a place: nothing to remove.
    "apple-no-place": _apple_without_place,
}


# --- WebM ---------------------------------------------------------------------------------------


def ebml(element_id: int, payload: bytes) -> bytes:
    """One EBML element: its ID (marker bits included), an 8-byte size, the payload."""
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + (len(payload) | 1 << 56).to_bytes(8, "big") + payload


def _uint(element_id: int, value: int) -> bytes:
    return ebml(element_id, value.to_bytes(8, "big"))


def webm(
    *,
    seconds: float | None = 10.0,
    fps: float = 30.0,
    width: int = 720,
    height: int = 1280,
    codec: str = "V_VP9",
    default_duration: bool = True,
    frames: int = 12,
    doc_type: str = "webm",
    size: int | None = None,
) -> bytes:
    """A WebM announcing `seconds`, `width`x`height` and `codec`, with `frames` empty SimpleBlocks
    in one Cluster, `fps` apart; the track's DefaultDuration says `fps` too unless turned off.
    With `size`, a trailing Void element pads the file to that many bytes."""
    header = ebml(0x1A45DFA3, ebml(0x4282, doc_type.encode()))
    info = _uint(0x2AD7B1, 1_000_000)  # TimecodeScale: milliseconds
    if seconds is not None:
        info += ebml(0x4489, struct.pack(">d", seconds * 1000))
    video = ebml(0xE0, _uint(0xB0, width) + _uint(0xBA, height))
    audio_track = ebml(0xAE, _uint(0xD7, 2) + _uint(0x83, 2) + ebml(0x86, b"A_OPUS"))
    video_track = _uint(0xD7, 1) + _uint(0x83, 1) + ebml(0x86, codec.encode()) + video
    if default_duration:
        video_track += _uint(0x23E383, round(1e9 / fps))
    blocks = b"".join(
        ebml(0xA3, b"\x81" + struct.pack(">h", round(i * 1000 / fps)) + b"\x80")
        + ebml(0xA3, b"\x82" + struct.pack(">h", round(i * 1000 / fps)) + b"\x80")  # audio
        for i in range(frames)
    )
    cluster = ebml(0x1F43B675, _uint(0xE7, 0) + blocks)
    tracks = ebml(0x1654AE6B, audio_track + ebml(0xAE, video_track))
    data = header + ebml(0x18538067, ebml(0x1549A966, info) + tracks + cluster)
    if size is not None:
        data += ebml(0xEC, bytes(size - len(data) - 9))
    return data

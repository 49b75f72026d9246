"""What a media file's own bytes say it is: container, size, duration, frame rate and codec.

Standard library only, and rule-free: the product's upload checks (calendar_app/media.py) and the
simulator's checks of what TikTok receives (simulator/media_checks.py) read files with these same
readers, and each applies its own reading of TikTok's limits to what they find.

MP4/MOV metadata comes from a walk of the ISO-BMFF boxes (mvhd, tkhd, mdhd, hdlr, stsd, stts);
WebM from its EBML elements (DocType, Info, Tracks, the first Cluster's block timecodes);
JPEG and WebP sizes from their frame headers. Every read is bounded: nothing loads a whole file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
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
    # MP4/MOV: the video sample entry's four-character code ("avc1", "hvc1", "vp09", ...);
    # WebM: the track's Matroska CodecID ("V_VP9", "V_AV1", "V_MPEG4/ISO/AVC", ...).
    codec: str
    # Where frame_rate came from: "stts" (MP4/MOV), "DefaultDuration" or "block timecodes" (WebM).
    frame_rate_source: str | None = None


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


def _box_headers(fh: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box_start, payload_start, payload_end) for each box in [start, end)."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            return
        size, box_type = struct.unpack(">I4s", header)
        header_len = 8
        if size == 1:
            large = fh.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            header_len = 16
        elif size == 0:
            size = end - pos
        if size < header_len or pos + size > end:
            raise DamagedMedia("This video file is damaged (a box runs past the end of the file).")
        yield box_type, pos, pos + header_len, pos + size
        pos += size


def _iter_boxes(fh: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload_start, payload_end) for each box in [start, end)."""
    return [(t, s, e) for t, _, s, e in _box_headers(fh, start, end)]


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
        frame_rate_source="stts" if fps else None,
    )


# --- Where an MP4/MOV says where it was filmed ------------------------------------------------

# Boxes whose whole content is a place: QuickTime/Android's ISO 6709 string ("+48.8577+002.2950/")
# and 3GPP's location information.
_LOCATION_BOXES = frozenset({b"\xa9xyz", b"loci"})
# Boxes that only hold other boxes on the way to one (ISO 14496-12 and QuickTime).
_METADATA_CONTAINERS = frozenset({b"moov", b"trak", b"udta", b"ilst"})
# XMP: the ISO `uuid` box with XMP's UUID, or QuickTime's `XMP_` in udta.
_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_XMP_LOCATION_MARKERS = (b"GPSLatitude", b"GPSLongitude", b"exif:GPS")
MAX_XMP_BYTES = 1024 * 1024


def _meta_children_start(fh: BinaryIO, start: int, end: int) -> int:
    """ISO's `meta` is a full box (4 bytes of version and flags before its children);
    QuickTime's starts with its first child (`hdlr`) at once."""
    if end - start >= 8 and _read(fh, start + 4, 4) == b"hdlr":
        return start
    return start + 4


def _keys_name_a_location(fh: BinaryIO, start: int, end: int) -> bool:
    """Whether a QuickTime `keys` box names a location (com.apple.quicktime.location.ISO6709,
    ...): the values in `ilst` refer to keys by their index, so key and value go together."""
    pos = start + 8  # version and flags, entry count
    while pos + 8 <= end:
        key_size = struct.unpack(">I", _read(fh, pos, 4))[0]
        if key_size < 8 or pos + key_size > end:
            raise DamagedMedia("This video file is damaged (a metadata key runs past its box).")
        if b"location" in _read(fh, pos + 8, min(key_size - 8, 256)).lower():
            return True
        pos += key_size
    return False


def _holds_xmp(fh: BinaryIO, box_type: bytes, start: int, end: int) -> bool:
    if box_type == b"XMP_":
        return True
    return box_type == b"uuid" and end - start >= 16 and _read(fh, start, 16) == _XMP_UUID


def _xmp_names_a_location(fh: BinaryIO, start: int, end: int) -> bool:
    packet = _read(fh, start, min(end - start, MAX_XMP_BYTES))
    return any(marker in packet for marker in _XMP_LOCATION_MARKERS)


def _location_boxes_in(
    fh: BinaryIO, start: int, end: int, found: list[int], depth: int = 0
) -> None:
    if depth > MAX_BOX_DEPTH:
        raise DamagedMedia("This video file is damaged (its boxes nest too deeply).")
    for box_type, box_start, s, e in _box_headers(fh, start, end):
        if box_type in _LOCATION_BOXES:
            found.append(box_start + 4)
        elif box_type in _METADATA_CONTAINERS:
            _location_boxes_in(fh, s, e, found, depth + 1)
        elif box_type == b"meta":
            children = _meta_children_start(fh, s, e)
            keys = [(cs, ce) for t, _, cs, ce in _box_headers(fh, children, e) if t == b"keys"]
            if any(_keys_name_a_location(fh, cs, ce) for cs, ce in keys):
                found.append(box_start + 4)
            else:
                _location_boxes_in(fh, children, e, found, depth + 1)
        elif _holds_xmp(fh, box_type, s, e) and _xmp_names_a_location(fh, s, e):
            found.append(box_start + 4)


def location_boxes(fh: BinaryIO, size: int) -> tuple[int, ...]:
    """The file offsets of the 4-byte type of every box in an MP4/MOV that tells where it was
    filmed: a `\xa9xyz` or `loci` box, a QuickTime `meta` whose keys name a location, an XMP
    packet with GPS fields. Writing `free` over those types makes every reader skip the boxes
    while each offset in the file (the sample tables point into mdat) stays where it was.
    Only the boxes' headers are read, never the media data. Raises DamagedMedia."""
    found: list[int] = []
    _location_boxes_in(fh, 0, size, found)
    return tuple(found)


# --- WebM (Matroska / EBML) -------------------------------------------------------------------

# Element IDs (Matroska specification), with their length-marker bits kept.
_EBML, _DOC_TYPE = 0x1A45DFA3, 0x4282
_SEGMENT, _INFO, _TRACKS, _CLUSTER = 0x18538067, 0x1549A966, 0x1654AE6B, 0x1F43B675
_TIMECODE_SCALE, _DURATION = 0x2AD7B1, 0x4489
_TRACK_ENTRY, _TRACK_NUMBER, _TRACK_TYPE, _CODEC_ID = 0xAE, 0xD7, 0x83, 0x86
_DEFAULT_DURATION, _VIDEO, _PIXEL_WIDTH, _PIXEL_HEIGHT = 0x23E383, 0xE0, 0xB0, 0xBA
_CLUSTER_TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK = 0xE7, 0xA3, 0xA0, 0xA1
_CLUSTER_CHILDREN = frozenset({_CLUSTER_TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, 0xA7, 0xAB, 0xA4})
_VIDEO_TRACK_TYPE = 1
_DEFAULT_TIMECODE_SCALE = 1_000_000  # nanoseconds per timecode tick: milliseconds

# The walk goes no deeper than real WebM nests (Segment > Tracks > TrackEntry > Video > PixelWidth)
# and skips every element it does not need by its size, so crafted nesting costs nothing.
# Leaf values read into memory (numbers, DocType, CodecID); anything larger is not a real value.
MAX_EBML_VALUE_BYTES = 256
# Elements looked at in one parent, and video blocks timed for the frame rate estimate.
MAX_EBML_CHILDREN = 20_000
MAX_TIMED_BLOCKS = 240


def _damaged(why: str) -> DamagedMedia:
    return DamagedMedia(f"This WebM file is damaged ({why}).")


def _vint(fh: BinaryIO, max_length: int) -> tuple[int, int, bool] | None:
    """(value with the length marker stripped, length in bytes, all value bits set) at the current
    position, or None at the end of the file."""
    first = fh.read(1)
    if not first:
        return None
    length = 9 - first[0].bit_length() if first[0] else 9
    if length > max_length:
        raise _damaged("an element header is malformed")
    rest = fh.read(length - 1)
    if len(rest) < length - 1:
        return None
    value = int.from_bytes(first + rest, "big")
    marker = 1 << (7 * length)
    return value, length, value - marker == marker - 1


def _element_id(fh: BinaryIO) -> int | None:
    read = _vint(fh, 4)
    return None if read is None else read[0]  # IDs keep their marker bits


def _ebml_children(
    fh: BinaryIO, start: int, end: int, *, stop_unknown: bool = False
) -> Iterator[tuple[int, int, int | None]]:
    """(id, payload_start, payload_end) of each element in [start, end), read as the caller goes;
    payload_end is None for an element of unknown size (a live-recorded Segment or Cluster),
    which is then the last."""
    pos, count = start, 0
    while pos < end:
        count += 1
        if count > MAX_EBML_CHILDREN:
            raise _damaged("an element holds too many children")
        fh.seek(pos)
        element_id = _element_id(fh)
        size = _vint(fh, 8)
        if element_id is None or size is None:
            break  # truncated: keep what was whole
        payload_start = fh.tell()
        value, _length, unknown = size
        if unknown:
            if element_id not in (_SEGMENT, _CLUSTER):
                raise _damaged("an element has no size")
            yield element_id, payload_start, None
            return
        value -= 1 << (7 * size[1])
        if payload_start + value > end:
            if stop_unknown:
                break  # the unknown-size parent ended before this element: it is not ours
            raise _damaged("an element runs past the end of the file")
        yield element_id, payload_start, payload_start + value
        pos = payload_start + value


def _ebml_value(fh: BinaryIO, start: int, end: int) -> bytes:
    if end - start > MAX_EBML_VALUE_BYTES:
        raise _damaged("a value is implausibly large")
    return _read(fh, start, end - start)


def _ebml_uint(fh: BinaryIO, start: int, end: int) -> int:
    if end - start > 8:
        raise _damaged("a number is longer than 8 bytes")
    return int.from_bytes(_read(fh, start, end - start), "big")


def _ebml_float(fh: BinaryIO, start: int, end: int) -> float:
    if end - start == 4:
        return float(struct.unpack(">f", _read(fh, start, 4))[0])
    if end - start == 8:
        return float(struct.unpack(">d", _read(fh, start, 8))[0])
    if end - start == 0:
        return 0.0
    raise _damaged("a float is neither 4 nor 8 bytes")


def _ebml_text(fh: BinaryIO, start: int, end: int) -> str:
    return _ebml_value(fh, start, end).rstrip(b"\x00").decode("ascii", "replace")


@dataclass
class _WebmTrack:
    number: int = 0
    track_type: int = 0
    codec: str = ""
    default_duration_ns: int = 0
    width: int = 0
    height: int = 0


def _webm_track(fh: BinaryIO, start: int, end: int) -> _WebmTrack:
    track = _WebmTrack()
    for element_id, s, e in _ebml_children(fh, start, end):
        assert e is not None  # only Segment and Cluster may have an unknown size
        if element_id == _TRACK_NUMBER:
            track.number = _ebml_uint(fh, s, e)
        elif element_id == _TRACK_TYPE:
            track.track_type = _ebml_uint(fh, s, e)
        elif element_id == _CODEC_ID:
            track.codec = _ebml_text(fh, s, e)
        elif element_id == _DEFAULT_DURATION:
            track.default_duration_ns = _ebml_uint(fh, s, e)
        elif element_id == _VIDEO:
            for child_id, cs, ce in _ebml_children(fh, s, e):
                assert ce is not None
                if child_id == _PIXEL_WIDTH:
                    track.width = _ebml_uint(fh, cs, ce)
                elif child_id == _PIXEL_HEIGHT:
                    track.height = _ebml_uint(fh, cs, ce)
    return track


def _block_timecodes(fh: BinaryIO, start: int, end: int, track_number: int) -> list[int]:
    """Timecodes (in TimecodeScale ticks) of the video track's blocks in one Cluster."""
    cluster_timecode = 0
    relative: list[int] = []
    blocks: list[tuple[int, int]] = []
    for element_id, s, e in _ebml_children(fh, start, end, stop_unknown=True):
        if element_id not in _CLUSTER_CHILDREN:
            break  # past the end of an unknown-size Cluster
        assert e is not None
        if element_id == _CLUSTER_TIMECODE:
            cluster_timecode = _ebml_uint(fh, s, e)
        elif element_id == _SIMPLE_BLOCK:
            blocks.append((s, e))
        elif element_id == _BLOCK_GROUP:
            blocks += [(bs, be or e) for bid, bs, be in _ebml_children(fh, s, e) if bid == _BLOCK]
        if len(blocks) >= MAX_TIMED_BLOCKS:
            break
    for s, e in blocks:
        fh.seek(s)
        number = _vint(fh, 8)
        if number is None or number[0] - (1 << (7 * number[1])) != track_number:
            continue
        offset = fh.read(2)
        if len(offset) == 2 and fh.tell() <= e:
            relative.append(struct.unpack(">h", offset)[0])
    return [cluster_timecode + r for r in relative]


def _estimated_fps(timecodes: list[int], timecode_scale: int) -> float | None:
    """Frames per second from presentation timecodes (sorted: B-frames arrive out of order).

    Each timecode is rounded to a tick (a millisecond by default), so the span is known to a tick
    either way: the simplest rate within that (a whole number, or an NTSC one such as 29.97) is
    the answer, lest 23 fps muxed in milliseconds read as 22.98."""
    distinct = sorted(set(timecodes))
    if len(distinct) < 2:
        return None
    intervals, span = len(distinct) - 1, distinct[-1] - distinct[0]
    tick_seconds = timecode_scale / 1e9
    estimate = intervals / (span * tick_seconds)
    lowest = intervals / ((span + 1) * tick_seconds)
    highest = intervals / ((span - 1) * tick_seconds) if span > 1 else float("inf")
    for simple in (float(round(estimate)), round(round(estimate * 1.001) / 1.001, 3)):
        if simple and lowest <= simple <= highest:
            return simple
    return round(estimate, 2)


def read_webm(fh: BinaryIO, size: int) -> VideoFacts:
    """The facts of the WebM in `fh` (`size` bytes). Raises DamagedMedia."""
    top = _ebml_children(fh, 0, size)
    header = next(top, None)
    if header is None or header[0] != _EBML or header[2] is None:
        raise _damaged("it has no EBML header")
    doc_type = next(
        (
            _ebml_text(fh, s, e)
            for i, s, e in _ebml_children(fh, header[1], header[2])
            if i == _DOC_TYPE and e is not None
        ),
        "",
    )
    if doc_type != "webm":
        raise DamagedMedia(f"This file is Matroska ({doc_type or 'no DocType'}), not WebM.")
    segment = next(((s, e) for i, s, e in top if i == _SEGMENT), None)
    if segment is None:
        raise _damaged("it has no Segment")
    timecode_scale = _DEFAULT_TIMECODE_SCALE
    duration_ticks: float | None = None
    video: _WebmTrack | None = None
    first_cluster: tuple[int, int] | None = None
    for element_id, s, e in _ebml_children(
        fh, segment[0], size if segment[1] is None else segment[1]
    ):
        end = e if e is not None else size
        if element_id == _INFO:
            for child_id, cs, ce in _ebml_children(fh, s, end):
                assert ce is not None
                if child_id == _TIMECODE_SCALE:
                    timecode_scale = _ebml_uint(fh, cs, ce) or _DEFAULT_TIMECODE_SCALE
                elif child_id == _DURATION:
                    duration_ticks = _ebml_float(fh, cs, ce)
        elif element_id == _TRACKS and video is None:
            tracks = [
                _webm_track(fh, ts, te)
                for tid, ts, te in _ebml_children(fh, s, end)
                if tid == _TRACK_ENTRY and te is not None
            ]
            video = next((t for t in tracks if t.track_type == _VIDEO_TRACK_TYPE), None)
            if video is None:
                raise DamagedMedia("This file has no video track.")
        elif element_id == _CLUSTER and first_cluster is None:
            first_cluster = (s, end)
        if video is not None and first_cluster is not None:
            break
    if video is None:
        raise DamagedMedia("This file has no video track.")
    fps: float | None = None
    fps_source: str | None = None
    if video.default_duration_ns:
        fps, fps_source = round(1e9 / video.default_duration_ns, 3), "DefaultDuration"
    elif first_cluster is not None:
        timecodes = _block_timecodes(fh, *first_cluster, video.number)
        fps = _estimated_fps(timecodes, timecode_scale)
        fps_source = "block timecodes" if fps else None
    duration = None
    if duration_ticks is not None and duration_ticks == duration_ticks:  # NaN is no duration
        duration = duration_ticks * timecode_scale / 1e9
    return VideoFacts(
        width=video.width or None,
        height=video.height or None,
        duration_seconds=duration,
        frame_rate=fps,
        codec=video.codec,
        frame_rate_source=fps_source,
    )


# --- images -----------------------------------------------------------------------------------

# JPEG markers with no length field; SOFn markers that are not frames (DHT, JPG, DAC).
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})


def read_video(fh: BinaryIO, size: int, *, kind: str) -> VideoFacts:
    """The facts of a video whose container `container_kind` named: MP4 and QuickTime share
    their box structure, WebM is Matroska. Raises DamagedMedia, also for another container."""
    if kind in ("mp4", "quicktime"):
        return read_mp4(fh, size)
    if kind == "webm":
        return read_webm(fh, size)
    raise DamagedMedia(f"This file is not an MP4, MOV or WebM video ({kind or 'unknown'}).")


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

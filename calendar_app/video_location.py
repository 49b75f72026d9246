"""Videos reach TikTok without the place they were filmed.

A phone writes where a video was filmed into the MP4/MOV's metadata (an ISO 6709 position in
`moov/udta/©xyz`, or Apple's `com.apple.quicktime.location.ISO6709` key in `moov/meta`), and
TikTok receives the file as it is: the creator's home, to a few metres. Photos lose theirs in a
rendition (renditions.py); a video is not copied, because it may be 4 GB. Instead, every byte we
hand TikTok, uploaded in chunks (publishing/run.py) or pulled from the signed public link
(public_media.py), passes through `without_location`, which writes `free` over the type of each
box that names a place: every reader then skips those boxes, while the file keeps its size and
every offset (the sample tables point into `mdat`). The library keeps the original untouched.

The boxes are found from their headers alone (tiktok_client.media_probe.location_boxes), at the
moment the bytes are read, so nothing is stored that could go stale.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import IO, BinaryIO, cast

from django.core.files import File

from tiktok_client.media_probe import DamagedMedia, container_kind, location_boxes

logger = logging.getLogger(__name__)

FREE = b"free"


def location_offsets(fh: IO[bytes] | File) -> tuple[int, ...]:
    """Where `free` goes in the open video `fh`: the type field of each box that names a place;
    () for a WebM or a file whose boxes cannot be read (the upload checks refused a damaged one;
    TikTok's own checks judge what is left). Leaves `fh` at its start."""
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    try:
        if container_kind(fh.read(64)) not in ("mp4", "quicktime"):
            return ()
        return location_boxes(cast(BinaryIO, fh), size)
    except (DamagedMedia, OSError, ValueError):
        logger.warning("could not look for location boxes", exc_info=True)
        return ()
    finally:
        fh.seek(0)


def without_location(data: bytes, start: int, offsets: Sequence[int]) -> bytes:
    """`data`, the file's bytes from `start`, with `free` over every box type in `offsets` that
    falls in it (also the part of one that straddles either edge)."""
    end = start + len(data)
    touched = [offset for offset in offsets if offset < end and offset + len(FREE) > start]
    if not touched:
        return data
    out = bytearray(data)
    for offset in touched:
        for i, byte in enumerate(FREE):
            if start <= offset + i < end:
                out[offset + i - start] = byte
    return bytes(out)


class LocationFreeFile:
    """A stored video opened for reading, read as `without_location` makes it.

    For a streamed response: it reads and seeks like the file and has no `fileno`, so a server's
    `sendfile` cannot send the file's own bytes past it."""

    def __init__(self, raw: IO[bytes] | File) -> None:
        self._raw = raw
        self._offsets = location_offsets(raw)
        self.name = getattr(raw, "name", "")

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int = -1) -> bytes:
        start = self._raw.tell()
        return without_location(self._raw.read(size), start, self._offsets)

    def close(self) -> None:
        self._raw.close()

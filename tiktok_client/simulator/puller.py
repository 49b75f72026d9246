"""PULL_FROM_URL: TikTok downloads the media itself (fact sheet §2.6, §5.15, Corrections).

The simulator really fetches every URL with an HTTP GET (stdlib ``http.client``: the
simulator imports nothing but the standard library), from a background thread and outside
the state lock, the way TikTok's servers would: no redirects (3xx fails the pull), the answer
must be 200 with the whole file, photos must be JPEG or WebP of at most 1080p and 20 MB (§2.5)
and videos MP4, MOV or WebM (§2.6). A pull that cannot be fetched ends ``FAILED`` with
``photo_pull_failed`` / ``video_pull_failed`` (§2.7) once the download phase is over.

``SimSettings.pull_resolve`` maps a verified https prefix to where the simulator reaches it,
like a TLS-terminating proxy in front of the product (``https://media.later.test/=
http://127.0.0.1:8000/``); the URL the client sent must still be https under a verified prefix.
"""

from __future__ import annotations

import http.client
import logging
import threading
import urllib.parse
from typing import TYPE_CHECKING

from tiktok_client.simulator.rules import (
    PHOTO_MAX_BYTES,
    PHOTO_MAX_SIDES,
    VIDEO_KINDS,
    VIDEO_MAX_BYTES,
)

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

logger = logging.getLogger("tiktok_client.simulator.puller")

PULL_TIMEOUT_SECONDS = 20.0


def resolve(url: str, rules: str | None) -> str:
    """Where the simulator fetches ``url``: the first ``prefix=target`` rule that matches."""
    for rule in (rules or "").split(","):
        prefix, _, target = rule.strip().partition("=")
        if prefix and target and url.startswith(prefix):
            return target + url[len(prefix) :]
    return url


def media_kind_of(head: bytes) -> str | None:
    """The container a file's first bytes announce (what TikTok's format check reads)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head[4:8] == b"ftyp":
        return "quicktime" if head[8:10] == b"qt" else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


# Where a JPEG's frame header (after EXIF and other segments) is looked for.
IMAGE_HEAD_BYTES = 1 << 18
# JPEG markers with no length field; SOFn markers that are not frames (DHT, JPG, DAC).
JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
JPEG_NOT_FRAMES = frozenset({0xC4, 0xC8, 0xCC})


def image_size(head: bytes) -> tuple[int, int] | None:
    """Width and height a JPEG's SOFn or a WebP's VP8/VP8L/VP8X header announces, if any."""
    if head.startswith(b"\xff\xd8"):
        at = 2
        while at + 9 <= len(head) and head[at] == 0xFF:
            marker = head[at + 1]
            if marker in JPEG_STANDALONE or marker == 0xFF:
                at += 1 if marker == 0xFF else 2
                continue
            if 0xC0 <= marker <= 0xCF and marker not in JPEG_NOT_FRAMES:
                return int.from_bytes(head[at + 7 : at + 9], "big"), int.from_bytes(
                    head[at + 5 : at + 7], "big"
                )
            at += 2 + int.from_bytes(head[at + 2 : at + 4], "big")
        return None
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


def over_1080p(size: tuple[int, int] | None) -> bool:
    """§2.5: a photo is at most 1080p, either way round; unknown dimensions are not judged."""
    if size is None:
        return False
    short, long = PHOTO_MAX_SIDES
    return min(size) > short or max(size) > long


MVHD = b"mvhd"
# An mvhd box's fields up to its duration: version 1 uses 8-byte times and duration.
MVHD_SPAN = 4 + 4 + 28


def mp4_duration_seconds(data: bytes) -> float | None:
    """The duration an MP4/MOV ``moov/mvhd`` box in ``data`` announces, if one is there
    (what TikTok's duration check reads); None when there is none to read."""
    at = data.find(MVHD)
    while at != -1 and at + MVHD_SPAN <= len(data):
        body = data[at + 4 :]
        if body[0] == 1:
            timescale = int.from_bytes(body[20:24], "big")
            duration = int.from_bytes(body[24:32], "big")
        else:
            timescale = int.from_bytes(body[12:16], "big")
            duration = int.from_bytes(body[16:20], "big")
        if body[0] in (0, 1) and timescale:
            return duration / timescale
        at = data.find(MVHD, at + 1)
    return None


class MediaProbe:
    """Reads a video as it streams past: its container kind and announced duration."""

    def __init__(self) -> None:
        self.head = b""
        self.duration: float | None = None
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < 16:
            self.head += chunk[: 16 - len(self.head)]
        if self.duration is None:
            # Keep a box header that straddles two chunks readable.
            self.duration = mp4_duration_seconds(self._tail + chunk[: MVHD_SPAN * 2])
            if self.duration is None:
                self.duration = mp4_duration_seconds(chunk)
        self._tail = chunk[-MVHD_SPAN:]

    @property
    def kind(self) -> str | None:
        return media_kind_of(self.head)


class PullOutcome:
    """What one pull of one publish found: bytes fetched and, if it failed, the reason."""

    def __init__(self) -> None:
        self.bytes = 0
        self.photo_sizes: list[tuple[int, int] | None] = []
        self.fail_reason: str | None = None
        self.duration: float | None = None


def _get(url: str) -> http.client.HTTPResponse:
    """One GET on its own connection; http.client never follows a redirect."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OSError(f"not a fetchable URL: {url}")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=PULL_TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection.request("GET", path, headers={"User-Agent": "TikTok-Simulator-Pull/1.0"})
    return connection.getresponse()


def _fetch(url: str, *, photo: bool, outcome: PullOutcome) -> None:
    pull_failed = "photo_pull_failed" if photo else "video_pull_failed"
    limit = PHOTO_MAX_BYTES if photo else VIDEO_MAX_BYTES
    try:
        response = _get(url)
        try:
            if response.status != 200:
                # §2.6: "must not redirect (3xx rejected)"; anything but the file fails the pull.
                outcome.fail_reason = pull_failed
                return
            probe = MediaProbe()
            size = 0
            head = b""
            while chunk := response.read(1 << 16):
                probe.feed(chunk)
                size += len(chunk)
                if photo and len(head) < IMAGE_HEAD_BYTES:
                    head += chunk[: IMAGE_HEAD_BYTES - len(head)]
                if size > limit:
                    outcome.fail_reason = "picture_size_check_failed" if photo else pull_failed
                    return
        finally:
            response.close()
    except (OSError, http.client.HTTPException) as exc:
        logger.info("pull of %s failed: %r", url, exc)
        outcome.fail_reason = pull_failed
        return
    allowed = {"jpeg", "webp"} if photo else VIDEO_KINDS
    if size == 0 or probe.kind not in allowed:
        outcome.fail_reason = "file_format_check_failed"
        return
    if photo:
        announced = image_size(head)
        if over_1080p(announced):
            outcome.fail_reason = "picture_size_check_failed"
            return
        outcome.photo_sizes.append(announced)
    outcome.bytes += size
    if not photo:
        outcome.duration = probe.duration


def start_pull(state: SimState, publish_id: str, urls: list[str], *, photo: bool) -> None:
    """Fetch ``urls`` in a background thread and record the outcome on the publish."""
    rules = state.settings.pull_resolve

    def run() -> None:
        outcome = PullOutcome()
        for url in urls:
            _fetch(resolve(url, rules), photo=photo, outcome=outcome)
            if outcome.fail_reason:
                break
        with state.lock:
            publish = state.publishes.get(publish_id)
            if publish is not None:
                publish.pulled_bytes = outcome.bytes
                publish.pulled_photo_sizes = outcome.photo_sizes
                publish.pull_fail_reason = outcome.fail_reason
                publish.media_duration = outcome.duration
                publish.pull_done_at = state.now()
                state.counters.record_publish(publish_id, "pulled")

    threading.Thread(target=run, name=f"tiktok-sim-pull-{publish_id}", daemon=True).start()

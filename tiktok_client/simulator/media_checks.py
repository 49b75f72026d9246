"""TikTok's checks of a received video (fact sheet §2.6 "Video specs", §2.7 fail_reason).

The bytes arrive in chunks (FILE_UPLOAD, upload.py) or as a download (PULL_FROM_URL, puller.py);
both are spooled whole, because an MP4's index (moov) may come after its media data, and read
with tiktok_client.media_probe, the same reader the product uses: the readers are shared, the
limits are the simulator's own reading of the fact sheet (rules.py).
"""

from __future__ import annotations

import tempfile

from tiktok_client.media_probe import (
    DamagedMedia,
    VideoFacts,
    container_kind,
    location_boxes,
    read_video,
)
from tiktok_client.simulator.rules import (
    VIDEO_CODECS,
    VIDEO_KINDS,
    VIDEO_MAX_FPS,
    VIDEO_MAX_SIDE,
    VIDEO_MIN_FPS,
    VIDEO_MIN_SIDE,
)

# Held in memory up to this size, then on disk (a video may be 4 GB).
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024


class ReceivedMedia:
    """A file as it arrives, chunk by chunk; `finish` reads what TikTok's checks need."""

    def __init__(self) -> None:
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        self.size = 0
        self.head = b""

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < 64:
            self.head += chunk[: 64 - len(self.head)]
        self._spool.write(chunk)
        self.size += len(chunk)

    @property
    def kind(self) -> str | None:
        return container_kind(self.head)

    def finish(self) -> ReceivedVideo:
        """The video's container and facts; the spool is released."""
        try:
            try:
                facts = read_video(self._spool, self.size, kind=self.kind or "")  # type: ignore[arg-type]
            except DamagedMedia:
                facts = None
            return ReceivedVideo(kind=self.kind, facts=facts, location=self._location())
        finally:
            self._spool.close()

    def close(self) -> None:
        self._spool.close()

    def _location(self) -> bool:
        """Whether the MP4/MOV received still says where it was filmed (what a test of the
        product asks: TikTok would show it to nobody, but would know it)."""
        if self.kind not in ("mp4", "quicktime"):
            return False
        try:
            return bool(location_boxes(self._spool, self.size))  # type: ignore[arg-type]
        except DamagedMedia:
            return False


class ReceivedVideo:
    def __init__(
        self, *, kind: str | None, facts: VideoFacts | None, location: bool = False
    ) -> None:
        self.kind = kind
        self.facts = facts
        # The received file carries the place it was filmed (media_probe.location_boxes).
        self.location = location

    @property
    def duration(self) -> float | None:
        return self.facts.duration_seconds if self.facts else None


def video_fail_reason(video: ReceivedVideo | None, *, max_seconds: float) -> str | None:
    """The §2.7 fail_reason TikTok gives a video outside §2.6's specs, or None when it fits."""
    if video is None or video.kind not in VIDEO_KINDS:
        return "file_format_check_failed"
    facts = video.facts
    if facts is None or facts.codec not in VIDEO_CODECS:
        return "file_format_check_failed"
    if facts.duration_seconds is None or not 0 < facts.duration_seconds <= max_seconds:
        return "duration_check_failed"
    if facts.frame_rate is None or not VIDEO_MIN_FPS <= facts.frame_rate <= VIDEO_MAX_FPS:
        return "frame_rate_check_failed"
    sides = (facts.width or 0, facts.height or 0)
    if not all(VIDEO_MIN_SIDE <= side <= VIDEO_MAX_SIDE for side in sides):
        return "picture_size_check_failed"
    return None

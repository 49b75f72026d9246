"""PULL_FROM_URL: TikTok downloads the media itself (fact sheet §2.6, §5.15, Corrections).

The simulator really fetches every URL with an HTTP GET (stdlib ``http.client``: the
simulator imports nothing but the standard library and tiktok_client's own readers), from a
background thread and outside the state lock, the way TikTok's servers would: no redirects (3xx
fails the pull), the answer must be 200 with the whole file, photos must be JPEG or WebP of at
most 1080p and 20 MB (§2.5) and videos MP4, MOV or WebM within §2.6's specs (media_checks.py).
A pull that cannot be fetched ends ``FAILED`` with
``photo_pull_failed`` / ``video_pull_failed`` (§2.7) once the download phase is over.

``SimSettings.pull_resolve`` maps a verified https prefix to where the simulator reaches it,
like a TLS-terminating proxy in front of the product (``https://media.later.test/=
http://127.0.0.1:8000/``); the URL the client sent must still be https under a verified prefix.
"""

from __future__ import annotations

import http.client
import io
import logging
import threading
import urllib.parse
from typing import TYPE_CHECKING

from tiktok_client.media_probe import container_kind, image_size
from tiktok_client.simulator.media_checks import ReceivedMedia, ReceivedVideo
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


# Where a JPEG's frame header (after EXIF and other segments) is looked for.
IMAGE_HEAD_BYTES = 1 << 18


def over_1080p(size: tuple[int, int] | None) -> bool:
    """§2.5: a photo is at most 1080p, either way round; unknown dimensions are not judged."""
    if size is None:
        return False
    short, long = PHOTO_MAX_SIDES
    return min(size) > short or max(size) > long


class PullOutcome:
    """What one pull of one publish found: bytes fetched and, if it failed, the reason."""

    def __init__(self) -> None:
        self.bytes = 0
        self.photo_sizes: list[tuple[int, int] | None] = []
        self.fail_reason: str | None = None
        self.video: ReceivedVideo | None = None


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
            size, head, video = 0, b"", None
            received = None if photo else ReceivedMedia()
            try:
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                    if size > limit:
                        outcome.fail_reason = "picture_size_check_failed" if photo else pull_failed
                        return
                    if received is not None:
                        received.feed(chunk)
                    elif len(head) < IMAGE_HEAD_BYTES:
                        head += chunk[: IMAGE_HEAD_BYTES - len(head)]
                video = received.finish() if received is not None else None
            finally:
                if received is not None:
                    received.close()
        finally:
            response.close()
    except (OSError, http.client.HTTPException) as exc:
        logger.info("pull of %s failed: %r", url, exc)
        outcome.fail_reason = pull_failed
        return
    kind = container_kind(head) if photo else video.kind if video else None
    allowed = {"jpeg", "webp"} if photo else VIDEO_KINDS
    if size == 0 or kind not in allowed:
        outcome.fail_reason = "file_format_check_failed"
        return
    if photo:
        announced = image_size(io.BytesIO(head))
        if over_1080p(announced):
            outcome.fail_reason = "picture_size_check_failed"
            return
        outcome.photo_sizes.append(announced)
    outcome.bytes += size
    if not photo:
        # §2.6's specs are judged with the creator's duration cap (pipeline._media_problem).
        outcome.video = video


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
                publish.received_video = outcome.video
                publish.pull_done_at = state.now()
                state.counters.record_publish(publish_id, "pulled")

    threading.Thread(target=run, name=f"tiktok-sim-pull-{publish_id}", daemon=True).start()

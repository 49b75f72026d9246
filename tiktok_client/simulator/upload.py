"""The upload host: ``PUT /video/?upload_id=…&upload_token=…`` (§2.6, §5.14, Corrections).

Answers: 206 for an accepted intermediate chunk, 201 after the last; 400 malformed headers or a
length that does not match; 403 the upload URL expired; 404 unknown upload task; 416 a
Content-Range that does not match the progress. Every accepted chunk's answer carries
``Content-Range: bytes 0-{last byte received}/{total}`` (inclusive, as in HTTP ranges).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tiktok_client.simulator.guards import RouteTable
from tiktok_client.simulator.media_checks import ReceivedMedia
from tiktok_client.simulator.posting import UPLOAD_PATH
from tiktok_client.simulator.rules import chunk_length
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
UPLOAD_CONTENT_TYPES = ("video/mp4", "video/quicktime", "video/webm")


class UploadHost:
    def __init__(self, state: SimState) -> None:
        self.state = state
        self.received: dict[str, ReceivedMedia] = {}  # publish_id -> its chunks so far

    def routes(self) -> RouteTable:
        return {("PUT", UPLOAD_PATH): self.upload}

    def upload(self, request: Request) -> Response:
        state = self.state
        publish_id = state.uploads.get(request.query.get("upload_id", ""))
        publish = state.publishes.get(publish_id) if publish_id else None
        if publish is None or request.query.get("upload_token") != publish.upload_token:
            return Response(404, b"", ok=False)
        request.open_id = publish.open_id
        state.counters.record_publish(publish.publish_id, "chunk_requests")
        if state.now() > publish.upload_expires_at:
            return Response(403, b"", ok=False)
        content_type = (request.header("content-type") or "").split(";")[0].strip()
        match = CONTENT_RANGE.match(request.header("content-range") or "")
        if content_type not in UPLOAD_CONTENT_TYPES or match is None:
            return Response(400, b"", ok=False)
        start, end, total = (int(group) for group in match.groups())
        declared = request.header("content-length")
        if (
            end < start
            or total != publish.video_size
            or end - start + 1 != len(request.body)
            or (declared is not None and declared != str(len(request.body)))
        ):
            return Response(400, b"", ok=False)
        if publish.upload_done_at is not None or start != publish.uploaded_bytes:
            return Response(416, b"", ok=False)
        index = publish.chunks_received
        expected = chunk_length(
            publish.video_size, publish.chunk_size, publish.total_chunk_count, index
        )
        if len(request.body) != expected:
            return Response(400, b"", ok=False)
        received = self.received.setdefault(publish.publish_id, ReceivedMedia())
        received.feed(request.body)
        publish.uploaded_bytes += len(request.body)
        publish.chunks_received += 1
        state.counters.record_publish(publish.publish_id, "chunks")
        progress = [("Content-Range", f"bytes 0-{publish.uploaded_bytes - 1}/{total}")]
        if publish.chunks_received == publish.total_chunk_count:
            publish.received_video = self.received.pop(publish.publish_id).finish()
            publish.upload_done_at = state.now()
            return Response(201, b"", progress)
        return Response(206, b"", progress)

"""TikTok's FILE_UPLOAD chunk rules (Content Posting media transfer guide)."""

from __future__ import annotations

from tiktok_client.schemas import ChunkPlan

MB = 1024 * 1024
# The docs say "MB"; one report (Corrections) says TikTok compares decimal megabytes. These take
# the stricter of both readings, so a plan passes under either.
MIN_CHUNK_SIZE = 5 * MB
MAX_CHUNK_SIZE = 64_000_000
MAX_FINAL_CHUNK_SIZE = 128_000_000
#: Largest file sent as one chunk (multi-chunk plans were refused from about 2026-08).
MAX_SINGLE_CHUNK_SIZE = MAX_CHUNK_SIZE
DEFAULT_CHUNK_SIZE = 10 * MB
MAX_CHUNK_COUNT = 1000
MAX_VIDEO_SIZE = 4 * 1024 * MB


def plan_chunks(video_size: int, *, chunk_size: int | None = None) -> ChunkPlan:
    """Plan an upload: one chunk whenever the file allows (up to 64,000,000 bytes).

    Larger files use the fewest chunks TikTok accepts: ``n`` chunks of ``video_size // n``
    bytes, the last absorbing the remainder (``total_chunk_count = floor(size / chunk_size)``).
    An explicit ``chunk_size`` is honoured for files too large for one chunk.
    """
    if video_size <= 0:
        raise ValueError("video_size must be positive")
    if video_size > MAX_VIDEO_SIZE:
        raise ValueError("TikTok accepts videos up to 4 GB")
    if video_size <= MAX_SINGLE_CHUNK_SIZE:
        return ChunkPlan(video_size=video_size, chunk_size=video_size, total_chunk_count=1)
    if chunk_size is None:
        count = -(-video_size // MAX_CHUNK_SIZE)
        chunk_size = video_size // count
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError("chunk_size must be between 5 MB and 64,000,000 bytes")
    total = video_size // chunk_size
    if total > MAX_CHUNK_COUNT:
        raise ValueError("more than 1000 chunks; use a larger chunk_size")
    if video_size - chunk_size * (total - 1) > MAX_FINAL_CHUNK_SIZE:
        raise ValueError("the final chunk would exceed 128,000,000 bytes")
    return ChunkPlan(video_size=video_size, chunk_size=chunk_size, total_chunk_count=total)


def chunk_plan_error(video_size: int, chunk_size: int, total_chunk_count: int) -> str | None:
    """Why TikTok would reject this plan at init, or None when it is valid."""
    if video_size <= 0 or chunk_size <= 0 or total_chunk_count <= 0:
        return "video_size, chunk_size and total_chunk_count must be positive"
    if video_size < MIN_CHUNK_SIZE:
        if chunk_size != video_size or total_chunk_count != 1:
            return "videos under 5 MB must be sent as one chunk with chunk_size == video_size"
        return None
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        return "chunk_size must be between 5 MB and 64,000,000 bytes"
    if chunk_size > video_size:
        return "chunk_size exceeds video_size"
    if total_chunk_count == 1 and chunk_size != video_size:
        return "a single-chunk upload must declare chunk_size == video_size"
    if total_chunk_count != video_size // chunk_size:
        return "total_chunk_count must equal floor(video_size / chunk_size)"
    if total_chunk_count > MAX_CHUNK_COUNT:
        return "at most 1000 chunks"
    final_chunk = video_size - chunk_size * (total_chunk_count - 1)
    if final_chunk > MAX_FINAL_CHUNK_SIZE:
        return "the final chunk may not exceed 128,000,000 bytes"
    return None

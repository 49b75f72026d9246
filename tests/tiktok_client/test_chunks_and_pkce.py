from __future__ import annotations

import base64
import hashlib
import itertools

import pytest

from tiktok_client import ChunkPlan, pkce_challenge, pkce_pair, plan_chunks
from tiktok_client.chunks import chunk_plan_error

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "chunk_size", "count"),
    [
        (4 * MB, 4 * MB, 1),
        (5 * MB, 5 * MB, 1),
        # One chunk whenever the file allows: up to 64,000,000 bytes (decimal, Corrections).
        (64_000_000, 64_000_000, 1),
        (64 * MB, 32 * MB, 2),  # 67,108,864 bytes is over the decimal bound
        (100_000_000, 50_000_000, 2),
        (200_000_000, 50_000_000, 4),
        (200 * MB + 123, (200 * MB + 123) // 4, 4),
        (1, 1, 1),
    ],
)
def test_plan_chunks_follows_tiktok_rules(size: int, chunk_size: int, count: int) -> None:
    plan = plan_chunks(size)
    assert (plan.video_size, plan.chunk_size, plan.total_chunk_count) == (size, chunk_size, count)
    assert chunk_plan_error(plan.video_size, plan.chunk_size, plan.total_chunk_count) is None


@pytest.mark.parametrize("size", [4 * MB, 65 * MB, 200 * MB + 123, 3 * 1024 * MB + 7])
def test_ranges_are_contiguous_and_last_chunk_absorbs_remainder(size: int) -> None:
    plan = plan_chunks(size)
    ranges = list(plan.ranges())
    assert len(ranges) == plan.total_chunk_count
    assert ranges[0][0] == 0
    assert ranges[-1][1] == size - 1
    for (_, prev_end), (start, _) in itertools.pairwise(ranges):
        assert start == prev_end + 1
    for start, end in ranges[:-1]:
        assert end - start + 1 == plan.chunk_size
    last_start, last_end = ranges[-1]
    assert plan.chunk_size <= last_end - last_start + 1 < 2 * plan.chunk_size


@pytest.mark.parametrize("size", [0, -1, 4 * 1024 * MB + 1])
def test_plan_chunks_rejects_impossible_sizes(size: int) -> None:
    with pytest.raises(ValueError):
        plan_chunks(size)


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (15 * MB, 10 * MB, 1),  # the classic bug: one chunk but chunk_size != video_size
        (3 * MB, 5 * MB, 1),  # small file must use chunk_size == video_size
        (100 * MB, 4 * MB, 25),  # chunk under 5 MB
        (200 * MB, 65 * MB, 3),  # chunk over 64 MB
        (200 * MB, 10 * MB, 19),  # count != floor(size / chunk)
    ],
)
def test_invalid_plans_are_detected(size: int, chunk: int, count: int) -> None:
    assert chunk_plan_error(size, chunk, count) is not None


def test_chunk_plan_source_info_shape() -> None:
    assert ChunkPlan(10, 10, 1).to_source_info() == {
        "source": "FILE_UPLOAD",
        "video_size": 10,
        "chunk_size": 10,
        "total_chunk_count": 1,
    }


def test_pkce_pair_uses_hex_sha256_by_default() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == hashlib.sha256(verifier.encode()).hexdigest()
    assert pkce_pair()[0] != verifier


def test_pkce_base64url_variant_matches_rfc7636() -> None:
    verifier, challenge = pkce_pair(encoding="base64url")
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pkce_challenge(verifier) == digest.hex()

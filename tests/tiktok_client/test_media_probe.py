"""media_probe's WebM reader: facts from EBML elements, and bounded on hostile input."""

from __future__ import annotations

import io
import struct
import time

import pytest

from tests.media_samples import ebml, webm
from tiktok_client.media_probe import MAX_EBML_CHILDREN, DamagedMedia, VideoFacts, read_webm


def _read(data: bytes) -> VideoFacts:
    return read_webm(io.BytesIO(data), len(data))


def test_webm_facts_come_from_info_and_the_video_track() -> None:
    facts = _read(webm(seconds=12.5, fps=25, width=1080, height=1920, codec="V_VP8"))
    assert facts == VideoFacts(
        width=1080,
        height=1920,
        duration_seconds=12.5,
        frame_rate=25.0,
        codec="V_VP8",
        frame_rate_source="DefaultDuration",
    )


@pytest.mark.parametrize("fps", [15, 23, 24, 25, 30, 60, 61])
def test_without_default_duration_the_frame_rate_comes_from_block_timecodes(fps: int) -> None:
    # Millisecond timecodes cannot say 23 exactly (43 or 44 ms apart); the estimate still does.
    facts = _read(webm(fps=fps, frames=12, default_duration=False))
    assert (facts.frame_rate, facts.frame_rate_source) == (fps, "block timecodes")


def test_ntsc_rates_survive_the_estimate() -> None:
    facts = _read(webm(fps=30000 / 1001, frames=120, default_duration=False))
    assert facts.frame_rate == pytest.approx(29.97, abs=0.01)


def test_a_single_block_gives_no_frame_rate() -> None:
    facts = _read(webm(frames=1, default_duration=False))
    assert (facts.frame_rate, facts.frame_rate_source) == (None, None)


def test_out_of_spec_values_are_reported_as_they_are() -> None:
    # The reader holds no rule: the product and the simulator judge these.
    facts = _read(webm(seconds=900, fps=15, width=200, height=200, codec="V_AV1"))
    assert (facts.duration_seconds, facts.frame_rate, facts.codec) == (900, 15, "V_AV1")
    assert (facts.width, facts.height) == (200, 200)


def test_a_webm_without_duration_reports_none() -> None:
    assert _read(webm(seconds=None)).duration_seconds is None


def test_an_encoded_webm_is_read(tmp_path) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    import subprocess

    out = tmp_path / "clip.webm"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi"]
    cmd += ["-i", "testsrc=size=480x640:rate=24", "-t", "1", "-c:v", "libvpx", str(out)]
    subprocess.run(cmd, check=True, timeout=120)
    facts = _read(out.read_bytes())
    assert (facts.width, facts.height, facts.codec) == (480, 640, "V_VP8")
    assert facts.frame_rate == 24
    assert facts.duration_seconds == pytest.approx(1.0, abs=0.05)


def test_matroska_that_is_not_webm_is_refused() -> None:
    with pytest.raises(DamagedMedia, match="Matroska"):
        _read(webm(doc_type="matroska"))


def test_a_file_without_a_video_track_is_refused() -> None:
    audio_only = ebml(0x1654AE6B, ebml(0xAE, ebml(0x83, b"\x02") + ebml(0x86, b"A_OPUS")))
    data = ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + ebml(0x18538067, audio_only)
    with pytest.raises(DamagedMedia, match="no video track"):
        _read(data)


@pytest.mark.parametrize("cut", [10, 40, 90, 150, 220])
def test_a_truncated_webm_is_refused_or_read_partially_never_crashes(cut: int) -> None:
    data = webm()[:cut]
    try:
        facts = _read(data)
    except DamagedMedia:
        return
    assert isinstance(facts, VideoFacts)


def test_a_huge_declared_size_is_refused_without_allocating_it() -> None:
    header = ebml(0x1A45DFA3, ebml(0x4282, b"webm"))
    # A CodecID claiming 2**55 bytes inside a Segment that is as big as it says.
    codec = b"\x86" + (2**55 | 1 << 56).to_bytes(8, "big")
    entry = b"\xae" + (len(codec) + 2**55 | 1 << 56).to_bytes(8, "big") + codec
    tracks = b"\x16\x54\xae\x6b" + (len(entry) + 2**55 | 1 << 56).to_bytes(8, "big") + entry
    with pytest.raises(DamagedMedia, match="runs past the end"):
        _read(header + ebml(0x18538067, tracks))


def test_a_value_larger_than_any_real_one_is_refused() -> None:
    data = webm(codec="V_" + "X" * 100_000)
    with pytest.raises(DamagedMedia, match="implausibly large"):
        _read(data)


def test_deep_nesting_is_skipped_by_size() -> None:
    # 10,000 nested Video elements inside a TrackEntry: the walk goes a fixed depth only.
    nested = b"\xb0\x81\x10"
    for _ in range(10_000):
        nested = b"\xe0" + (len(nested) | 1 << 56).to_bytes(8, "big") + nested
    entry = ebml(0xAE, ebml(0x83, b"\x01") + ebml(0x86, b"V_VP9") + nested)
    data = ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + ebml(0x18538067, ebml(0x1654AE6B, entry))
    started = time.monotonic()
    facts = _read(data)
    assert facts.width is None and time.monotonic() - started < 1


def test_a_flood_of_tiny_elements_is_refused() -> None:
    voids = b"\xec\x80" * (MAX_EBML_CHILDREN + 1)  # empty Void elements, two bytes each
    data = ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + ebml(0x18538067, voids)
    with pytest.raises(DamagedMedia, match="too many"):
        _read(data)


def test_unknown_size_segment_and_cluster_are_read_to_what_they_hold() -> None:
    # Live recorders (MediaRecorder) write Segment and Cluster with an "unknown" size (all ones).
    unknown = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    whole = webm(default_duration=False, seconds=None)
    segment = whole.index(b"\x18\x53\x80\x67")
    body = whole[segment + 12 :]
    cluster = body.index(b"\x1f\x43\xb6\x75")
    body = body[:cluster] + b"\x1f\x43\xb6\x75" + unknown + body[cluster + 12 :]
    data = whole[:segment] + b"\x18\x53\x80\x67" + unknown + body + ebml(0x1F43B675, b"")
    facts = _read(data)
    assert (facts.frame_rate, facts.duration_seconds) == (30, None)


def test_an_unknown_size_on_another_element_is_refused() -> None:
    unknown = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    data = ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + ebml(0x18538067, b"\x16\x54\xae\x6b" + unknown)
    with pytest.raises(DamagedMedia, match="no size"):
        _read(data)


def test_a_float_duration_of_odd_width_is_refused() -> None:
    bad_info = ebml(0x1549A966, ebml(0x4489, b"\x00\x00\x00"))
    data = ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + ebml(0x18538067, bad_info)
    with pytest.raises(DamagedMedia, match="float"):
        _read(data)


def test_a_nan_duration_is_no_duration() -> None:
    data = webm(seconds=10)
    data = data.replace(struct.pack(">d", 10_000.0), struct.pack(">d", float("nan")))
    assert _read(data).duration_seconds is None


class _CountingReader(io.BytesIO):
    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_large_webm_is_read_a_few_bytes_at_a_time() -> None:
    data = webm(size=32 * 1024 * 1024, default_duration=False)  # a 32 MB trailing Void
    fh = _CountingReader(data)
    assert read_webm(fh, len(data)).frame_rate == 30
    assert fh.bytes_read < 4096

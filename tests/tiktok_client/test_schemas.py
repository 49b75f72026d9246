"""TikTok's JSON parsed into typed values: numbers no column can hold count as missing.

Python's json module (and so httpx's `.json()`) reads `NaN`, `Infinity` and 400-digit integers;
PostgreSQL's jsonb refuses NaN and a bigint column refuses 2**63. One such field must not fail a
whole analytics capture or comment sync.
"""

from __future__ import annotations

import json

import pytest

from tiktok_client.schemas import BusinessAccount, BusinessVideo, Video


def _parsed(text: str) -> dict:
    return json.loads(text)


@pytest.mark.parametrize(
    "raw",
    ["NaN", "Infinity", "-Infinity", '"inf"', '"nan"', '"1e400"', "1e400", '"abc"'],
)
def test_business_video_numbers_that_no_column_holds_are_missing(raw: str) -> None:
    data = _parsed(
        '{"item_id": "v1", "video_views": %s, "likes": %s, "average_time_watched": %s, '
        '"full_video_watched_rate": %s, "create_time": %s}' % ((raw,) * 5)
    )

    video = BusinessVideo.from_json(data)

    assert video.video_views is None
    assert video.likes is None
    assert video.average_time_watched is None
    assert video.full_video_watched_rate is None
    assert video.create_time is None


def test_business_video_ordinary_numbers_still_parse() -> None:
    video = BusinessVideo.from_json(
        _parsed(
            '{"item_id": "v1", "video_views": 1200, "likes": "34", "create_time": "1764547200", '
            '"average_time_watched": 7.5, "full_video_watched_rate": "0.25", '
            f'"reach": {2**63 - 1}' + "}"
        )
    )

    assert video.video_views == 1200
    assert video.likes == 34
    assert video.create_time == 1764547200
    assert video.average_time_watched == 7.5
    assert video.full_video_watched_rate == 0.25
    assert video.reach == 2**63 - 1


def test_retention_keeps_only_points_with_two_finite_numbers() -> None:
    video = BusinessVideo.from_json(
        _parsed(
            '{"item_id": "v1", "video_view_retention": ['
            '{"second": 0, "percentage": 100}, {"second": Infinity, "percentage": 3}, '
            '{"second": 5, "percentage": NaN}, {"second": "7", "percentage": "40.5"}, '
            '{"second": 9}]}'
        )
    )

    assert video.video_view_retention == ((0.0, 100.0), (7.0, 40.5))
    # What the capture stores must be valid JSON for PostgreSQL's jsonb (no NaN, no Infinity).
    json.dumps(video.video_view_retention, allow_nan=False)


def test_business_account_counts_beyond_a_bigint_are_missing() -> None:
    account = BusinessAccount.from_json(
        _parsed(
            f'{{"followers_count": {10**30}, "following_count": {2**63}, "total_likes": NaN, '
            '"videos_count": 12}'
        )
    )

    assert account.followers_count is None
    assert account.following_count is None
    assert account.total_likes is None
    assert account.videos_count == 12


def test_display_video_counts_that_no_column_holds_are_missing() -> None:
    video = Video.from_json(
        _parsed('{"id": "7", "view_count": Infinity, "like_count": NaN, "comment_count": 3}')
    )

    assert video.view_count is None
    assert video.like_count is None
    assert video.comment_count == 3

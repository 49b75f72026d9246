"""The composer's one typed path from form or API input to a wall-clock time."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from calendar_app import composer
from calendar_app.services import PostContent, PostTarget
from later.errors import AppError


def test_date_and_time_fields_become_one_wall_clock_time() -> None:
    assert composer.local_time(date(2026, 3, 29), time(2, 30, 59)) == datetime(2026, 3, 29, 2, 30)
    assert composer.local_time(date(2026, 3, 29), None) is None
    assert composer.local_time(None, time(9, 0)) is None


def test_panel_fields_are_read_leniently() -> None:
    content = composer.content_from_fields(
        {
            "scheduled_date": "2026-10-25",
            "scheduled_time": "02:30:00",
            "scheduled_tz": "Europe/Paris",
            "fold": "1",
            "post_mode": "inbox",
            "media_id": "not-a-uuid",
        }
    )
    assert content.scheduled_local == datetime(2026, 10, 25, 2, 30)
    assert (content.scheduled_tz, content.fold, content.post_mode) == ("Europe/Paris", 1, "inbox")
    assert content.media_id is None
    broken = composer.content_from_fields({"scheduled_date": "25/10", "scheduled_time": "2pm"})
    assert broken.scheduled_local is None and broken.post_mode == "direct"


def test_api_patch_parses_the_wall_clock_string_once() -> None:
    base = PostContent(caption="hi", scheduled_local=datetime(2026, 5, 1, 9, 0))
    patch = {"scheduled_local": "2026-05-02T10:15", "schedule": True}
    moved = composer.content_patched(base, patch)
    assert moved.scheduled_local == datetime(2026, 5, 2, 10, 15) and moved.caption == "hi"
    assert composer.content_patched(base, {"scheduled_local": ""}).scheduled_local is None
    with pytest.raises(AppError) as exc:
        composer.content_patched(base, {"scheduled_local": "tomorrow"})
    assert exc.value.code == "invalid_datetime"
    target = composer.target_patched(PostTarget(account_id="a"), {"allow_duet": True, "x": 1})
    assert target == PostTarget(account_id="a", allow_duet=True)


def test_creator_panel_fields_are_named_per_account() -> None:
    data = {"privacy_level__a1": "SELF_ONLY", "allow_comment__a1": "on", "allow_duet__b2": "on"}
    assert composer.target_from_fields(data, "a1") == PostTarget(
        account_id="a1", privacy_level="SELF_ONLY", allow_comment=True
    )

"""The SQLite quick start's refresh lock: an OS file lock, one holder per account and app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accounts.tiktok.access import _file_lock


def test_second_holder_waits_until_the_first_releases(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    first_try, first_release = _file_lock(1234)
    second_try, second_release = _file_lock(1234)
    other_try, other_release = _file_lock(5678)

    assert first_try()
    assert not second_try()
    assert other_try()

    first_release()
    assert second_try()
    second_release()
    other_release()

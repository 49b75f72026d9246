"""Foreign-object factories for the tenant isolation sweep (conversations routes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from accounts.models import Workspace
from conversations.models import person_ref
from tests.conversations.factories import make_account, make_comment, make_video


def _foreign_comment(workspace: Workspace) -> str:
    return str(make_comment(make_video(make_account(workspace))).pk)


def _foreign_video(workspace: Workspace) -> str:
    return str(make_video(make_account(workspace)).pk)


def _foreign_author(workspace: Workspace) -> str:
    key = f"foreign-fan-{uuid.uuid4().hex[:12]}"
    make_comment(make_video(make_account(workspace)), author_key=key)
    return person_ref(key)


FOREIGN_OBJECTS: dict[str, Callable[[Workspace], str]] = {
    "comment_id": _foreign_comment,
    "video_id": _foreign_video,
    "person_ref": _foreign_author,
}

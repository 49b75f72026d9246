"""When the calendar is already taken: read by other apps through a settings-named hook
(`settings.BEST_TIMES_BUSY_TIMES`) so they never import calendar_app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import Workspace
from calendar_app.models import Post, PostStatus

#: A cancelled or failed post no longer holds its time.
FREE_STATUSES = (PostStatus.CANCELLED, PostStatus.FAILED)


def scheduled_times(
    *, workspace: Workspace, account_id: Any | None, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """Times of the workspace's posts (of one account if given) scheduled in [start, end)."""
    posts = Post.objects.for_workspace(workspace).filter(
        scheduled_at__gte=start, scheduled_at__lt=end
    )
    if account_id is not None:
        posts = posts.filter(account_id=account_id)
    times = posts.exclude(status__in=FREE_STATUSES).values_list("scheduled_at", flat=True)
    return [at for at in times if at is not None]

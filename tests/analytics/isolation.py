"""Foreign-object factories for the tenant isolation sweep (analytics routes with `video_id`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from analytics.models import ReportSchedule


def _foreign_video(workspace: Workspace) -> str:
    account = TikTokAccount.objects.create(
        workspace=workspace, open_id=f"foreign-analytics-{workspace.pk}", username="foreign"
    )
    video = TikTokVideo.objects.create(
        workspace=workspace,
        account=account,
        video_id="7300000000000000001",
        caption="foreign video",
        posted_at=datetime(2025, 1, 1, tzinfo=UTC),
        view_count=999,
    )
    return str(video.pk)


def _foreign_schedule(workspace: Workspace) -> str:
    schedule = ReportSchedule.objects.create(
        workspace=workspace,
        frequency="weekly",
        recipients=["client@example.com"],
        starts_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return str(schedule.pk)


FOREIGN_OBJECTS: dict[str, Callable[[Workspace], str]] = {
    "video_id": _foreign_video,
    "schedule_id": _foreign_schedule,
}

"""The first-run checklist of a new workspace: it ticks itself off from the workspace's own data
and goes away for good once every step is done (or someone dismisses it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, TikTokAccount, Workspace
from calendar_app.models import MediaAsset, Post, PostStatus


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    url: str
    done: bool


def checklist(*, workspace: Workspace) -> list[Step] | None:
    """The steps, or None once the checklist is over. One query while it is shown."""
    if workspace.checklist_done_at is not None:
        return None
    ws = OuterRef("pk")
    row = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(
            connect=Exists(TikTokAccount.objects.unscoped().filter(workspace=ws)),
            upload=Exists(MediaAsset.objects.unscoped().filter(workspace=ws)),
            schedule=Exists(
                Post.objects.unscoped().filter(workspace=ws).exclude(status=PostStatus.DRAFT)
            ),
            invited=Exists(Invitation.objects.unscoped().filter(workspace=ws)),
            teammate=Exists(
                Membership.objects.unscoped().filter(workspace=ws).exclude(role=Role.OWNER)
            ),
        )
        .values("connect", "upload", "schedule", "invited", "teammate")
        .first()
    )
    if row is None:
        return None
    ws_id = workspace.pk
    steps = [
        Step(
            "connect",
            "Connect a TikTok account",
            reverse("accounts:tiktok_accounts", args=[ws_id]),
            row["connect"],
        ),
        Step(
            "upload",
            "Upload a video or photo",
            reverse("calendar_app:media", args=[ws_id]),
            row["upload"],
        ),
        Step(
            "schedule",
            "Schedule your first post",
            reverse("calendar_app:post_create", args=[ws_id]),
            row["schedule"],
        ),
        Step(
            "invite",
            "Invite a teammate",
            reverse("accounts:members", args=[ws_id]),
            row["invited"] or row["teammate"],
        ),
    ]
    if all(s.done for s in steps):
        checklist_finish(workspace=workspace)
        return None
    return steps


def checklist_finish(*, workspace: Workspace) -> None:
    """Done or dismissed: the checklist is not shown again in this workspace."""
    now = timezone.now()
    Workspace.objects.filter(pk=workspace.pk, checklist_done_at__isnull=True).update(
        checklist_done_at=now
    )
    workspace.checklist_done_at = workspace.checklist_done_at or now

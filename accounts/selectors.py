"""Reads for workspaces, memberships and notifications."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import Invitation, Membership, Notification, TikTokAccount, User, Workspace
from later.errors import NotFound


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return user.memberships.select_related("workspace").order_by("workspace__name")


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.for_workspace(workspace).select_related("user").order_by("user__email")
    )


def membership_get(*, workspace: Workspace, membership_id: Any) -> Membership:
    try:
        return workspace_members(workspace=workspace).get(pk=membership_id)
    except (Membership.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFound("Member not found.") from exc


def invitation_get(*, workspace: Workspace, invitation_id: Any) -> Invitation:
    try:
        return Invitation.objects.for_workspace(workspace).get(pk=invitation_id)
    except (Invitation.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFound("Invitation not found.") from exc


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a link carries. Unscoped on purpose: the token is the credential, and
    the person following it is not a member yet."""
    return Invitation.objects.unscoped().select_related("workspace").filter(token=token).first()


def workspace_pending_invitations(*, workspace: Workspace) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_workspace(workspace)
        .filter(accepted_at=None)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def unread_notifications(*, workspace: Workspace, user: User) -> QuerySet[Notification]:
    return Notification.objects.for_workspace(workspace).filter(user=user, read_at=None)


def tiktok_accounts(*, workspace: Workspace) -> QuerySet[TikTokAccount]:
    return TikTokAccount.objects.for_workspace(workspace).order_by("display_name", "username")

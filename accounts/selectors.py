"""Reads for workspaces, memberships and notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Invitation, Membership, Notification, TikTokAccount, User, Workspace


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return user.memberships.select_related("workspace").order_by("workspace__name")


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.for_workspace(workspace).select_related("user").order_by("user__email")
    )


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

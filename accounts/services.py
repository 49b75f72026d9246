"""Writes for users, workspaces, memberships, invitations and notifications.

TikTok account connection services live in the accounts.tiktok package.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.access import workspace_memberships
from accounts.models import (
    Invitation,
    Membership,
    Notification,
    Role,
    User,
    Workspace,
    validate_time_zone,
)
from later.errors import Conflict, NotFound, RoleRequired, ValidationFailed
from later.roles import ROLE_RANK

INVITATION_TTL = timedelta(days=7)


def _validate_workspace_fields(*, name: str, time_zone: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the workspace a name.", details={"name": ["Required."]})
    if len(name) > 120:
        raise ValidationFailed(
            "Workspace names are at most 120 characters.", details={"name": ["Too long."]}
        )
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={"time_zone": exc.messages}) from exc
    return name, time_zone


@transaction.atomic
def workspace_create(*, owner: User, name: str, time_zone: str = "UTC") -> Workspace:
    name, time_zone = _validate_workspace_fields(name=name, time_zone=time_zone)
    workspace = Workspace.objects.create(name=name, time_zone=time_zone)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


@transaction.atomic
def workspace_update(*, workspace: Workspace, name: str, time_zone: str) -> Workspace:
    workspace.name, workspace.time_zone = _validate_workspace_fields(name=name, time_zone=time_zone)
    workspace.save(update_fields=["name", "time_zone", "updated_at"])
    return workspace


def _owner_count(workspace: Workspace) -> int:
    return Membership.objects.for_workspace(workspace).filter(role=Role.OWNER).count()


@transaction.atomic
def membership_change_role(
    *, workspace: Workspace, actor: Membership, membership_id: Any, role: str
) -> Membership:
    try:
        membership = (
            Membership.objects.for_workspace(workspace).select_for_update().get(pk=membership_id)
        )
    except (Membership.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFound("Member not found.") from exc
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role “{role}”.")
    if not actor.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can change roles.")
    # Admins manage editors and viewers; only owners can create or demote owners and admins.
    if ROLE_RANK[max(membership.role, role, key=ROLE_RANK.__getitem__)] >= ROLE_RANK[
        Role.ADMIN
    ] and not actor.has_role(Role.OWNER):
        raise RoleRequired("Only owners can grant or change the owner and admin roles.")
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and workspace.agency_id is None
        and _owner_count(workspace) <= 1
    ):
        raise Conflict("A workspace needs at least one owner.")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, workspace: Workspace, actor: Membership, membership_id: Any) -> None:
    try:
        membership = (
            Membership.objects.for_workspace(workspace).select_for_update().get(pk=membership_id)
        )
    except (Membership.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFound("Member not found.") from exc
    leaving_self = membership.pk == actor.pk
    if not leaving_self:
        if not actor.has_role(Role.ADMIN):
            raise RoleRequired("Only owners and admins can remove members.")
        if membership.role in (Role.OWNER, Role.ADMIN) and not actor.has_role(Role.OWNER):
            raise RoleRequired("Only owners can remove owners and admins.")
    # An agency's client keeps the agency's owners; a plain workspace needs an owner of its own.
    if (
        membership.role == Role.OWNER
        and workspace.agency_id is None
        and _owner_count(workspace) <= 1
    ):
        raise Conflict("A workspace needs at least one owner.")
    membership.delete()


@transaction.atomic
def invitation_create(
    *, workspace: Workspace, actor: Membership, email: str, role: str = Role.EDITOR
) -> Invitation:
    email = (email or "").strip().lower()
    if not actor.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can invite members.")
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role “{role}”.")
    if role == Role.OWNER and not actor.has_role(Role.OWNER):
        raise RoleRequired("Only owners can invite owners.")
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailed(
            "Enter a valid e-mail address.", details={"email": ["Invalid."]}
        ) from exc
    if Membership.objects.for_workspace(workspace).filter(user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member of this workspace.")
    Invitation.objects.for_workspace(workspace).filter(email=email, accepted_at=None).delete()
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=actor.user,
        expires_at=timezone.now() + INVITATION_TTL,
    )
    accept_url = settings.SITE_URL.rstrip("/") + reverse(
        "accounts:invitation_accept", args=[invitation.token]
    )
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {workspace.name} on Later for TikTok",
            message=(
                f"{actor.user.display_name} invited you to join the workspace "
                f"“{workspace.name}” as {invitation.get_role_display()}.\n\n"
                f"Accept the invitation: {accept_url}\n\nThe link expires in 7 days."
            ),
            from_email=None,
            recipient_list=[email],
            fail_silently=True,
        )
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = (
        Invitation.objects.unscoped()
        .select_for_update()
        .select_related("workspace")
        .filter(token=token)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise NotFound("This invitation is invalid or has expired.")
    if invitation.email.lower() != user.email.lower():
        raise NotFound("This invitation was sent to another e-mail address.")
    membership, _ = Membership.objects.for_workspace(invitation.workspace).get_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


def invitation_revoke(*, workspace: Workspace, actor: Membership, invitation_id: Any) -> None:
    if not actor.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can revoke invitations.")
    deleted, _ = (
        Invitation.objects.for_workspace(workspace)
        .filter(pk=invitation_id, accepted_at=None)
        .delete()
    )
    if not deleted:
        raise NotFound("Invitation not found.")


def notification_notify_members(
    *,
    workspace: Workspace,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    min_role: str = Role.EDITOR,
    email: bool = False,
    exclude: User | None = None,
) -> list[Notification]:
    """Tell every member at or above `min_role` (but `exclude`, who did what is being told), in
    the app and optionally by e-mail."""
    notes = notification_notify_members_of_each(
        workspace=workspace,
        kind=kind,
        messages=[NotificationMessage(title=title, body=body, url=url)],
        min_role=min_role,
        exclude=exclude,
    )
    if email and notes:
        recipients = [n.user.email for n in notes]
        link = settings.SITE_URL.rstrip("/") + url if url else ""
        transaction.on_commit(
            lambda: send_mail(
                subject=f"[{workspace.name}] {title}",
                message=f"{body}\n\n{link}".strip(),
                from_email=None,
                recipient_list=recipients,
                fail_silently=True,
            )
        )
    return notes


@dataclass(frozen=True)
class NotificationMessage:
    title: str
    body: str = ""
    url: str = ""


def notification_notify_members_of_each(
    *,
    workspace: Workspace,
    kind: str,
    messages: Sequence[NotificationMessage],
    min_role: str = Role.EDITOR,
    exclude: User | None = None,
) -> list[Notification]:
    """One notification per message for every member at or above `min_role` (but `exclude`):
    the members are looked up once and every row is written in one statement, whatever the
    number of messages (a bulk import of 100 posts is not 200 queries)."""
    if not messages:
        return []
    # Agency members who reach the workspace are told too (accounts.access).
    members = [
        m
        for m in workspace_memberships(workspace=workspace)
        if m.has_role(min_role) and (exclude is None or m.user_id != exclude.pk)
    ]
    return Notification.objects.bulk_create(
        [
            Notification(
                workspace=workspace,
                user=m.user,
                kind=kind,
                title=message.title,
                body=message.body,
                url=message.url,
            )
            for message in messages
            for m in members
        ]
    )


def notification_mark_read(*, workspace: Workspace, user: User, notification_id: Any = None) -> int:
    qs = Notification.objects.for_workspace(workspace).filter(user=user, read_at=None)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())

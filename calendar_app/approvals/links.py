"""Client review links: signed, expiring, revocable; they reach one workspace's posts in review.

The token is the link's id and workspace signed with SECRET_KEY (django.core.signing), so a
tampered token fails the signature and a token names exactly one workspace. Expiry and
revocation live on the row, so an admin can end a link early.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, Workspace
from calendar_app.approvals.activity import activity_record
from calendar_app.models import ActivityVerb, Post, PostStatus, ReviewLink
from later.errors import AppError, NotFound, RoleRequired, ValidationFailed

SALT = "calendar_app.review_link"
LINK_DAYS_DEFAULT = 14
LINK_DAYS_MAX = 90


class ReviewLinkExpired(AppError):
    code = "review_link_expired"
    status = 410


def review_link_token(link: ReviewLink) -> str:
    return signing.Signer(salt=SALT).sign_object({"l": str(link.pk), "w": str(link.workspace_id)})


def review_link_url(link: ReviewLink, *, absolute: bool = True) -> str:
    path = reverse("review:page", kwargs={"token": review_link_token(link)})
    return settings.SITE_URL.rstrip("/") + path if absolute else path


def review_link_resolve(*, token: str, now: datetime | None = None) -> ReviewLink:
    """The live link a token names; NotFound when forged or revoked, 410 when expired."""
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
        link_id, workspace_id = str(data["l"]), str(data["w"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise NotFound("This review link is not valid.") from exc
    try:
        link = (
            ReviewLink.objects.for_workspace(workspace_id)
            .select_related("workspace")
            .filter(pk=link_id)
            .first()
        )
    except Exception as exc:  # a signed but malformed id (only possible with the secret)
        raise NotFound("This review link is not valid.") from exc
    if link is None or link.revoked_at is not None:
        raise NotFound("This review link is not valid or was switched off.")
    if link.expires_at <= (now or timezone.now()):
        raise ReviewLinkExpired("This review link has expired. Ask the team for a new one.")
    return link


def review_link_create(
    *, workspace: Workspace, actor: Membership, name: str, days: int = LINK_DAYS_DEFAULT
) -> ReviewLink:
    if not actor.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can share review links.")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(
            "Say who the link is for (for example the client's name).",
            details={"name": ["Required."]},
        )
    if len(name) > 120:
        raise ValidationFailed("Names are at most 120 characters.", details={"name": ["Too long."]})
    if not 1 <= days <= LINK_DAYS_MAX:
        raise ValidationFailed(
            f"A link lasts 1 to {LINK_DAYS_MAX} days.", details={"days": ["Out of range."]}
        )
    with transaction.atomic():
        link = ReviewLink.objects.create(
            workspace=workspace,
            name=name,
            created_by=actor.user,
            expires_at=timezone.now() + timedelta(days=days),
        )
        activity_record(
            workspace=workspace,
            verb=ActivityVerb.SETTINGS,
            actor=actor.user,
            subject=workspace.name,
            detail=f"Shared a review link with {name} for {days} day(s).",
        )
    return link


def review_link_revoke(*, workspace: Workspace, actor: Membership, link: ReviewLink) -> None:
    if not actor.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can switch off review links.")
    with transaction.atomic():
        updated = (
            ReviewLink.objects.for_workspace(workspace)
            .filter(pk=link.pk, revoked_at__isnull=True)
            .update(revoked_at=timezone.now())
        )
        if updated:
            activity_record(
                workspace=workspace,
                verb=ActivityVerb.SETTINGS,
                actor=actor.user,
                subject=workspace.name,
                detail=f"Switched off the review link of {link.name}.",
            )


def review_link_get(*, workspace: Workspace, link_id: Any) -> ReviewLink:
    """Loader for URLs naming a link (`link_id`)."""
    link = ReviewLink.objects.for_workspace(workspace).filter(pk=link_id).first()
    if link is None:
        raise NotFound("Review link not found.")
    return link


def review_links(*, workspace: Workspace) -> QuerySet[ReviewLink]:
    return ReviewLink.objects.for_workspace(workspace).order_by("-created_at")


def review_queue(*, workspace: Workspace) -> QuerySet[Post]:
    """The posts awaiting review, soonest first: all a review link's holder can see."""
    return (
        Post.objects.for_workspace(workspace)
        .filter(status=PostStatus.IN_REVIEW)
        .select_related("account", "media")
        .order_by("scheduled_at", "created_at")
    )


def review_post_get(*, link: ReviewLink, post_id: Any) -> Post:
    """A post of the link's workspace that is in review; anything else is NotFound."""
    try:
        post = review_queue(workspace=link.workspace).filter(pk=post_id).first()
    except (ValueError, TypeError) as exc:
        raise NotFound("Post not found.") from exc
    if post is None:
        raise NotFound("Post not found.")
    return post


def review_link_touch(link: ReviewLink) -> None:
    ReviewLink.objects.for_workspace(link.workspace_id).filter(pk=link.pk).update(
        last_used_at=timezone.now()
    )

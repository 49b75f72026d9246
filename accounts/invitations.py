"""An invitation survives sign-up: the link a signed-out person follows is remembered in the
session, and the membership is created as soon as they sign up or sign in (allauth signals)."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in, user_signed_up
from django.contrib import messages
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import services
from accounts.models import User
from later.errors import AppError

SESSION_KEY = "pending_invitation"


def remember(request: HttpRequest, token: str) -> None:
    request.session[SESSION_KEY] = token


def pending(request: HttpRequest) -> str | None:
    token = request.session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


def accept_pending(request: HttpRequest, user: User) -> None:
    """Accept the invitation remembered in this session for `user`, once."""
    token = request.session.pop(SESSION_KEY, None)
    if not isinstance(token, str):
        return
    try:
        membership = services.invitation_accept(token=token, user=user)
    except AppError as exc:
        messages.warning(request, f"We could not add you to the workspace: {exc.message}")
        return
    # The link reached this address, which proves it belongs to the person.
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    request.session["current_workspace_id"] = str(membership.workspace_id)
    messages.success(
        request,
        f"Welcome to {membership.workspace.name}: you joined as "
        f"{membership.get_role_display().lower()}.",
    )


@receiver(user_signed_up)
def accept_after_sign_up(*, request: HttpRequest, user: User, **_: Any) -> None:
    accept_pending(request, user)


@receiver(user_logged_in)
def accept_after_sign_in(*, request: HttpRequest, user: User, **_: Any) -> None:
    accept_pending(request, user)

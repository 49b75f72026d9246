"""Navigation context shared by every page: the current workspace and the switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import User
from accounts.selectors import memberships_for_user, unread_notifications


def workspace_nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    workspace = getattr(request, "workspace", None)
    context: dict[str, Any] = {
        "nav_memberships": memberships_for_user(user=user),
        "workspace": workspace,
        "membership": getattr(request, "membership", None),
    }
    if workspace is not None:
        context["nav_unread_notifications"] = list(
            unread_notifications(workspace=workspace, user=user)[:8]
        )
    return context

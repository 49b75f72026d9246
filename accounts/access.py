"""Who may enter a workspace: the membership resolution behind `later.tenancy`'s decorators.

`later/` sits below the apps and never imports them; settings name these functions
(`TENANT_MEMBERSHIP_RESOLVER`) and `later.tenancy` calls them through that name.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from accounts.models import Membership, User
from later.errors import NotFound


def membership_resolve(*, user: AbstractBaseUser | AnonymousUser, workspace_id: Any) -> Membership:
    """The caller's membership of `workspace_id`, or NotFound (outsiders never learn it exists)."""
    if not isinstance(user, User):  # anonymous
        raise NotFound("Workspace not found.")
    try:
        return (
            Membership.objects.select_related("workspace")
            .filter(workspace_id=workspace_id, user=user)
            .get()
        )
    except (Membership.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound("Workspace not found.") from exc

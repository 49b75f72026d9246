"""What accounts does when the shared machinery (`later/`) reports something."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.models import User
from later.tenancy import workspace_entered


@receiver(workspace_entered)
def remember_last_workspace(sender: Any, user: Any, workspace_id: str, **_: Any) -> None:
    """The next sign-in lands in the workspace opened last (one UPDATE per switch)."""
    if isinstance(user, User) and str(user.last_workspace_id) != workspace_id:
        User.objects.filter(pk=user.pk).update(last_workspace_id=workspace_id)
        user.last_workspace_id = workspace_id

"""What accounts does when the shared machinery (`later/`) or Django reports something."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from accounts.models import Agency, User, Workspace
from later.data_version import data_changed
from later.tenancy import workspace_entered


@receiver(workspace_entered)
def remember_last_workspace(sender: Any, user: Any, workspace_id: str, **_: Any) -> None:
    """The next sign-in lands in the workspace opened last (one UPDATE per switch)."""
    if isinstance(user, User) and str(user.last_workspace_id) != workspace_id:
        User.objects.filter(pk=user.pk).update(last_workspace_id=workspace_id)
        user.last_workspace_id = workspace_id


@receiver(pre_delete, sender=Agency)
def agency_clients_changed(sender: Any, instance: Agency, using: str, **_: Any) -> None:
    """Deleting an agency (the admin, a cascade) empties its clients' `agency` with one bulk
    UPDATE (SET_NULL) that sends no save signal. Their data versions move all the same, or the
    membership cached under them keeps the deleted agency (its report page would fail)."""
    clients = Workspace.objects.using(using).filter(agency=instance).values_list("pk", flat=True)
    data_changed(*clients, using=using)

"""Navigation context shared by every page: the current workspace or agency, and the switcher."""

from __future__ import annotations

import functools
import uuid
from functools import cached_property
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest

from accounts.access import WorkspaceAccess, accessible_workspaces, workspace_access
from accounts.models import Agency, Notification, User, Workspace
from accounts.selectors import unread_notifications
from later.data_version import cached_for_version

#: The switcher lists this many workspaces (recent ones first); search finds the others.
SWITCHER_SIZE = 8


def _recent_ids(request: HttpRequest) -> list[uuid.UUID]:
    ids = []
    for raw in (
        request.session.get("recent_workspace_ids", []) if hasattr(request, "session") else []
    ):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return ids


class Switcher:
    """The switcher's menu, loaded on first use (one query, however many workspaces)."""

    def __init__(self, *, user: User, recent: list[uuid.UUID]) -> None:
        self.user = user
        self.recent = recent

    @cached_property
    def _rows(self) -> list[WorkspaceAccess]:
        rank = Case(
            *[When(pk=pk, then=Value(i)) for i, pk in enumerate(self.recent)],
            default=Value(len(self.recent)),
            output_field=IntegerField(),
        )
        found = (
            accessible_workspaces(user=self.user)
            .annotate(recent_rank=rank)
            .order_by("recent_rank", "name", "pk")[: SWITCHER_SIZE + 1]
        )
        return [workspace_access(ws) for ws in found]

    @property
    def recent_items(self) -> list[WorkspaceAccess]:
        return [row for row in self._rows[:SWITCHER_SIZE] if row.workspace.pk in self.recent]

    @property
    def other_items(self) -> list[WorkspaceAccess]:
        return [row for row in self._rows[:SWITCHER_SIZE] if row.workspace.pk not in self.recent]

    @property
    def has_more(self) -> bool:
        return len(self._rows) > SWITCHER_SIZE

    @property
    def is_empty(self) -> bool:
        return not self._rows

    @property
    def agencies(self) -> list[Agency]:
        """Agencies of the listed clients that the user belongs to (their homes' links)."""
        seen: dict[Any, Agency] = {}
        for row in self._rows:
            agency = row.workspace.agency
            if agency is not None and getattr(row.workspace, "agency_role", None):
                seen.setdefault(agency.pk, agency)
        return sorted(seen.values(), key=lambda a: a.name)


def _unread(workspace: Workspace, user: User) -> list[Notification]:
    return list(unread_notifications(workspace=workspace, user=user)[:8])


def workspace_nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    workspace = getattr(request, "workspace", None)
    membership = getattr(request, "membership", None)
    context: dict[str, Any] = {
        "nav_switcher": Switcher(user=user, recent=_recent_ids(request)),
        "workspace": workspace,
        "membership": membership,
        "nav_agency": getattr(request, "agency", None)
        or (membership.via_agency if membership is not None else None),
    }
    if workspace is not None:
        # Notifications are the workspace's rows: their writes move its data version.
        context["nav_unread_notifications"] = cached_for_version(
            workspace.pk,
            f"nav-notifications:{user.pk}",
            functools.partial(_unread, workspace, user),
        )
    return context

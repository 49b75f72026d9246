"""Workspace roles, shared by the decorators in `later.tenancy` and by `accounts.models`."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str, needed: str) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[needed]

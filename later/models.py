"""Base models shared by every app: UUID public ids, timestamps, and tenant ownership."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models

from later.tenancy import TenantManager


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantModel(BaseModel):
    """A row owned by one workspace. Its default manager refuses unscoped queries."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects = TenantManager()

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first outcome of a request sent with an idempotency key (API `Idempotency-Key`
    header, or the one-time token of an HTML form), so that a repeat replays it instead of
    acting twice. Kept 24 hours; `later.tasks.purge_idempotency_records` deletes the rest."""

    class Scope(models.TextChoices):
        API = "api"
        FORM = "form"

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # "" outside a workspace (e.g. creating a workspace): NULLs would never collide.
    workspace_key = models.CharField(max_length=36, blank=True)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    completed_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "workspace_key", "scope", "key"], name="idempotency_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"

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


class ParkedRetry(BaseModel):
    """The next try of a background task after a transient failure (TikTok busy or
    unavailable), parked here instead of in the broker: a countdown message would wait in
    Redis, where the visibility timeout delivers it twice and a restart loses it.

    `later.retries` parks it with exponential backoff and jitter, beat's sweeper sends it when
    due (claimed with SKIP LOCKED) and gives up after `max_attempts` tries; a success deletes
    the row. One row per task and subject (an account, a webhook event)."""

    task = models.CharField(max_length=200)  # the Celery task's name
    subject = models.CharField(max_length=200)  # what it is about: "<account id>", an event id
    kwargs = models.JSONField(default=dict)
    label = models.CharField(max_length=80)  # what people read: "Comment sync"
    workspace = models.ForeignKey(
        "accounts.Workspace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    #: Tries sent from here so far (the failed run that parked it is not one of them).
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField()
    #: When the sweeper sends the next try (while one is out: when it is sent again if it
    #: never answers). None once given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["task", "subject"], name="parked_retry_unique")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["next_attempt_at"],
                name="parked_retry_due",
                condition=models.Q(next_attempt_at__isnull=False),
            ),
            models.Index(fields=["workspace", "subject"], name="parked_retry_workspace"),
        ]
        verbose_name_plural = "parked retries"

    def __str__(self) -> str:
        return f"{self.label} ({self.subject})"

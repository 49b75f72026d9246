"""Personal API tokens: create (the secret is returned once), authenticate, revoke.

Only a SHA-256 digest is stored. A token is a long random secret, so a fast digest is
enough (no password hashing cost on every API request) and lookup is by the digest itself.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.access import accessible_workspaces
from accounts.models import ApiToken, ApiTokenAccess, User, Workspace
from later.errors import NotFound, ValidationFailed

TOKEN_PREFIX = "lft_"
#: Lifetimes offered when creating a token, in days.
TOKEN_LIFETIMES_DAYS = (7, 30, 90, 365)
#: last_used_at is written at most this often per token (one UPDATE, not one per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown to the user once, never stored


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    access: str,
    workspace_ids: list[Any],
    lifetime_days: int,
) -> CreatedToken:
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name, e.g. the script that will use it."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    if access not in ApiTokenAccess.values:
        errors["access"] = ["Choose read only or read and write."]
    if lifetime_days not in TOKEN_LIFETIMES_DAYS:
        errors["lifetime_days"] = [f"Choose one of {', '.join(map(str, TOKEN_LIFETIMES_DAYS))}."]
    wanted = {str(pk) for pk in workspace_ids}
    mine = {
        str(pk): pk
        for pk in accessible_workspaces(user=user)
        .filter(pk__in=list(wanted) if _all_uuids(wanted) else [])
        .values_list("pk", flat=True)
    }
    if not wanted:
        errors["workspaces"] = ["Choose at least one workspace."]
    elif set(mine) != wanted:
        errors["workspaces"] = ["Choose among your own workspaces."]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], details=errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:12],
        digest=token_digest(secret),
        access=access,
        expires_at=timezone.now() + timedelta(days=lifetime_days),
    )
    token.workspaces.set(list(Workspace.objects.filter(pk__in=list(mine.values()))))
    return CreatedToken(token=token, secret=secret)


def _all_uuids(values: set[str]) -> bool:
    import uuid

    try:
        for value in values:
            uuid.UUID(value)
    except ValueError:
        return False
    return True


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token with this secret (its user and workspaces loaded), or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .prefetch_related("workspaces")
        .filter(digest=token_digest(secret))
        .first()
    )
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def api_token_revoke(*, user: User, token_id: Any) -> ApiToken:
    try:
        token = ApiToken.objects.select_for_update().get(pk=token_id, user=user)
    except (ApiToken.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("No such token.") from exc
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).prefetch_related("workspaces")

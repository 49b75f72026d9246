"""Single-use OAuth `state` records for the Connect button's two consents (Login Kit, Business).

Each record is bound to the user, the browser session and the workspace, lives 10 minutes and
is consumed once. Only digests of the state and the session key are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.access import membership_resolve
from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import Membership, Role, TikTokAccount, TikTokOAuthState, User, Workspace
from later.errors import AppError, NotFound

OAUTH_STATE_TTL = timedelta(minutes=10)
LOGIN_KIT_FLOW = "login_kit"
BUSINESS_FLOW = "business"


class ConnectFailed(AppError):
    """The connection attempt ended without storing anything; `message` says why."""

    code = "tiktok_connect_failed"
    status = 400

    def __init__(self, message: str, *, workspace_id: Any = None) -> None:
        super().__init__(message)
        self.workspace_id = workspace_id


@dataclass(frozen=True)
class ConsumedState:
    workspace: Workspace
    membership: Membership
    code_verifier: str
    account: TikTokAccount | None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def oauth_state_create(
    *,
    workspace: Workspace,
    user: User,
    session_key: str,
    flow: str,
    code_verifier: str = "",
    account: TikTokAccount | None = None,
) -> str:
    """Record a pending consent and return the opaque `state` to send to TikTok."""
    state = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        TikTokOAuthState.objects.for_workspace(workspace).filter(expires_at__lt=now).delete()
        TikTokOAuthState.objects.create(
            workspace=workspace,
            user=user,
            flow=flow,
            account=account,
            state_digest=_digest(state),
            session_digest=_digest(session_key),
            code_verifier_encrypted=encrypt_token(code_verifier),
            expires_at=now + OAUTH_STATE_TTL,
        )
    return state


def _checked_record(*, state: str, user: User, session_key: str, flow: str) -> TikTokOAuthState:
    # The state is the only key the callback has, so this lookup crosses tenants on purpose.
    record = (
        TikTokOAuthState.objects.unscoped()
        .select_for_update(of=("self",))
        .select_related("workspace", "account")
        .filter(state_digest=_digest(state), flow=flow)
        .first()
        if state
        else None
    )
    if record is None:
        raise ConnectFailed(
            "This TikTok connection link is not valid. Start again from the Accounts page."
        )
    # Link back only to the caller's own attempt: never point anyone at another user's workspace.
    workspace_id = record.workspace_id if record.user_id == user.pk else None
    if record.used_at is not None:
        raise ConnectFailed(
            "This TikTok connection link was already used. Start again from the Accounts page.",
            workspace_id=workspace_id,
        )
    if record.user_id != user.pk or record.session_digest != _digest(session_key or ""):
        raise ConnectFailed(
            "This TikTok connection was started by another user or in another browser "
            "session. Start again from the Accounts page.",
            workspace_id=workspace_id,
        )
    if record.expires_at <= timezone.now():
        raise ConnectFailed(
            "This TikTok connection link expired (links last 10 minutes). "
            "Start again from the Accounts page.",
            workspace_id=workspace_id,
        )
    return record


def oauth_state_consume(*, state: str, user: User, session_key: str, flow: str) -> ConsumedState:
    """Mark the state used (committed even if what follows fails); check the user may connect."""
    with transaction.atomic():
        record = _checked_record(state=state, user=user, session_key=session_key, flow=flow)
        record.used_at = timezone.now()
        record.save(update_fields=["used_at", "updated_at"])
    workspace = record.workspace
    try:
        # Directly or through the agency that owns the workspace, as when the connection began.
        membership = membership_resolve(user=user, workspace_id=workspace.pk)
    except NotFound as exc:
        raise ConnectFailed("This TikTok connection link is not valid.") from exc
    if not membership.has_role(Role.ADMIN):
        raise ConnectFailed(
            "Only owners and admins can connect TikTok accounts.", workspace_id=workspace.pk
        )
    return ConsumedState(
        workspace=workspace,
        membership=membership,
        code_verifier=decrypt_token(record.code_verifier_encrypted),
        account=record.account,
    )

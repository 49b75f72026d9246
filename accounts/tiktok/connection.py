"""The Connect button's OAuth flow, the connected account's profile, and disconnect."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import (
    AccountStatus,
    AccountType,
    Membership,
    Role,
    TikTokAccount,
    TikTokOAuthState,
    User,
    Workspace,
)
from accounts.tiktok import signals
from accounts.tiktok.access import apply_token_set, get_tiktok_client
from later.errors import AppError, NotFound, RoleRequired, ValidationFailed
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokAuthError, TikTokError, TikTokOAuthError
from tiktok_client.pkce import pkce_pair
from tiktok_client.schemas import TokenSet, UserInfo

logger = logging.getLogger(__name__)


# --- Connect flow (OAuth 2.0 + PKCE) ---------------------------------------------------------

OAUTH_STATE_TTL = timedelta(minutes=10)

#: Scopes under which TikTok's Business API answers for the account (one connect flow).
BUSINESS_SCOPES = frozenset(
    {"user.insights", "video.insights", "comment.list", "comment.list.manage", "user.account.type"}
)
_USER_FIELDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "user.info.basic": ("open_id", "union_id", "avatar_url", "display_name"),
    "user.info.profile": ("username", "is_verified"),
    "user.info.stats": ("follower_count",),
}


class ConnectFailed(AppError):
    """The connection attempt ended without storing anything; `message` says why."""

    code = "tiktok_connect_failed"
    status = 400

    def __init__(self, message: str, *, workspace_id: Any = None) -> None:
        super().__init__(message)
        self.workspace_id = workspace_id


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def tiktok_connect_start(*, workspace: Workspace, membership: Membership, session_key: str) -> str:
    """Record a single-use state for this user+session+workspace; return TikTok's authorize URL."""
    if not membership.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can connect TikTok accounts.")
    if not session_key:
        raise ValidationFailed("Your browser session is missing; reload the page and try again.")
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    now = timezone.now()
    with transaction.atomic():
        TikTokOAuthState.objects.for_workspace(workspace).filter(expires_at__lt=now).delete()
        TikTokOAuthState.objects.create(
            workspace=workspace,
            user=membership.user,
            state_digest=_digest(state),
            session_digest=_digest(session_key),
            code_verifier_encrypted=encrypt_token(verifier),
            expires_at=now + OAUTH_STATE_TTL,
        )
    return get_tiktok_client().authorize_url(state=state, code_challenge=challenge)


@transaction.atomic
def _consume_state(*, state: str, user: User, session_key: str) -> tuple[Workspace, str]:
    """Mark the state used (committed even if what follows fails) and return its workspace."""
    # The state is the only key the callback has, so this lookup crosses tenants on purpose.
    record = (
        TikTokOAuthState.objects.unscoped()
        .select_for_update()
        .select_related("workspace")
        .filter(state_digest=_digest(state))
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
    now = timezone.now()
    if record.expires_at <= now:
        raise ConnectFailed(
            "This TikTok connection link expired (links last 10 minutes). "
            "Start again from the Accounts page.",
            workspace_id=workspace_id,
        )
    record.used_at = now
    record.save(update_fields=["used_at", "updated_at"])
    return record.workspace, decrypt_token(record.code_verifier_encrypted)


@dataclass(frozen=True)
class ConnectedProfile:
    open_id: str
    union_id: str = ""
    username: str = ""
    display_name: str = ""
    avatar_url: str = ""
    follower_count: int | None = None
    account_type: str = AccountType.PERSONAL
    is_private: bool = False

    def filled_from(self, *, username: str, display_name: str, avatar_url: str) -> ConnectedProfile:
        """This profile with its blanks filled from another source (the first source wins)."""
        return replace(
            self,
            username=self.username or username,
            display_name=self.display_name or display_name,
            avatar_url=self.avatar_url or avatar_url,
        )


def _display_profile(*, client: TikTokClient, tokens: TokenSet) -> ConnectedProfile:
    """`/v2/user/info/`, asking only for fields the granted scopes allow (else TikTok refuses)."""
    granted = set(tokens.scopes)
    fields = [f for scope, fs in _USER_FIELDS_BY_SCOPE.items() if scope in granted for f in fs]
    info = (
        client.get_user_info(access_token=tokens.access_token, fields=fields)
        if fields
        else UserInfo()
    )
    return ConnectedProfile(
        open_id=tokens.open_id,
        union_id=info.union_id or "",
        username=info.username or "",
        display_name=info.display_name or "",
        avatar_url=info.avatar_url or "",
        follower_count=info.follower_count,
    )


def _with_creator_info(
    profile: ConnectedProfile, *, client: TikTokClient, tokens: TokenSet
) -> ConnectedProfile:
    """creator_info tells whether the account is private (its privacy options) and fills blanks."""
    if "video.publish" not in tokens.scopes:
        return profile
    try:
        creator = client.query_creator_info(access_token=tokens.access_token)
    except TikTokAuthError:
        raise
    except TikTokError:
        return profile  # a creator who cannot post right now still connects; posting re-checks
    return replace(
        profile.filled_from(
            username=creator.username, display_name=creator.nickname, avatar_url=creator.avatar_url
        ),
        is_private="FOLLOWER_OF_CREATOR" in creator.privacy_level_options,
    )


def _with_business_type(
    profile: ConnectedProfile, *, client: TikTokClient, tokens: TokenSet
) -> ConnectedProfile:
    if not set(tokens.scopes) & BUSINESS_SCOPES:
        return profile
    try:
        business = client.business_get_account(
            access_token=tokens.access_token,
            business_id=tokens.open_id,
            fields=["is_business_account", "username", "display_name", "profile_image"],
        )
    except TikTokError:
        return profile  # the Business API only answers for business accounts
    if not business.is_business_account:
        return profile
    return replace(
        profile.filled_from(
            username=business.username or "",
            display_name=business.display_name or "",
            avatar_url=business.profile_image or "",
        ),
        account_type=AccountType.BUSINESS,
    )


def _fetch_profile(*, client: TikTokClient, tokens: TokenSet) -> ConnectedProfile:
    """What TikTok tells us about the account, asking only for what the granted scopes allow."""
    profile = _display_profile(client=client, tokens=tokens)
    profile = _with_creator_info(profile, client=client, tokens=tokens)
    profile = _with_business_type(profile, client=client, tokens=tokens)
    return replace(profile, display_name=profile.display_name or profile.username)


ACCOUNT_COLORS = ("#7c3aed", "#0ea5e9", "#f43f5e", "#10b981", "#f59e0b", "#6366f1", "#ec4899")


@transaction.atomic
def _upsert_account(
    *, workspace: Workspace, user: User, tokens: TokenSet, profile: ConnectedProfile
) -> tuple[TikTokAccount, bool]:
    account = (
        TikTokAccount.objects.for_workspace(workspace)
        .select_for_update()
        .filter(open_id=tokens.open_id)
        .first()
    )
    created = account is None
    if account is None:
        used = TikTokAccount.objects.for_workspace(workspace).count()
        account = TikTokAccount(
            workspace=workspace,
            open_id=tokens.open_id,
            color=ACCOUNT_COLORS[used % len(ACCOUNT_COLORS)],
        )
    previous_label = str(account)
    # A reconnect granting fewer scopes must not blank what we already know.
    account.union_id = profile.union_id or account.union_id
    account.username = profile.username or account.username
    account.display_name = profile.display_name or account.display_name
    account.avatar_url = profile.avatar_url or account.avatar_url
    if profile.follower_count is not None:
        account.follower_count = profile.follower_count
    account.account_type = profile.account_type
    account.is_private = profile.is_private
    apply_token_set(account=account, tokens=tokens)
    account.scopes = sorted(set(tokens.scopes))
    account.status = AccountStatus.CONNECTED
    account.status_reason = ""
    account.connected_by = user
    account.save()
    if not created:
        signals.account_reconnected.send(
            sender=TikTokAccount, account=account, previous_label=previous_label
        )
    return account, created


def _revoke_quietly(*, client: TikTokClient, access_token: str) -> bool:
    try:
        client.revoke_token(access_token=access_token)
    except TikTokError as exc:
        logger.warning("tiktok revoke failed: %s (log_id=%s)", exc.code, exc.log_id)
        return False
    return True


def tiktok_connect_complete(
    *,
    user: User,
    session_key: str,
    state: str,
    code: str = "",
    error: str = "",
) -> tuple[TikTokAccount, bool]:
    """Finish the OAuth callback: (account, created). Raises ConnectFailed with nothing stored."""
    workspace, verifier = _consume_state(state=state, user=user, session_key=session_key)
    membership = Membership.objects.for_workspace(workspace).filter(user=user).first()
    if membership is None:
        raise ConnectFailed("This TikTok connection link is not valid.")
    if not membership.has_role(Role.ADMIN):
        raise ConnectFailed(
            "Only owners and admins can connect TikTok accounts.", workspace_id=workspace.pk
        )
    if error:
        message = TikTokOAuthError.user_messages_by_code.get(
            error, "TikTok did not complete the connection. Nothing was connected."
        )
        raise ConnectFailed(message, workspace_id=workspace.pk)
    if not code:
        raise ConnectFailed(
            "TikTok sent no authorization code. Start again from the Accounts page.",
            workspace_id=workspace.pk,
        )
    client = get_tiktok_client()
    try:
        tokens = client.exchange_code(code=code, code_verifier=verifier)
    except TikTokError as exc:
        raise ConnectFailed(exc.user_message, workspace_id=workspace.pk) from exc
    if not tokens.access_token or not tokens.open_id:
        raise ConnectFailed(
            "TikTok's answer was incomplete. Start again from the Accounts page.",
            workspace_id=workspace.pk,
        )
    try:
        profile = _fetch_profile(client=client, tokens=tokens)
    except TikTokError as exc:
        _revoke_quietly(client=client, access_token=tokens.access_token)
        raise ConnectFailed(
            "TikTok connected but would not share the account's profile. "
            "Start again and keep the profile permission ticked.",
            workspace_id=workspace.pk,
        ) from exc
    return _upsert_account(workspace=workspace, user=user, tokens=tokens, profile=profile)


# --- Disconnect ---------------------------------------------------------------------------------


def tiktok_account_get(*, workspace: Workspace, account_id: Any) -> TikTokAccount:
    try:
        return TikTokAccount.objects.for_workspace(workspace).get(pk=account_id)
    except (TikTokAccount.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("TikTok account not found.") from exc


def tiktok_account_disconnect(
    *, workspace: Workspace, membership: Membership, account_id: Any
) -> bool:
    """Revoke at TikTok (best effort) and delete our tokens; the row stays for history.

    Returns whether TikTok confirmed the revocation.
    """
    if not membership.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can disconnect TikTok accounts.")
    account = tiktok_account_get(workspace=workspace, account_id=account_id)
    access_token = decrypt_token(account.access_token_encrypted)
    revoked = True
    if access_token:
        revoked = _revoke_quietly(client=get_tiktok_client(), access_token=access_token)
    with transaction.atomic():
        try:
            locked = (
                TikTokAccount.objects.for_workspace(workspace)
                .select_for_update()
                .get(pk=account.pk)
            )
        except TikTokAccount.DoesNotExist as exc:
            raise NotFound("TikTok account not found.") from exc
        locked.status = AccountStatus.DISCONNECTED
        locked.status_reason = (
            "Disconnected by a workspace member."
            if revoked
            else "Disconnected here, but TikTok did not confirm the revocation."
        )
        locked.access_token_encrypted = b""
        locked.refresh_token_encrypted = b""
        locked.access_token_expires_at = None
        locked.refresh_token_expires_at = None
        locked.save()
        signals.account_disconnected.send(sender=TikTokAccount, account=locked)
    return revoked

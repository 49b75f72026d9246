"""Writes for TikTok account connections: tokens, refresh, health, connect and disconnect."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
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
from accounts.tiktok import (
    ACCESS_TOKEN_REFRESH_MARGIN,
    AccountNeedsReconnect,
    get_tiktok_client,
    reconnect_message,
)
from later.errors import AppError, ExternalServiceError, NotFound, RoleRequired, ValidationFailed
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokAuthError, TikTokError, TikTokOAuthError
from tiktok_client.pkce import pkce_pair
from tiktok_client.schemas import TokenSet, UserInfo

logger = logging.getLogger(__name__)

#: OAuth errors on refresh that mean "this grant is gone", not "try again later".
REFRESH_REFUSED_ERRORS = frozenset({"invalid_grant", "access_denied", "invalid_token"})

_TOKEN_FIELDS = (
    "status",
    "status_reason",
    "scopes",
    "access_token_encrypted",
    "refresh_token_encrypted",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "token_refreshed_at",
)


def _copy_token_state(*, target: TikTokAccount, source: TikTokAccount) -> None:
    for field in _TOKEN_FIELDS:
        setattr(target, field, getattr(source, field))


def _apply_token_set(*, account: TikTokAccount, tokens: TokenSet) -> None:
    """Store a token response on the row (not saved). A missing refresh token keeps the old one."""
    now = timezone.now()
    account.access_token_encrypted = encrypt_token(tokens.access_token)
    account.access_token_expires_at = now + timedelta(seconds=max(tokens.expires_in, 0))
    if tokens.refresh_token:
        account.refresh_token_encrypted = encrypt_token(tokens.refresh_token)
        # TikTok reports the refresh token's *remaining* lifetime, so this stays anchored.
        if tokens.refresh_expires_in > 0:
            account.refresh_token_expires_at = now + timedelta(seconds=tokens.refresh_expires_in)
    if tokens.scopes:
        account.scopes = sorted(set(tokens.scopes))
    account.token_refreshed_at = now


def _locked_account(account: TikTokAccount) -> TikTokAccount:
    try:
        return (
            TikTokAccount.objects.for_workspace(account.workspace_id)
            .select_for_update()
            .get(pk=account.pk)
        )
    except TikTokAccount.DoesNotExist as exc:
        raise AccountNeedsReconnect(reconnect_message(account)) from exc


def _fresh(account: TikTokAccount, min_validity: timedelta) -> bool:
    expires_at = account.access_token_expires_at
    return expires_at is not None and expires_at > timezone.now() + min_validity


def tiktok_account_refresh_token(
    *,
    account: TikTokAccount,
    rejected_access_token: str | None = None,
    min_validity: timedelta = ACCESS_TOKEN_REFRESH_MARGIN,
) -> str:
    """Refresh the account's tokens and return a valid access token.

    Exactly one worker reaches TikTok: the row lock serialises racers, and each re-checks the
    stored token after acquiring it. `rejected_access_token` is the token TikTok just refused;
    when another worker has already replaced it, that newer token is returned without a call.
    The rotated refresh token is saved in the same transaction as the new access token.
    """
    refused_reason = ""
    with transaction.atomic():
        locked = _locked_account(account)
        if locked.status != AccountStatus.CONNECTED:
            _copy_token_state(target=account, source=locked)
            raise AccountNeedsReconnect(reconnect_message(account))
        current = decrypt_token(locked.access_token_encrypted)
        if current and _fresh(locked, min_validity) and current != rejected_access_token:
            _copy_token_state(target=account, source=locked)
            return current
        refresh_token = decrypt_token(locked.refresh_token_encrypted)
        refresh_expires_at = locked.refresh_token_expires_at
        if not refresh_token:
            refused_reason = "No refresh token is stored for this account."
        elif refresh_expires_at is not None and refresh_expires_at <= timezone.now():
            refused_reason = "TikTok's authorization for this account has expired."
        else:
            try:
                tokens = get_tiktok_client().refresh_access_token(refresh_token=refresh_token)
            except TikTokOAuthError as exc:
                if exc.error not in REFRESH_REFUSED_ERRORS:
                    raise ExternalServiceError(exc.user_message) from exc
                logger.info(
                    "tiktok refresh refused for account %s: %s (log_id=%s)",
                    locked.pk,
                    exc.error,
                    exc.log_id,
                )
                refused_reason = (
                    "TikTok refused to renew the connection (the access was revoked or expired)."
                )
            else:
                _apply_token_set(account=locked, tokens=tokens)
                locked.save(
                    update_fields=[
                        "access_token_encrypted",
                        "refresh_token_encrypted",
                        "access_token_expires_at",
                        "refresh_token_expires_at",
                        "scopes",
                        "token_refreshed_at",
                        "updated_at",
                    ]
                )
                _copy_token_state(target=account, source=locked)
                return tokens.access_token
        _mark_needs_reconnect_locked(account=locked, reason=refused_reason)
        _copy_token_state(target=account, source=locked)
    raise AccountNeedsReconnect(reconnect_message(account))


def _mark_needs_reconnect_locked(*, account: TikTokAccount, reason: str) -> None:
    """Mark a row-locked connected account; tell members and flag its scheduled posts."""
    from accounts.services import notification_notify_members
    from calendar_app.models import Post

    if account.status != AccountStatus.CONNECTED:
        return
    account.status = AccountStatus.NEEDS_RECONNECT
    account.status_reason = reason[:500]
    account.save(update_fields=["status", "status_reason", "updated_at"])
    Post.objects.for_workspace(account.workspace_id).filter(
        account=account, status="scheduled"
    ).update(
        needs_attention=(
            f"The TikTok account {account} must be reconnected before this post can be published."
        ),
        updated_at=timezone.now(),
    )
    notification_notify_members(
        workspace=account.workspace,
        kind="account_needs_reconnect",
        title=f"Reconnect the TikTok account {account}",
        body=(
            f"{reason} Posts scheduled for {account} will not be published until an owner "
            "or admin reconnects it."
        ),
        url=reverse("accounts:tiktok_accounts", args=[account.workspace_id]),
        email=True,
    )


@transaction.atomic
def tiktok_account_mark_needs_reconnect(*, account: TikTokAccount, reason: str) -> None:
    """Idempotent: members are told once, when the account first moves to needs-reconnect."""
    locked = _locked_account(account)
    _mark_needs_reconnect_locked(account=locked, reason=reason)
    _copy_token_state(target=account, source=locked)


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
    workspace_id = record.workspace_id
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
    union_id: str
    username: str
    display_name: str
    avatar_url: str
    follower_count: int | None
    account_type: str
    is_private: bool


def _fetch_profile(*, client: TikTokClient, tokens: TokenSet) -> ConnectedProfile:
    """What TikTok tells us about the account, asking only for fields the granted scopes allow."""
    granted = set(tokens.scopes)
    access_token = tokens.access_token
    fields = [f for scope, fs in _USER_FIELDS_BY_SCOPE.items() if scope in granted for f in fs]
    info = client.get_user_info(access_token=access_token, fields=fields) if fields else UserInfo()

    username = info.username or ""
    avatar_url = info.avatar_url or ""
    display_name = info.display_name or ""
    is_private = False
    if "video.publish" in granted:
        try:
            creator = client.query_creator_info(access_token=access_token)
        except TikTokAuthError:
            raise
        except TikTokError:
            # A creator who cannot post right now still connects; posting re-checks this.
            creator = None
        if creator is not None:
            is_private = "FOLLOWER_OF_CREATOR" in creator.privacy_level_options
            username = username or creator.username
            avatar_url = avatar_url or creator.avatar_url
            display_name = display_name or creator.nickname

    account_type = AccountType.PERSONAL
    follower_count = info.follower_count
    if granted & BUSINESS_SCOPES:
        try:
            business = client.business_get_account(
                access_token=access_token,
                business_id=tokens.open_id,
                fields=["is_business_account", "username", "display_name", "profile_image"],
            )
        except TikTokError:
            business = None  # the Business API only answers for business accounts
        if business is not None and business.is_business_account:
            account_type = AccountType.BUSINESS
            username = username or business.username or ""
            display_name = display_name or business.display_name or ""
            avatar_url = avatar_url or business.profile_image or ""

    return ConnectedProfile(
        open_id=tokens.open_id,
        union_id=info.union_id or "",
        username=username,
        display_name=display_name or username,
        avatar_url=avatar_url,
        follower_count=follower_count,
        account_type=account_type,
        is_private=is_private,
    )


ACCOUNT_COLORS = ("#7c3aed", "#0ea5e9", "#f43f5e", "#10b981", "#f59e0b", "#6366f1", "#ec4899")


def _needs_attention_sentence(account: TikTokAccount) -> str:
    return f"The TikTok account {account} must be reconnected before this post can be published."


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
    old_label = str(account)
    # A reconnect granting fewer scopes must not blank what we already know.
    account.union_id = profile.union_id or account.union_id
    account.username = profile.username or account.username
    account.display_name = profile.display_name or account.display_name
    account.avatar_url = profile.avatar_url or account.avatar_url
    if profile.follower_count is not None:
        account.follower_count = profile.follower_count
    account.account_type = profile.account_type
    account.is_private = profile.is_private
    _apply_token_set(account=account, tokens=tokens)
    account.scopes = sorted(set(tokens.scopes))
    account.status = AccountStatus.CONNECTED
    account.status_reason = ""
    account.connected_by = user
    account.save()
    if not created:
        from calendar_app.models import Post

        flagged = {_needs_attention_sentence(account)}
        if old_label != str(account):
            flagged.add(
                f"The TikTok account {old_label} must be reconnected before this post can be "
                "published."
            )
        Post.objects.for_workspace(workspace).filter(
            account=account, status="scheduled", needs_attention__in=flagged
        ).update(needs_attention="", updated_at=timezone.now())
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
        locked = _locked_account(account)
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
        from calendar_app.models import Post

        Post.objects.for_workspace(workspace).filter(account=locked, status="scheduled").update(
            needs_attention=(
                f"The TikTok account {locked} was disconnected; reconnect it or choose "
                "another account."
            ),
            updated_at=timezone.now(),
        )
    return revoked

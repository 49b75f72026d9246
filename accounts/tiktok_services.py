"""Writes for TikTok account connections: tokens, refresh, health, connect and disconnect."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import AccountStatus, TikTokAccount
from accounts.tiktok import (
    ACCESS_TOKEN_REFRESH_MARGIN,
    AccountNeedsReconnect,
    get_tiktok_client,
    reconnect_message,
)
from later.errors import ExternalServiceError
from tiktok_client.errors import TikTokOAuthError
from tiktok_client.schemas import TokenSet

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


def _fresh(account: TikTokAccount) -> bool:
    expires_at = account.access_token_expires_at
    return expires_at is not None and expires_at > timezone.now() + ACCESS_TOKEN_REFRESH_MARGIN


def tiktok_account_refresh_token(
    *, account: TikTokAccount, rejected_access_token: str | None = None
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
        if current and _fresh(locked) and current != rejected_access_token:
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

"""TikTok access for every app: the configured client and always-fresh account tokens.

Apps call TikTok on behalf of an account only through `tiktok_account_call`, which hands
the call a valid access token, refreshes once on an auth error, and turns a refused
refresh into `AccountNeedsReconnect` (after the account has been marked and its members told).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import AccountStatus, TikTokAccount
from accounts.tiktok import signals
from later.errors import AppError, ExternalServiceError
from tiktok_client.client import TikTokClient
from tiktok_client.config import DEFAULT_SCOPES, TikTokConfig
from tiktok_client.errors import TikTokAuthError, TikTokOAuthError, TikTokScopeError
from tiktok_client.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from tiktok_client.schemas import TokenSet

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Refresh when the access token expires within this margin, so a call never races expiry.
ACCESS_TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
#: OAuth errors on refresh that mean "this grant is gone", not "try again later".
REFRESH_REFUSED_ERRORS = frozenset({"invalid_grant", "access_denied", "invalid_token"})
#: Advisory-lock namespace (first key) for token refreshes.
_REFRESH_LOCK_CLASS = 0x7417


class AccountNeedsReconnect(AppError):
    code = "account_needs_reconnect"
    status = 409


_clients: dict[tuple[TikTokConfig, str], TikTokClient] = {}
_clients_lock = threading.Lock()
_process_rate_limiter = InMemoryRateLimiter()


def tiktok_config() -> TikTokConfig:
    return TikTokConfig(
        client_key=settings.TIKTOK_CLIENT_KEY,
        client_secret=settings.TIKTOK_CLIENT_SECRET,
        redirect_uri=settings.TIKTOK_REDIRECT_URI,
        auth_base_url=settings.TIKTOK_AUTH_BASE_URL,
        open_api_base_url=settings.TIKTOK_OPEN_API_BASE_URL,
        business_api_base_url=settings.TIKTOK_BUSINESS_API_BASE_URL,
        timeout_seconds=settings.TIKTOK_TIMEOUT_SECONDS,
        scopes=tuple(getattr(settings, "TIKTOK_SCOPES", DEFAULT_SCOPES)),
    )


def get_tiktok_client() -> TikTokClient:
    """A shared client for the current settings (tests repoint the settings at the simulator)."""
    config = tiktok_config()
    redis_url = getattr(settings, "REDIS_URL", "") or ""
    key = (config, redis_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            limiter: RateLimiter = (
                RedisRateLimiter(redis_url) if redis_url else _process_rate_limiter
            )
            client = TikTokClient(config, rate_limiter=limiter)
            _clients[key] = client
        return client


def reconnect_message(account: TikTokAccount) -> str:
    return (
        f"The TikTok account {account} needs to be reconnected before it can be used. "
        "An owner or admin can reconnect it from the Accounts page."
    )


def _fresh(account: TikTokAccount, min_validity: timedelta) -> bool:
    expires_at = account.access_token_expires_at
    return expires_at is not None and expires_at > timezone.now() + min_validity


def tiktok_account_access_token(*, account: TikTokAccount) -> str:
    """The account's decrypted access token, refreshed first when it is about to expire.

    Raises AccountNeedsReconnect when the account is not usable (disconnected, refresh refused).
    """
    if account.status != AccountStatus.CONNECTED or not account.access_token_encrypted:
        raise AccountNeedsReconnect(reconnect_message(account))
    if _fresh(account, ACCESS_TOKEN_REFRESH_MARGIN):
        return decrypt_token(account.access_token_encrypted)
    return tiktok_account_refresh_token(account=account)


def tiktok_account_call(*, account: TikTokAccount, call: Callable[[str], T]) -> T:
    """Run `call(access_token)`; on an auth error refresh once and retry.

    Scope errors pass through unchanged: a new token carries the same scopes.
    """
    token = tiktok_account_access_token(account=account)
    try:
        return call(token)
    except TikTokScopeError:
        raise
    except TikTokAuthError:
        token = tiktok_account_refresh_token(account=account, rejected_access_token=token)
    try:
        return call(token)
    except TikTokScopeError:
        raise
    except TikTokAuthError as exc:
        tiktok_account_mark_needs_reconnect(
            account=account,
            reason="TikTok rejected the account's connection even after a token refresh.",
        )
        raise AccountNeedsReconnect(reconnect_message(account)) from exc


# --- Token state on the row -----------------------------------------------------------------

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


def apply_token_set(*, account: TikTokAccount, tokens: TokenSet) -> None:
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


def _reload(account: TikTokAccount, *, for_update: bool = False) -> TikTokAccount:
    rows = TikTokAccount.objects.for_workspace(account.workspace_id)
    if for_update:
        rows = rows.select_for_update()
    try:
        return rows.get(pk=account.pk)
    except TikTokAccount.DoesNotExist as exc:
        raise AccountNeedsReconnect(reconnect_message(account)) from exc


def _lock_key(account: TikTokAccount, slot: str) -> int:
    digest = hashlib.blake2b(f"{account.pk}:{slot}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _refresh_lock(account: TikTokAccount, *, slot: str, wait_seconds: float) -> Iterator[None]:
    """Session-level PostgreSQL advisory lock: no transaction stays open while it is held, and a
    worker that dies releases it with its connection."""
    key = _lock_key(account, slot)
    deadline = time.monotonic() + wait_seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_REFRESH_LOCK_CLASS, key])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise ExternalServiceError(
                    "TikTok is slow to renew this account's connection. Try again in a minute."
                )
            time.sleep(0.05)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_REFRESH_LOCK_CLASS, key])


def _refused_before_calling(account: TikTokAccount) -> str:
    if not account.refresh_token_encrypted:
        return "No refresh token is stored for this account."
    expires_at = account.refresh_token_expires_at
    if expires_at is not None and expires_at <= timezone.now():
        return "TikTok's authorization for this account has expired."
    return ""


def _call_refresh(account: TikTokAccount, refresh_token: str) -> TokenSet | None:
    """TikTok's answer, or None when TikTok refused the refresh token for good."""
    try:
        return get_tiktok_client().refresh_access_token(refresh_token=refresh_token)
    except TikTokOAuthError as exc:
        if exc.error not in REFRESH_REFUSED_ERRORS:
            raise ExternalServiceError(exc.user_message) from exc
        logger.info(
            "tiktok refresh refused for account %s: %s (log_id=%s)",
            account.pk,
            exc.error,
            exc.log_id,
        )
        return None


@transaction.atomic
def _store_refreshed(*, account: TikTokAccount, tokens: TokenSet) -> None:
    locked = _reload(account, for_update=True)
    apply_token_set(account=locked, tokens=tokens)
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


def tiktok_account_refresh_token(
    *,
    account: TikTokAccount,
    rejected_access_token: str | None = None,
    min_validity: timedelta = ACCESS_TOKEN_REFRESH_MARGIN,
) -> str:
    """Refresh the account's tokens and return a valid access token.

    Exactly one worker reaches TikTok; each racer re-reads the stored token once it holds the
    lock. `rejected_access_token` is the token TikTok just refused; when another worker has
    already replaced it, that newer token is returned without a call.
    """
    # The lock must cover TikTok's refresh call: rotation is strict, so a second caller holding
    # the same refresh token would be refused and strand the account. It is an advisory lock,
    # not a row lock in a transaction, and nothing else happens while it is held.
    wait = get_tiktok_client().config.timeout_seconds + 5
    with _refresh_lock(account, slot="login_kit", wait_seconds=wait):
        current = _reload(account)
        _copy_token_state(target=account, source=current)
        if current.status != AccountStatus.CONNECTED:
            raise AccountNeedsReconnect(reconnect_message(account))
        token = decrypt_token(current.access_token_encrypted)
        if token and _fresh(current, min_validity) and token != rejected_access_token:
            return token
        refused = _refused_before_calling(current)
        if not refused:
            tokens = _call_refresh(current, decrypt_token(current.refresh_token_encrypted))
            if tokens is not None:
                _store_refreshed(account=account, tokens=tokens)
                return tokens.access_token
            refused = "TikTok refused to renew the connection (the access was revoked or expired)."
    tiktok_account_mark_needs_reconnect(account=account, reason=refused)
    raise AccountNeedsReconnect(reconnect_message(account))


@transaction.atomic
def tiktok_account_mark_needs_reconnect(*, account: TikTokAccount, reason: str) -> None:
    """Idempotent: members are told once, when the account first moves to needs-reconnect."""
    from accounts.services import notification_notify_members

    locked = _reload(account, for_update=True)
    if locked.status == AccountStatus.CONNECTED:
        locked.status = AccountStatus.NEEDS_RECONNECT
        locked.status_reason = reason[:500]
        locked.save(update_fields=["status", "status_reason", "updated_at"])
        signals.account_needs_reconnect.send(sender=TikTokAccount, account=locked)
        notification_notify_members(
            workspace=locked.workspace,
            kind="account_needs_reconnect",
            title=f"Reconnect the TikTok account {locked}",
            body=(
                f"{reason} Posts scheduled for {locked} will not be published until an owner "
                "or admin reconnects it."
            ),
            url=reverse("accounts:tiktok_accounts", args=[locked.workspace_id]),
            email=True,
        )
    _copy_token_state(target=account, source=locked)

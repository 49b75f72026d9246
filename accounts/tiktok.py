"""TikTok access for every app: the configured client and always-fresh account tokens.

Apps call TikTok on behalf of an account only through `tiktok_account_call`, which hands
the call a valid access token, refreshes once on an auth error, and turns a refused
refresh into `AccountNeedsReconnect` (after the account has been marked and its members told).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.utils import timezone

from later.errors import AppError
from tiktok_client.client import TikTokClient
from tiktok_client.config import DEFAULT_SCOPES, TikTokConfig
from tiktok_client.errors import TikTokAuthError, TikTokScopeError
from tiktok_client.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter

if TYPE_CHECKING:
    from accounts.models import TikTokAccount

T = TypeVar("T")

#: Refresh when the access token expires within this margin, so a call never races expiry.
ACCESS_TOKEN_REFRESH_MARGIN = timedelta(minutes=5)


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


def _access_token_is_fresh(account: TikTokAccount) -> bool:
    expires_at = account.access_token_expires_at
    return expires_at is not None and expires_at > timezone.now() + ACCESS_TOKEN_REFRESH_MARGIN


def tiktok_account_access_token(*, account: TikTokAccount) -> str:
    """The account's decrypted access token, refreshed first when it is about to expire.

    Raises AccountNeedsReconnect when the account is not usable (disconnected, refresh refused).
    """
    from accounts.crypto import decrypt_token
    from accounts.models import AccountStatus
    from accounts.tiktok_services import tiktok_account_refresh_token

    if account.status != AccountStatus.CONNECTED or not account.access_token_encrypted:
        raise AccountNeedsReconnect(reconnect_message(account))
    if _access_token_is_fresh(account):
        return decrypt_token(account.access_token_encrypted)
    return tiktok_account_refresh_token(account=account)


def tiktok_account_call(*, account: TikTokAccount, call: Callable[[str], T]) -> T:
    """Run `call(access_token)`; on an auth error refresh once and retry.

    Scope errors pass through unchanged: a new token carries the same scopes.
    """
    from accounts.tiktok_services import (
        tiktok_account_mark_needs_reconnect,
        tiktok_account_refresh_token,
    )

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


def reconnect_message(account: TikTokAccount) -> str:
    return (
        f"The TikTok account {account} needs to be reconnected before it can be used. "
        "An owner or admin can reconnect it from the Accounts page."
    )

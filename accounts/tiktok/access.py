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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import AccountStatus, TikTokAccount
from accounts.tiktok import signals
from later.errors import AppError, ExternalServiceError
from tiktok_client.client import TikTokClient
from tiktok_client.config import BUSINESS_SCOPES, LOGIN_KIT_SCOPES, TikTokConfig
from tiktok_client.errors import (
    TikTokAuthError,
    TikTokError,
    TikTokOAuthError,
    TikTokScopeError,
)
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
        scopes=tuple(getattr(settings, "TIKTOK_SCOPES", LOGIN_KIT_SCOPES)),
        business_app_id=getattr(settings, "TIKTOK_BUSINESS_APP_ID", ""),
        business_app_secret=getattr(settings, "TIKTOK_BUSINESS_APP_SECRET", ""),
        business_redirect_uri=getattr(settings, "TIKTOK_BUSINESS_REDIRECT_URI", ""),
        business_scopes=tuple(getattr(settings, "TIKTOK_BUSINESS_SCOPES", BUSINESS_SCOPES)),
        business_app_rate_limit=settings.TIKTOK_BUSINESS_APP_RATE_LIMIT,
        business_background_share=settings.TIKTOK_BUSINESS_BACKGROUND_SHARE,
    )


def business_app_configured() -> bool:
    return tiktok_config().business_configured


def get_tiktok_client(*, background: bool = False) -> TikTokClient:
    """A shared client for the current settings (tests repoint the settings at the simulator).

    `background=True` for passes nobody waits for (comment sync, analytics): they get only
    part of the Business app's per-minute budget, so people's actions always find room."""
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
        return client.for_background() if background else client


def background_calls_per_minute() -> int:
    """The API for Business calls a minute that background passes may make (the app's budget
    times its background share): a fan-out that sends more runs than that could only see them
    deferred. The same ceiling the client enforces for background passes."""
    return tiktok_config().business_background_ceiling


def reconnect_message(account: TikTokAccount) -> str:
    return (
        f"The TikTok account {account} needs to be reconnected before it can be used. "
        "An owner or admin can reconnect it from the Accounts page."
    )


@dataclass(frozen=True)
class TokenSlot:
    """One app's token columns on `TikTokAccount` (Login Kit: no prefix; Business: `business_`)."""

    name: str
    prefix: str
    label: str

    def field(self, name: str) -> str:
        return self.prefix + name

    def get(self, account: TikTokAccount, name: str) -> Any:
        return getattr(account, self.prefix + name)

    def set(self, account: TikTokAccount, name: str, value: Any) -> None:
        setattr(account, self.prefix + name, value)

    @property
    def token_fields(self) -> list[str]:
        return [self.prefix + name for name in _TOKEN_COLUMNS]

    @property
    def state_fields(self) -> list[str]:
        return [self.prefix + name for name in ("status", "status_reason", *_TOKEN_COLUMNS)]


_TOKEN_COLUMNS = (
    "scopes",
    "access_token_encrypted",
    "refresh_token_encrypted",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "token_refreshed_at",
)
LOGIN_KIT = TokenSlot(name="login_kit", prefix="", label="Login Kit")
BUSINESS = TokenSlot(name="business", prefix="business_", label="Business")


class BusinessNeedsReconnect(AccountNeedsReconnect):
    code = "business_needs_reconnect"


def business_reconnect_message(account: TikTokAccount) -> str:
    return (
        f"The TikTok account {account} has no working TikTok API for Business connection, "
        "which comments and insights need. An owner or admin can reconnect it from the "
        "Accounts page."
    )


class LoginKitUnavailable(AccountNeedsReconnect):
    """The account was connected through the TikTok API for Business only: Content Posting
    uploads, inbox drafts, creator_info and the Display API need a Login Kit token."""

    code = "login_kit_not_connected"


def login_kit_unavailable_message(account: TikTokAccount) -> str:
    if not tiktok_config().login_kit_configured:
        return (
            f"{account} is connected through the TikTok API for Business only. This needs the "
            "TikTok Login Kit app, which this installation has not configured (see the README)."
        )
    return (
        f"{account} is connected through the TikTok API for Business only. This needs the "
        "Login Kit permissions: an owner or admin can add them with Reconnect on the Accounts "
        "page."
    )


def _unusable(account: TikTokAccount, slot: TokenSlot) -> AccountNeedsReconnect:
    if slot is LOGIN_KIT and not account.login_kit_linked and not account.needs_reconnect:
        return LoginKitUnavailable(login_kit_unavailable_message(account))
    if slot is BUSINESS:
        return BusinessNeedsReconnect(business_reconnect_message(account))
    return AccountNeedsReconnect(reconnect_message(account))


def _usable(account: TikTokAccount, slot: TokenSlot) -> bool:
    if account.status != AccountStatus.CONNECTED:
        return False
    if slot is BUSINESS and not account.business_connected:
        return False
    return bool(slot.get(account, "access_token_encrypted"))


def _fresh(account: TikTokAccount, slot: TokenSlot, min_validity: timedelta) -> bool:
    expires_at = slot.get(account, "access_token_expires_at")
    return expires_at is not None and expires_at > timezone.now() + min_validity


def _access_token(account: TikTokAccount, slot: TokenSlot) -> str:
    if not _usable(account, slot):
        raise _unusable(account, slot)
    if _fresh(account, slot, ACCESS_TOKEN_REFRESH_MARGIN):
        return decrypt_token(slot.get(account, "access_token_encrypted"))
    return _refresh(account=account, slot=slot)


def _call(account: TikTokAccount, slot: TokenSlot, call: Callable[[str], T]) -> T:
    token = _access_token(account, slot)
    try:
        return call(token)
    except TikTokScopeError:
        raise
    except TikTokAuthError:
        token = _refresh(account=account, slot=slot, rejected_access_token=token)
    try:
        return call(token)
    except TikTokScopeError:
        raise
    except TikTokAuthError as exc:
        _mark_needs_reconnect(
            account=account,
            slot=slot,
            reason="TikTok rejected the account's connection even after a token refresh.",
        )
        raise _unusable(account, slot) from exc


def tiktok_account_access_token(*, account: TikTokAccount) -> str:
    """The account's decrypted Login Kit access token, refreshed first when about to expire.

    Raises AccountNeedsReconnect when the account is not usable (disconnected, refresh refused).
    """
    return _access_token(account, LOGIN_KIT)


def tiktok_account_call(*, account: TikTokAccount, call: Callable[[str], T]) -> T:
    """Run `call(login_kit_access_token)`; on an auth error refresh once and retry.

    For posting, profile and the Display API. Scope errors pass through unchanged: a new token
    carries the same scopes.
    """
    return _call(account, LOGIN_KIT, call)


def tiktok_business_call(*, account: TikTokAccount, call: Callable[[str], T]) -> T:
    """Run `call(business_access_token)` for the TikTok API for Business (comments, insights).

    The call must use `account.business_id` as `business_id`. Raises BusinessNeedsReconnect
    when the account has no usable Business token.
    """
    return _call(account, BUSINESS, call)


# --- Token state on the row -----------------------------------------------------------------


def _copy_token_state(*, target: TikTokAccount, source: TikTokAccount, slot: TokenSlot) -> None:
    for field in ("status", *slot.state_fields):
        setattr(target, field, getattr(source, field))


def apply_token_set(
    *, account: TikTokAccount, tokens: TokenSet, slot: TokenSlot = LOGIN_KIT
) -> None:
    """Store a token response on the row (not saved). A missing refresh token keeps the old one."""
    now = timezone.now()
    slot.set(account, "access_token_encrypted", encrypt_token(tokens.access_token))
    slot.set(account, "access_token_expires_at", now + timedelta(seconds=max(tokens.expires_in, 0)))
    if tokens.refresh_token:
        slot.set(account, "refresh_token_encrypted", encrypt_token(tokens.refresh_token))
        # TikTok reports the refresh token's *remaining* lifetime, so this stays anchored.
        if tokens.refresh_expires_in > 0:
            slot.set(
                account,
                "refresh_token_expires_at",
                now + timedelta(seconds=tokens.refresh_expires_in),
            )
    if tokens.scopes:
        slot.set(account, "scopes", sorted(set(tokens.scopes)))
    slot.set(account, "token_refreshed_at", now)


def clear_tokens(*, account: TikTokAccount, slot: TokenSlot) -> None:
    """Forget one app's tokens on the row (not saved)."""
    slot.set(account, "access_token_encrypted", b"")
    slot.set(account, "refresh_token_encrypted", b"")
    slot.set(account, "access_token_expires_at", None)
    slot.set(account, "refresh_token_expires_at", None)


def _reload(account: TikTokAccount, *, for_update: bool = False) -> TikTokAccount:
    rows = TikTokAccount.objects.for_workspace(account.workspace_id)
    if for_update:
        rows = rows.select_for_update()
    try:
        return rows.get(pk=account.pk)
    except TikTokAccount.DoesNotExist as exc:
        raise AccountNeedsReconnect(reconnect_message(account)) from exc


def _lock_key(account: TikTokAccount, slot: TokenSlot) -> int:
    digest = hashlib.blake2b(f"{account.pk}:{slot.name}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _refresh_lock(
    account: TikTokAccount, *, slot: TokenSlot, wait_seconds: float
) -> Iterator[None]:
    """One refresher per account and app across processes, with no transaction open while held.
    A dead worker releases it: with its connection on PostgreSQL, with its file handle on the
    SQLite quick start (which runs on one machine, so an OS file lock is enough)."""
    key = _lock_key(account, slot)
    deadline = time.monotonic() + wait_seconds
    if connection.vendor == "postgresql":
        acquire, release = _advisory_lock(key), None
    else:
        acquire, release = _file_lock(key)
    while not acquire():
        if time.monotonic() >= deadline:
            if release is not None:
                release()
            raise ExternalServiceError(
                "TikTok is slow to renew this account's connection. Try again in a minute."
            )
        time.sleep(0.05)
    try:
        yield
    finally:
        if release is not None:
            release()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_REFRESH_LOCK_CLASS, key])


def _advisory_lock(key: int) -> Callable[[], bool]:
    def try_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_REFRESH_LOCK_CLASS, key])
            row = cursor.fetchone()
        return bool(row and row[0])

    return try_lock


def _file_lock(key: int) -> tuple[Callable[[], bool], Callable[[], None]]:
    import fcntl

    lock_dir = Path(settings.VAR_DIR) / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    handle = open(lock_dir / f"tiktok-refresh-{key}.lock", "a+")  # noqa: SIM115 (held across yield)

    def try_lock() -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release() -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    return try_lock, release


def _refused_before_calling(account: TikTokAccount, slot: TokenSlot) -> str:
    if not slot.get(account, "refresh_token_encrypted"):
        return "No refresh token is stored for this account."
    expires_at = slot.get(account, "refresh_token_expires_at")
    if expires_at is not None and expires_at <= timezone.now():
        return "TikTok's authorization for this account has expired."
    return ""


def _call_refresh(account: TikTokAccount, slot: TokenSlot, refresh_token: str) -> TokenSet | None:
    """TikTok's answer, or None when TikTok refused the refresh token for good."""
    client = get_tiktok_client()
    try:
        if slot is BUSINESS:
            return client.business_refresh_token(refresh_token=refresh_token)
        return client.refresh_access_token(refresh_token=refresh_token)
    except TikTokOAuthError as exc:
        if exc.error not in REFRESH_REFUSED_ERRORS:
            raise ExternalServiceError(exc.user_message) from exc
        refused: TikTokError = exc
    except TikTokAuthError as exc:  # Business: 40103/40107 refresh token expired or invalid
        refused = exc
    except TikTokError as exc:
        raise ExternalServiceError(exc.user_message) from exc
    logger.info(
        "tiktok %s refresh refused for account %s: %s (log_id=%s)",
        slot.name,
        account.pk,
        refused.code,
        refused.log_id,
    )
    return None


@transaction.atomic
def _store_refreshed(*, account: TikTokAccount, slot: TokenSlot, tokens: TokenSet) -> None:
    locked = _reload(account, for_update=True)
    apply_token_set(account=locked, tokens=tokens, slot=slot)
    locked.save(update_fields=[*slot.token_fields, "updated_at"])
    _copy_token_state(target=account, source=locked, slot=slot)


def _refresh(
    *,
    account: TikTokAccount,
    slot: TokenSlot,
    rejected_access_token: str | None = None,
    min_validity: timedelta = ACCESS_TOKEN_REFRESH_MARGIN,
) -> str:
    # The lock must cover TikTok's refresh call: rotation is strict, so a second caller holding
    # the same refresh token would be refused and strand the account. It is an advisory lock,
    # not a row lock in a transaction, and nothing else happens while it is held.
    wait = get_tiktok_client().config.timeout_seconds + 5
    with _refresh_lock(account, slot=slot, wait_seconds=wait):
        current = _reload(account)
        _copy_token_state(target=account, source=current, slot=slot)
        if not _usable(current, slot):
            raise _unusable(account, slot)
        token = decrypt_token(slot.get(current, "access_token_encrypted"))
        if token and _fresh(current, slot, min_validity) and token != rejected_access_token:
            return token
        refused = _refused_before_calling(current, slot)
        if not refused:
            refresh_token = decrypt_token(slot.get(current, "refresh_token_encrypted"))
            tokens = _call_refresh(current, slot, refresh_token)
            if tokens is not None:
                _store_refreshed(account=account, slot=slot, tokens=tokens)
                return tokens.access_token
            refused = "TikTok refused to renew the connection (the access was revoked or expired)."
    _mark_needs_reconnect(account=account, slot=slot, reason=refused)
    raise _unusable(account, slot)


def tiktok_account_refresh_token(
    *,
    account: TikTokAccount,
    rejected_access_token: str | None = None,
    min_validity: timedelta = ACCESS_TOKEN_REFRESH_MARGIN,
) -> str:
    """Refresh the account's Login Kit tokens and return a valid access token.

    Exactly one worker reaches TikTok; each racer re-reads the stored token once it holds the
    lock. `rejected_access_token` is the token TikTok just refused; when another worker has
    already replaced it, that newer token is returned without a call.
    """
    return _refresh(
        account=account,
        slot=LOGIN_KIT,
        rejected_access_token=rejected_access_token,
        min_validity=min_validity,
    )


def tiktok_business_refresh_token(
    *,
    account: TikTokAccount,
    rejected_access_token: str | None = None,
    min_validity: timedelta = ACCESS_TOKEN_REFRESH_MARGIN,
) -> str:
    """The same for the Business token (`/tt_user/oauth2/refresh_token/`)."""
    return _refresh(
        account=account,
        slot=BUSINESS,
        rejected_access_token=rejected_access_token,
        min_validity=min_validity,
    )


def _notify_needs_reconnect(*, account: TikTokAccount, slot: TokenSlot, reason: str) -> None:
    from accounts.services import notification_notify_members

    if slot is BUSINESS:
        title = f"Reconnect the TikTok account {account} for comments and insights"
        body = (
            f"{reason} Comments and insights for {account} stop until an owner or admin "
            "reconnects it; posting is not affected."
        )
    else:
        title = f"Reconnect the TikTok account {account}"
        body = (
            f"{reason} Posts scheduled for {account} will not be published until an owner "
            "or admin reconnects it."
        )
    notification_notify_members(
        workspace=account.workspace,
        kind="account_needs_reconnect",
        title=title,
        body=body,
        url=reverse("accounts:tiktok_accounts", args=[account.workspace_id]),
        email=True,
    )


@transaction.atomic
def _mark_needs_reconnect(*, account: TikTokAccount, slot: TokenSlot, reason: str) -> None:
    """Idempotent: members are told once, when the app's link first moves to needs-reconnect."""
    locked = _reload(account, for_update=True)
    if slot.get(locked, "status") == AccountStatus.CONNECTED:
        slot.set(locked, "status", AccountStatus.NEEDS_RECONNECT)
        slot.set(locked, "status_reason", reason[:500])
        fields = [slot.field("status"), slot.field("status_reason")]
        if slot is BUSINESS and not locked.open_id and locked.status == AccountStatus.CONNECTED:
            # A Business-only account has nothing else to post with: the account needs it too.
            locked.status = AccountStatus.NEEDS_RECONNECT
            locked.status_reason = reason[:500]
            fields += ["status", "status_reason"]
        locked.save(update_fields=[*fields, "updated_at"])
        if locked.status == AccountStatus.NEEDS_RECONNECT and "status" in fields:
            signals.account_needs_reconnect.send(sender=TikTokAccount, account=locked)
        _notify_needs_reconnect(account=locked, slot=slot, reason=reason)
    _copy_token_state(target=account, source=locked, slot=slot)


def tiktok_account_mark_needs_reconnect(
    *, account: TikTokAccount, reason: str, business: bool = False
) -> None:
    """Mark one app's link as needing reconnect; members are told once."""
    _mark_needs_reconnect(account=account, slot=BUSINESS if business else LOGIN_KIT, reason=reason)

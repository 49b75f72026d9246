"""Reads for connected TikTok accounts: lists, what each account can do, and its health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AccountStatus, BusinessStatus, TikTokAccount, Workspace
from accounts.tiktok.access import business_app_configured, tiktok_config
from later.retries import retries_for

#: The refresh token cannot be renewed without the user, so warn this long before it runs out.
EXPIRING_SOON = timedelta(days=14)


@dataclass(frozen=True)
class Capability:
    key: str
    label: str
    available: bool
    reason: str


@dataclass(frozen=True)
class Health:
    key: str  # connected | limited | expiring | needs_reconnect | disconnected
    label: str
    detail: str


def tiktok_accounts_for_workspace(*, workspace: Workspace) -> QuerySet[TikTokAccount]:
    return (
        TikTokAccount.objects.for_workspace(workspace)
        .select_related("connected_by")
        .order_by("display_name", "username")
    )


def _business_unavailable(account: TikTokAccount, *, business_app: bool) -> str:
    """Why the account has no Business features, in one plain sentence ("" when it has them)."""
    if not business_app:
        return (
            "Needs the TikTok API for Business app, which this installation has not configured "
            "(see the README)."
        )
    if account.business_status == BusinessStatus.NEEDS_RECONNECT:
        return "The Business connection needs reconnecting."
    if account.business_status == BusinessStatus.DECLINED:
        return account.business_status_reason or "The Business permissions were not granted."
    if not account.business_connected:
        return "Reconnect the account to grant the Business permissions."
    if not account.account_type_reported:
        return (
            "TikTok did not say whether this is a Business account (the account type permission "
            "was not granted): reconnect and keep it ticked."
        )
    if not account.is_business:
        return (
            "Needs a TikTok Business account: switch it in the TikTok app (Settings → Account → "
            "Switch to Business account), then reconnect."
        )
    return ""


def tiktok_account_type_label(*, account: TikTokAccount) -> str:
    """The account type as TikTok reported it; Login Kit alone cannot tell (fact sheet)."""
    if not account.account_type_reported:
        return "Account type unknown"
    return f"{account.get_account_type_display()} account"


def _login_kit_unavailable(account: TikTokAccount, *, login_kit_app: bool) -> str:
    """Why an account connected through the Business app only cannot use Login Kit features."""
    if account.login_kit_linked or account.status == AccountStatus.DISCONNECTED:
        return ""
    if not login_kit_app:
        return (
            "Needs the TikTok Login Kit app, which this installation has not configured "
            "(see the README)."
        )
    return "Connected through the TikTok API for Business only: Reconnect to add Login Kit."


def tiktok_account_capabilities(
    *,
    account: TikTokAccount,
    business_app: bool | None = None,
    login_kit_app: bool | None = None,
) -> list[Capability]:
    """What the account can do, each with the reason when it cannot (Login Kit vs Business)."""
    if business_app is None:
        business_app = business_app_configured()
    if login_kit_app is None:
        login_kit_app = tiktok_config().login_kit_configured
    login_kit_scopes = set(account.scopes or [])
    business_scopes = set(account.business_scopes or [])
    business_reason = _business_unavailable(account, business_app=business_app)
    login_kit_reason = _login_kit_unavailable(account, login_kit_app=login_kit_app)

    def missing(scope: str) -> str:
        return f"Permission “{scope}” not granted on TikTok; reconnect and keep it ticked."

    def login_kit(key: str, label: str, scope: str) -> Capability:
        if login_kit_reason:
            return Capability(key, label, False, login_kit_reason)
        if scope not in login_kit_scopes:
            return Capability(key, label, False, missing(scope))
        return Capability(key, label, True, "")

    def business(key: str, label: str, scope: str) -> Capability:
        if business_reason:
            return Capability(key, label, False, business_reason)
        if scope not in business_scopes:
            return Capability(key, label, False, missing(scope))
        return Capability(key, label, True, "")

    return [
        login_kit("publish", "Can publish", "video.publish"),
        login_kit("drafts", "Can send drafts", "video.upload"),
        business("videos", "Can read videos", "video.list")
        if login_kit_reason and account.is_business
        else login_kit("videos", "Can read videos", "video.list"),
        business("comments", "Can read comments", "comment.list"),
        business("moderation", "Can reply to and hide comments", "comment.list.manage"),
        business("insights", "Can read account insights", "user.insights"),
        business("video_insights", "Can read video insights", "video.insights"),
        business("business_publish", "Can publish through the API for Business", "video.publish"),
    ]


def tiktok_account_health(*, account: TikTokAccount) -> Health:
    """The Login Kit connection's health (posting depends on it)."""
    if account.status == AccountStatus.DISCONNECTED:
        return Health("disconnected", "Disconnected", account.status_reason)
    if account.status == AccountStatus.NEEDS_RECONNECT:
        return Health(
            "needs_reconnect",
            "Needs reconnect",
            account.status_reason or "TikTok no longer accepts this connection.",
        )
    return _expiry_health(account.refresh_token_expires_at, "Connected")


def tiktok_account_business_health(*, account: TikTokAccount) -> Health | None:
    """The Business connection's health, or None when there is no Business link to show."""
    if account.status == AccountStatus.DISCONNECTED:
        return None
    if account.business_status == BusinessStatus.NEEDS_RECONNECT:
        return Health(
            "needs_reconnect",
            "Business: needs reconnect",
            account.business_status_reason or "TikTok no longer accepts the Business connection.",
        )
    if not account.business_connected:
        return None
    health = _expiry_health(
        account.business_refresh_token_expires_at, "Business account: comments and insights"
    )
    if health.key != "connected" or account.is_business:
        return health
    # Linked through the API for Business, but TikTok keeps comments and insights for Business
    # accounts (`is_business_account` false, or not shared): say what the account can do.
    if account.account_type_reported:
        return Health("limited", "Personal account: comments and insights need Business", "")
    return Health("limited", "Account type unknown: comments and insights may not work", "")


def _expiry_health(refresh_expires_at: datetime | None, connected_label: str) -> Health:
    if refresh_expires_at is not None and refresh_expires_at <= timezone.now() + EXPIRING_SOON:
        return Health(
            "expiring",
            "Expiring soon" if connected_label == "Connected" else "Business: expiring soon",
            f"TikTok's authorization ends on {refresh_expires_at:%d %b %Y}; reconnect before then.",
        )
    return Health("connected", connected_label, "")


@dataclass(frozen=True)
class RetryNote:
    """A background task of the account that failed and waits for its next try (or gave up)."""

    label: str  # "Token refresh", "Comment sync", ...
    error: str
    next_attempt_at: datetime | None
    gave_up_at: datetime | None
    retry: int  # the next retry's number
    max_retries: int

    @property
    def retrying(self) -> bool:
        return self.gave_up_at is None

    @property
    def text(self) -> str:
        if self.gave_up_at is not None:
            return (
                f"{self.label} failed ({self.error}); gave up after {self.max_retries} retries "
                f"at {timezone.localtime(self.gave_up_at):%H:%M %Z}. It runs again on its usual "
                "schedule."
            )
        at = timezone.localtime(self.next_attempt_at) if self.next_attempt_at else None
        when = f"at {at:%H:%M %Z}" if at else "soon"
        return (
            f"{self.label} failed ({self.error}); retrying {when} "
            f"(retry {self.retry} of {self.max_retries})."
        )


def tiktok_account_retries(
    *, workspace: Workspace, accounts: list[TikTokAccount]
) -> dict[str, list[RetryNote]]:
    """Each account's background tasks waiting for a retry (later.retries), by account id; one
    query for the page. Subjects are the account id, or "<id>:business" for the Business app."""
    subjects = [s for a in accounts for s in (str(a.pk), f"{a.pk}:business")]
    notes: dict[str, list[RetryNote]] = {}
    for row in retries_for(workspace_id=workspace.pk, subjects=subjects):
        notes.setdefault(row.subject.split(":")[0], []).append(
            RetryNote(
                label=row.label,
                error=row.last_error,
                next_attempt_at=row.next_attempt_at,
                gave_up_at=row.gave_up_at,
                retry=min(row.attempts + 1, row.max_attempts),
                max_retries=row.max_attempts,
            )
        )
    return notes

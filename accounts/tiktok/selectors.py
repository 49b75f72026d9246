"""Reads for connected TikTok accounts: lists, what each account can do, and its health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AccountStatus, TikTokAccount, Workspace

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
    key: str  # connected | expiring | needs_reconnect | disconnected
    label: str
    detail: str


def tiktok_accounts_for_workspace(*, workspace: Workspace) -> QuerySet[TikTokAccount]:
    return (
        TikTokAccount.objects.for_workspace(workspace)
        .select_related("connected_by")
        .order_by("display_name", "username")
    )


def tiktok_account_capabilities(*, account: TikTokAccount) -> list[Capability]:
    scopes = set(account.scopes or [])
    missing_scope = "Permission not granted on TikTok; reconnect and keep it ticked."
    business_only = "Needs a TikTok Business account."

    def scoped(key: str, label: str, needed: str, *, business: bool = False) -> Capability:
        if business and not account.is_business:
            return Capability(key, label, False, business_only)
        if needed not in scopes:
            return Capability(key, label, False, missing_scope)
        return Capability(key, label, True, "")

    insights_scope = "user.insights" if "user.insights" in scopes else "video.insights"
    return [
        scoped("publish", "Can publish", "video.publish"),
        scoped("drafts", "Can send drafts", "video.upload"),
        scoped("comments", "Can read comments", "comment.list", business=True),
        scoped("insights", "Can read insights", insights_scope, business=True),
        scoped("videos", "Can read videos", "video.list"),
    ]


def tiktok_account_health(*, account: TikTokAccount) -> Health:
    if account.status == AccountStatus.DISCONNECTED:
        return Health("disconnected", "Disconnected", account.status_reason)
    if account.status == AccountStatus.NEEDS_RECONNECT:
        return Health(
            "needs_reconnect",
            "Needs reconnect",
            account.status_reason or "TikTok no longer accepts this connection.",
        )
    refresh_expires_at = account.refresh_token_expires_at
    if refresh_expires_at is not None and refresh_expires_at <= timezone.now() + EXPIRING_SOON:
        return Health(
            "expiring",
            "Expiring soon",
            f"TikTok's authorization ends on {refresh_expires_at:%d %b %Y}; reconnect before then.",
        )
    return Health("connected", "Connected", "")

"""Foreign-object factories for the tenant isolation sweep (routes with `account_id`)."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import TikTokAccount, Workspace


def _foreign_tiktok_account(workspace: Workspace) -> str:
    account = TikTokAccount.objects.create(
        workspace=workspace, open_id=f"foreign-{workspace.pk}", username="foreign.account"
    )
    return str(account.pk)


FOREIGN_OBJECTS: dict[str, Callable[[Workspace], str]] = {"account_id": _foreign_tiktok_account}

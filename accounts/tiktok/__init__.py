"""TikTok connections: the package other apps import from.

- `access`: the configured client, always-fresh tokens, refresh and reconnect marking.
- `connection`: the Connect button's OAuth flow, the account profile, disconnect.
- `selectors`, `views`, `api`: reads, HTML pages and REST endpoints for connected accounts.
- `signals`: what other apps can react to (needs reconnect, reconnected, disconnected).

Other apps use the access API re-exported here.
"""

from accounts.tiktok.access import (
    AccountNeedsReconnect,
    LoginKitUnavailable,
    background_calls_per_minute,
    get_tiktok_client,
    tiktok_account_access_token,
    tiktok_account_call,
)

__all__ = [
    "AccountNeedsReconnect",
    "LoginKitUnavailable",
    "background_calls_per_minute",
    "get_tiktok_client",
    "tiktok_account_access_token",
    "tiktok_account_call",
]

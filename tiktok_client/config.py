"""Connection settings for TikTok's hosts and the two developer apps; point them at the
simulator to run offline.

TikTok has two token systems (fact sheet, Corrections "Two apps"): the Login Kit app
(developers portal: posting, profile, video list) and the TikTok API for Business app (Business
portal: comments, insights, account type). Each app may only ask for scopes it is approved for,
or TikTok refuses the whole authorize request with `invalid_scope`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Consumer scopes: everything a Login Kit app can be granted.
LOGIN_KIT_SCOPES: tuple[str, ...] = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
)
#: What the product's Business calls need, one scope per field family (Corrections);
#: `video.publish` is Business publishing (§4.4).
BUSINESS_SCOPES: tuple[str, ...] = (
    "user.account.type",
    "user.info.username",
    "user.info.profile",
    "user.info.stats",
    "user.insights",
    "video.list",
    "video.insights",
    "comment.list",
    "comment.list.manage",
    "video.publish",
)
DEFAULT_SCOPES = LOGIN_KIT_SCOPES
#: The API for Business app's calls a minute across all its accounts and endpoints at TikTok's
#: default level (Corrections, "Business limits"); TikTok answers 40100 beyond it.
BUSINESS_APP_RATE_LIMIT = 600
#: The share of that budget background passes (comment sync, analytics) may fill; the rest is
#: kept for what people do (reply, hide, publish, its status polls).
BUSINESS_BACKGROUND_SHARE = 0.8
SIMULATOR_CLIENT_KEY = "sim-client-key"
SIMULATOR_BUSINESS_APP_ID = "sim-business-app-id"


@dataclass(frozen=True)
class TikTokConfig:
    client_key: str
    client_secret: str
    redirect_uri: str
    auth_base_url: str = "https://www.tiktok.com"
    open_api_base_url: str = "https://open.tiktokapis.com"
    business_api_base_url: str = "https://business-api.tiktok.com/open_api/v1.3"
    timeout_seconds: float = 10.0
    scopes: tuple[str, ...] = LOGIN_KIT_SCOPES
    business_app_id: str = ""
    business_app_secret: str = ""
    business_redirect_uri: str = ""
    business_scopes: tuple[str, ...] = BUSINESS_SCOPES
    business_app_rate_limit: int = BUSINESS_APP_RATE_LIMIT
    business_background_share: float = BUSINESS_BACKGROUND_SHARE

    def __post_init__(self) -> None:
        if self.business_app_rate_limit < 1:
            raise ValueError("business_app_rate_limit must be at least 1 call a minute")
        if not 0 < self.business_background_share <= 1:
            raise ValueError("business_background_share must be above 0 and at most 1")

    @property
    def business_background_ceiling(self) -> int:
        """How many calls a minute background passes may make with the Business app."""
        return max(1, math.floor(self.business_app_rate_limit * self.business_background_share))

    @property
    def login_kit_configured(self) -> bool:
        return bool(self.client_key and self.client_secret)

    @property
    def business_configured(self) -> bool:
        return bool(
            self.business_app_id and self.business_app_secret and self.business_redirect_uri
        )

    @classmethod
    def for_simulator(
        cls,
        base_url: str,
        *,
        client_key: str = SIMULATOR_CLIENT_KEY,
        client_secret: str = "sim-client-secret",  # noqa: S107 - simulator fixture
        redirect_uri: str = "http://localhost:8000/connect/tiktok/callback/",
        timeout_seconds: float = 10.0,
        scopes: tuple[str, ...] = LOGIN_KIT_SCOPES,
        business_app_id: str = SIMULATOR_BUSINESS_APP_ID,
        business_app_secret: str = "sim-business-app-secret",  # noqa: S107 - simulator fixture
        business_redirect_uri: str = "http://localhost:8000/connect/tiktok/business/callback/",
        business_scopes: tuple[str, ...] = BUSINESS_SCOPES,
        business_app_rate_limit: int = BUSINESS_APP_RATE_LIMIT,
        business_background_share: float = BUSINESS_BACKGROUND_SHARE,
    ) -> TikTokConfig:
        """All three hosts on one simulator base URL (e.g. ``http://127.0.0.1:8765``)."""
        base = base_url.rstrip("/")
        return cls(
            client_key=client_key,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            auth_base_url=base,
            open_api_base_url=base,
            business_api_base_url=f"{base}/open_api/v1.3",
            timeout_seconds=timeout_seconds,
            scopes=scopes,
            business_app_id=business_app_id,
            business_app_secret=business_app_secret,
            business_redirect_uri=business_redirect_uri,
            business_scopes=business_scopes,
            business_app_rate_limit=business_app_rate_limit,
            business_background_share=business_background_share,
        )

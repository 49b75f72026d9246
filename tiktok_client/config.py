"""Connection settings for TikTok's hosts; point them at the simulator to run offline."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SCOPES: tuple[str, ...] = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
    "user.insights",
    "video.insights",
    "comment.list",
    "comment.list.manage",
)


@dataclass(frozen=True)
class TikTokConfig:
    client_key: str
    client_secret: str
    redirect_uri: str
    auth_base_url: str = "https://www.tiktok.com"
    open_api_base_url: str = "https://open.tiktokapis.com"
    business_api_base_url: str = "https://business-api.tiktok.com/open_api/v1.3"
    timeout_seconds: float = 10.0
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @classmethod
    def for_simulator(
        cls,
        base_url: str,
        *,
        client_key: str = "sim-client-key",
        client_secret: str = "sim-client-secret",  # noqa: S107 - simulator fixture
        redirect_uri: str = "http://localhost:8000/connect/tiktok/callback/",
        timeout_seconds: float = 10.0,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
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
        )

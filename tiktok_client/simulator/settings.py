"""The simulator's knobs: constructor keywords of ``create_app`` and ``POST /_sim/config``."""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields
from typing import Any, Literal

MB = 1024 * 1024


@dataclass
class SimSettings:
    # Login Kit token lifetimes: "B" = 2 h / 180 d (current docs, Corrections), "A" = 24 h /
    # 365 d (older docs).
    token_profile: Literal["A", "B"] = "B"
    # Corrections: strict rotation, the old refresh token stops working after a refresh.
    strict_rotation: bool = True
    moderation_delay: float = 10.0
    auth_code_ttl: float = 600.0
    upload_url_ttl: float = 3600.0
    min_processing_seconds: float = 2.0
    # PULL_FROM_URL: the download phase lasts at least this long (the real fetch may be longer).
    download_seconds: float = 3.0
    # Where verified https prefixes are fetched from, "prefix=target,..." (puller.py), like a
    # TLS-terminating proxy in front of the product; unmatched URLs are fetched as they are.
    pull_resolve: str | None = None
    daily_post_cap: int = 15
    pending_share_cap: int = 5
    unaudited_user_cap: int = 5
    timeout_stall_seconds: float = 15.0
    public_base_url: str | None = None
    # §1.1: a web app's redirect_uri must equal a registered one, port included (S-D6); only
    # desktop Login Kit apps may vary a loopback port (S-D7). Both apps here are web apps.
    loopback_redirect_any_port: bool = False
    # Corrections [C1, single report]: TikTok refused multi-chunk FILE_UPLOAD plans from about
    # 2026-08 with 400 invalid_param "The chunk size is invalid". Off by default: the documented
    # rules (§2.6, [C2]) allow them, and files over 64 MB have no other way up.
    refuse_multi_chunk: bool = False
    # Corrections, "Business limits": ~40 requests/min per account and endpoint -> 40100.
    business_rate_limit: int = 40
    # ... and ~600 requests/min per app across its accounts and endpoints -> 40100.
    business_app_rate_limit: int = 600
    # Corrections: Business data lags 24-48 h. None = a deterministic lag per day within that
    # range; a number fixes the lag (hours after the day began).
    business_data_lag_hours: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        return typing.get_type_hints(cls)

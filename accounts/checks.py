"""`manage.py check --deploy`: settings TikTok would refuse, found before users meet them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from tiktok_client.config import SIMULATOR_BUSINESS_APP_ID


def business_redirect_uri_problems(uri: str) -> list[str]:
    """Why TikTok would refuse `uri` as an API for Business app's redirect URL (fact sheet,
    Corrections: HTTPS, ending with "/", no port, no query string)."""
    parts = urlsplit(uri)
    problems = []
    if parts.scheme != "https":
        problems.append("it is not HTTPS")
    try:
        has_port = parts.port is not None
    except ValueError:
        has_port = True
    if has_port:
        problems.append("it has a port")
    if parts.query:
        problems.append("it has a query string")
    if not parts.path.endswith("/"):
        problems.append('it does not end with "/"')
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_business_redirect_uri(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    app_id = getattr(settings, "TIKTOK_BUSINESS_APP_ID", "")
    # No Business app, or the simulator's (the quick start's): TikTok never sees the URL.
    if not app_id or app_id == SIMULATOR_BUSINESS_APP_ID:
        return []
    uri = getattr(settings, "TIKTOK_BUSINESS_REDIRECT_URI", "")
    problems = business_redirect_uri_problems(uri)
    if not problems:
        return []
    return [
        checks.Warning(
            f"TIKTOK_BUSINESS_REDIRECT_URI {uri!r} is not a redirect URL TikTok accepts for an "
            f"API for Business app: {'; '.join(problems)}. Connecting Business accounts will "
            "fail.",
            hint=(
                "Register and set an https URL without port or query string that ends with "
                '"/", e.g. https://later.example.com/connect/tiktok/business/callback/.'
            ),
            id="accounts.W001",
        )
    ]

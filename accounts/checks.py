"""`manage.py check --deploy`: settings TikTok would refuse, found before users meet them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from tiktok_client.config import SIMULATOR_BUSINESS_APP_ID, SIMULATOR_CLIENT_KEY

#: §1.1 "Redirect-URI rules for web": each registered URI is shorter than 512 characters.
MAX_REDIRECT_URI_CHARS = 511


def redirect_uri_problems(uri: str, *, business: bool) -> list[str]:
    """Why TikTok's developer portal would refuse `uri` as a web app's redirect URI (fact sheet
    §1.1: absolute HTTPS, no query string, no fragment, under 512 characters) and, for an API for
    Business app, also (Corrections, "One button for both apps"): no port, ending with "/"."""
    parts = urlsplit(uri)
    problems = []
    if parts.scheme != "https":
        problems.append("it is not HTTPS")
    if not parts.hostname:
        problems.append("it is not an absolute URL")
    if business:
        try:
            has_port = parts.port is not None
        except ValueError:
            has_port = True
        if has_port:
            problems.append("it has a port")
    if parts.query:
        problems.append("it has a query string")
    if parts.fragment:
        problems.append("it has a fragment")
    if business and not parts.path.endswith("/"):
        problems.append('it does not end with "/"')
    if len(uri) > MAX_REDIRECT_URI_CHARS:
        problems.append(f"it is longer than {MAX_REDIRECT_URI_CHARS} characters")
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
    problems = redirect_uri_problems(uri, business=True)
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


@checks.register(checks.Tags.security, deploy=True)
def check_login_kit_redirect_uri(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    client_key = getattr(settings, "TIKTOK_CLIENT_KEY", "")
    # No Login Kit app, or the simulator's (the quick start's): TikTok never sees the URL.
    if not client_key or client_key == SIMULATOR_CLIENT_KEY:
        return []
    uri = getattr(settings, "TIKTOK_REDIRECT_URI", "")
    problems = redirect_uri_problems(uri, business=False)
    if not problems:
        return []
    return [
        checks.Warning(
            f"TIKTOK_REDIRECT_URI {uri!r} is not a redirect URI TikTok's developer portal "
            f"accepts for a Login Kit web app: {'; '.join(problems)}. Connecting TikTok "
            "accounts will fail.",
            hint=(
                "Register and set an absolute https URL without query string or fragment, "
                "e.g. https://later.example.com/connect/tiktok/callback/."
            ),
            id="accounts.W002",
        )
    ]

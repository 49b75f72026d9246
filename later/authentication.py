"""DRF authentication classes (a module of its own: DRF imports these while it loads)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions


class RateLimitedBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic under the sign-in form's failed-login limit (allauth's `login_failed`, same
    bucket), so the API is no side door for password guessing, whatever the HTTP method."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[Any, None]:
        from allauth.account.adapter import get_adapter
        from allauth.core.internal import ratelimit

        http_request = getattr(request, "_request", request)
        key = get_adapter(http_request)._get_login_attempts_cache_key(http_request, email=userid)
        usage = ratelimit.consume(
            http_request, app="allauth.account", action="login_failed", key=key, limit_get=True
        )
        if not usage:
            raise exceptions.AuthenticationFailed(
                "Too many failed login attempts. Try again later."
            )
        user = authenticate(http_request, email=userid, password=password)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid e-mail or password.")
        usage.rollback()  # a success does not count as a failure, nor wipe earlier ones
        return (user, None)


class RateLimitedBasicScheme(OpenApiAuthenticationExtension):
    target_class = RateLimitedBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "basic"}

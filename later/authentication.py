"""DRF authentication (a module of its own: DRF imports it while it loads).

The API takes a personal API token (`Authorization: Bearer lft_...`) or the browser session
(with CSRF). Passwords are never accepted by the API: a password alone would skip the second
factor that signing in asks for.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request


class ApiTokenScope(Protocol):
    """What `later/` needs of a token (the model lives in accounts; `later/` imports no app)."""

    is_api_token: bool
    can_write: bool
    user: Any

    def reaches(self, workspace_id: Any) -> bool: ...


def _token_for(secret: str) -> ApiTokenScope | None:
    authenticate: Any = import_string(settings.API_TOKEN_AUTHENTICATOR)
    token: ApiTokenScope | None = authenticate(secret=secret)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the header as “Bearer <token>”.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("This API token is not valid.") from exc
        token = _token_for(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "This API token is not valid, has expired or was revoked."
            )
        return (token.user, token)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def request_token(request: Any) -> ApiTokenScope | None:
    """The API token a request was authenticated with, or None for the browser session."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_api_token", False) else None


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`lft_...`), created under Account → API "
            "tokens and shown once. It is limited to the workspaces chosen for it, to read "
            "or read-and-write, and expires; the user's role in each workspace still applies.",
        }

"""TikTok API for Business tokens: ``/open_api/v1.3/tt_user/oauth2/token|refresh_token|revoke/``
and ``/tt_user/token_info/get/`` (Corrections "Two apps", §4.1). JSON bodies, Business
envelope, errors as HTTP 200 with a non-zero ``code``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.envelopes import business_error, business_ok
from tiktok_client.simulator.guards import RouteTable
from tiktok_client.simulator.models import SimApp
from tiktok_client.simulator.rules import BUSINESS_TOKEN_LIFETIMES
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

BUSINESS_PREFIX = "/open_api/v1.3"


class BusinessOAuth:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        p = f"{BUSINESS_PREFIX}/tt_user"
        return {
            ("POST", f"{p}/oauth2/token/"): self.token,
            ("POST", f"{p}/oauth2/refresh_token/"): self.refresh,
            ("POST", f"{p}/oauth2/revoke/"): self.revoke,
            ("POST", f"{p}/token_info/get/"): self.token_info,
        }

    def _body(self, request: Request) -> dict[str, Any] | Response:
        body = request.json()
        if not isinstance(body, dict):
            return business_error(40002, "The request body must be a JSON object.")
        return body

    def _app(self, body: dict[str, Any], id_key: str = "client_id") -> SimApp | Response:
        app = self.state.apps.get(str(body.get(id_key, "")))
        # A Login Kit client key is not an API for Business app id.
        if app is None or app.kind != "business":
            return business_error(40101)
        if id_key == "client_id" and body.get("client_secret") != app.client_secret:
            return business_error(40101)
        return app

    def token(self, request: Request) -> Response:
        body = self._body(request)
        if isinstance(body, Response):
            return body
        app = self._app(body)
        if isinstance(app, Response):
            return app
        if body.get("grant_type") != "authorization_code":
            return business_error(40002, "grant_type must be authorization_code.")
        state = self.state
        record = state.codes.get(str(body.get("auth_code", "")))
        if (
            record is None
            or record.client_key != app.client_key
            or record.used
            or state.now() - record.created_at > state.settings.auth_code_ttl
        ):
            return business_error(40110)
        if body.get("redirect_uri") != record.redirect_uri:
            return business_error(40002, "redirect_uri does not match the authorization.")
        record.used = True
        return business_ok(
            state.issue_business_tokens(
                creator_id=record.open_id, scopes=record.scopes, app_id=app.client_key
            )
        )

    def refresh(self, request: Request) -> Response:
        """Strict rotation as on Login Kit (the Business docs do not say [U]; the stricter
        reading), and the refresh token keeps its absolute expiry (S-K3 sample: remaining)."""
        body = self._body(request)
        if isinstance(body, Response):
            return body
        app = self._app(body)
        if isinstance(app, Response):
            return app
        if body.get("grant_type") != "refresh_token":
            return business_error(40002, "grant_type must be refresh_token.")
        state = self.state
        record = state.refresh_tokens.get(str(body.get("refresh_token", "")))
        if record is None or record.client_key != app.client_key or record.revoked:
            return business_error(40107)
        if record.used:
            return business_error(40107, "Refresh token has already been used.")
        if record.expires_at <= state.now():
            return business_error(40103)
        if state.settings.strict_rotation:
            record.used = True
        _, refresh_ttl = BUSINESS_TOKEN_LIFETIMES
        return business_ok(
            state.issue_business_tokens(
                creator_id=record.creator_id,
                scopes=record.scopes,
                app_id=app.client_key,
                refresh_expires_at=min(record.expires_at, state.now() + refresh_ttl),
            )
        )

    def revoke(self, request: Request) -> Response:
        body = self._body(request)
        if isinstance(body, Response):
            return body
        app = self._app(body)
        if isinstance(app, Response):
            return app
        token = self.state.access_tokens.get(str(body.get("access_token", "")))
        if token is None or token.client_key != app.client_key or token.revoked:
            return business_error(40105)
        self.state.revoke_grant(open_id=token.creator_id, client_key=app.client_key, reason=5)
        return business_ok({})

    def token_info(self, request: Request) -> Response:
        """§4.1: ``{app_id, access_token}`` -> ``data{app_id, creator_id, scope}``."""
        body = self._body(request)
        if isinstance(body, Response):
            return body
        app = self._app(body, "app_id")
        if isinstance(app, Response):
            return app
        token = self.state.access_tokens.get(str(body.get("access_token", "")))
        if token is None or token.client_key != app.client_key or token.revoked:
            return business_error(40105)
        if token.expires_at <= self.state.now():
            return business_error(40102)
        return business_ok(
            {"app_id": app.client_key, "creator_id": token.open_id, "scope": ",".join(token.scopes)}
        )

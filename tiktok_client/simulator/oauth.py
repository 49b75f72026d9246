"""Login Kit: the consent page ``/v2/auth/authorize/`` (shared by both apps, Corrections) and
the Login Kit token endpoints ``/v2/oauth/token/`` and ``/v2/oauth/revoke/`` (§1)."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from tiktok_client.simulator.envelopes import oauth_error
from tiktok_client.simulator.guards import RouteTable
from tiktok_client.simulator.models import AuthCode, SimApp
from tiktok_client.simulator.rules import TOKEN_PROFILES
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

AUTHORIZE_PATH = "/v2/auth/authorize/"
# The browser's TikTok sign-in, as a cookie on the consent page's host.
SESSION_COOKIE = "tt_sim_session"


def redirect_with(redirect_uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return Response.redirect(f"{redirect_uri}{separator}{urlencode(params, safe=',')}")


def challenge_matches(challenge: str, verifier: str) -> bool:
    """§1.1: TikTok's desktop doc uses the hex SHA-256 of the verifier; RFC 7636 base64url is
    accepted too."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return challenge in (digest.hex(), encoded) or challenge.lower() == digest.hex()


def session_creator(request: Request) -> str | None:
    for part in (request.header("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def error_page(field: str, message: str) -> str:
    return (
        "<!doctype html><html><head><title>TikTok (simulator) - error</title></head><body>"
        f"<h1>Something went wrong</h1><p id='error' data-field='{html.escape(field)}'>"
        f"{html.escape(message)}</p></body></html>"
    )


class LoginKit:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        return {
            ("GET", AUTHORIZE_PATH): self.authorize_page,
            ("POST", AUTHORIZE_PATH): self.authorize_submit,
            ("POST", "/v2/oauth/token/"): self.token,
            ("POST", "/v2/oauth/revoke/"): self.revoke,
        }

    # ------------------------------------------------------------------ consent

    def _redirect_allowed(self, app: SimApp, redirect_uri: str) -> bool:
        """§1.1: exact match with a registered URI; desktop apps may vary a loopback port."""
        if redirect_uri in app.redirect_uris:
            return True
        if not self.state.settings.loopback_redirect_any_port:
            return False
        wanted = urlsplit(redirect_uri)
        if wanted.hostname not in ("localhost", "127.0.0.1") or wanted.query:
            return False
        return any(
            (known.scheme, known.hostname, known.path)
            == (wanted.scheme, wanted.hostname, wanted.path)
            for known in map(urlsplit, app.redirect_uris)
        )

    def _checks(self, params: dict[str, str]) -> tuple[SimApp, list[str]] | Response:
        """§5.1: client_key, exact redirect_uri, response_type; one scope the app is not
        approved for refuses the whole request (Corrections: invalid_scope, error_type=scope)."""
        app = self.state.apps.get(params.get("client_key", ""))
        if app is None:
            return Response.html(error_page("client_key", "Unknown client_key."), 400)
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(app, redirect_uri):
            return Response.html(
                error_page("redirect_uri", "redirect_uri is not registered for this app."), 400
            )
        state_param = params.get("state", "")
        if params.get("response_type") != "code":
            return redirect_with(
                redirect_uri,
                {"error": "unsupported_response_type", "state": state_param,
                 "error_description": "response_type must be code"},
            )  # fmt: skip
        scopes = [s for s in params.get("scope", "").split(",") if s]
        approved = self.state.approved_scopes(app)
        unapproved = [s for s in scopes if s not in approved]
        if not scopes or unapproved:
            return redirect_with(
                redirect_uri,
                {"error": "invalid_scope", "error_type": "scope", "state": state_param,
                 "error_description": f"Scope not approved: {','.join(unapproved) or '(none)'}"},
            )  # fmt: skip
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "", "S256"):
            return redirect_with(
                redirect_uri,
                {"error": "invalid_request", "state": state_param,
                 "error_description": "code_challenge_method must be S256"},
            )  # fmt: skip
        return app, scopes

    def authorize_page(self, request: Request) -> Response:
        checked = self._checks(request.query)
        if isinstance(checked, Response):
            return checked
        app, scopes = checked
        if request.query.get("disable_auto_auth") != "1":
            silent = self._auto_authorize(request, app, scopes)
            if silent is not None:
                return silent
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in request.query.items()
        )
        scope_boxes = "".join(
            f'<label><input type="checkbox" name="granted_scope" value="{html.escape(s)}" '
            f'id="scope-{html.escape(s)}" checked> {html.escape(s)}</label><br>'
            for s in scopes
        )
        buttons = "".join(
            f'<button type="submit" name="open_id" value="{c.open_id}" '
            f'data-open-id="{c.open_id}" id="creator-{c.open_id}">Continue as @{c.username}'
            f"</button> <small>{html.escape(c.nickname)}"
            f"{' · Business' if c.is_business else ' · Personal'}"
            f"{' · Private' if c.is_private else ''}</small><br>"
            for c in self.state.creators.values()
        )
        product = "TikTok API for Business" if app.kind == "business" else "Login Kit"
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>TikTok (simulator) - "
            "Log in</title></head><body><h1>TikTok simulator</h1>"
            f"<p id='app' data-kind='{app.kind}'>{html.escape(app.client_key)} ({product}) "
            "would like to access your account.</p>"
            f'<form method="post" action="{AUTHORIZE_PATH}" id="consent">'
            f'{hidden}<input type="hidden" name="scope_choice" value="1">'
            f"<fieldset id='scopes'><legend>Permissions</legend>{scope_boxes}</fieldset>"
            f"<div id='creators'>{buttons}</div>"
            '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>'
            "</form></body></html>"
        )
        return Response.html(page)

    def _auto_authorize(self, request: Request, app: SimApp, scopes: list[str]) -> Response | None:
        """Corrections: without ``disable_auto_auth=1`` a browser signed in to TikTok whose
        account already authorized this app for these scopes is sent straight back with a
        code for that account: no page, no chance to pick another account."""
        creator_id = session_creator(request)
        granted = self.state.consents.get((app.client_key, creator_id or ""))
        if creator_id not in self.state.creators or granted is None:
            return None
        if not set(scopes) <= granted:
            return None
        params = request.query
        return self._grant(app, creator_id, scopes, params["redirect_uri"], params)

    def _grant(
        self,
        app: SimApp,
        creator_id: str,
        granted: list[str],
        redirect_uri: str,
        params: dict[str, str],
    ) -> Response:
        """Issue a code for ``creator_id`` and send the browser back, signed in as them."""
        # §1.1 (S-D1): the callback's code is URL-encoded and must be decoded before the
        # exchange; "*" and "!" make the encoded form differ, so a client that skips it fails.
        code = f"sim_code_{self.state.next_sequence()}*!{secrets.token_urlsafe(18)}"
        self.state.codes[code] = AuthCode(
            code=code,
            client_key=app.client_key,
            redirect_uri=redirect_uri,
            open_id=creator_id,
            scopes=tuple(granted),
            code_challenge=params.get("code_challenge") or None,
            created_at=self.state.now(),
        )
        key = (app.client_key, creator_id)
        self.state.consents[key] = self.state.consents.get(key, frozenset()) | set(granted)
        # Corrections: the Business consent's callback also carries ``code``.
        response = redirect_with(
            redirect_uri,
            {"code": code, "scopes": ",".join(granted), "state": params.get("state", "")},
        )
        response.headers.append(
            ("Set-Cookie", f"{SESSION_COOKIE}={creator_id}; Path=/; HttpOnly; SameSite=Lax")
        )
        return response

    def authorize_submit(self, request: Request) -> Response:
        form = request.form()
        params = {k: v[-1] for k, v in form.items()}
        checked = self._checks(params)
        if isinstance(checked, Response):
            return checked
        app, requested = checked
        redirect_uri = params["redirect_uri"]
        state_param = params.get("state", "")
        if params.get("action") == "cancel":
            return redirect_with(
                redirect_uri,
                {"error": "access_denied", "state": state_param,
                 "error_description": "The user denied the request."},
            )  # fmt: skip
        creator = self.state.creators.get(params.get("open_id", ""))
        if creator is None:
            return Response.html(error_page("open_id", "Pick an account."), 400)
        if params.get("scope_choice"):
            # §5.1: the user may grant a subset (Login Kit always keeps user.info.basic).
            ticked = set(form.get("granted_scope", []))
            kept = "user.info.basic" if app.kind == "login_kit" else None
            granted = [s for s in requested if s in ticked or s == kept]
        else:
            granted = requested
        return self._grant(app, creator.open_id, granted, redirect_uri, params)

    # ------------------------------------------------------------------ tokens

    def _client(self, params: dict[str, str]) -> SimApp | Response:
        app = self.state.apps.get(params.get("client_key", ""))
        if app is None or params.get("client_secret") != app.client_secret:
            return oauth_error("invalid_client", "Client key or secret is invalid.", 401)
        if app.kind != "login_kit":
            # A Business app id is not a Login Kit client key.
            return oauth_error("invalid_client", "Client key or secret is invalid.", 401)
        return app

    def token(self, request: Request) -> Response:
        if "application/x-www-form-urlencoded" not in (request.header("content-type") or ""):
            return oauth_error("invalid_request", "Body must be form-encoded.")
        params = {k: v[-1] for k, v in request.form().items()}
        app = self._client(params)
        if isinstance(app, Response):
            return app
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params)
        if grant_type == "refresh_token":
            return self._refresh(app, params)
        return oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type}.")

    def _exchange_code(self, app: SimApp, params: dict[str, str]) -> Response:
        state = self.state
        record = state.codes.get(params.get("code", ""))
        # §1.7 [U]: token errors observed as HTTP 200 with a flat error body.
        if record is None or record.client_key != app.client_key:
            return oauth_error("invalid_grant", "Authorization code is invalid.", 200)
        if record.used:
            return oauth_error("invalid_grant", "Authorization code was already used.", 200)
        if state.now() - record.created_at > state.settings.auth_code_ttl:
            return oauth_error("invalid_grant", "Authorization code expired.", 200)
        if params.get("redirect_uri") != record.redirect_uri:
            return oauth_error("invalid_grant", "redirect_uri does not match.", 200)
        if record.code_challenge:
            verifier = params.get("code_verifier", "")
            if not verifier or not challenge_matches(record.code_challenge, verifier):
                # Corrections: a PKCE mismatch is invalid_request.
                return oauth_error("invalid_request", "Code verifier or code challenge is invalid.")
        record.used = True
        return Response.json(
            state.issue_tokens(
                open_id=record.open_id, scopes=record.scopes, client_key=app.client_key
            )
        )

    def _refresh(self, app: SimApp, params: dict[str, str]) -> Response:
        """§1.4, Corrections: a new pair; with strict rotation the old refresh token stops
        working; the refresh token keeps its absolute expiry (remaining seconds returned)."""
        state = self.state
        record = state.refresh_tokens.get(params.get("refresh_token", ""))
        if record is None or record.client_key != app.client_key or record.revoked:
            return oauth_error("invalid_grant", "Refresh token is invalid.", 200)
        if record.used:
            return oauth_error("invalid_grant", "Refresh token was already used.", 200)
        if record.expires_at <= state.now():
            return oauth_error("invalid_grant", "Refresh token expired.", 200)
        if state.settings.strict_rotation:
            record.used = True
        _, refresh_ttl = TOKEN_PROFILES[state.settings.token_profile]
        return Response.json(
            state.issue_tokens(
                open_id=record.creator_id,
                scopes=record.scopes,
                client_key=app.client_key,
                refresh_expires_at=min(record.expires_at, state.now() + refresh_ttl),
            )
        )

    def revoke(self, request: Request) -> Response:
        """§1.5: ``{}``; the grant's tokens stop working; ``authorization.removed`` reason 5."""
        params = {k: v[-1] for k, v in request.form().items()}
        app = self._client(params)
        if isinstance(app, Response):
            return app
        token = self.state.access_tokens.get(params.get("token", ""))
        if token is None or token.client_key != app.client_key:
            return oauth_error("invalid_request", "Token is invalid.")
        self.state.revoke_grant(open_id=token.creator_id, client_key=app.client_key, reason=5)
        return Response.json({})

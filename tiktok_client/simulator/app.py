"""The TikTok simulator as a WSGI application with a hand-written router.

One app serves every TikTok host (their paths do not collide): Login Kit, OAuth, Content
Posting, the upload host, Display API and the Business API under ``/open_api/v1.3``. The
``/_sim/...`` endpoints control faults, the clock and counters from other processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import json
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from tiktok_client.chunks import chunk_plan_error
from tiktok_client.simulator.clock import SimClock
from tiktok_client.simulator.faults import SimCounters, SimFaults
from tiktok_client.simulator.models import PUBLIC, SELF_ONLY, AccessToken, Creator, SimApp, SimVideo
from tiktok_client.simulator.state import (
    DEFAULT_CLIENT_KEY,
    ENDPOINT_LIMITS,
    MB,
    SimSettings,
    SimState,
    log_id,
)
from tiktok_client.simulator.wsgi_io import Request, Response

StartResponse = Callable[..., Any]
Handler = Callable[[Request], Response]
BUSINESS_PREFIX = "/open_api/v1.3"
UPLOAD_PATH = "/video/"
USER_FIELD_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "profile_web_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
VIDEO_FIELDS = frozenset(
    {
        "id", "create_time", "cover_image_url", "share_url", "video_description", "duration",
        "height", "width", "title", "embed_html", "embed_link", "like_count", "comment_count",
        "share_count", "view_count",
    }
)  # fmt: skip
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
UPLOAD_CONTENT_TYPES = ("video/mp4", "video/quicktime", "video/webm")


class DropConnection(Exception):
    """Raised inside handlers to lose the response after the action was performed."""


def _v2(data: Any, now: float) -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id(now)}}


class SimulatorApp:
    """WSGI callable; ``.state``/``.faults``/``.counters``/``.clock`` give in-process control."""

    def __init__(self, state: SimState | None = None) -> None:
        self.state = state or SimState()
        self.routes: dict[tuple[str, str], Handler] = {}
        self._register_routes()

    @property
    def faults(self) -> SimFaults:
        return self.state.faults

    @property
    def counters(self) -> SimCounters:
        return self.state.counters

    @property
    def clock(self) -> SimClock:
        return self.state.clock

    @property
    def settings(self) -> SimSettings:
        return self.state.settings

    # ------------------------------------------------------------------ WSGI entry point

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        state = self.state
        request = Request.from_environ(environ, state.settings.public_base_url)
        endpoint = request.path
        if endpoint.startswith("/_sim/"):
            with state.lock:
                response = self._dispatch_control(request)
            return self._finish(response, start_response)
        if state.faults.latency_seconds > 0:
            time.sleep(state.faults.latency_seconds)
        request.open_id = self._resolve_open_id(request)
        state.counters.record_request(endpoint, request.open_id)
        latency = state.faults.take(endpoint, frozenset({"latency"}), request.open_id)
        if latency is not None:
            time.sleep(latency.seconds)
        fault = state.faults.take(
            endpoint, frozenset({"http_500", "http_429", "timeout", "malformed"}), request.open_id
        )
        if fault is not None:
            return self._apply_fault(fault.kind, fault.seconds, request, start_response)
        with state.lock:
            handler = self.routes.get((request.method, endpoint))
            response = self._not_found(request) if handler is None else handler(request)
            drop = state.faults.take(endpoint, frozenset({"drop_after_accept"}), request.open_id)
        state.counters.record_response(endpoint, response.status, response.ok, request.open_id)
        if drop is not None:
            return self._drop(request, start_response, stall=drop.seconds)
        return self._finish(response, start_response)

    def _finish(self, response: Response, start_response: StartResponse) -> list[bytes]:
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(response.status_line(), headers)
        return [response.body]

    def _resolve_open_id(self, request: Request) -> str | None:
        token = request.header("access-token")
        auth = request.header("authorization") or ""
        if not token and auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        if not token:
            return None
        with self.state.lock:
            return self.state.token_open_id(token)

    def _is_business(self, request: Request) -> bool:
        return request.path.startswith(BUSINESS_PREFIX)

    def _apply_fault(
        self, kind: str, seconds: float, request: Request, start_response: StartResponse
    ) -> list[bytes]:
        now = self.state.now()
        endpoint = request.path
        if kind == "timeout":
            self.state.counters.record_response(endpoint, 504, False, request.open_id)
            return self._drop(
                request,
                start_response,
                stall=seconds or self.state.settings.timeout_stall_seconds,
                timeout=True,
            )
        if kind == "malformed":
            self.state.counters.record_response(endpoint, 200, False, request.open_id)
            return self._finish(
                Response(200, b"<html>upstream hiccup", [("Content-Type", "text/html")]),
                start_response,
            )
        business = self._is_business(request)
        if kind == "http_429":
            if business:
                # TikTok for Business reports throttling as HTTP 200 with code 40100.
                response = self._business_error(40100, "Too many requests. Please retry later.")
            else:
                response = self._v2_error(429, "rate_limit_exceeded", "Rate limit exceeded.")
            response.headers.append(("Retry-After", str(int(seconds) if seconds else 60)))
        elif business:
            response = Response.json(
                {"code": 50000, "message": "Internal service error.", "request_id": log_id(now),
                 "data": {}},
                500,
            )  # fmt: skip
        else:
            response = self._v2_error(500, "internal_error", "Something went wrong.")
        self.state.counters.record_response(endpoint, response.status, False, request.open_id)
        return self._finish(response, start_response)

    def _drop(
        self,
        request: Request,
        start_response: StartResponse,
        *,
        stall: float,
        timeout: bool = False,
    ) -> list[bytes]:
        connection = request.environ.get("tiktok_sim.connection")
        if connection is not None:
            if timeout:
                time.sleep(stall)
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            start_response("500 Dropped", [("Content-Length", "0")])
            return []
        if timeout:
            # In-process (httpx.WSGITransport) there is no socket to stall; this is what a
            # socket timeout looks like to the transport.
            raise TimeoutError("simulated TikTok timeout")
        body = b'{"data": {"publish_id": "v_pub_'
        start_response(
            "200 OK",
            [("Content-Type", "application/json; charset=UTF-8"),
             ("Content-Length", str(len(body)))],
        )  # fmt: skip
        return [body]

    # ------------------------------------------------------------------ envelopes

    def _v2_error(self, status: int, code: str, message: str) -> Response:
        return Response.json(
            {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}}, status
        )

    def _v2_ok(self, data: Any) -> Response:
        return Response.json(_v2(data, self.state.now()))

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return Response.json(
            {"error": error, "error_description": description, "log_id": log_id()},
            status,
            ok=False,
        )

    def _business_ok(self, data: Any) -> Response:
        return Response.json({"code": 0, "message": "OK", "request_id": log_id(), "data": data})

    def _business_error(self, code: int, message: str) -> Response:
        return Response.json(
            {"code": code, "message": message, "request_id": log_id(), "data": {}}, 200, ok=False
        )

    def _not_found(self, request: Request) -> Response:
        if any(path == request.path for _, path in self.routes):
            if self._is_business(request):
                return self._business_error(40002, f"Method {request.method} not allowed.")
            return self._v2_error(405, "invalid_params", f"Method {request.method} not allowed.")
        if self._is_business(request):
            return self._business_error(40002, f"Unknown path {request.path}.")
        return self._v2_error(404, "invalid_params", f"Unknown path {request.path}.")

    # ------------------------------------------------------------------ routing

    def _register_routes(self) -> None:
        b = BUSINESS_PREFIX
        self.routes = {
            ("GET", "/v2/auth/authorize/"): self.authorize_page,
            ("POST", "/v2/auth/authorize/"): self.authorize_submit,
            ("POST", "/v2/oauth/token/"): self.oauth_token,
            ("POST", "/v2/oauth/revoke/"): self.oauth_revoke,
            ("POST", "/v2/post/publish/creator_info/query/"): self.creator_info,
            ("POST", "/v2/post/publish/video/init/"): self.video_init,
            ("POST", "/v2/post/publish/inbox/video/init/"): self.inbox_init,
            ("POST", "/v2/post/publish/content/init/"): self.content_init,
            ("POST", "/v2/post/publish/status/fetch/"): self.status_fetch,
            ("POST", "/v2/post/publish/cancel/"): self.cancel,
            ("PUT", UPLOAD_PATH): self.upload,
            ("GET", "/v2/user/info/"): self.user_info,
            ("POST", "/v2/video/list/"): self.video_list,
            ("POST", "/v2/video/query/"): self.video_query,
            ("GET", f"{b}/business/get/"): self.business_get,
            ("GET", f"{b}/business/video/list/"): self.business_video_list,
            ("GET", f"{b}/business/comment/list/"): self.business_comment_list,
            ("GET", f"{b}/business/comment/reply/list/"): self.business_reply_list,
            ("POST", f"{b}/business/comment/create/"): self.business_comment_create,
            ("POST", f"{b}/business/comment/reply/create/"): self.business_reply_create,
            ("POST", f"{b}/business/comment/hide/"): self.business_comment_hide,
            ("POST", f"{b}/business/comment/pin/"): self.business_comment_pin,
            ("POST", f"{b}/business/comment/like/"): self.business_comment_like,
            ("POST", f"{b}/business/comment/delete/"): self.business_comment_delete,
            ("GET", "/_sim/media/avatar"): self.media,
            ("GET", "/_sim/media/cover"): self.media,
        }

    # ------------------------------------------------------------------ Login Kit

    def _redirect_allowed(self, app: SimApp, redirect_uri: str) -> bool:
        if redirect_uri in app.redirect_uris:
            return True
        if not self.state.settings.loopback_redirect_any_port:
            return False
        # Desktop apps may register loopback URIs whose port varies.
        wanted = urlsplit(redirect_uri)
        if wanted.hostname not in ("localhost", "127.0.0.1") or wanted.query:
            return False
        for registered in app.redirect_uris:
            known = urlsplit(registered)
            if (known.scheme, known.hostname, known.path) == (
                wanted.scheme,
                wanted.hostname,
                wanted.path,
            ):
                return True
        return False

    def _redirect_with(self, redirect_uri: str, params: dict[str, str]) -> Response:
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return Response.redirect(f"{redirect_uri}{separator}{urlencode(params, safe=',')}")

    def _authorize_checks(self, params: dict[str, str]) -> tuple[SimApp, list[str]] | Response:
        app = self.state.apps.get(params.get("client_key", ""))
        if app is None:
            return Response.html(_error_page("client_key", "Unknown client_key."), 400)
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(app, redirect_uri):
            return Response.html(
                _error_page("redirect_uri", "redirect_uri is not registered for this app."), 400
            )
        state_param = params.get("state", "")
        if params.get("response_type") != "code":
            return self._redirect_with(
                redirect_uri,
                {"error": "unsupported_response_type", "state": state_param,
                 "error_description": "response_type must be code"},
            )  # fmt: skip
        scopes = [s for s in params.get("scope", "").split(",") if s]
        unapproved = [s for s in scopes if s not in app.approved_scopes]
        if not scopes or unapproved:
            return self._redirect_with(
                redirect_uri,
                {"error": "invalid_scope", "error_type": "scope", "state": state_param,
                 "error_description": f"Scope not approved: {','.join(unapproved) or '(none)'}"},
            )  # fmt: skip
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "", "S256"):
            return self._redirect_with(
                redirect_uri,
                {"error": "invalid_request", "state": state_param,
                 "error_description": "code_challenge_method must be S256"},
            )  # fmt: skip
        return app, scopes

    def authorize_page(self, request: Request) -> Response:
        checked = self._authorize_checks(request.query)
        if isinstance(checked, Response):
            return checked
        app, scopes = checked
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
            f"{' · Business' if c.is_business else ''}{' · Private' if c.is_private else ''}"
            f"</small><br>"
            for c in self.state.creators.values()
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>TikTok (simulator) - "
            "Log in</title></head><body><h1>TikTok simulator</h1>"
            f"<p id='app'>{html.escape(app.client_key)} would like to access your account.</p>"
            '<form method="post" action="/v2/auth/authorize/" id="consent">'
            f'{hidden}<input type="hidden" name="scope_choice" value="1">'
            f"<fieldset id='scopes'><legend>Permissions</legend>{scope_boxes}</fieldset>"
            f"<div id='creators'>{buttons}</div>"
            '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>'
            "</form></body></html>"
        )
        return Response.html(page)

    def authorize_submit(self, request: Request) -> Response:
        form = request.form()
        params = {k: v[-1] for k, v in form.items()}
        checked = self._authorize_checks(params)
        if isinstance(checked, Response):
            return checked
        app, requested = checked
        redirect_uri = params["redirect_uri"]
        state_param = params.get("state", "")
        if params.get("action") == "cancel":
            return self._redirect_with(
                redirect_uri,
                {"error": "access_denied", "state": state_param,
                 "error_description": "The user denied the request."},
            )  # fmt: skip
        creator = self.state.creators.get(params.get("open_id", ""))
        if creator is None:
            return Response.html(_error_page("open_id", "Pick an account."), 400)
        if params.get("scope_choice"):
            ticked = set(form.get("granted_scope", []))
            granted = [s for s in requested if s in ticked or s == "user.info.basic"]
        else:
            granted = requested
        code = f"sim_code_{self.state.next_sequence()}_{secrets.token_urlsafe(18)}"
        self.state.codes[code] = _new_code(
            code, app, redirect_uri, creator.open_id, granted, params.get("code_challenge"),
            self.state.now(),
        )  # fmt: skip
        return self._redirect_with(
            redirect_uri, {"code": code, "scopes": ",".join(granted), "state": state_param}
        )

    def oauth_token(self, request: Request) -> Response:
        if "application/x-www-form-urlencoded" not in (request.header("content-type") or ""):
            return self._oauth_error("invalid_request", "Body must be form-encoded.")
        params = {k: v[-1] for k, v in request.form().items()}
        app = self.state.apps.get(params.get("client_key", ""))
        if app is None or params.get("client_secret") != app.client_secret:
            return self._oauth_error("invalid_client", "Client key or secret is invalid.", 401)
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params)
        if grant_type == "refresh_token":
            return self._refresh(app, params)
        return self._oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type}.")

    def _exchange_code(self, app: SimApp, params: dict[str, str]) -> Response:
        state = self.state
        record = state.codes.get(params.get("code", ""))
        # Observed in a sandbox: token errors can come back as HTTP 200 with a flat error.
        if record is None or record.client_key != app.client_key:
            return self._oauth_error("invalid_grant", "Authorization code is invalid.", 200)
        if record.used:
            return self._oauth_error("invalid_grant", "Authorization code was already used.", 200)
        if state.now() - record.created_at > state.settings.auth_code_ttl:
            return self._oauth_error("invalid_grant", "Authorization code expired.", 200)
        if params.get("redirect_uri") != record.redirect_uri:
            return self._oauth_error("invalid_grant", "redirect_uri does not match.", 200)
        if record.code_challenge:
            verifier = params.get("code_verifier", "")
            if not verifier or not _challenge_matches(record.code_challenge, verifier):
                return self._oauth_error("invalid_grant", "code_verifier is invalid.", 200)
        record.used = True
        return Response.json(
            state.issue_tokens(
                open_id=record.open_id, scopes=record.scopes, client_key=app.client_key
            )
        )

    def _refresh(self, app: SimApp, params: dict[str, str]) -> Response:
        state = self.state
        record = state.refresh_tokens.get(params.get("refresh_token", ""))
        if record is None or record.client_key != app.client_key or record.revoked:
            return self._oauth_error("invalid_grant", "Refresh token is invalid.", 200)
        if record.used:
            return self._oauth_error("invalid_grant", "Refresh token was already used.", 200)
        if record.expires_at <= state.now():
            return self._oauth_error("invalid_grant", "Refresh token expired.", 200)
        if state.settings.strict_rotation:
            record.used = True
        # The refresh window is absolute from the first issuance, not extended by refreshing.
        return Response.json(
            state.issue_tokens(
                open_id=record.open_id,
                scopes=record.scopes,
                client_key=app.client_key,
                refresh_expires_at=record.expires_at,
            )
        )

    def oauth_revoke(self, request: Request) -> Response:
        params = {k: v[-1] for k, v in request.form().items()}
        app = self.state.apps.get(params.get("client_key", ""))
        if app is None or params.get("client_secret") != app.client_secret:
            return self._oauth_error("invalid_client", "Client key or secret is invalid.", 401)
        token = self.state.access_tokens.get(params.get("token", ""))
        if token is None or token.client_key != app.client_key:
            return self._oauth_error("invalid_request", "Token is invalid.")
        self.state.revoke_grant(open_id=token.open_id, client_key=app.client_key)
        return Response.json({})

    # ------------------------------------------------------------------ v2 auth helpers

    def _v2_auth(self, request: Request, *scopes: str) -> AccessToken | Response:
        auth = request.header("authorization") or ""
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        record = self.state.live_access_token(token) if token else None
        if record is None:
            return self._v2_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if scopes and not any(scope in record.scopes for scope in scopes):
            return self._v2_error(
                401,
                "scope_not_authorized",
                f"The user did not authorize the scope required: {' or '.join(scopes)}.",
            )
        limit = ENDPOINT_LIMITS.get(request.path)
        if limit is not None:
            wait = self.state.rate_limited(record.token, request.path, limit)
            if wait:
                response = self._v2_error(
                    429, "rate_limit_exceeded", "The API rate limit was exceeded."
                )
                response.headers.append(("Retry-After", str(int(wait) + 1)))
                return response
        return record

    def _creator(self, token: AccessToken) -> Creator:
        return self.state.creators[token.open_id]

    # ------------------------------------------------------------------ Content Posting

    def creator_info(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.publish")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        if creator.banned_from_posting:
            return self._v2_error(
                403,
                "spam_risk_user_banned_from_posting",
                "The user is banned from making new posts.",
            )
        if self.state.direct_posts_last_day(creator.open_id) >= self.state.settings.daily_post_cap:
            return self._v2_error(
                403, "spam_risk_too_many_posts", "The daily post cap from the API is reached."
            )
        return self._v2_ok(
            {
                "creator_avatar_url": self._avatar_url(request, creator),
                "creator_username": creator.username,
                "creator_nickname": creator.nickname,
                "privacy_level_options": creator.privacy_level_options,
                "comment_disabled": creator.comment_disabled,
                "duet_disabled": creator.duet_disabled,
                "stitch_disabled": creator.stitch_disabled,
                "max_video_post_duration_sec": creator.max_video_post_duration_sec,
            }
        )

    def _posting_gate(self, token: AccessToken, creator: Creator, privacy: str) -> Response | None:
        """Caps and audit rules shared by direct video and photo posts."""
        state = self.state
        if creator.banned_from_posting:
            return self._v2_error(
                403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
            )
        app = state.apps[token.client_key]
        users = state.posting_users_last_day(app.client_key)
        if not app.audited:
            if not creator.is_private or privacy != SELF_ONLY:
                return self._v2_error(
                    403,
                    "unaudited_client_can_only_post_to_private_accounts",
                    "Unaudited clients can only post SELF_ONLY to private accounts.",
                )
            if creator.open_id not in users and len(users) >= state.settings.unaudited_user_cap:
                return self._v2_error(
                    403, "reached_active_user_cap", "The daily active creator cap is reached."
                )
        elif (
            app.active_user_cap is not None
            and creator.open_id not in users
            and len(users) >= app.active_user_cap
        ):
            return self._v2_error(
                403, "reached_active_user_cap", "The daily active creator cap is reached."
            )
        if state.direct_posts_last_day(creator.open_id) >= state.settings.daily_post_cap:
            return self._v2_error(
                403, "spam_risk_too_many_posts", "The daily post cap from the API is reached."
            )
        return None

    def _check_post_info(
        self, creator: Creator, post_info: dict[str, Any], *, photo: bool
    ) -> Response | None:
        privacy = post_info.get("privacy_level")
        if not isinstance(privacy, str) or not privacy:
            return self._v2_error(400, "invalid_params", "post_info.privacy_level is required.")
        if privacy not in creator.privacy_level_options:
            return self._v2_error(
                400,
                "privacy_level_option_mismatch",
                "privacy_level is not one of the creator's privacy_level_options.",
            )
        title = post_info.get("title", "")
        limit = 90 if photo else 2200
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > limit:
            return self._v2_error(400, "invalid_params", f"title must be at most {limit} chars.")
        description = post_info.get("description", "")
        if photo and (not isinstance(description, str) or len(description) > 4000):
            return self._v2_error(400, "invalid_params", "description must be at most 4000 chars.")
        flags = [("comment_disabled", "disable_comment")]
        if not photo:
            flags += [("duet_disabled", "disable_duet"), ("stitch_disabled", "disable_stitch")]
        for creator_flag, post_flag in flags:
            if getattr(creator, creator_flag) and post_info.get(post_flag) is not True:
                return self._v2_error(
                    400,
                    "invalid_params",
                    f"The creator has {creator_flag.replace('_', ' ')}; {post_flag} must be true.",
                )
        if post_info.get("brand_content_toggle") and privacy == SELF_ONLY:
            return self._v2_error(
                400, "invalid_params", "Branded content visibility cannot be set to private."
            )
        cover = post_info.get("video_cover_timestamp_ms")
        if cover is not None and (not isinstance(cover, int) or cover < 0):
            return self._v2_error(400, "invalid_params", "video_cover_timestamp_ms is invalid.")
        return None

    def _check_source(
        self, source_info: Any, app: SimApp, invalid_code: str
    ) -> tuple[str, dict[str, int]] | Response:
        if not isinstance(source_info, dict):
            return self._v2_error(400, invalid_code, "source_info is required.")
        source = source_info.get("source")
        if source == "FILE_UPLOAD":
            sizes = {
                k: source_info.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")
            }
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes.values()):
                return self._v2_error(400, invalid_code, "The chunk size is invalid")
            ints = {k: int(v) for k, v in sizes.items() if isinstance(v, int)}
            if chunk_plan_error(ints["video_size"], ints["chunk_size"], ints["total_chunk_count"]):
                return self._v2_error(400, invalid_code, "The chunk size is invalid")
            return source, ints
        if source == "PULL_FROM_URL":
            url = source_info.get("video_url")
            if not isinstance(url, str) or not url:
                return self._v2_error(400, invalid_code, "video_url is required.")
            if not _url_verified(url, app):
                return self._v2_error(
                    403, "url_ownership_unverified", "The video_url domain is not verified."
                )
            return source, {"video_size": self.state.settings.pull_download_size}
        return self._v2_error(400, invalid_code, "source must be FILE_UPLOAD or PULL_FROM_URL.")

    def _upload_url(self, request: Request, upload_id: str | None, token: str | None) -> str:
        query = urlencode({"upload_id": upload_id, "upload_token": token})
        return f"{request.base_url}{UPLOAD_PATH}?{query}"

    def _take_outcome_faults(self, request: Request, publish_fields: dict[str, Any]) -> None:
        fault = self.state.faults.take(
            request.path, frozenset({"publish_fail", "stuck"}), request.open_id
        )
        if fault is None:
            return
        if fault.kind == "stuck":
            publish_fields["stuck"] = True
        else:
            publish_fields["injected_fail_reason"] = fault.fail_reason

    def video_init(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.publish")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("post_info"), dict):
            return self._v2_error(400, "invalid_params", "post_info is required.")
        post_info: dict[str, Any] = body["post_info"]
        gate = self._posting_gate(token, creator, str(post_info.get("privacy_level")))
        if gate is not None:
            return gate
        problem = self._check_post_info(creator, post_info, photo=False)
        if problem is not None:
            return problem
        checked = self._check_source(
            body.get("source_info"), self.state.apps[token.client_key], "invalid_params"
        )
        if isinstance(checked, Response):
            return checked
        source, sizes = checked
        fields: dict[str, Any] = {}
        self._take_outcome_faults(request, fields)
        publish = self.state.new_publish(
            prefix="v_pub_file~v2-1." if source == "FILE_UPLOAD" else "v_pub_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind="video",
            source=source,
            direct=True,
            post_info=dict(post_info),
            video_size=sizes.get("video_size", 0),
            chunk_size=sizes.get("chunk_size", 0),
            total_chunk_count=sizes.get("total_chunk_count", 0),
            download_size=sizes["video_size"] if source == "PULL_FROM_URL" else 0,
            **fields,
        )
        data: dict[str, Any] = {"publish_id": publish.publish_id}
        if source == "FILE_UPLOAD":
            data["upload_url"] = self._upload_url(request, publish.upload_id, publish.upload_token)
        return self._v2_ok(data)

    def inbox_init(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.upload")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        if creator.banned_from_posting:
            return self._v2_error(
                403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
            )
        if self.state.pending_shares(creator.open_id) >= self.state.settings.pending_share_cap:
            return self._v2_error(
                403,
                "spam_risk_too_many_pending_share",
                "The user has too many pending shares in the last 24 hours.",
            )
        body = request.json()
        if not isinstance(body, dict):
            return self._v2_error(400, "invalid_param", "Body must be JSON.")
        # The inbox endpoint's error table spells it invalid_param (singular).
        checked = self._check_source(
            body.get("source_info"), self.state.apps[token.client_key], "invalid_param"
        )
        if isinstance(checked, Response):
            return checked
        source, sizes = checked
        fields: dict[str, Any] = {}
        self._take_outcome_faults(request, fields)
        publish = self.state.new_publish(
            prefix="v_inbox_file~v2." if source == "FILE_UPLOAD" else "v_inbox_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind="inbox",
            source=source,
            direct=False,
            post_info={},
            video_size=sizes.get("video_size", 0),
            chunk_size=sizes.get("chunk_size", 0),
            total_chunk_count=sizes.get("total_chunk_count", 0),
            download_size=sizes["video_size"] if source == "PULL_FROM_URL" else 0,
            **fields,
        )
        data: dict[str, Any] = {"publish_id": publish.publish_id}
        if source == "FILE_UPLOAD":
            data["upload_url"] = self._upload_url(request, publish.upload_id, publish.upload_token)
        return self._v2_ok(data)

    def content_init(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.publish", "video.upload")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        body = request.json()
        if not isinstance(body, dict):
            return self._v2_error(400, "invalid_params", "Body must be JSON.")
        mode = body.get("post_mode")
        if body.get("media_type") != "PHOTO" or mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            return self._v2_error(
                400,
                "invalid_params",
                "media_type must be PHOTO; post_mode DIRECT_POST|MEDIA_UPLOAD.",
            )
        needed = "video.publish" if mode == "DIRECT_POST" else "video.upload"
        if needed not in token.scopes:
            return self._v2_error(
                401, "scope_not_authorized", f"The user did not authorize the scope {needed}."
            )
        post_info = body.get("post_info") if isinstance(body.get("post_info"), dict) else {}
        assert isinstance(post_info, dict)
        direct = mode == "DIRECT_POST"
        if direct:
            gate = self._posting_gate(token, creator, str(post_info.get("privacy_level")))
            if gate is not None:
                return gate
            problem = self._check_post_info(creator, post_info, photo=True)
            if problem is not None:
                return problem
        elif self.state.pending_shares(creator.open_id) >= self.state.settings.pending_share_cap:
            return self._v2_error(
                403, "spam_risk_too_many_pending_share", "Too many pending shares."
            )
        source_info = body.get("source_info")
        if not isinstance(source_info, dict) or source_info.get("source") != "PULL_FROM_URL":
            return self._v2_error(400, "invalid_params", "Photos support PULL_FROM_URL only.")
        images = source_info.get("photo_images")
        if not isinstance(images, list) or not 1 <= len(images) <= 35:
            return self._v2_error(400, "invalid_params", "photo_images must hold 1-35 URLs.")
        if not all(isinstance(url, str) for url in images):
            return self._v2_error(400, "invalid_params", "photo_images must be URLs.")
        cover = source_info.get("photo_cover_index", 0)
        if not isinstance(cover, int) or not 0 <= cover < len(images):
            return self._v2_error(400, "invalid_params", "photo_cover_index is out of range.")
        app = self.state.apps[token.client_key]
        if not all(_url_verified(url, app) for url in images):
            return self._v2_error(
                403, "url_ownership_unverified", "A photo URL's domain is not verified."
            )
        if any(urlsplit(url).path.lower().endswith(".png") for url in images):
            return self._v2_error(400, "invalid_params", "Photos must be JPEG or WebP.")
        fields: dict[str, Any] = {}
        self._take_outcome_faults(request, fields)
        publish = self.state.new_publish(
            prefix="p_pub_url~v2." if direct else "p_inbox_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind="photo",
            source="PULL_FROM_URL",
            direct=direct,
            post_info=dict(post_info),
            download_size=len(images) * MB,
            **fields,
        )
        return self._v2_ok({"publish_id": publish.publish_id})

    def upload(self, request: Request) -> Response:
        state = self.state
        publish_id = state.uploads.get(request.query.get("upload_id", ""))
        publish = state.publishes.get(publish_id) if publish_id else None
        if publish is None or request.query.get("upload_token") != publish.upload_token:
            return Response(403, b"", ok=False)
        request.open_id = publish.open_id
        state.counters.record_publish(publish.publish_id, "chunk_requests")
        if state.now() > publish.upload_expires_at:
            return Response(403, b"", ok=False)
        content_type = (request.header("content-type") or "").split(";")[0].strip()
        if content_type not in UPLOAD_CONTENT_TYPES:
            return Response(415, b"", ok=False)
        match = CONTENT_RANGE.match(request.header("content-range") or "")
        if publish.upload_done_at is not None or match is None:
            return Response(416, b"", ok=False)
        start, end, total = (int(group) for group in match.groups())
        is_last = publish.chunks_received == publish.total_chunk_count - 1
        expected = publish.video_size - publish.uploaded_bytes if is_last else publish.chunk_size
        if (
            total != publish.video_size
            or start != publish.uploaded_bytes
            or end - start + 1 != len(request.body)
            or len(request.body) != expected
        ):
            return Response(416, b"", ok=False)
        publish.uploaded_bytes += len(request.body)
        publish.chunks_received += 1
        state.counters.record_publish(publish.publish_id, "chunks")
        if is_last:
            publish.upload_done_at = state.now()
            return Response(201, b"")
        return Response(206, b"")

    def _owned_publish(self, request: Request, token: AccessToken) -> Any:
        body = request.json()
        publish_id = body.get("publish_id") if isinstance(body, dict) else None
        publish = self.state.publishes.get(publish_id) if isinstance(publish_id, str) else None
        if publish is None or publish.open_id != token.open_id:
            return self._v2_error(400, "invalid_params", "publish_id does not exist.")
        return publish

    def status_fetch(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.upload", "video.publish")
        if isinstance(token, Response):
            return token
        publish = self._owned_publish(request, token)
        if isinstance(publish, Response):
            return publish
        self.state.counters.record_publish(publish.publish_id, "status_fetches")
        self.state.tick()
        data: dict[str, Any] = {
            "status": publish.status,
            "publicaly_available_post_id": self.state.public_post_ids(publish),
            "uploaded_bytes": publish.uploaded_bytes,
            "downloaded_bytes": self.state.downloaded_bytes(publish),
        }
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        return self._v2_ok(data)

    def cancel(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.upload", "video.publish")
        if isinstance(token, Response):
            return token
        publish = self._owned_publish(request, token)
        if isinstance(publish, Response):
            return publish
        self.state.tick()
        if publish.source != "PULL_FROM_URL" or publish.status != "PROCESSING_DOWNLOAD":
            return self._v2_error(
                400,
                "invalid_params",
                "Only PULL_FROM_URL posts still downloading can be cancelled.",
            )
        publish.cancelled = True
        self.state.counters.record_publish(publish.publish_id, "cancelled")
        self.state.tick()
        return self._v2_ok({})

    # ------------------------------------------------------------------ Display API

    def _avatar_url(self, request: Request, creator: Creator) -> str:
        expires = int(self.state.now() + 2 * 3600)
        return f"{request.base_url}/_sim/media/avatar?open_id={creator.open_id}&x-expires={expires}"

    def _cover_url(self, request: Request, video: SimVideo) -> str:
        expires = int(self.state.now() + 6 * 3600)
        return f"{request.base_url}/_sim/media/cover?video_id={video.id}&x-expires={expires}"

    def media(self, request: Request) -> Response:
        try:
            expires = int(request.query.get("x-expires", "0"))
        except ValueError:
            expires = 0
        if expires < self.state.now():
            return Response(403, b"expired", [("Content-Type", "text/plain")], ok=False)
        label = request.query.get("open_id") or request.query.get("video_id") or "?"
        hue = int(hashlib.sha256(label.encode()).hexdigest()[:2], 16) * 360 // 256
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120">'
            f'<rect width="120" height="120" fill="hsl({hue},60%,55%)"/>'
            f'<text x="60" y="70" font-size="36" text-anchor="middle" fill="#fff">'
            f"{html.escape(label[-2:].upper())}</text></svg>"
        )
        return Response(200, svg.encode(), [("Content-Type", "image/svg+xml")])

    def user_info(self, request: Request) -> Response:
        token = self._v2_auth(request, "user.info.basic")
        if isinstance(token, Response):
            return token
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields:
            return self._v2_error(400, "invalid_params", "fields is required.")
        unknown = [f for f in fields if f not in USER_FIELD_SCOPES]
        if unknown:
            return self._v2_error(400, "invalid_params", f"Unknown fields: {','.join(unknown)}.")
        missing = sorted({USER_FIELD_SCOPES[f] for f in fields} - set(token.scopes))
        if missing:
            return self._v2_error(
                400,
                "scope_permission_missed",
                f"Fields need scopes the user did not grant: {','.join(missing)}.",
            )
        creator = self._creator(token)
        state = self.state
        now = state.now()
        videos = state.listed_videos(creator.open_id, public_only=True)
        values: dict[str, Any] = {
            "open_id": creator.open_id,
            "union_id": creator.union_id,
            "avatar_url": self._avatar_url(request, creator),
            "avatar_url_100": self._avatar_url(request, creator),
            "avatar_large_url": self._avatar_url(request, creator),
            "display_name": creator.nickname,
            "bio_description": creator.bio,
            "profile_deep_link": f"https://vm.tiktok.com/@{creator.username}",
            "profile_web_link": f"https://www.tiktok.com/@{creator.username}",
            "is_verified": creator.is_verified,
            "username": creator.username,
            "follower_count": state.followers_on(creator, dt.date.fromtimestamp(now)),
            "following_count": creator.following_count,
            "likes_count": sum(state.video_stats(v, now)["like_count"] for v in videos),
            "video_count": len(videos),
        }
        return self._v2_ok({"user": {f: values[f] for f in fields}})

    def _video_fields(self, request: Request) -> list[str] | Response:
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields:
            return self._v2_error(400, "invalid_params", "fields is required.")
        unknown = [f for f in fields if f not in VIDEO_FIELDS]
        if unknown:
            return self._v2_error(400, "invalid_params", f"Unknown fields: {','.join(unknown)}.")
        return fields

    def _video_json(self, request: Request, video: SimVideo, fields: list[str]) -> dict[str, Any]:
        creator = self.state.creators[video.open_id]
        stats = self.state.video_stats(video, self.state.now())
        values: dict[str, Any] = {
            "id": video.id,
            "create_time": int(video.create_time),
            "cover_image_url": self._cover_url(request, video),
            "share_url": f"https://www.tiktok.com/@{creator.username}/video/{video.id}",
            "video_description": video.description,
            "duration": video.duration,
            "height": 1920,
            "width": 1080,
            "title": video.title,
            "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{video.id}">'
            "</blockquote>",
            "embed_link": f"https://www.tiktok.com/player/v1/{video.id}",
            **stats,
        }
        return {f: values[f] for f in fields}

    def video_list(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.list")
        if isinstance(token, Response):
            return token
        fields = self._video_fields(request)
        if isinstance(fields, Response):
            return fields
        body = request.json() or {}
        if not isinstance(body, dict):
            return self._v2_error(400, "invalid_params", "Body must be JSON.")
        max_count = body.get("max_count", 10)
        cursor = body.get("cursor")
        if not isinstance(max_count, int) or not 1 <= max_count <= 20:
            return self._v2_error(400, "invalid_params", "max_count must be 1-20.")
        if cursor is not None and not isinstance(cursor, int):
            return self._v2_error(400, "invalid_params", "cursor must be an int64 ms timestamp.")
        videos = self.state.listed_videos(token.open_id, public_only=True)
        if cursor:
            videos = [v for v in videos if int(v.create_time * 1000) < cursor]
        page = videos[:max_count]
        next_cursor = int(page[-1].create_time * 1000) if page else (cursor or 0)
        return self._v2_ok(
            {
                "videos": [self._video_json(request, v, fields) for v in page],
                "cursor": next_cursor,
                "has_more": len(videos) > max_count,
            }
        )

    def video_query(self, request: Request) -> Response:
        token = self._v2_auth(request, "video.list")
        if isinstance(token, Response):
            return token
        fields = self._video_fields(request)
        if isinstance(fields, Response):
            return fields
        body = request.json()
        filters = body.get("filters") if isinstance(body, dict) else None
        ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
            return self._v2_error(400, "invalid_params", "filters.video_ids must hold 1-20 ids.")
        self.state.tick()
        owned = [
            self.state.videos[str(i)]
            for i in ids
            if str(i) in self.state.videos
            and self.state.videos[str(i)].open_id == token.open_id
            and self.state.videos[str(i)].create_time <= self.state.now()
        ]
        return self._v2_ok(
            {
                "videos": [self._video_json(request, v, fields) for v in owned],
                "cursor": 0,
                "has_more": False,
            }
        )

    # ------------------------------------------------------------------ Business API

    def _business_auth(
        self, request: Request, scope: str, business_id: Any
    ) -> tuple[AccessToken, Creator] | Response:
        token = request.header("access-token") or ""
        if not token:
            return self._business_error(40104, "Access token is null. Please set Access-Token.")
        record = self.state.access_tokens.get(token)
        if record is None or record.revoked:
            return self._business_error(40105, "Access token is incorrect or has been revoked.")
        if record.expires_at <= self.state.now():
            return self._business_error(40102, "Access token has expired.")
        if scope not in record.scopes:
            return self._business_error(
                40001, f"No permission to operate. The scope {scope} was not authorized."
            )
        if business_id != record.open_id:
            return self._business_error(40002, "business_id does not match the access token.")
        return record, self.state.creators[record.open_id]

    def _json_param(self, request: Request, name: str, default: Any) -> Any:
        raw = request.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return _Invalid(name)

    def business_get(self, request: Request) -> Response:
        auth = self._business_auth(request, "user.insights", request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        fields = self._json_param(request, "fields", ["display_name", "profile_image"])
        if isinstance(fields, _Invalid) or not isinstance(fields, list):
            return self._business_error(40002, "fields must be a JSON array of strings.")
        state = self.state
        now = state.now()
        today = dt.date.fromtimestamp(now)
        yesterday = today - dt.timedelta(days=1)
        data: dict[str, Any] = {}
        videos = state.listed_videos(creator.open_id, public_only=False)
        profile: dict[str, Any] = {
            "is_business_account": creator.is_business,
            "username": creator.username,
            "display_name": creator.nickname,
            "profile_image": self._avatar_url(request, creator),
            "profile_deep_link": f"https://www.tiktok.com/@{creator.username}",
            "bio_description": creator.bio,
            "is_verified": creator.is_verified,
            "following_count": creator.following_count,
            "followers_count": state.followers_on(creator, today),
            "total_likes": sum(state.video_stats(v, now)["like_count"] for v in videos),
            "videos_count": len(videos),
            "audience_ages": _breakdown(
                creator, "ages", ["18-24", "25-34", "35-44", "45-54", "55+"]
            ),
            "audience_genders": _breakdown(creator, "genders", ["Female", "Male", "Other"]),
            "audience_countries": _breakdown(creator, "countries", ["US", "GB", "DE", "FR", "BR"]),
        }
        for name in fields:
            if name in profile:
                data[name] = profile[name]
        if "metrics" in fields or any(f in _METRIC_FIELDS for f in fields):
            try:
                end = dt.date.fromisoformat(request.query.get("end_date") or yesterday.isoformat())
                start = dt.date.fromisoformat(
                    request.query.get("start_date") or (end - dt.timedelta(days=6)).isoformat()
                )
            except ValueError:
                return self._business_error(40002, "start_date/end_date must be YYYY-MM-DD.")
            if end > yesterday:
                return self._business_error(40002, "end_date must be no later than yesterday.")
            if start > end:
                return self._business_error(40002, "start_date must not be after end_date.")
            if (end - start).days + 1 > 60:
                return self._business_error(40002, "The date range may span at most 60 days.")
            wanted = [f for f in fields if f in _METRIC_FIELDS] or sorted(_METRIC_FIELDS)
            oldest = today - dt.timedelta(days=90)
            rows = []
            day = max(start, oldest)
            while day <= end:
                metric = state.daily_metric(creator, day)
                rows.append({"date": metric["date"], **{f: metric[f] for f in wanted}})
                day += dt.timedelta(days=1)
            data["metrics"] = rows
        return self._business_ok(data)

    def business_video_list(self, request: Request) -> Response:
        auth = self._business_auth(request, "video.list", request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        token, creator = auth
        if "video.insights" not in token.scopes:
            return self._business_error(40001, "No permission: video.insights not authorized.")
        fields = self._json_param(request, "fields", ["item_id"])
        filters = self._json_param(request, "filters", {})
        if not isinstance(fields, list) or not isinstance(filters, dict):
            return self._business_error(40002, "fields/filters must be JSON.")
        try:
            max_count = int(request.query.get("max_count", "20"))
            cursor = int(request.query.get("cursor") or 0)
        except ValueError:
            return self._business_error(40002, "max_count and cursor must be integers.")
        if not 1 <= max_count <= 20:
            return self._business_error(40002, "max_count must be between 1 and 20.")
        videos = self.state.listed_videos(creator.open_id, public_only=False)
        ids = filters.get("video_ids")
        if isinstance(ids, list):
            wanted = {str(i) for i in ids}
            videos = [v for v in videos if v.id in wanted]
        if cursor:
            videos = [v for v in videos if int(v.create_time * 1000) < cursor]
        page = videos[:max_count]
        return self._business_ok(
            {
                "videos": [self._business_video(request, v, fields) for v in page],
                "cursor": int(page[-1].create_time * 1000) if page else cursor,
                "has_more": len(videos) > max_count,
            }
        )

    def _business_video(
        self, request: Request, video: SimVideo, fields: list[Any]
    ) -> dict[str, Any]:
        creator = self.state.creators[video.open_id]
        stats = self.state.video_stats(video, self.state.now())
        views = stats["view_count"]
        watched = round(video.duration * (0.35 + video.like_rate * 2), 2)
        values: dict[str, Any] = {
            "item_id": video.id,
            "media_type": video.media_type,
            "is_ad": False,
            "create_time": str(int(video.create_time)),  # Business sends epochs as strings
            "thumbnail_url": self._cover_url(request, video),
            "share_url": f"https://www.tiktok.com/@{creator.username}/video/{video.id}",
            "embed_url": f"https://www.tiktok.com/player/v1/{video.id}",
            "caption": video.title,
            "video_duration": float(video.duration),
            "likes": stats["like_count"],
            "comments": stats["comment_count"],
            "shares": stats["share_count"],
            "favorites": int(stats["like_count"] * 0.2),
            "reach": int(views * 0.82),
            "video_views": views,
            "total_time_watched": round(views * watched, 1),
            "average_time_watched": watched,
            "full_video_watched_rate": round(min(0.95, 0.12 + video.like_rate * 3), 3),
            "new_followers": int(views * 0.002),
            "profile_views": int(views * 0.03),
            "impression_sources": [
                {"impression_source": "For You", "percentage": 0.71},
                {"impression_source": "Follow", "percentage": 0.14},
                {"impression_source": "Personal Profile", "percentage": 0.09},
                {"impression_source": "Search", "percentage": 0.06},
            ],
        }
        return {f: values[f] for f in fields if isinstance(f, str) and f in values}

    def _owned_video(self, creator: Creator, video_id: Any) -> SimVideo | Response:
        video = self.state.videos.get(str(video_id))
        if video is None or video.open_id != creator.open_id:
            return self._business_error(40002, "video_id does not belong to this business.")
        self.state.materialize_comments(video)
        return video

    def _comment_json(self, comment_id: str, *, with_replies: bool = False) -> dict[str, Any]:
        comment = self.state.comments[comment_id]
        replies = [r for r in comment.reply_ids if not self.state.comments[r].deleted]
        data: dict[str, Any] = {
            "comment_id": comment.comment_id,
            "video_id": comment.video_id,
            "parent_comment_id": comment.parent_comment_id or comment.comment_id,
            "unique_identifier": comment.unique_identifier,
            "username": comment.username,
            "display_name": comment.display_name,
            "profile_image": f"https://p16.tiktokcdn.test/avatar/{comment.unique_identifier}.jpeg",
            "text": comment.text,
            "create_time": str(comment.create_time),
            "likes": comment.likes,
            "replies": len(replies),
            "owner": comment.owner,
            "liked": comment.liked,
            "pinned": comment.pinned,
            "status": comment.status,
        }
        if with_replies:
            data["reply_list"] = [self._comment_json(r) for r in replies]
        return data

    def _page_params(self, request: Request, limit: int) -> tuple[int, int] | Response:
        try:
            max_count = int(request.query.get("max_count", str(limit)))
            cursor = int(request.query.get("cursor") or 0)
        except ValueError:
            return self._business_error(40002, "max_count and cursor must be integers.")
        if not 1 <= max_count <= limit:
            return self._business_error(40002, f"max_count must be between 1 and {limit}.")
        if cursor < 0:
            return self._business_error(40002, "cursor must be >= 0.")
        return cursor, max_count

    def _sorted_comments(self, ids: list[str], request: Request) -> list[str] | Response:
        sort_field = request.query.get("sort_field", "create_time")
        order = request.query.get("sort_order", "desc")
        if sort_field not in ("create_time", "likes", "replies") or order not in (
            "asc", "desc", "smart"
        ):  # fmt: skip
            return self._business_error(40002, "Invalid sort_field or sort_order.")
        comments = self.state.comments

        def key(comment_id: str) -> tuple[int, str]:
            c = comments[comment_id]
            value = {"create_time": c.create_time, "likes": c.likes, "replies": len(c.reply_ids)}
            return value[sort_field], c.comment_id

        return sorted(ids, key=key, reverse=order != "asc")

    def business_comment_list(self, request: Request) -> Response:
        auth = self._business_auth(request, "comment.list", request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, request.query.get("video_id"))
        if isinstance(video, Response):
            return video
        paging = self._page_params(request, 30)
        if isinstance(paging, Response):
            return paging
        cursor, max_count = paging
        status = request.query.get("status", "ALL")
        if status not in ("ALL", "PUBLIC"):
            return self._business_error(40002, "status must be ALL or PUBLIC.")
        ids = [
            cid
            for cid in self.state.video_comments.get(video.id, [])
            if not self.state.comments[cid].deleted
            and (status == "ALL" or self.state.comments[cid].status == "PUBLIC")
        ]
        wanted = self._json_param(request, "comment_ids", None)
        if isinstance(wanted, list):
            ids = [cid for cid in ids if cid in {str(w) for w in wanted}]
        ordered = self._sorted_comments(ids, request)
        if isinstance(ordered, Response):
            return ordered
        include = request.query.get("include_replies", "false").lower() == "true"
        page = ordered[cursor : cursor + max_count]
        return self._business_ok(
            {
                "comments": [self._comment_json(c, with_replies=include) for c in page],
                "cursor": cursor + len(page),
                "has_more": cursor + len(page) < len(ordered),
            }
        )

    def business_reply_list(self, request: Request) -> Response:
        auth = self._business_auth(request, "comment.list", request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, request.query.get("video_id"))
        if isinstance(video, Response):
            return video
        parent = self.state.comments.get(request.query.get("comment_id", ""))
        if parent is None or parent.video_id != video.id or parent.deleted:
            return self._business_error(40002, "comment_id does not exist on this video.")
        paging = self._page_params(request, 30)
        if isinstance(paging, Response):
            return paging
        cursor, max_count = paging
        ids = [r for r in parent.reply_ids if not self.state.comments[r].deleted]
        ordered = self._sorted_comments(ids, request)
        if isinstance(ordered, Response):
            return ordered
        page = ordered[cursor : cursor + max_count]
        return self._business_ok(
            {
                "comments": [self._comment_json(c) for c in page],
                "cursor": cursor + len(page),
                "has_more": cursor + len(page) < len(ordered),
            }
        )

    def _business_body(self, request: Request) -> dict[str, Any]:
        body = request.json()
        return body if isinstance(body, dict) else {}

    def _check_text(self, text: Any) -> Response | None:
        if not isinstance(text, str) or not text.strip() or len(text) > 150:
            return self._business_error(40002, "text must be 1-150 characters.")
        return None

    def business_comment_create(self, request: Request) -> Response:
        body = self._business_body(request)
        auth = self._business_auth(request, "comment.list.manage", body.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, body.get("video_id"))
        if isinstance(video, Response):
            return video
        problem = self._check_text(body.get("text"))
        if problem is not None:
            return problem
        comment = self.state.add_comment(
            video=video, text=body["text"], parent_id=None, by_owner=True
        )
        return self._business_ok(self._comment_json(comment.comment_id))

    def business_reply_create(self, request: Request) -> Response:
        body = self._business_body(request)
        auth = self._business_auth(request, "comment.list.manage", body.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, body.get("video_id"))
        if isinstance(video, Response):
            return video
        parent = self.state.comments.get(str(body.get("comment_id", "")))
        if parent is None or parent.video_id != video.id or parent.deleted:
            return self._business_error(40002, "comment_id does not exist on this video.")
        problem = self._check_text(body.get("text"))
        if problem is not None:
            return problem
        # Replies to replies attach to the top-level thread, as in the app.
        root = parent.parent_comment_id or parent.comment_id
        comment = self.state.add_comment(
            video=video, text=body["text"], parent_id=root, by_owner=True
        )
        return self._business_ok(self._comment_json(comment.comment_id))

    def _action_target(
        self, request: Request, actions: tuple[str, str], *, needs_video: bool
    ) -> tuple[dict[str, Any], Any] | Response:
        body = self._business_body(request)
        auth = self._business_auth(request, "comment.list.manage", body.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        if needs_video:
            video = self._owned_video(creator, body.get("video_id"))
            if isinstance(video, Response):
                return video
        comment = self.state.comments.get(str(body.get("comment_id", "")))
        owner_video = self.state.videos.get(comment.video_id) if comment else None
        if (
            comment is None
            or comment.deleted
            or owner_video is None
            or (owner_video.open_id != creator.open_id)
            or (needs_video and comment.video_id != str(body.get("video_id")))
        ):
            return self._business_error(40002, "comment_id does not exist.")
        if body.get("action") not in actions and actions != ("", ""):
            return self._business_error(40002, f"action must be {actions[0]} or {actions[1]}.")
        return body, comment

    def business_comment_hide(self, request: Request) -> Response:
        target = self._action_target(request, ("HIDE", "UNHIDE"), needs_video=True)
        if isinstance(target, Response):
            return target
        body, comment = target
        comment.status = "HIDDEN" if body["action"] == "HIDE" else "PUBLIC"
        return self._business_ok({})

    def business_comment_pin(self, request: Request) -> Response:
        target = self._action_target(request, ("PIN", "UNPIN"), needs_video=True)
        if isinstance(target, Response):
            return target
        body, comment = target
        if comment.parent_comment_id is not None:
            return self._business_error(40002, "Only top-level comments can be pinned.")
        if body["action"] == "PIN":
            for other_id in self.state.video_comments.get(comment.video_id, []):
                self.state.comments[other_id].pinned = False
        comment.pinned = body["action"] == "PIN"
        return self._business_ok({})

    def business_comment_like(self, request: Request) -> Response:
        target = self._action_target(request, ("LIKE", "UNLIKE"), needs_video=False)
        if isinstance(target, Response):
            return target
        body, comment = target
        want = body["action"] == "LIKE"
        if want != comment.liked:
            comment.likes += 1 if want else -1
        comment.liked = want
        return self._business_ok({})

    def business_comment_delete(self, request: Request) -> Response:
        target = self._action_target(request, ("", ""), needs_video=False)
        if isinstance(target, Response):
            return target
        _, comment = target
        if not comment.owner:
            return self._business_error(
                40002, "Only comments posted by the business account can be deleted."
            )
        comment.deleted = True
        for reply_id in comment.reply_ids:
            self.state.comments[reply_id].deleted = True
        return self._business_ok({})

    # ------------------------------------------------------------------ /_sim control

    def _dispatch_control(self, request: Request) -> Response:
        from tiktok_client.simulator.control import dispatch_control

        if request.path.startswith("/_sim/media/"):
            return self.media(request)
        return dispatch_control(self, request)


class _Invalid:
    def __init__(self, name: str) -> None:
        self.name = name


_METRIC_FIELDS = frozenset(
    {
        "video_views", "unique_video_views", "profile_views", "likes", "comments", "shares",
        "daily_total_followers", "daily_new_followers", "daily_lost_followers", "reach",
        "engaged_audience", "bio_link_clicks",
    }
)  # fmt: skip


def _breakdown(creator: Creator, kind: str, labels: list[str]) -> list[dict[str, Any]]:
    import random

    rng = random.Random(f"{creator.open_id}:{kind}")
    weights = [rng.uniform(1, 10) for _ in labels]
    total = sum(weights)
    key = {"ages": "age", "genders": "gender", "countries": "country"}[kind]
    return [
        {key: label, "percentage": round(w / total, 4)}
        for label, w in zip(labels, weights, strict=True)
    ]


def _challenge_matches(challenge: str, verifier: str) -> bool:
    import base64

    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    candidates = {digest.hex(), base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")}
    return challenge in candidates or challenge.lower() == digest.hex()


def _url_verified(url: str, app: SimApp) -> bool:
    return url.startswith("https://") and any(url.startswith(p) for p in app.verified_url_prefixes)


def _new_code(
    code: str,
    app: SimApp,
    redirect_uri: str,
    open_id: str,
    scopes: list[str],
    challenge: str | None,
    now: float,
) -> Any:
    from tiktok_client.simulator.models import AuthCode

    return AuthCode(
        code=code,
        client_key=app.client_key,
        redirect_uri=redirect_uri,
        open_id=open_id,
        scopes=tuple(scopes),
        code_challenge=challenge or None,
        created_at=now,
    )


def _error_page(field: str, message: str) -> str:
    return (
        "<!doctype html><html><head><title>TikTok (simulator) - error</title></head><body>"
        f"<h1>Something went wrong</h1><p id='error' data-field='{html.escape(field)}'>"
        f"{html.escape(message)}</p></body></html>"
    )


def create_app(*, seed: int = 1234, speed: float = 1.0, **settings: Any) -> SimulatorApp:
    """Build a fresh simulator; ``settings`` override ``SimSettings`` fields."""
    state = SimState(seed=seed, clock=SimClock(speed=speed), settings=SimSettings(**settings))
    return SimulatorApp(state)


__all__ = ["DEFAULT_CLIENT_KEY", "PUBLIC", "DropConnection", "SimulatorApp", "create_app"]

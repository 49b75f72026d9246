"""Who may call what: token, app and scope checks for Open API v2 and the Business API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tiktok_client.simulator.envelopes import business_error, v2_error
from tiktok_client.simulator.models import AccessToken, Creator
from tiktok_client.simulator.rules import V2_RATE_LIMITS
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

# The per-app window spans every account and endpoint of one Business app.
BUSINESS_APP_WINDOW = "/open_api/v1.3/*"
Handler = Callable[[Request], Response]
RouteTable = dict[tuple[str, str], Handler]


def bearer_token(request: Request) -> str:
    auth = request.header("authorization") or ""
    return auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""


def v2_auth(state: SimState, request: Request, *scopes: str) -> AccessToken | Response:
    """§5.5, §5.7: a live Login Kit token holding one of ``scopes``, then the endpoint's rate
    window (§5.10). Business tokens are not Open API tokens."""
    token = bearer_token(request)
    record = state.live_access_token(token) if token else None
    if record is None or state.app_kind(record.client_key) != "login_kit":
        return v2_error(
            401, "access_token_invalid", "The access token is invalid or not found in the request."
        )
    if scopes and not any(scope in record.scopes for scope in scopes):
        return v2_error(
            401,
            "scope_not_authorized",
            f"The user did not authorize the scope required: {' or '.join(scopes)}.",
        )
    limit = V2_RATE_LIMITS.get(request.path)
    if limit is not None:
        wait = state.rate_limited(record.token, request.path, limit)
        if wait:
            response = v2_error(429, "rate_limit_exceeded", "The API rate limit was exceeded.")
            response.headers.append(("Retry-After", str(int(wait) + 1)))
            return response
    return record


def business_auth(
    state: SimState, request: Request, business_id: object, scopes: Iterable[str] = ()
) -> tuple[AccessToken, Creator] | Response:
    """Corrections: only tokens of an API for Business app work here (a Login Kit token is
    refused with HTTP 200 and a non-zero code), ``business_id`` is the open_id that app's token
    exchange returned, and each needed scope must have been granted (40130)."""
    token = request.header("access-token") or ""
    if not token:
        return business_error(40104)
    record = state.access_tokens.get(token)
    if record is None or record.revoked:
        return business_error(40105)
    if state.app_kind(record.client_key) != "business":
        return business_error(40105)
    if record.expires_at <= state.now():
        return business_error(40102)
    if business_id != record.open_id:
        return business_error(40002, "business_id is invalid for this access token.")
    missing = sorted(set(scopes) - set(record.scopes))
    if missing:
        return business_error(40130, f"The scope is not authorized: {','.join(missing)}.")
    settings = state.settings
    app_window = (f"app:{record.client_key}", BUSINESS_APP_WINDOW)
    if state.rate_limited(*app_window, settings.business_app_rate_limit) or state.rate_limited(
        record.creator_id, request.path, settings.business_rate_limit
    ):
        return business_error(40100)
    return record, state.creators[record.creator_id]


def personal_account_refused(creator: Creator) -> Response | None:
    """[U] in the sheet (Corrections, "Account types"): which Business endpoints answer for a
    Personal account is unconfirmed. The simulator takes the strict reading: profile fields of
    /business/get/ work (``is_business_account=false``); insights, video insights and comments
    answer 40001 (permission), so the product must show what a Business account would add."""
    if creator.is_business:
        return None
    return business_error(
        40001, "No permission: this endpoint is only available to Business accounts."
    )

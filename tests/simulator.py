"""The TikTok simulator for tests: a threaded server on a loopback port, settings pointed at it,
and accounts that hold real simulator tokens (the OAuth flow itself is tested in tests/accounts).

The simulator models TikTok's two apps (tiktok_client/README.md): Login Kit tokens for posting
and Display, API for Business tokens (with their own open_id, the ``business_id``) for comments
and insights. ``account_with_simulator_tokens`` gives a Business account both, as the Connect
button's two consents leave it; the simulator is as strict as TikTok (no leniency).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import AccountType, BusinessStatus, TikTokAccount, Workspace
from tiktok_client.config import BUSINESS_SCOPES, LOGIN_KIT_SCOPES
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID, SimulatorApp, create_app
from tiktok_client.simulator.server import run_in_thread

SIM_BUSINESS_SCOPES: tuple[str, ...] = BUSINESS_SCOPES


@contextmanager
def running_simulator(settings: Any, **app_options: Any) -> Iterator[tuple[SimulatorApp, str]]:
    """Serve a fresh simulator and point the product's TIKTOK_* settings at it."""
    app = create_app(**app_options)
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = base_url + "/open_api/v1.3"
    settings.TIKTOK_BUSINESS_REDIRECT_URI = (
        "http://localhost:8000/connect/tiktok/business/callback/"
    )
    try:
        yield app, base_url
    finally:
        app.state.webhooks.stop()
        stop()


def issue_business_tokens(
    app: SimulatorApp,
    *,
    open_id: str,
    scopes: Sequence[str] = SIM_BUSINESS_SCOPES,
    app_id: str = DEFAULT_BUSINESS_APP_ID,
) -> dict[str, Any]:
    """Business tokens for creator ``open_id`` (the creator key, e.g. ``sim-cafe-business``),
    as ``/tt_user/oauth2/token/`` returns them in ``data``; ``["open_id"]`` is the business_id."""
    with app.state.lock:
        return app.state.issue_business_tokens(
            creator_id=open_id, scopes=tuple(scopes), app_id=app_id
        )


def _business_fields(tokens: dict[str, Any], scopes: Sequence[str]) -> dict[str, Any]:
    now = timezone.now()
    return {
        "business_id": str(tokens["open_id"]),
        "business_status": BusinessStatus.CONNECTED,
        "business_scopes": list(scopes),
        "business_access_token_encrypted": encrypt_token(str(tokens["access_token"])),
        "business_refresh_token_encrypted": encrypt_token(str(tokens["refresh_token"])),
        "business_access_token_expires_at": now + timedelta(seconds=int(tokens["expires_in"])),
        "business_refresh_token_expires_at": now
        + timedelta(seconds=int(tokens["refresh_token_expires_in"])),
    }


def account_with_simulator_tokens(
    app: SimulatorApp,
    workspace: Workspace,
    *,
    open_id: str,
    scopes: Sequence[str],
    account_type: str = AccountType.PERSONAL,
    access_valid_for: timedelta = timedelta(hours=1),
    business_scopes: Sequence[str] | None = None,
    **fields: Any,
) -> TikTokAccount:
    """A connected account whose encrypted tokens were issued by `app` for creator `open_id`.

    Login Kit tokens carry the consumer scopes among `scopes`. A Business account (or one given
    `business_scopes`) also holds a TikTok API for Business token and its ``business_id``; its
    scopes default to the Business ones among `scopes` plus the account type and username.
    """
    login_kit_scopes = [scope for scope in scopes if scope in LOGIN_KIT_SCOPES]
    if business_scopes is None and account_type == AccountType.BUSINESS:
        business_scopes = sorted(
            {"user.account.type", "user.info.username"}
            | {scope for scope in scopes if scope in BUSINESS_SCOPES}
        )
    with app.state.lock:
        tokens = app.state.issue_tokens(open_id=open_id, scopes=tuple(login_kit_scopes))
        creator = app.state.creators.get(open_id)
    if business_scopes:
        business = issue_business_tokens(app, open_id=open_id, scopes=business_scopes)
        fields = {**_business_fields(business, business_scopes), **fields}
    now = timezone.now()
    fields.setdefault("username", creator.username if creator else open_id)
    fields.setdefault("display_name", creator.nickname if creator else open_id)
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=open_id,
        account_type=account_type,
        scopes=login_kit_scopes,
        access_token_encrypted=encrypt_token(str(tokens["access_token"])),
        refresh_token_encrypted=encrypt_token(str(tokens["refresh_token"])),
        access_token_expires_at=now + access_valid_for,
        refresh_token_expires_at=now + timedelta(seconds=int(tokens["refresh_expires_in"])),
        **fields,
    )

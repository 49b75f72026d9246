"""The TikTok simulator for tests: a threaded server on a loopback port, settings pointed at it,
and accounts that hold real simulator tokens (the OAuth flow itself is tested in tests/accounts)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import AccountType, TikTokAccount, Workspace
from tiktok_client.simulator import SimulatorApp, create_app
from tiktok_client.simulator.server import run_in_thread


@contextmanager
def running_simulator(settings: Any, **app_options: Any) -> Iterator[tuple[SimulatorApp, str]]:
    """Serve a fresh simulator and point the product's TIKTOK_* settings at it."""
    app = create_app(**app_options)
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = base_url + "/open_api/v1.3"
    try:
        yield app, base_url
    finally:
        stop()


def account_with_simulator_tokens(
    app: SimulatorApp,
    workspace: Workspace,
    *,
    open_id: str,
    scopes: Sequence[str],
    account_type: str = AccountType.PERSONAL,
    access_valid_for: timedelta = timedelta(hours=20),
    **fields: Any,
) -> TikTokAccount:
    """A connected account whose encrypted tokens were issued by `app` for `open_id`."""
    with app.state.lock:
        tokens = app.state.issue_tokens(open_id=open_id, scopes=tuple(scopes))
        creator = app.state.creators.get(open_id)
    now = timezone.now()
    fields.setdefault("username", creator.username if creator else open_id)
    fields.setdefault("display_name", creator.nickname if creator else open_id)
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=open_id,
        account_type=account_type,
        scopes=list(scopes),
        access_token_encrypted=encrypt_token(str(tokens["access_token"])),
        refresh_token_encrypted=encrypt_token(str(tokens["refresh_token"])),
        access_token_expires_at=now + access_valid_for,
        refresh_token_expires_at=now + timedelta(days=300),
        **fields,
    )

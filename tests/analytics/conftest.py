"""Analytics fixtures: a threaded TikTok simulator and accounts holding its tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.crypto import encrypt_token
from accounts.models import AccountType, TikTokAccount, Workspace
from tiktok_client.simulator import SimulatorApp, create_app
from tiktok_client.simulator.server import run_in_thread

BUSINESS_SCOPES = (
    "user.info.basic",
    "user.info.stats",
    "video.list",
    "user.insights",
    "video.insights",
)
PERSONAL_SCOPES = ("user.info.basic", "user.info.stats", "video.list")


@pytest.fixture
def sim_app(settings) -> Iterator[SimulatorApp]:  # type: ignore[no-untyped-def]
    app = create_app()
    base_url, stop = run_in_thread(port=0, app=app)
    settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_OPEN_API_BASE_URL = base_url
    settings.TIKTOK_BUSINESS_API_BASE_URL = base_url + "/open_api/v1.3"
    try:
        yield app
    finally:
        stop()


def connect_sim_account(
    app: SimulatorApp, workspace: Workspace, *, open_id: str, business: bool
) -> TikTokAccount:
    scopes = BUSINESS_SCOPES if business else PERSONAL_SCOPES
    with app.state.lock:
        tokens = app.state.issue_tokens(open_id=open_id, scopes=scopes)
    now = timezone.now()
    return TikTokAccount.objects.create(
        workspace=workspace,
        open_id=open_id,
        username=open_id,
        display_name=open_id,
        account_type=AccountType.BUSINESS if business else AccountType.PERSONAL,
        scopes=list(scopes),
        access_token_encrypted=encrypt_token(str(tokens["access_token"])),
        refresh_token_encrypted=encrypt_token(str(tokens["refresh_token"])),
        access_token_expires_at=now + timedelta(seconds=int(tokens["expires_in"])),
        refresh_token_expires_at=now + timedelta(days=300),
    )

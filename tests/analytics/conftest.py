"""Analytics fixtures: a threaded TikTok simulator and accounts holding its tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.models import AccountType, TikTokAccount, Workspace
from tests.simulator import account_with_simulator_tokens, running_simulator
from tiktok_client.simulator import SimulatorApp

BUSINESS_SCOPES = (
    "user.info.basic",
    "user.info.stats",
    "video.list",
    "user.insights",
    "video.insights",
)
PERSONAL_SCOPES = ("user.info.basic", "user.info.stats", "video.list")


@pytest.fixture
def sim_app(settings) -> Iterator[SimulatorApp]:
    with running_simulator(settings) as (app, _base_url):
        yield app


def connect_sim_account(
    app: SimulatorApp, workspace: Workspace, *, open_id: str, business: bool
) -> TikTokAccount:
    return account_with_simulator_tokens(
        app,
        workspace,
        open_id=open_id,
        scopes=BUSINESS_SCOPES if business else PERSONAL_SCOPES,
        account_type=AccountType.BUSINESS if business else AccountType.PERSONAL,
        username=open_id,
        display_name=open_id,
    )

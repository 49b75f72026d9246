"""Local TikTok simulator: same paths, envelopes, limits and status machine as TikTok.

In tests mount it in-process with ``httpx.WSGITransport(app=create_app())``; from a shell
run ``python -m tiktok_client.simulator --port 8765``.
"""

from tiktok_client.simulator.app import SimulatorApp, create_app
from tiktok_client.simulator.clock import SimClock
from tiktok_client.simulator.content import seeded_creators
from tiktok_client.simulator.faults import FAULT_KINDS, SimCounters, SimFaults
from tiktok_client.simulator.settings import SimSettings
from tiktok_client.simulator.state import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_BUSINESS_APP_SECRET,
    DEFAULT_BUSINESS_REDIRECT_URIS,
    DEFAULT_CLIENT_KEY,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    SimState,
)

__all__ = [
    "DEFAULT_BUSINESS_APP_ID",
    "DEFAULT_BUSINESS_APP_SECRET",
    "DEFAULT_BUSINESS_REDIRECT_URIS",
    "DEFAULT_CLIENT_KEY",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URIS",
    "FAULT_KINDS",
    "SimClock",
    "SimCounters",
    "SimFaults",
    "SimSettings",
    "SimState",
    "SimulatorApp",
    "create_app",
    "seeded_creators",
]

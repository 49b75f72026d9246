"""OAuth state/PKCE abuse on the TikTok connect flow, against the simulator: nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from accounts.models import Membership, Role, TikTokAccount, TikTokOAuthState, User, Workspace
from tests.accounts.conftest import CALLBACK_PATH, Sim, callback_path, consent, start_connect
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CREATOR = "sim-ava-public"


def _param(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


def _callback(state: str | None, code: str | None) -> str:
    query = {k: v for k, v in (("state", state), ("code", code)) if v is not None}
    return f"{CALLBACK_PATH}?{urlencode(query)}"


class Ledger:
    """What the attack must not produce: token grants at TikTok and rows or tokens with us."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.granted = self._granted()
        self.accounts = self._accounts()

    def _granted(self) -> int:
        with self.sim.state.lock:
            return len(self.sim.state.access_tokens)

    @staticmethod
    def _accounts() -> list[tuple[str, bytes, bytes]]:
        return sorted(
            (str(a.workspace_id), bytes(a.access_token_encrypted), bytes(a.refresh_token_encrypted))
            for a in TikTokAccount.objects.unscoped()
        )

    def assert_unchanged(self) -> None:
        assert self._granted() == self.granted, "TikTok issued tokens for a refused callback"
        assert self._accounts() == self.accounts, "an account or token was stored"


def _refused(response: object, sentence: bytes) -> None:
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert sentence in response.content  # type: ignore[attr-defined]


def test_replayed_state_with_a_fresh_code_is_refused_before_any_exchange(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    authorize = start_connect(client, workspace)
    assert (
        client.get(callback_path(consent(security_sim, authorize, open_id=CREATOR))).status_code
        == 302
    )
    ledger = Ledger(security_sim)
    exchanges = security_sim.token_calls()
    # TikTok happily issues a second code for the same authorize URL; the state is spent.
    again = callback_path(consent(security_sim, authorize, open_id=CREATOR))
    _refused(client.get(again), b"already used")
    assert security_sim.token_calls() == exchanges
    ledger.assert_unchanged()


def test_state_started_by_another_admin_is_refused(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    other_admin = UserFactory.create()
    MembershipFactory.create(workspace=workspace, user=other_admin, role=Role.ADMIN)
    location = consent(security_sim, start_connect(client_for(owner), workspace), open_id=CREATOR)
    ledger = Ledger(security_sim)
    _refused(client_for(other_admin).get(callback_path(location)), b"another user")
    assert security_sim.token_calls() == 0
    ledger.assert_unchanged()


def test_state_from_another_session_of_the_same_user_is_refused(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    location = consent(security_sim, start_connect(client_for(owner), workspace), open_id=CREATOR)
    ledger = Ledger(security_sim)
    _refused(client_for(owner).get(callback_path(location)), b"another browser session")
    assert security_sim.token_calls() == 0
    ledger.assert_unchanged()


def test_attackers_state_cannot_plant_a_victims_tiktok_in_the_attackers_workspace(
    security_sim: Sim,
    owner: User,
    outsider: User,
    workspace: Workspace,
    other_workspace: Workspace,
    client_for: Callable[[User], Client],
) -> None:
    """OAuth login CSRF: the attacker starts a flow for their workspace and lures the victim."""
    MembershipFactory.create(workspace=other_workspace, user=owner, role=Role.VIEWER)
    attacker_authorize = start_connect(client_for(outsider), other_workspace)
    victim = client_for(owner)
    location = consent(security_sim, attacker_authorize, open_id="sim-cafe-business")
    ledger = Ledger(security_sim)
    refused = victim.get(callback_path(location))
    _refused(refused, b"another user")
    # The error page links nowhere near the attacker's workspace, though the victim could see it.
    assert f"/w/{other_workspace.id}/accounts/".encode() not in refused.content
    assert security_sim.token_calls() == 0
    ledger.assert_unchanged()
    # A viewer of that workspace cannot mint a state for it, and a stranger cannot either.
    states = TikTokOAuthState.objects.unscoped().count()
    assert victim.post(f"/w/{other_workspace.id}/accounts/connect/").status_code == 403
    assert (
        client_for(UserFactory.create()).post(f"/w/{workspace.id}/accounts/connect/").status_code
        == 404
    )
    assert TikTokOAuthState.objects.unscoped().count() == states


def test_state_minted_before_losing_the_admin_role_is_refused(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    admin = UserFactory.create()
    membership = MembershipFactory.create(workspace=workspace, user=admin, role=Role.ADMIN)
    client = client_for(admin)
    location = consent(security_sim, start_connect(client, workspace), open_id=CREATOR)
    Membership.objects.for_workspace(workspace).filter(pk=membership.pk).delete()
    ledger = Ledger(security_sim)
    _refused(client.get(callback_path(location)), b"not valid")
    assert security_sim.token_calls() == 0
    ledger.assert_unchanged()


@pytest.mark.parametrize("state", [None, "", "forged-state-value"])
def test_missing_or_forged_state_never_reaches_tiktok(
    state: str | None,
    security_sim: Sim,
    owner: User,
    workspace: Workspace,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(owner)
    location = consent(security_sim, start_connect(client, workspace), open_id=CREATOR)
    ledger = Ledger(security_sim)
    _refused(client.get(_callback(state, _param(location, "code"))), b"not valid")
    assert security_sim.token_calls() == 0
    ledger.assert_unchanged()


def test_tampered_code_is_refused_by_tiktok_and_nothing_is_stored(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    location = consent(security_sim, start_connect(client, workspace), open_id=CREATOR)
    ledger = Ledger(security_sim)
    tampered = _callback(_param(location, "state"), _param(location, "code")[:-2] + "zz")
    response = client.get(tampered)
    assert response.status_code == 400
    assert security_sim.token_calls() == 1
    ledger.assert_unchanged()
    # The state was spent by that attempt: the genuine code cannot ride on it afterwards.
    _refused(client.get(callback_path(location)), b"already used")
    ledger.assert_unchanged()


def test_a_used_code_cannot_be_replayed_with_a_new_state(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    first = consent(security_sim, start_connect(client, workspace), open_id=CREATOR)
    assert client.get(callback_path(first)).status_code == 302
    ledger = Ledger(security_sim)
    fresh_state = _param(start_connect(client, workspace), "state")
    response = client.get(_callback(fresh_state, _param(first, "code")))
    assert response.status_code == 400
    ledger.assert_unchanged()


def test_an_injected_code_fails_pkce_with_another_flows_verifier(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    """A code intercepted from flow A, pasted into flow B: TikTok checks B's PKCE verifier."""
    client = client_for(owner)
    intercepted = consent(
        security_sim, start_connect(client, workspace), open_id="sim-cafe-business"
    )
    own_state = _param(start_connect(client, workspace), "state")
    ledger = Ledger(security_sim)
    response = client.get(_callback(own_state, _param(intercepted, "code")))
    assert response.status_code == 400
    assert security_sim.token_calls() == 1
    ledger.assert_unchanged()


def test_anonymous_callback_stores_nothing(
    security_sim: Sim, owner: User, workspace: Workspace, client_for: Callable[[User], Client]
) -> None:
    location = consent(security_sim, start_connect(client_for(owner), workspace), open_id=CREATOR)
    ledger = Ledger(security_sim)
    _refused(Client().get(callback_path(location)), b"Sign in first")
    assert security_sim.token_calls() == 0
    ledger.assert_unchanged()

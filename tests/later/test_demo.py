"""The quick start's demo: `demo_setup` gives the demo user a café of their own and an agency
over client workspaces, `demo_data` fills each of them through the simulator. Both run at
every start of `make run` and create nothing twice."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.access import membership_resolve
from accounts.models import Agency, Role, TikTokAccount, User, Workspace
from accounts.services import workspace_create
from calendar_app.models import Post
from later.management.commands.demo_setup import (
    DEMO_AGENCY,
    DEMO_AGENCY_CLIENTS,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DEMO_WORKSPACES,
)
from tests.simulator import running_simulator
from tiktok_client.simulator import DEFAULT_CLIENT_KEY

pytestmark = pytest.mark.django_db

DEMO_NAMES = [name for name, _ in DEMO_WORKSPACES]


@pytest.fixture(autouse=True)
def _development(settings: Any) -> None:
    settings.DEBUG = True  # demo_setup refuses to run otherwise


def test_the_demo_user_owns_an_agency_over_client_workspaces_once(client: Client) -> None:
    call_command("demo_setup")
    call_command("demo_setup")

    user = User.objects.get(email=DEMO_EMAIL)
    agency = Agency.objects.get(name=DEMO_AGENCY)
    assert list(agency.members.values_list("user__email", "role")) == [(DEMO_EMAIL, Role.OWNER)]
    clients = list(agency.clients.all())
    assert len(clients) >= 2 and {c.name for c in clients} == DEMO_AGENCY_CLIENTS
    assert sorted(Workspace.objects.values_list("name", flat=True)) == sorted(DEMO_NAMES)
    cafe = Workspace.objects.get(name="Demo Coffee Co.")
    assert cafe.agency_id is None
    assert membership_resolve(user=user, workspace_id=cafe.pk).role == Role.OWNER
    for workspace in clients:
        assert membership_resolve(user=user, workspace_id=workspace.pk).role == Role.OWNER

    client.force_login(user)
    home = client.get(reverse("accounts:agency_home", args=[agency.pk]))
    assert home.status_code == 200
    for workspace in clients:
        assert workspace.name in home.content.decode()


def test_an_earlier_demos_client_workspace_joins_the_agency() -> None:
    """Quick starts before the agency made "Demo Agency Client" the user's own workspace."""
    user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, first_name="Demo")
    earlier = workspace_create(owner=user, name="Demo Agency Client", time_zone="America/New_York")

    call_command("demo_setup")

    earlier.refresh_from_db()
    assert earlier.agency is not None and earlier.agency.name == DEMO_AGENCY
    assert Workspace.objects.filter(name="Demo Agency Client").count() == 1


def test_demo_data_fills_every_demo_workspace_and_adds_nothing_the_second_time(
    settings: Any,
) -> None:
    with running_simulator(settings) as (sim, _):
        sim.state.apps[DEFAULT_CLIENT_KEY].redirect_uris.append(settings.TIKTOK_REDIRECT_URI)
        call_command("demo_setup")
        call_command("demo_data", stdout=StringIO(), stderr=StringIO())
        filled = _counts()
        call_command("demo_data", stdout=StringIO(), stderr=StringIO())
        again = _counts()

    assert set(filled) == set(DEMO_NAMES)
    for name, (accounts, posts) in filled.items():
        assert accounts >= 1 and posts >= 3, (name, accounts, posts)
    assert again == filled


def _counts() -> dict[str, tuple[int, int]]:
    return {
        workspace.name: (
            TikTokAccount.objects.for_workspace(workspace).count(),
            Post.objects.for_workspace(workspace).count(),
        )
        for workspace in Workspace.objects.filter(name__in=DEMO_NAMES)
    }

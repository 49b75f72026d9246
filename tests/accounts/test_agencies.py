"""Agencies: services, who reaches which client (tenancy resolution), the HTML pages and the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import agency_services as services
from accounts import token_services
from accounts.access import membership_resolve, workspace_accesses, workspace_memberships
from accounts.models import Agency, AgencyMember, Membership, Role, User, Workspace
from accounts.services import membership_remove, notification_notify_members
from later.errors import Conflict, NotFound, RoleRequired, ValidationFailed
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> User:
    return UserFactory.create(email="boss@agency.test")


@pytest.fixture
def agency(boss: User) -> Agency:
    return services.agency_create(owner=boss, name="Northwind Social")


def _owner_of(agency: Agency) -> AgencyMember:
    return AgencyMember.objects.select_related("agency", "user").get(agency=agency, role=Role.OWNER)


def _clients(agency: Agency, *names: str) -> list[Workspace]:
    actor = _owner_of(agency)
    return [services.agency_client_create(actor=actor, name=n, time_zone="UTC") for n in names]


def _member(agency: Agency, email: str, role: str, clients: list[Workspace] | None = None) -> User:
    user = UserFactory.create(email=email)
    services.agency_member_add(
        actor=_owner_of(agency),
        email=email,
        role=role,
        all_clients=clients is None,
        client_ids=[c.pk for c in clients or []],
    )
    return user


# --- services ---------------------------------------------------------------------------------


def test_agency_create_makes_the_creator_owner_of_every_client(boss: User) -> None:
    agency = services.agency_create(owner=boss, name="  Northwind  ")
    assert agency.name == "Northwind"
    member = _owner_of(agency)
    assert (member.user, member.all_clients) == (boss, True)
    with pytest.raises(ValidationFailed):
        services.agency_create(owner=boss, name="   ")


def test_client_created_in_the_agency_is_reached_by_its_owner(boss: User, agency: Agency) -> None:
    (acme,) = _clients(agency, "Acme Coffee")
    assert acme.agency == agency
    assert not Membership.objects.for_workspace(acme).exists()
    membership = membership_resolve(user=boss, workspace_id=acme.pk)
    assert (membership.role, membership.via_agency) == (Role.OWNER, agency)


def test_a_second_client_under_the_same_name_is_refused(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    _clients(agency, "Acme Coffee")
    with pytest.raises(Conflict):
        _clients(agency, "  acme coffee ")
    # Another agency may have its own Acme Coffee.
    other = services.agency_create(owner=boss, name="Other Agency")
    assert _clients(other, "Acme Coffee")[0].agency == other
    page = client_for(boss).post(
        reverse("accounts:agency_client_create", args=[agency.pk]),
        {"name": "ACME Coffee", "time_zone": "UTC", "form_token": "dup-1"},
    )
    assert page.status_code == 409
    assert "already has a client named" in page.content.decode()
    assert Workspace.objects.filter(agency=agency).count() == 1


def test_attach_needs_a_workspace_the_actor_owns_and_not_another_agencys(
    boss: User, agency: Agency, outsider: User
) -> None:
    actor = _owner_of(agency)
    mine = WorkspaceFactory.create(name="Mine")
    MembershipFactory.create(workspace=mine, user=boss, role=Role.OWNER)
    theirs = WorkspaceFactory.create(name="Theirs")
    MembershipFactory.create(workspace=theirs, user=outsider, role=Role.OWNER)
    MembershipFactory.create(workspace=theirs, user=boss, role=Role.ADMIN)
    with pytest.raises(NotFound):
        services.agency_client_attach(actor=actor, workspace_id=theirs.pk)
    assert services.agency_client_attach(actor=actor, workspace_id=mine.pk).agency == agency
    with pytest.raises(Conflict):
        services.agency_client_attach(actor=actor, workspace_id=mine.pk)
    rival = services.agency_create(owner=outsider, name="Rival")
    MembershipFactory.create(workspace=WorkspaceFactory.create(), user=outsider, role=Role.OWNER)
    MembershipFactory.create(workspace=mine, user=outsider, role=Role.OWNER)
    with pytest.raises(Conflict):
        services.agency_client_attach(actor=_owner_of(rival), workspace_id=mine.pk)


def test_detach_keeps_an_owner_and_ends_agency_access(boss: User, agency: Agency) -> None:
    acme, bolt = _clients(agency, "Acme", "Bolt")
    chosen = _member(agency, "chosen@agency.test", Role.EDITOR, [acme, bolt])
    services.agency_client_detach(actor=_owner_of(agency), workspace=acme)
    acme.refresh_from_db()
    assert acme.agency is None
    # Nobody owned it directly: the actor does now, as a real member row.
    assert Membership.objects.for_workspace(acme).get(user=boss).role == Role.OWNER
    with pytest.raises(NotFound):
        membership_resolve(user=chosen, workspace_id=acme.pk)
    assert membership_resolve(user=chosen, workspace_id=bolt.pk).role == Role.EDITOR
    assert list(AgencyMember.objects.get(user=chosen).clients.all()) == [bolt]


def test_member_rules_mirror_workspace_roles(boss: User, agency: Agency) -> None:
    (acme,) = _clients(agency, "Acme")
    admin = _member(agency, "admin@agency.test", Role.ADMIN)
    admin_member = AgencyMember.objects.select_related("agency", "user").get(user=admin)
    with pytest.raises(ValidationFailed, match="signed up"):
        services.agency_member_add(actor=admin_member, email="nobody@x.test", role=Role.EDITOR)
    with pytest.raises(RoleRequired):
        services.agency_member_add(actor=admin_member, email=boss.email, role=Role.ADMIN)
    editor = _member(agency, "ed@agency.test", Role.EDITOR)
    with pytest.raises(Conflict):
        services.agency_member_add(actor=admin_member, email=editor.email, role=Role.VIEWER)
    target = AgencyMember.objects.get(user=editor)
    with pytest.raises(ValidationFailed, match="at least one client"):
        services.agency_member_update(
            actor=admin_member, agency_member_id=target.pk, role=Role.VIEWER, all_clients=False
        )
    other_agency_client = _clients(services.agency_create(owner=admin, name="Other"), "X")[0]
    with pytest.raises(ValidationFailed, match="agency's clients"):
        services.agency_member_update(
            actor=admin_member,
            agency_member_id=target.pk,
            role=Role.VIEWER,
            all_clients=False,
            client_ids=[other_agency_client.pk],
        )
    services.agency_member_update(
        actor=admin_member,
        agency_member_id=target.pk,
        role=Role.VIEWER,
        all_clients=False,
        client_ids=[acme.pk],
    )
    owner = _owner_of(agency)
    with pytest.raises(RoleRequired):
        services.agency_member_remove(actor=admin_member, agency_member_id=owner.pk)
    with pytest.raises(Conflict, match="at least one owner"):
        services.agency_member_update(
            actor=owner, agency_member_id=owner.pk, role=Role.ADMIN, all_clients=True
        )
    with pytest.raises(Conflict, match="at least one owner"):
        services.agency_member_remove(actor=owner, agency_member_id=owner.pk)
    services.agency_member_remove(actor=admin_member, agency_member_id=admin_member.pk)
    assert not AgencyMember.objects.filter(user=admin, agency=agency).exists()


# --- who reaches what -------------------------------------------------------------------------


def test_chosen_clients_only_and_the_higher_role_wins(boss: User, agency: Agency) -> None:
    acme, bolt = _clients(agency, "Acme", "Bolt")
    viewer = _member(agency, "v@agency.test", Role.VIEWER, [acme])
    assert membership_resolve(user=viewer, workspace_id=acme.pk).role == Role.VIEWER
    with pytest.raises(NotFound):
        membership_resolve(user=viewer, workspace_id=bolt.pk)
    # A direct membership above the agency role wins, and the other way round.
    MembershipFactory.create(workspace=acme, user=viewer, role=Role.ADMIN)
    direct = membership_resolve(user=viewer, workspace_id=acme.pk)
    assert (direct.role, direct.via_agency, direct._state.adding) == (Role.ADMIN, None, False)
    MembershipFactory.create(workspace=bolt, user=boss, role=Role.VIEWER)
    assert membership_resolve(user=boss, workspace_id=bolt.pk).role == Role.OWNER
    roles = {a.workspace.name: (a.role, a.direct) for a in workspace_accesses(user=viewer)}
    assert roles == {"Acme": (Role.ADMIN, True)}


def test_outsiders_and_other_agencies_reach_nothing(
    boss: User, agency: Agency, outsider: User, other_workspace: Workspace
) -> None:
    (acme,) = _clients(agency, "Acme")
    rival = services.agency_create(owner=outsider, name="Rival")
    assert rival.pk != agency.pk
    with pytest.raises(NotFound):
        membership_resolve(user=outsider, workspace_id=acme.pk)
    with pytest.raises(NotFound):
        membership_resolve(user=boss, workspace_id=other_workspace.pk)
    assert [a.workspace for a in workspace_accesses(user=outsider)] == [other_workspace]


def test_agency_members_are_notified_and_listed_once(boss: User, agency: Agency) -> None:
    (acme,) = _clients(agency, "Acme")
    editor = _member(agency, "ed@agency.test", Role.EDITOR)
    viewer = _member(agency, "v@agency.test", Role.VIEWER)
    MembershipFactory.create(workspace=acme, user=editor, role=Role.VIEWER)
    people = {m.user.email: m.role for m in workspace_memberships(workspace=acme)}
    assert people == {boss.email: Role.OWNER, editor.email: Role.EDITOR, viewer.email: Role.VIEWER}
    notes = notification_notify_members(
        workspace=acme, kind="test", title="Publishing failed", email=False
    )
    assert sorted(n.user.email for n in notes) == sorted([boss.email, editor.email])


def test_last_direct_owner_may_leave_an_agency_client(boss: User, agency: Agency) -> None:
    (acme,) = _clients(agency, "Acme")
    solo = UserFactory.create()
    row = MembershipFactory.create(workspace=acme, user=solo, role=Role.OWNER)
    membership_remove(workspace=acme, actor=row, membership_id=row.pk)
    assert membership_resolve(user=boss, workspace_id=acme.pk).role == Role.OWNER


# --- HTML ----------------------------------------------------------------------------------------


def test_agency_pages_and_a_client_workspace_through_the_agency(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    acme, bolt = _clients(agency, "Acme Coffee", "Bolt Bikes")
    viewer = _member(agency, "v@agency.test", Role.VIEWER, [acme])
    c = client_for(viewer)
    home = c.get(reverse("accounts:agency_home", args=[agency.pk]))
    assert home.status_code == 200
    body = home.content.decode()
    assert "Acme Coffee" in body and "Bolt Bikes" not in body
    assert c.get(reverse("calendar_app:calendar", args=[acme.pk])).status_code == 200
    assert c.get(reverse("calendar_app:calendar", args=[bolt.pk])).status_code == 404
    manage = reverse("accounts:agency_manage", args=[agency.pk])
    assert c.post(manage, {"name": "Hijacked"}).status_code == 403
    add = reverse("accounts:agency_client_create", args=[agency.pk])
    assert c.post(add, {"name": "Sneaky", "time_zone": "UTC"}).status_code == 403
    assert not Workspace.objects.filter(name="Sneaky").exists()


def test_manage_page_adds_clients_and_teammates_once(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    c = client_for(boss)
    url = reverse("accounts:agency_client_create", args=[agency.pk])
    form = {"name": "Acme", "time_zone": "Europe/Paris", "form_token": "tok-1"}
    first = c.post(url, form)
    again = c.post(url, form)
    assert first.status_code == again.status_code == 302
    assert Workspace.objects.filter(agency=agency).count() == 1
    bad = c.post(url, {"name": "", "time_zone": "UTC", "form_token": "tok-2"})
    assert bad.status_code == 400
    assert "Give the workspace a name" in bad.content.decode()
    acme = Workspace.objects.get(agency=agency)
    UserFactory.create(email="new@agency.test")
    added = c.post(
        reverse("accounts:agency_member_add", args=[agency.pk]),
        {
            "email": "new@agency.test",
            "role": "editor",
            "access": "chosen",
            "clients": [str(acme.pk)],
            "form_token": "tok-3",
        },
    )
    assert added.status_code == 302
    grant = AgencyMember.objects.get(user__email="new@agency.test")
    assert (grant.role, grant.all_clients, list(grant.clients.all())) == ("editor", False, [acme])
    page = c.get(reverse("accounts:agency_manage", args=[agency.pk])).content.decode()
    assert "new@agency.test" in page and "1 client" in page
    missing = c.post(
        reverse("accounts:agency_member_add", args=[agency.pk]),
        {"email": "ghost@agency.test", "role": "editor", "access": "all", "form_token": "t4"},
    )
    assert missing.status_code == 400
    assert 'value="ghost@agency.test"' in missing.content.decode()  # what was typed is kept
    assert not mail.outbox


def test_a_resent_branding_form_makes_one_change(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    """A double click, or a resend with a colour edited in between, acts once."""
    c = client_for(boss)
    page = c.get(reverse("accounts:agency_manage", args=[agency.pk])).content.decode()
    branding_form = page.split('data-testid="agency-branding"')[1].split("</form>")[0]
    assert 'name="form_token"' in branding_form
    url = reverse("accounts:agency_branding", args=[agency.pk])
    form = {"accent_color": "#ff9900", "form_token": "brand-1"}
    first = c.post(url, {**form, "primary_color": "#0055aa"})
    stamp = Agency.objects.get(pk=agency.pk).updated_at
    again = c.post(url, {**form, "primary_color": "#123456"})
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    saved = Agency.objects.get(pk=agency.pk)
    assert (saved.primary_color, saved.accent_color) == ("#0055aa", "#ff9900")
    assert saved.updated_at == stamp  # the second submit wrote nothing
    # A refused submit releases its token: the corrected form goes through.
    bad = c.post(url, {"primary_color": "red", "accent_color": "#ff9900", "form_token": "brand-2"})
    assert bad.status_code == 400
    fixed = c.post(
        url, {"primary_color": "#222222", "accent_color": "#ff9900", "form_token": "brand-2"}
    )
    assert fixed.status_code == 302
    assert Agency.objects.get(pk=agency.pk).primary_color == "#222222"


def test_workspace_search_and_recent_workspaces(
    boss: User, agency: Agency, client_for: Callable[[User], Client]
) -> None:
    clients = _clients(agency, *[f"Client {n:03d}" for n in range(12)])
    c = client_for(boss)
    c.get(reverse("calendar_app:calendar", args=[clients[9].pk]))
    c.get(reverse("calendar_app:calendar", args=[clients[7].pk]))
    page = c.get(reverse("accounts:agency_home", args=[agency.pk])).content.decode()
    switcher = page[page.index('id="switcher-results"') :]
    assert (
        switcher.index("Client 007") < switcher.index("Client 009") < switcher.index("Client 000")
    )
    found = c.get(
        reverse("accounts:workspace_list"), {"q": "client 01"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Client 010" in found and "Client 011" in found and "Client 000" not in found
    listed = c.get(reverse("accounts:workspace_list")).content.decode()
    table = listed[listed.index('data-testid="workspace-list"') :]
    assert table.count("Client 0") == 12 and "Northwind Social" in listed


def test_switcher_query_count_does_not_grow_with_workspaces(
    boss: User, agency: Agency, client_for: Callable[[User], Client], django_assert_num_queries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(boss)
    url = reverse("accounts:workspace_create")
    counts = []
    for n in (2, 200):
        _clients(agency, *[f"C{n}-{i}" for i in range(n)])
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


# --- API -----------------------------------------------------------------------------------------


def test_api_manages_an_agency(
    boss: User, api_client_for: Callable[[User], APIClient], outsider: User
) -> None:
    api = api_client_for(boss)
    created = api.post(
        "/api/v1/agencies/", {"name": "Northwind"}, format="json", HTTP_IDEMPOTENCY_KEY="a-1"
    )
    replay = api.post(
        "/api/v1/agencies/", {"name": "Northwind"}, format="json", HTTP_IDEMPOTENCY_KEY="a-1"
    )
    assert created.status_code == replay.status_code == 201
    assert created.json()["id"] == replay.json()["id"]
    assert Agency.objects.count() == 1
    base = f"/api/v1/agencies/{created.json()['id']}/"
    client = api.post(base + "clients/", {"name": "Acme", "time_zone": "UTC"}, format="json")
    assert client.status_code == 201
    assert api.post(base + "clients/", {}, format="json").status_code == 400
    UserFactory.create(email="ed@agency.test")
    member = api.post(
        base + "members/",
        {
            "email": "ed@agency.test",
            "role": "editor",
            "all_clients": False,
            "clients": [client.json()["id"]],
        },
        format="json",
    )
    assert member.status_code == 201
    assert member.json()["clients"] == [client.json()["id"]]
    patched = api.patch(
        base + f"members/{member.json()['id']}/",
        {"role": "viewer", "all_clients": True},
        format="json",
    )
    assert patched.json()["role"] == "viewer" and patched.json()["clients"] == []
    home = api.get(base + "home/").json()
    assert home[0]["client"]["name"] == "Acme"
    assert set(home[0]["figures"]) >= {
        "due",
        "failed",
        "unconfirmed",
        "reconnect",
        "views_week",
        "report",
    }
    stranger = api_client_for(outsider)
    assert stranger.get(base).status_code == 404
    assert stranger.get(base + "home/").status_code == 404
    assert api.delete(base + f"clients/{client.json()['id']}/").status_code == 204
    assert api.get(base + "clients/").json() == []


def test_api_tokens_read_agency_figures_of_their_clients_only(boss: User, agency: Agency) -> None:
    acme, bolt = _clients(agency, "Acme", "Bolt")
    created = token_services.api_token_create(
        user=boss, name="report", access="read_write", workspace_ids=[acme.pk], lifetime_days=30
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    home = api.get(f"/api/v1/agencies/{agency.pk}/home/")
    assert [row["client"]["name"] for row in home.json()] == ["Acme"]
    refused = api.post(f"/api/v1/agencies/{agency.pk}/clients/", {"name": "X"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "token_read_only"
    # The token still works in the client the agency gave access to.
    assert api.get(f"/api/v1/w/{acme.pk}/").status_code == 200
    assert api.get(f"/api/v1/w/{bolt.pk}/").status_code == 404

"""Reads for agencies: their clients and members, and the agency home's one row per client.

The home's figures come from the feature apps, which `accounts` may not import: each app
offers a provider named in `settings.AGENCY_CLIENT_FIGURES` (read with `import_string`). A
provider takes every client at once and answers with a fixed number of queries, so the home
costs the same with 3 clients or 200.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.access import _higher
from accounts.models import (
    AccountStatus,
    Agency,
    AgencyMember,
    BusinessStatus,
    Membership,
    TikTokAccount,
    User,
    Workspace,
)
from later.errors import NotFound
from later.numbers import figure


@dataclass(frozen=True)
class ClientFigure:
    """One cell of the agency home: a count (None: no data), where it leads, and for
    week-on-week figures the previous value."""

    value: int | None
    url: str
    previous: int | None = None
    caption: str = ""

    @property
    def display(self) -> str:
        """The value in the reader's number locale (later/numbers.py), "—" without data."""
        return "—" if self.value is None else figure(self.value)

    @property
    def change(self) -> float | None:
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / self.previous * 100


#: What a provider returns: workspace id -> figure key -> figure.
ClientFigures = dict[Any, dict[str, ClientFigure]]
FigureProvider = Callable[..., ClientFigures]


@dataclass(frozen=True)
class CountColumn:
    key: str
    heading: str
    #: What the number counts, for screen readers ("3 failed posts in Acme").
    what: str
    #: A non-zero value needs someone's attention.
    alert: bool = False


#: The home's count columns, in order (views and the report have their own cells).
COUNT_COLUMNS = (
    CountColumn("due", "Due in 7 days", "posts due in the next 7 days"),
    CountColumn("failed", "Failed", "failed posts", alert=True),
    CountColumn("unconfirmed", "Unconfirmed", "unconfirmed posts", alert=True),
    CountColumn("reconnect", "Accounts to reconnect", "accounts to reconnect", alert=True),
    CountColumn("unread_comments", "Unread comments", "unread comments"),
)


@dataclass
class ClientRow:
    workspace: Workspace
    role: str
    url: str = ""  # the client's workspace
    figures: dict[str, ClientFigure] = field(default_factory=dict)

    def figure(self, key: str) -> ClientFigure | None:
        return self.figures.get(key)

    @property
    def counts(self) -> list[tuple[CountColumn, ClientFigure | None]]:
        return [(column, self.figures.get(column.key)) for column in COUNT_COLUMNS]

    @property
    def needs_attention(self) -> bool:
        return any(
            (f := self.figures.get(key)) is not None and bool(f.value)
            for key in (column.key for column in COUNT_COLUMNS if column.alert)
        )


def agencies_for_user(*, user: User) -> QuerySet[AgencyMember]:
    return AgencyMember.objects.filter(user=user).select_related("agency").order_by("agency__name")


def agency_clients(*, agency: Agency) -> QuerySet[Workspace]:
    return Workspace.objects.filter(agency=agency).order_by("name", "pk")


def agency_client_get(*, agency: Agency, client_id: Any) -> Workspace:
    try:
        return agency_clients(agency=agency).get(pk=client_id)
    except (Workspace.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFound("Client not found.") from exc


def agency_members(*, agency: Agency) -> QuerySet[AgencyMember]:
    return (
        AgencyMember.objects.filter(agency=agency)
        .select_related("user")
        .prefetch_related(Prefetch("clients", queryset=Workspace.objects.order_by("name")))
        .order_by("user__email")
    )


def agency_member_get(*, agency: Agency, agency_member_id: Any) -> AgencyMember:
    try:
        return agency_members(agency=agency).get(pk=agency_member_id)
    except (AgencyMember.DoesNotExist, ValidationError, ValueError) as exc:
        raise NotFound("Agency member not found.") from exc


def member_clients(*, member: AgencyMember, client_id: Any = None) -> list[tuple[Workspace, str]]:
    """The clients an agency member reaches, by name, with their role in each: the agency
    role, or a higher direct membership. Two queries."""
    clients = agency_clients(agency=member.agency)
    if not member.all_clients:
        clients = clients.filter(agency_grants=member)
    if client_id is not None:
        clients = clients.filter(pk=client_id)
    workspaces = list(clients)
    roles = dict.fromkeys((ws.pk for ws in workspaces), member.role)
    if workspaces:
        direct = Membership.objects.filter(
            user_id=member.user_id, workspace_id__in=list(roles)
        ).values_list("workspace_id", "role")
        for workspace_id, role in direct:
            roles[workspace_id] = _higher(roles[workspace_id], role) or role
    return [(ws, roles[ws.pk]) for ws in workspaces]


def ownable_workspaces(*, user: User) -> QuerySet[Workspace]:
    """Plain workspaces the user owns directly: the ones they may bring into an agency."""
    return Workspace.objects.filter(
        agency__isnull=True, memberships__user=user, memberships__role="owner"
    ).order_by("name")


def _reconnect_figures(*, workspaces: list[Workspace], now: dt.datetime) -> ClientFigures:
    rows = (
        TikTokAccount.objects.filter(workspace_id__in=[ws.pk for ws in workspaces])
        .values("workspace_id")
        .annotate(
            n=Count(
                "pk",
                filter=Q(status=AccountStatus.NEEDS_RECONNECT)
                | Q(business_status=BusinessStatus.NEEDS_RECONNECT),
            )
        )
        .order_by()
    )
    counts = {row["workspace_id"]: row["n"] for row in rows}
    urls = workspace_urls("accounts:tiktok_accounts", workspaces)
    return {
        ws.pk: {"reconnect": ClientFigure(value=counts.get(ws.pk, 0), url=urls[ws.pk])}
        for ws in workspaces
    }


def workspace_urls(name: str, workspaces: list[Workspace]) -> dict[Any, str]:
    """`reverse(name, args=[workspace.pk])` for every client, reversed once: the pattern is
    the same for all of them, and 200 reverses were a visible share of the home's time."""
    sentinel = "00000000-0000-0000-0000-000000000000"
    pattern = reverse(name, args=[sentinel])
    return {ws.pk: pattern.replace(sentinel, str(ws.pk)) for ws in workspaces}


def figure_providers() -> list[FigureProvider]:
    return [import_string(path) for path in settings.AGENCY_CLIENT_FIGURES]


def home_clients(*, member: AgencyMember, query: str = "") -> list[tuple[Workspace, str]]:
    """The clients the agency home lists (those whose name contains `query`), with roles."""
    clients = member_clients(member=member)
    if query:
        needle = query.casefold()
        clients = [(ws, role) for ws, role in clients if needle in ws.name.casefold()]
    return clients


def agency_home(
    *,
    member: AgencyMember,
    now: dt.datetime | None = None,
    query: str = "",
    clients: list[tuple[Workspace, str]] | None = None,
) -> list[ClientRow]:
    """One row per client the member reaches (optionally those whose name contains `query`;
    `clients` when the caller already has `home_clients`), with every provider's figures.
    Query count does not depend on the number of clients."""
    now = now or timezone.now()
    if clients is None:
        clients = home_clients(member=member, query=query)
    rows = [ClientRow(workspace=ws, role=role) for ws, role in clients]
    if not rows:
        return rows
    workspaces = [row.workspace for row in rows]
    homes = workspace_urls("accounts:workspace_home", workspaces)
    for row in rows:
        row.url = homes[row.workspace.pk]
    for provider in [_reconnect_figures, *figure_providers()]:
        answered = provider(workspaces=workspaces, now=now)
        for row in rows:
            row.figures.update(answered.get(row.workspace.pk, {}))
    return rows

"""Who may enter a workspace or an agency: the resolution behind `later.tenancy`'s decorators.

`later/` sits below the apps and never imports them; settings name these functions
(`TENANT_MEMBERSHIP_RESOLVER`) and `later.tenancy` calls them through that name.

A person reaches a workspace directly (a `Membership` row) or through the agency that owns it
(an `AgencyMember` with all of the agency's clients or with this one chosen). When both apply,
the higher role wins. Agency access is resolved here and nowhere else, so every workspace page,
API view and loader honours it without knowing agencies exist.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render

from accounts.models import Agency, AgencyMember, Membership, User, Workspace
from later.data_version import cached_for_version
from later.errors import NotFound
from later.roles import ROLE_RANK, Role
from later.tenancy import load_url_objects, loader_url_kwargs

_LOOKUP_ERRORS = (ValidationError, ValueError, TypeError)


def _higher(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if ROLE_RANK[a] >= ROLE_RANK[b] else b


def _agency_grants(user: User, workspace: Any) -> QuerySet[AgencyMember]:
    """The user's agency membership that reaches `workspace` (an id or an OuterRef to one)."""
    return AgencyMember.objects.filter(user=user).filter(Q(all_clients=True) | Q(clients=workspace))


def _agency_role(user: User) -> Subquery:
    """Annotation for a Workspace queryset: the role the user holds there through its agency."""
    return Subquery(
        _agency_grants(user, OuterRef("pk")).filter(agency=OuterRef("agency")).values("role")[:1]
    )


def _direct(user: User, workspace_id: uuid.UUID) -> Membership | None:
    return (
        Membership.objects.select_related("workspace")
        .filter(workspace_id=workspace_id, user=user)
        .first()
    )


def membership_resolve(*, user: AbstractBaseUser | AnonymousUser, workspace_id: Any) -> Membership:
    """The caller's membership of `workspace_id`, or NotFound (outsiders never learn it exists).

    A direct member of a workspace without an agency costs no query while the workspace's data
    version stands (later/data_version.py), one after a write.
    Agency access returns an unsaved Membership carrying the agency in `via_agency`.
    """
    if not isinstance(user, User):  # anonymous
        raise NotFound("Workspace not found.")
    try:
        workspace_id = uuid.UUID(str(workspace_id))
    except _LOOKUP_ERRORS as exc:
        raise NotFound("Workspace not found.") from exc
    # Kept under the workspace's data version: removing the member, changing the role or
    # editing the workspace moves it, so the very next request reads the row again.
    direct = cached_for_version(
        workspace_id, f"membership:{user.pk}", functools.partial(_direct, user, workspace_id)
    )
    if direct is not None and (direct.workspace.agency_id is None or direct.role == Role.OWNER):
        return direct
    workspace = (
        Workspace.objects.select_related("agency")
        .filter(pk=workspace_id, agency__isnull=False)
        .annotate(agency_role=_agency_role(user))
        .first()
    )
    agency_role: str | None = getattr(workspace, "agency_role", None)
    if workspace is None or agency_role is None:
        if direct is not None:
            return direct
        raise NotFound("Workspace not found.")
    if direct is not None and _higher(direct.role, agency_role) == direct.role:
        return direct
    membership = Membership(workspace=workspace, user=user, role=agency_role)
    membership.via_agency = workspace.agency
    return membership


# --- every workspace a person reaches (the switcher, the API, tokens) --------------------------


@dataclass(frozen=True)
class WorkspaceAccess:
    """A workspace the user reaches, with the role they hold there (the higher one)."""

    workspace: Workspace
    role: str
    direct: bool

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def workspace_id(self) -> Any:
        return self.workspace.pk


def accessible_workspaces(*, user: User) -> QuerySet[Workspace]:
    """Workspaces the user reaches directly or through an agency, annotated with
    `direct_role` and `agency_role` (either may be None); `agency` is joined. One query."""
    direct = Membership.objects.filter(workspace=OuterRef("pk"), user=user)
    return (
        Workspace.objects.select_related("agency")
        .annotate(
            direct_role=Subquery(direct.values("role")[:1]),
            agency_role=_agency_role(user),
        )
        .filter(
            Exists(direct)
            | Exists(_agency_grants(user, OuterRef("pk")).filter(agency=OuterRef("agency")))
        )
        .order_by("name", "pk")
    )


def workspace_access(workspace: Workspace) -> WorkspaceAccess:
    """The role of a row from `accessible_workspaces`."""
    direct_role: str | None = getattr(workspace, "direct_role", None)
    agency_role: str | None = getattr(workspace, "agency_role", None)
    role = _higher(direct_role, agency_role)
    assert role is not None, "not from accessible_workspaces()"
    return WorkspaceAccess(workspace=workspace, role=role, direct=direct_role == role)


def workspace_accesses(*, user: User) -> list[WorkspaceAccess]:
    return [workspace_access(ws) for ws in accessible_workspaces(user=user)]


def workspace_memberships(*, workspace: Workspace) -> list[Membership]:
    """Everyone who can act in the workspace: member rows, plus unsaved Memberships (with
    `via_agency`) for agency members who reach it; one entry per person, the higher role.
    Use this, not Membership rows, to notify or choose "members"."""
    rows = list(Membership.objects.for_workspace(workspace).select_related("user"))
    if workspace.agency_id is None:
        return rows
    by_user = {m.user_id: m for m in rows}
    grants = (
        AgencyMember.objects.filter(agency_id=workspace.agency_id)
        .filter(Q(all_clients=True) | Q(clients=workspace))
        .select_related("user", "agency")
        .distinct()
    )
    for grant in grants:
        current = by_user.get(grant.user_id)
        if current is not None and _higher(current.role, grant.role) == current.role:
            continue
        virtual = Membership(workspace=workspace, user=grant.user, role=grant.role)
        virtual.via_agency = grant.agency
        by_user[grant.user_id] = virtual
    return sorted(by_user.values(), key=lambda m: m.user.email)


# --- agencies: the one place an agency page resolves its agency -------------------------------


def agency_member_resolve(
    *, user: AbstractBaseUser | AnonymousUser, agency_id: Any
) -> AgencyMember:
    """The caller's membership of the agency, or NotFound (outsiders never learn it exists)."""
    if not isinstance(user, User):
        raise NotFound("Agency not found.")
    try:
        return AgencyMember.objects.select_related("agency").get(agency_id=agency_id, user=user)
    except (AgencyMember.DoesNotExist, *_LOOKUP_ERRORS) as exc:
        raise NotFound("Agency not found.") from exc


class AgencyRequest(HttpRequest):
    """The request an `@agency_view` view receives (a type only, like WorkspaceRequest)."""

    user: User
    agency: Agency
    agency_member: AgencyMember


def agency_view(
    min_role: str = Role.VIEWER, *, load: Mapping[str, Callable[..., Any]] | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorator for HTML views under /agencies/<agency_id>/, the agency twin of
    `later.tenancy.workspace_view`: non-members get 404; `load={"client": agency_client_get}`
    loads the URL's objects within the agency (NotFound: 404) before the role is checked;
    members below `min_role` get a 403 page. Sets `request.agency` and `request.agency_member`.
    Services check the finer rules (who may change owners). Put method decorators below it."""
    loaders = {
        name: (loader, loader_url_kwargs(loader, scope="agency"))
        for name, loader in (load or {}).items()
    }

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, agency_id: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            try:
                member = agency_member_resolve(user=request.user, agency_id=agency_id)
                objects = load_url_objects(loaders, agency=member.agency, url_kwargs=kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            agency_request = cast(AgencyRequest, request)
            agency_request.agency = member.agency
            agency_request.agency_member = member
            if not member.has_role(min_role):
                return render(
                    request,
                    "accounts/agency/role_required.html",
                    {"needed_role": min_role, "agency_member": member},
                    status=403,
                )
            return view(agency_request, **kwargs, **objects)

        return wrapper

    return decorator

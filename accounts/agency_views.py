"""HTML views for agencies: create one, its home (one row per client), and managing its
clients and who reaches them. Also the list of every workspace a person reaches (the
switcher's search). The cross-client calendar lives in `calendar_app.agency_views`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import agency_selectors as selectors
from accounts import agency_services as services
from accounts.access import AgencyRequest, accessible_workspaces, agency_view, workspace_access
from accounts.models import AgencyMember, Role, User, Workspace
from later.data_version import page_token
from later.errors import AppError
from later.idempotency import once_per_form

#: The switcher's search shows this many matches; the full list page shows them all.
SEARCH_RESULTS = 20


def _time_zones() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_safe
def workspace_list(request: HttpRequest) -> HttpResponse:
    """Every workspace the user reaches (directly or through an agency), searchable by name.
    The switcher asks for the results alone (htmx) while the person types."""
    user = _user(request)
    query = request.GET.get("q", "").strip()[:120]
    found = accessible_workspaces(user=user)
    if query:
        found = found.filter(name__icontains=query)
    if request.headers.get("HX-Request") == "true":
        rows = [workspace_access(ws) for ws in found[: SEARCH_RESULTS + 1]]
        return render(
            request,
            "accounts/_switcher_results.html",
            {
                "results": rows[:SEARCH_RESULTS],
                "more": len(rows) > SEARCH_RESULTS,
                "query": query,
            },
        )
    return render(
        request,
        "accounts/workspace_list.html",
        {
            "rows": [workspace_access(ws) for ws in found],
            "agencies": list(selectors.agencies_for_user(user=user)),
            "query": query,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@once_per_form
def agency_create(request: HttpRequest) -> HttpResponse:
    form = {"name": request.POST.get("name", "")}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            agency = services.agency_create(owner=_user(request), name=form["name"])
        except AppError as exc:
            messages.error(request, exc.message)
            errors = exc.details or {}
        else:
            messages.success(request, f"Agency “{agency.name}” created. Now add its clients.")
            return redirect("accounts:agency_manage", agency_id=agency.id)
    return render(
        request,
        "accounts/agency/create.html",
        {"form": form, "errors": errors},
        status=400 if errors else 200,
    )


@agency_view()
@require_safe
def agency_home(request: AgencyRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:120]
    attention = request.GET.get("show") == "attention"
    member = request.agency_member
    # The clients (two queries) name the cache key: their data versions, read before the
    # figures (later/data_version.py), and the current minute ("due in 7 days" moves with
    # the clock). On a hit no provider runs.
    clients = selectors.home_clients(member=member, query=query)
    version = page_token(*[ws.pk for ws, _role in clients]) if clients else ""

    def rows() -> list[selectors.ClientRow]:
        found = selectors.agency_home(member=member, query=query, clients=clients)
        return [row for row in found if row.needs_attention] if attention else found

    return render(
        request,
        "accounts/agency/home.html",
        {
            "rows": SimpleLazyObject(rows),
            "columns": selectors.COUNT_COLUMNS,
            "total": len(clients),
            "query": query,
            "attention": attention,
            "page_version": version,
            "page_params": [
                [(ws.pk, ws.name, ws.time_zone, role) for ws, role in clients],
                member.pk,
                member.role,
                member.all_clients,
                request.agency.name,
                query,
                attention,
            ],
        },
    )


def _manage_context(request: AgencyRequest) -> dict[str, Any]:
    agency = request.agency
    clients = list(selectors.agency_clients(agency=agency))
    return {
        "clients": clients,
        "members": list(selectors.agency_members(agency=agency)),
        "ownable": list(selectors.ownable_workspaces(user=request.user)),
        "roles": Role.choices,
        "time_zones": _time_zones(),
        "can_manage": request.agency_member.can_manage,
        "is_owner": request.agency_member.has_role(Role.OWNER),
    }


@agency_view()
@require_http_methods(["GET", "HEAD", "POST"])
def agency_manage(request: AgencyRequest) -> HttpResponse:
    """Clients and members; a POST renames the agency."""
    status = 200
    if request.method == "POST":
        try:
            services.agency_update(actor=request.agency_member, name=request.POST.get("name", ""))
        except AppError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, "Agency renamed.")
            return redirect("accounts:agency_manage", agency_id=request.agency.id)
    return render(request, "accounts/agency/manage.html", _manage_context(request), status=status)


@agency_view(min_role=Role.ADMIN)
@require_POST
@once_per_form
def agency_branding(request: AgencyRequest) -> HttpResponse:
    try:
        services.agency_branding_update(
            actor=request.agency_member,
            primary_color=request.POST.get("primary_color", ""),
            accent_color=request.POST.get("accent_color", ""),
            logo=request.FILES.get("logo"),
            remove_logo=request.POST.get("remove_logo") == "1",
        )
    except AppError as exc:
        return _failed(request, exc)
    messages.success(request, "Report branding saved: every client's report carries it.")
    return _back(request)


def _back(request: AgencyRequest) -> HttpResponse:
    return redirect("accounts:agency_manage", agency_id=request.agency.id)


def _failed(request: AgencyRequest, exc: AppError) -> HttpResponse:
    """A refused change: the manage page again, with the sentence and what was typed."""
    messages.error(request, exc.message)
    context = _manage_context(request)
    context["posted"] = request.POST
    context["errors"] = exc.details or {}
    return render(request, "accounts/agency/manage.html", context, status=exc.status)


@agency_view(min_role=Role.ADMIN)
@require_POST
@once_per_form
def agency_client_create(request: AgencyRequest) -> HttpResponse:
    try:
        workspace = services.agency_client_create(
            actor=request.agency_member,
            name=request.POST.get("name", ""),
            time_zone=request.POST.get("time_zone", "UTC"),
        )
    except AppError as exc:
        return _failed(request, exc)
    messages.success(request, f"Client “{workspace.name}” added.")
    return _back(request)


@agency_view(min_role=Role.ADMIN)
@require_POST
@once_per_form
def agency_client_attach(request: AgencyRequest) -> HttpResponse:
    try:
        workspace = services.agency_client_attach(
            actor=request.agency_member, workspace_id=request.POST.get("workspace", "")
        )
    except AppError as exc:
        return _failed(request, exc)
    messages.success(request, f"“{workspace.name}” is now a client of {request.agency.name}.")
    return _back(request)


@agency_view(min_role=Role.ADMIN, load={"client": selectors.agency_client_get})
@require_POST
def agency_client_remove(request: AgencyRequest, client: Workspace) -> HttpResponse:
    try:
        services.agency_client_detach(actor=request.agency_member, workspace=client)
    except AppError as exc:
        return _failed(request, exc)
    messages.success(
        request, f"“{client.name}” left {request.agency.name}; its own members keep their access."
    )
    return _back(request)


@agency_view(min_role=Role.ADMIN)
@require_POST
@once_per_form
def agency_member_add(request: AgencyRequest) -> HttpResponse:
    try:
        member = services.agency_member_add(
            actor=request.agency_member,
            email=request.POST.get("email", ""),
            role=request.POST.get("role", Role.EDITOR),
            all_clients=request.POST.get("access", "all") == "all",
            client_ids=request.POST.getlist("clients"),
        )
    except AppError as exc:
        return _failed(request, exc)
    messages.success(request, f"{member.user.email} added to {request.agency.name}.")
    return _back(request)


@agency_view(min_role=Role.ADMIN, load={"target": selectors.agency_member_get})
@require_POST
def agency_member_update(request: AgencyRequest, target: AgencyMember) -> HttpResponse:
    try:
        services.agency_member_update(
            actor=request.agency_member,
            agency_member_id=target.pk,
            role=request.POST.get("role", ""),
            all_clients=request.POST.get("access", "all") == "all",
            client_ids=request.POST.getlist("clients"),
        )
    except AppError as exc:
        return _failed(request, exc)
    messages.success(request, f"Access of {target.user.email} updated.")
    return _back(request)


@agency_view(load={"target": selectors.agency_member_get})
@require_POST
def agency_member_remove(request: AgencyRequest, target: AgencyMember) -> HttpResponse:
    leaving = target.pk == request.agency_member.pk
    try:
        services.agency_member_remove(actor=request.agency_member, agency_member_id=target.pk)
    except AppError as exc:
        return _failed(request, exc)
    if leaving:
        messages.success(request, f"You left {request.agency.name}.")
        return redirect("home")
    messages.success(request, f"{target.user.email} removed from {request.agency.name}.")
    return _back(request)

"""HTML views: home, workspace switching and creation, settings, members and invitations.

TikTok connection views live in accounts/tiktok/views.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import invitations, selectors, services
from accounts.access import accessible_workspaces, workspace_memberships
from accounts.models import AgencyMember, Invitation, Membership, Role, User
from accounts.tiktok.url_properties import url_property
from later.errors import AppError
from later.idempotency import once_per_form
from later.tenancy import WorkspaceRequest, workspace_view


def _user(request: HttpRequest) -> User:
    """The signed-in user of a `login_required` view."""
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    token = invitations.pending(request)
    if token:
        return redirect("accounts:invitation_accept", token=token)
    current = request.session.get("current_workspace_id")
    reached = list(accessible_workspaces(user=user).values_list("pk", flat=True))
    if not reached:
        # An agency member whom no client was given yet still has the agency's home.
        agency = AgencyMember.objects.filter(user=user).values_list("agency_id", flat=True).first()
        if agency is not None:
            return redirect("accounts:agency_home", agency_id=agency)
        return redirect("accounts:workspace_create")
    # This session's workspace, else the one opened last (remembered across sign-ins), else the
    # first the person reaches.
    wanted = [str(w) for w in (current, user.last_workspace_id) if w]
    chosen = next((pk for want in wanted for pk in reached if str(pk) == want), reached[0])
    return redirect("accounts:workspace_home", workspace_id=chosen)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@once_per_form
def workspace_create(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {"name": "", "time_zone": "UTC"}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "time_zone": request.POST.get("time_zone", "UTC"),
        }
        try:
            workspace = services.workspace_create(owner=_user(request), **form)
        except AppError as exc:
            messages.error(request, exc.message)
            errors = exc.details or {}
        else:
            messages.success(request, f"Workspace “{workspace.name}” created.")
            return redirect("accounts:workspace_home", workspace_id=workspace.id)
    return render(
        request,
        "accounts/workspace_create.html",
        {"form": form, "errors": errors, "time_zones": _time_zones()},
        status=400 if errors else 200,
    )


def _time_zones() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


@workspace_view()
@require_safe
def workspace_home(request: WorkspaceRequest) -> HttpResponse:
    return redirect("calendar_app:calendar", workspace_id=request.workspace.id)


@workspace_view()
@require_http_methods(["GET", "HEAD", "POST"])
def workspace_settings(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    form = {"name": workspace.name, "time_zone": workspace.time_zone}
    status = 200
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "time_zone": request.POST.get("time_zone", ""),
        }
        if not request.membership.can_manage:
            messages.error(request, "Only owners and admins can change workspace settings.")
            status = 403
        else:
            try:
                services.workspace_update(workspace=workspace, **form)
            except AppError as exc:
                messages.error(request, exc.message)
                status = 400
            else:
                messages.success(request, "Workspace settings saved.")
                return redirect("accounts:workspace_settings", workspace_id=workspace.id)
    return render(
        request,
        "accounts/workspace_settings.html",
        {"form": form, "time_zones": _time_zones(), "url_property": url_property()},
        status=status,
    )


@workspace_view()
@require_safe
def members(request: WorkspaceRequest) -> HttpResponse:
    return _members_page(request)


def _members_page(
    request: WorkspaceRequest, *, invite: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    workspace = request.workspace
    return render(
        request,
        "accounts/members.html",
        {
            "invite": invite or {"email": "", "role": Role.EDITOR},
            "members": selectors.workspace_members(workspace=workspace),
            "agency_access": [
                m for m in workspace_memberships(workspace=workspace) if m.via_agency is not None
            ],
            "invitations": selectors.workspace_pending_invitations(workspace=workspace),
            "roles": Role.choices,
            # The quick start writes e-mail to its logs: say where, and show the links.
            "email_console": settings.EMAIL_PRINTS_TO_CONSOLE,
            "site_url": settings.SITE_URL.rstrip("/"),
        },
        status=status,
    )


def _run(request: HttpRequest, action: Callable[[], object], success: str) -> None:
    try:
        action()
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


@workspace_view(min_role=Role.ADMIN)
@require_POST
@once_per_form
def member_invite(request: WorkspaceRequest) -> HttpResponse:
    ws, actor = request.workspace, request.membership
    invite = {
        "email": request.POST.get("email", ""),
        "role": request.POST.get("role", Role.EDITOR),
    }
    try:
        invitation = services.invitation_create(
            workspace=ws, actor=actor, email=invite["email"], role=invite["role"]
        )
    except AppError as exc:
        # The page again with what was typed, so a typo costs one character, not the form.
        messages.error(request, exc.message)
        if invite["role"] not in Role.values:
            invite["role"] = Role.EDITOR
        return _members_page(request, invite=invite, status=exc.status)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("accounts:members", workspace_id=ws.id)


@workspace_view(min_role=Role.ADMIN, load={"member": selectors.membership_get})
@require_POST
def member_role(request: WorkspaceRequest, member: Membership) -> HttpResponse:
    ws, actor = request.workspace, request.membership
    _run(
        request,
        lambda: services.membership_change_role(
            workspace=ws,
            actor=actor,
            membership_id=member.pk,
            role=request.POST.get("role", ""),
        ),
        "Role updated.",
    )
    return redirect("accounts:members", workspace_id=ws.id)


@workspace_view(min_role=Role.VIEWER, load={"member": selectors.membership_get})
@require_POST
def member_remove(request: WorkspaceRequest, member: Membership) -> HttpResponse:
    ws, actor = request.workspace, request.membership
    leaving = actor.pk == member.pk
    try:
        services.membership_remove(workspace=ws, actor=actor, membership_id=member.pk)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:members", workspace_id=ws.id)
    if leaving:
        messages.success(request, f"You left {ws.name}.")
        request.session.pop("current_workspace_id", None)
        return redirect("home")
    messages.success(request, "Member removed.")
    return redirect("accounts:members", workspace_id=ws.id)


@workspace_view(min_role=Role.ADMIN, load={"invitation": selectors.invitation_get})
@require_POST
def invitation_revoke(request: WorkspaceRequest, invitation: Invitation) -> HttpResponse:
    ws, actor = request.workspace, request.membership
    _run(
        request,
        lambda: services.invitation_revoke(workspace=ws, actor=actor, invitation_id=invitation.pk),
        "Invitation revoked.",
    )
    return redirect("accounts:members", workspace_id=ws.id)


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Signed in: accept. Signed out: remember the link for after sign-up or sign-in."""
    if not request.user.is_authenticated:
        invitation = selectors.invitation_by_token(token=token)
        if invitation is None or not invitation.is_pending:
            return render(
                request,
                "accounts/invitation_invalid.html",
                {"reason": "This invitation is invalid or has expired."},
                status=404,
            )
        if request.method == "POST":
            return redirect("accounts:invitation_accept", token=token)
        invitations.remember(request, token)
        has_account = User.objects.filter(email__iexact=invitation.email).exists()
        return render(
            request,
            "accounts/invitation_welcome.html",
            {"invitation": invitation, "has_account": has_account},
        )
    if request.method == "POST":
        request.session.pop(invitations.SESSION_KEY, None)
        try:
            membership = services.invitation_accept(token=token, user=_user(request))
        except AppError as exc:
            return render(
                request, "accounts/invitation_invalid.html", {"reason": exc.message}, status=404
            )
        messages.success(request, f"Welcome to {membership.workspace.name}.")
        return redirect("accounts:workspace_home", workspace_id=membership.workspace_id)
    invitation = selectors.invitation_by_token(token=token)
    user = _user(request)
    if invitation is not None and invitation.accepted_by_id == user.pk:
        # Already accepted (right after sign-up): go to the workspace.
        request.session.pop(invitations.SESSION_KEY, None)
        return redirect("accounts:workspace_home", workspace_id=invitation.workspace_id)
    if invitation is None or not invitation.is_pending:
        request.session.pop(invitations.SESSION_KEY, None)
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"reason": "This invitation is invalid or has expired."},
            status=404,
        )
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


@workspace_view(min_role=Role.VIEWER)
@require_POST
def notifications_read(request: WorkspaceRequest) -> HttpResponse:
    from django.utils.http import url_has_allowed_host_and_scheme

    services.notification_mark_read(workspace=request.workspace, user=request.user)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)  # a path, never a view name to reverse


@workspace_view(min_role=Role.VIEWER)
@require_safe
def notifications_feed(request: WorkspaceRequest) -> JsonResponse:
    """Unread notifications for the bell and the app's device alerts (polled while open)."""
    notes = list(
        selectors.unread_notifications(workspace=request.workspace, user=request.user)[:20]
    )
    return JsonResponse(
        {
            "unread": len(notes),
            "notifications": [
                {
                    "id": str(n.id),
                    "kind": n.kind,
                    "title": n.title,
                    "body": n.body[:300],
                    "url": n.url,
                    "created_at": n.created_at.isoformat(),
                }
                for n in notes
            ],
        }
    )

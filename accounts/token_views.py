"""Account settings: personal API tokens (create, shown once; list; revoke)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import token_services
from accounts.access import workspace_accesses
from accounts.models import ApiTokenAccess
from later.errors import AppError
from later.idempotency import once_per_form


def _page(
    request: HttpRequest, *, form: dict[str, Any], created: Any = None, status: int = 200
) -> HttpResponse:
    memberships = workspace_accesses(user=request.user)  # type: ignore[arg-type]
    return render(
        request,
        "accounts/api_tokens.html",
        {
            "tokens": token_services.api_tokens_for_user(user=request.user),  # type: ignore[arg-type]
            "memberships": memberships,
            "access_choices": ApiTokenAccess.choices,
            "lifetimes": token_services.TOKEN_LIFETIMES_DAYS,
            "form": form,
            "created": created,
        },
        status=status,
    )


@login_required
@once_per_form
def api_tokens(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {"name": "", "access": ApiTokenAccess.READ, "lifetime_days": "90"}
    form["workspaces"] = []
    if request.method != "POST":
        return _page(request, form=form)
    form = {
        "name": request.POST.get("name", ""),
        "access": request.POST.get("access", ""),
        "lifetime_days": request.POST.get("lifetime_days", ""),
        "workspaces": request.POST.getlist("workspaces"),
    }
    try:
        lifetime = int(form["lifetime_days"])
    except ValueError:
        lifetime = 0
    try:
        created = token_services.api_token_create(
            user=request.user,  # type: ignore[arg-type]
            name=form["name"],
            access=form["access"],
            workspace_ids=form["workspaces"],
            lifetime_days=lifetime,
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return _page(request, form=form, status=400)
    # The secret is in this one response only: no redirect, nothing in the session or a cookie.
    response = _page(request, form=form, created=created, status=201)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: Any) -> HttpResponse:
    try:
        token = token_services.api_token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("accounts:api_tokens")

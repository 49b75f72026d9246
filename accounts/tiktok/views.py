"""HTML views for connecting, listing and disconnecting TikTok accounts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, TikTokAccount
from accounts.tiktok import connection, selectors
from accounts.tiktok.connection import ConnectFailed
from later.errors import AppError
from later.tenancy import workspace_view


def _session_key(request: HttpRequest) -> str:
    if request.session.session_key is None:
        request.session.save()
    return request.session.session_key or ""


def _account_rows(accounts: list[TikTokAccount]) -> list[dict[str, Any]]:
    return [
        {
            "account": account,
            "health": selectors.tiktok_account_health(account=account),
            "capabilities": selectors.tiktok_account_capabilities(account=account),
        }
        for account in accounts
    ]


@workspace_view(min_role=Role.VIEWER)
@require_GET
def tiktok_accounts(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    accounts = list(selectors.tiktok_accounts_for_workspace(workspace=workspace))
    active = [a for a in accounts if a.status != "disconnected"]
    disconnected = [a for a in accounts if a.status == "disconnected"]
    return render(
        request,
        "accounts/tiktok_accounts.html",
        {
            "rows": _account_rows(active),
            "disconnected_rows": _account_rows(disconnected),
            "can_manage": membership.can_manage,
            "manage_reason": "Only owners and admins can connect or disconnect TikTok accounts.",
        },
    )


@workspace_view(min_role=Role.ADMIN)
@require_POST
def tiktok_connect(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    try:
        url = connection.tiktok_connect_start(
            workspace=workspace,
            membership=request.membership,  # type: ignore[attr-defined]
            session_key=_session_key(request),
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:tiktok_accounts", workspace_id=workspace.id)
    return redirect(url)


@never_cache
@require_GET
def tiktok_callback(request: HttpRequest) -> HttpResponse:
    """TikTok redirects here (a static URL, as TikTok requires); the state names the workspace."""
    if not request.user.is_authenticated:
        return _connect_error(
            request,
            ConnectFailed("Sign in first, then start the TikTok connection again."),
        )
    try:
        account, created = connection.tiktok_connect_complete(
            user=request.user,
            session_key=request.session.session_key or "",
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except ConnectFailed as exc:
        return _connect_error(request, exc)
    verb = "connected" if created else "reconnected"
    messages.success(request, f"TikTok account {account} {verb}.")
    return redirect("accounts:tiktok_accounts", workspace_id=account.workspace_id)


def _connect_error(request: HttpRequest, exc: ConnectFailed) -> HttpResponse:
    return render(
        request,
        "accounts/tiktok_connect_error.html",
        {"message": exc.message, "back_workspace_id": exc.workspace_id},
        status=400,
    )


@workspace_view(min_role=Role.ADMIN)
@require_POST
def tiktok_disconnect(request: HttpRequest, account_id: Any) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    try:
        account = connection.tiktok_account_get(workspace=workspace, account_id=account_id)
        revoked = connection.tiktok_account_disconnect(
            workspace=workspace,
            membership=request.membership,  # type: ignore[attr-defined]
            account_id=account_id,
        )
    except AppError as exc:
        if exc.status == 404:
            from django.http import Http404

            raise Http404(exc.message) from exc
        messages.error(request, exc.message)
    else:
        if revoked:
            messages.success(request, f"{account} was disconnected and its tokens deleted.")
        else:
            messages.warning(
                request,
                f"{account} was disconnected and its tokens deleted here, but TikTok did not "
                "confirm the revocation. Remove the app in TikTok's settings "
                "(Security and permissions → Apps) to be sure.",
            )
    return redirect("accounts:tiktok_accounts", workspace_id=workspace.id)

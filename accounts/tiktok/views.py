"""HTML views for connecting, listing and disconnecting TikTok accounts."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, TikTokAccount, Workspace
from accounts.tiktok import business, connection, selectors, webhooks
from accounts.tiktok.access import get_tiktok_client
from accounts.tiktok.oauth_state import ConnectFailed
from later.errors import AppError
from later.tenancy import WorkspaceRequest, workspace_view

logger = logging.getLogger(__name__)


def _session_key(request: HttpRequest) -> str:
    if request.session.session_key is None:
        request.session.save()
    return request.session.session_key or ""


def _account_rows(
    accounts: list[TikTokAccount],
    *,
    business_app: bool,
    login_kit_app: bool,
    workspace: Workspace,
) -> list[dict[str, Any]]:
    rows = []
    retries = selectors.tiktok_account_retries(workspace=workspace, accounts=accounts)
    for account in accounts:
        capabilities = selectors.tiktok_account_capabilities(
            account=account, business_app=business_app, login_kit_app=login_kit_app
        )
        rows.append(
            {
                "account": account,
                "health": selectors.tiktok_account_health(account=account),
                "business_health": selectors.tiktok_account_business_health(account=account),
                "type_label": selectors.tiktok_account_type_label(account=account),
                "capabilities": capabilities,
                "retries": retries.get(str(account.pk), []),
                # The Business features share one reason when they are all off (one sentence).
                "business_note": next(
                    (c.reason for c in capabilities if c.key == "comments" and not c.available),
                    "",
                ),
                "login_kit_note": ""
                if account.login_kit_linked
                else next(
                    (c.reason for c in capabilities if c.key == "publish" and not c.available),
                    "",
                ),
            }
        )
    return rows


@workspace_view(min_role=Role.VIEWER)
@require_GET
def tiktok_accounts(request: WorkspaceRequest) -> HttpResponse:
    accounts = list(selectors.tiktok_accounts_for_workspace(workspace=request.workspace))
    active = [a for a in accounts if a.status != "disconnected"]
    disconnected = [a for a in accounts if a.status == "disconnected"]
    config = get_tiktok_client().config
    apps = {
        "business_app": config.business_configured,
        "login_kit_app": config.login_kit_configured,
    }
    return render(
        request,
        "accounts/tiktok_accounts.html",
        {
            "rows": _account_rows(active, **apps, workspace=request.workspace),
            "disconnected_rows": _account_rows(disconnected, **apps, workspace=request.workspace),
            **apps,
            "no_app_message": connection.NO_APP_CONFIGURED,
            "what_business_adds": business.WHAT_BUSINESS_ADDS,
            "can_manage": request.membership.can_manage,
            "manage_reason": "Only owners and admins can connect or disconnect TikTok accounts.",
        },
    )


@workspace_view(min_role=Role.ADMIN)
@require_POST
def tiktok_connect(request: WorkspaceRequest) -> HttpResponse:
    try:
        url = connection.tiktok_connect_start(
            workspace=request.workspace,
            membership=request.membership,
            session_key=_session_key(request),
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:tiktok_accounts", workspace_id=request.workspace.id)
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
        outcome = connection.tiktok_connect_complete(
            user=request.user,
            session_key=request.session.session_key or "",
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except ConnectFailed as exc:
        return _connect_error(request, exc)
    if outcome.business_authorize_url:
        # Straight on to the Business consent; the result is reported after it.
        return redirect(outcome.business_authorize_url)
    verb = "connected" if outcome.created else "reconnected"
    messages.success(request, f"TikTok account {outcome.account} {verb}.")
    return redirect("accounts:tiktok_accounts", workspace_id=outcome.account.workspace_id)


@never_cache
@require_GET
def tiktok_business_callback(request: HttpRequest) -> HttpResponse:
    """TikTok's Business consent returns here with `code` (or `auth_code`) and the state."""
    if not request.user.is_authenticated:
        return _connect_error(
            request,
            ConnectFailed("Sign in first, then start the TikTok connection again."),
        )
    try:
        outcome = business.tiktok_business_connect_complete(
            user=request.user,
            session_key=request.session.session_key or "",
            state=request.GET.get("state", ""),
            code=request.GET.get("code", "") or request.GET.get("auth_code", ""),
            error=request.GET.get("error", ""),
        )
    except ConnectFailed as exc:
        return _connect_error(request, exc)
    if outcome.linked:
        messages.success(request, outcome.message)
    else:
        messages.warning(request, outcome.message)
    return redirect("accounts:tiktok_accounts", workspace_id=outcome.account.workspace_id)


def _connect_error(request: HttpRequest, exc: ConnectFailed) -> HttpResponse:
    return render(
        request,
        "accounts/tiktok_connect_error.html",
        {"message": exc.message, "back_workspace_id": exc.workspace_id},
        status=400,
    )


@workspace_view(min_role=Role.ADMIN, load={"account": connection.tiktok_account_get})
@require_POST
def tiktok_disconnect(request: WorkspaceRequest, account: TikTokAccount) -> HttpResponse:
    try:
        revoked = connection.tiktok_account_disconnect(
            workspace=request.workspace, membership=request.membership, account=account
        )
    except AppError as exc:
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
    return redirect("accounts:tiktok_accounts", workspace_id=request.workspace.id)


def _webhook(request: HttpRequest, app_name: str) -> HttpResponse:
    app = webhooks.webhook_app(app_name)
    if app is None:
        return HttpResponse(status=404)
    try:
        webhooks.webhook_receive(
            app=app,
            header=request.headers.get("TikTok-Signature", ""),
            body=request.body,
        )
    except webhooks.WebhookRefused as exc:
        logger.warning("tiktok %s webhook refused: %s", app_name, exc)
        return HttpResponse(status=400)
    # TikTok wants 200 at once; the event is processed by a task (and only once).
    return HttpResponse(status=200)


@csrf_exempt  # TikTok cannot send a CSRF token; the HMAC signature authenticates it
@require_POST
def tiktok_webhook(request: HttpRequest) -> HttpResponse:
    """Login Kit / Content Posting webhooks: `post.publish.*`, `authorization.removed`."""
    return _webhook(request, "login_kit")


@csrf_exempt  # TikTok cannot send a CSRF token; the HMAC signature authenticates it
@require_POST
def tiktok_business_webhook(request: HttpRequest) -> HttpResponse:
    """TikTok API for Business webhooks: `comment.update`, `authorization.removed`."""
    return _webhook(request, "business")


@workspace_view(min_role=Role.ADMIN, load={"account": connection.tiktok_account_get})
@require_POST
def tiktok_account_color(request: WorkspaceRequest, account: TikTokAccount) -> HttpResponse:
    """Change an account's calendar colour."""
    try:
        connection.tiktok_account_set_color(account=account, color=request.POST.get("color", ""))
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Calendar colour of {account} changed.")
    return redirect("accounts:tiktok_accounts", workspace_id=request.workspace.id)

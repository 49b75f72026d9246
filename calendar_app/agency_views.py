"""The cross-client calendar: every client's posts of an agency on one calendar.

Resolved by `accounts.access.agency_view` (outsiders: 404). Cards link into each client's
workspace and drop onto that workspace's own reschedule endpoint, so moving a post follows the
same rules and the same role check (editor in that client) as the workspace calendar.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import AgencyRequest, agency_view
from accounts.agency_selectors import member_clients
from accounts.models import TikTokAccount, Workspace
from calendar_app import selectors
from calendar_app.agency import AgencyCalendarFilters, agency_calendar_page
from calendar_app.views import _parse_date
from later.errors import ValidationFailed
from later.middleware import bad_request
from later.roles import Role, role_at_least


def _accounts(workspaces: list[Workspace]) -> QuerySet[TikTokAccount]:
    return (
        TikTokAccount.objects.filter(workspace_id__in=[ws.pk for ws in workspaces])
        .select_related("workspace")
        .order_by("workspace__name", "display_name", "username")
    )


@agency_view()
@require_GET
def agency_calendar(request: AgencyRequest) -> HttpResponse:
    clients = member_clients(member=request.agency_member)
    # "Today" where it is earliest among the clients: no client's today is drawn as past.
    now = timezone.now()
    today = min((timezone.localtime(now, ws.tz).date() for ws, _ in clients), default=now.date())
    view = request.GET.get("view", "month")
    if view not in selectors.VIEWS:
        view = "month"
    try:
        anchor = _parse_date(request.GET.get("date"), today)
    except ValidationFailed as exc:
        return bad_request(request, code=exc.code, message=exc.message)
    known = {str(ws.pk) for ws, _ in clients}
    client_id = request.GET.get("client") or ""
    if client_id not in known:
        client_id = ""
    status = request.GET.get("status") or ""
    if status not in selectors.STATUS_FILTERS:
        status = ""
    shown = [ws for ws, _ in clients if not client_id or str(ws.pk) == client_id]
    accounts = list(_accounts(shown)) if shown else []
    account_id = request.GET.get("account") or ""
    if account_id not in {str(a.pk) for a in accounts}:
        account_id = ""
    filters = AgencyCalendarFilters(client_id=client_id, account_id=account_id, status=status)
    page = agency_calendar_page(
        clients=clients,
        view=view,
        anchor=anchor,
        today=today,
        filters=filters,
        after=request.GET.get("after") or None,
    )
    return render(
        request,
        "calendar_app/agency_calendar.html",
        {
            "page": page,
            "clients": [ws for ws, _ in clients],
            "accounts": accounts,
            "can_edit": any(role_at_least(role, Role.EDITOR) for _ws, role in clients),
            "filter_query": urlencode(
                {"client": client_id, "account": account_id, "status": status}
            ),
            "filter_client": client_id,
            "filter_account": account_id,
            "filter_status": status,
            "status_filters": [(k, v[0]) for k, v in selectors.STATUS_FILTERS.items()],
            "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "today": today,
            "zones": sorted({ws.time_zone for ws in shown}),
        },
    )

"""What the agency home shows per client from analytics (`AGENCY_CLIENT_FIGURES`): video views
in the last seven days against the seven before (the overview's "7 days" headline, in each
client's own calendar), and the client's latest report. Two queries for every client."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from accounts.agency_selectors import ClientFigure, ClientFigures, workspace_urls
from accounts.models import Workspace
from analytics.models import AccountDailySnapshot, DeliveryStatus, ReportDelivery

WEEK = dt.timedelta(days=7)


def _views(workspaces: list[Workspace], now: dt.datetime) -> dict[Any, tuple[Any, Any]]:
    # Clients share few local dates (a handful of time zones): one condition per date.
    by_today: dict[dt.date, list[Any]] = defaultdict(list)
    for ws in workspaces:
        by_today[timezone.localtime(now, ws.tz).date()].append(ws.pk)
    this_week, last_week = Q(pk__in=[]), Q(pk__in=[])
    for today, ids in by_today.items():
        start = today - WEEK + dt.timedelta(days=1)
        this_week |= Q(workspace_id__in=ids, date__range=(start, today))
        last_week |= Q(workspace_id__in=ids, date__range=(start - WEEK, start - dt.timedelta(1)))
    rows = (
        AccountDailySnapshot.objects.filter(workspace_id__in=[ws.pk for ws in workspaces])
        .filter(this_week | last_week)
        .values("workspace_id")
        .annotate(
            now=Sum("video_views", filter=this_week), before=Sum("video_views", filter=last_week)
        )
        .order_by()
    )
    return {row["workspace_id"]: (row["now"], row["before"]) for row in rows}


def _latest_reports(workspaces: list[Workspace]) -> dict[Any, tuple[Any, Any]]:
    latest = ReportDelivery.objects.filter(
        workspace=OuterRef("pk"), status=DeliveryStatus.SENT
    ).order_by("-period_end", "-period_start")
    rows = (
        Workspace.objects.filter(pk__in=[ws.pk for ws in workspaces])
        .annotate(
            start=Subquery(latest.values("period_start")[:1]),
            end=Subquery(latest.values("period_end")[:1]),
        )
        .filter(start__isnull=False)
        .values_list("pk", "start", "end")
    )
    return {pk: (start, end) for pk, start, end in rows}


def _period_label(start: dt.date, end: dt.date) -> str:
    if start.year != end.year:
        return f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%b} to {end.day} {end:%b %Y}"
    return f"{start.day} to {end.day} {end:%b %Y}"


def client_figures(*, workspaces: list[Workspace], now: dt.datetime) -> ClientFigures:
    views = _views(workspaces, now)
    reports = _latest_reports(workspaces)
    figures: ClientFigures = {}
    report_urls = workspace_urls("analytics:report", workspaces)
    overview_urls = workspace_urls("analytics:overview", workspaces)
    for ws in workspaces:
        this_week, last_week = views.get(ws.pk, (None, None))
        report_url = report_urls[ws.pk]
        if ws.pk in reports:
            start, end = reports[ws.pk]
            query = urlencode({"range": "custom", "start": start, "end": end})
            report = ClientFigure(
                value=1, url=f"{report_url}?{query}", caption=f"Sent: {_period_label(start, end)}"
            )
        else:
            report = ClientFigure(value=None, url=report_url, caption="Last month")
        figures[ws.pk] = {
            "views_week": ClientFigure(
                value=this_week,
                previous=last_week,
                url=overview_urls[ws.pk] + "?range=7",
            ),
            "report": report,
        }
    return figures

"""HTML views: overview, one video, CSV exports, best time to post, client reports."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Role, TikTokAccount, TikTokVideo, Workspace
from analytics import charts, exports, reporting, selectors
from analytics.best_times import best_times_build, best_times_suggest
from analytics.insights import video_insights
from analytics.models import ReportFrequency, ReportSchedule, VideoSnapshot
from analytics.reports import (
    Report,
    last_complete_period,
    report_build,
    report_pdf,
    report_schedule_get,
    report_schedules,
    report_settings_get,
)
from analytics.response_times import overview_response_times
from later.data_version import lazy_entries, page_token
from later.db_router import replica_enabled, replica_reads
from later.errors import ValidationFailed
from later.idempotency import once_per_form
from later.tenancy import WorkspaceRequest, workspace_view

POSTS_PER_PAGE = 25

SORTABLE_COLUMNS = (
    ("views", "Video views"),
    ("posted", "Published"),
    ("likes", "Likes"),
    ("comments", "Comments"),
    ("shares", "Shares"),
    ("engagement", "Engagement"),
    ("views_1h", "Views at 1 h"),
    ("views_24h", "Views at 24 h"),
    ("views_7d", "Views at 7 d"),
    ("watch_time", "Avg. watch time"),
    ("full_watch", "Watched in full"),
    ("new_followers", "New followers"),
    ("for_you", "From For You"),
    ("new_viewers", "New viewers"),
    ("retention_mid", "Watching at mid-video"),
)


def _filters(
    request: HttpRequest, workspace: Workspace
) -> tuple[selectors.DateRange, list[TikTokAccount], TikTokAccount | None, list[str]]:
    """Range and account from the query string; bad input falls back with a sentence."""
    errors: list[str] = []
    try:
        period = selectors.date_range_parse(
            workspace=workspace,
            range_key=request.GET.get("range"),
            start=request.GET.get("start"),
            end=request.GET.get("end"),
        )
    except ValidationFailed as exc:
        errors.append(exc.message)
        period = selectors.date_range_parse(
            workspace=workspace, range_key="30", start=None, end=None
        )
    accounts = list(selectors.accounts_for_analytics(workspace=workspace))
    try:
        account = selectors.account_resolve(
            accounts=accounts, account_id=request.GET.get("account")
        )
    except ValidationFailed as exc:
        errors.append(exc.message)
        account = None
    return period, accounts, account, errors


def _query(request: HttpRequest, **changes: str) -> str:
    params: dict[str, str] = {key: str(value) for key, value in request.GET.items() if value}
    params.update(changes)
    if "sort" in changes:
        params.pop("page", None)
    return urlencode({key: value for key, value in params.items() if value})


#: Used when two accounts share a colour, so every line stays distinguishable.
HEX_COLOR = re.compile(r"#[0-9a-f]{6}")
FALLBACK_COLORS = ("#0ea5e9", "#f97316", "#16a34a", "#db2777", "#ca8a04", "#475569")


def _followers_chart(data: selectors.Overview) -> charts.Chart:
    if data.account is not None or len(data.followers_by_account) < 2:
        return charts.line_chart(data.followers_series, label="Followers", unit="followers")
    used: set[str] = set()
    lines = []
    for index, line in enumerate(data.followers_by_account):
        color = line.account.color.lower()
        # The colour lands in a style attribute: only a plain hex colour goes there.
        if not HEX_COLOR.fullmatch(color) or color in used:
            spare = [c for c in FALLBACK_COLORS if c not in used]
            color = spare[0] if spare else FALLBACK_COLORS[index % len(FALLBACK_COLORS)]
        used.add(color)
        lines.append(charts.LineSeries(label=line.account.handle, series=line.points, color=color))
    return charts.multi_line_chart(lines, label="Followers", unit="followers")


@workspace_view()
@require_safe
def overview(request: WorkspaceRequest) -> HttpResponse:
    # Read-only: served from the replica when one is configured (later/db_router.py).
    with replica_reads():
        return _overview(request)


def _overview(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    # Cached under the workspace's data version, read before the data (later/data_version.py).
    # Not while reads go to a replica: it may not have the rows the version names yet.
    version = page_token(workspace.pk) if not replica_enabled() else uuid.uuid4().hex
    period, accounts, account, errors = _filters(request, workspace)
    sort = selectors.sort_parse(request.GET.get("sort"))

    def build() -> dict[str, Any]:
        data = selectors.overview_build(
            workspace=workspace, period=period, accounts=accounts, account=account
        )
        videos = selectors.videos_for_period(
            workspace=workspace, period=period, account=account, sort=sort
        )
        return {
            "overview": data,
            "views_chart": charts.bar_chart(data.views_series, label="Video views", unit="views"),
            "followers_chart": _followers_chart(data),
            "posts_chart": charts.bar_chart(
                [(day, count) for day, count in data.posts_series],
                label="Posts published",
                unit="posts",
            ),
            "page": Paginator(videos, POSTS_PER_PAGE).get_page(request.GET.get("page")),
            "response_times": overview_response_times(
                workspace=workspace, period=period, account=account
            ),
        }

    sort_links = []
    for key, label in SORTABLE_COLUMNS:
        active = sort.lstrip("-") == key
        next_sort = key if active and sort.startswith("-") else f"-{key}"
        sort_links.append(
            {
                "key": key,
                "label": label,
                "active": active,
                "descending": sort.startswith("-"),
                "query": _query(request, sort=next_sort),
            }
        )
    built = SimpleLazyObject(build)
    context = lazy_entries(
        built,
        ("overview", "views_chart", "followers_chart", "posts_chart", "page", "response_times"),
    )
    context.update(
        {
            "page_version": version,
            "page_params": [request.get_full_path(), accounts, account, errors],
            "period": period,
            "account": account,
            "errors": errors,
            "form": {
                "range": request.GET.get("range", period.key),
                "start": request.GET.get("start", period.start.isoformat()),
                "end": request.GET.get("end", period.end.isoformat()),
                "account": request.GET.get("account", ""),
            },
            "sort": sort,
            "sort_links": sort_links,
            "filter_query": _query(request),
        }
    )
    return render(request, "analytics/overview.html", context, status=400 if errors else 200)


def _daily_views(snapshots: list[VideoSnapshot]) -> list[tuple[dt.date, int | None]]:
    if not snapshots:
        return []
    last_per_day: dict[dt.date, int] = {}
    for snapshot in snapshots:
        last_per_day[snapshot.date] = snapshot.views
    first, last = min(last_per_day), max(last_per_day)
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    return [(day, last_per_day.get(day)) for day in days]


@workspace_view(load={"item": selectors.video_get})
@require_safe
def video(request: WorkspaceRequest, item: TikTokVideo) -> HttpResponse:
    snapshots = selectors.video_snapshots(video=item)
    context = {
        "video": item,
        "snapshots": snapshots[-48:][::-1],
        "snapshot_count": len(snapshots),
        "latest": snapshots[-1] if snapshots else None,
        "insights": video_insights(video=item, snapshots=snapshots, now=timezone.now()),
        "views_chart": charts.line_chart(_daily_views(snapshots), label="Views", unit="views"),
    }
    return render(request, "analytics/video.html", context)


def _csv_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_filters(
    request: WorkspaceRequest,
) -> tuple[Workspace, selectors.DateRange, TikTokAccount | None]:
    workspace = request.workspace
    period, _accounts, account, errors = _filters(request, workspace)
    if errors:
        raise ValidationFailed(" ".join(errors))
    return workspace, period, account


@workspace_view()
@require_safe
def export_account(request: WorkspaceRequest) -> HttpResponse:
    try:
        workspace, period, account = _export_filters(request)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    body = exports.account_metrics_csv(workspace=workspace, period=period, account=account)
    return _csv_response(body, f"account-metrics-{period.start}-{period.end}.csv")


@workspace_view()
@require_safe
def export_posts(request: WorkspaceRequest) -> HttpResponse:
    try:
        workspace, period, account = _export_filters(request)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    videos = selectors.videos_for_period(
        workspace=workspace, period=period, account=account, sort=request.GET.get("sort")
    )
    body = exports.post_metrics_csv(workspace=workspace, videos=videos)
    return _csv_response(body, f"post-metrics-{period.start}-{period.end}.csv")


@workspace_view()
@require_safe
def best_times(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    accounts = list(selectors.accounts_for_analytics(workspace=workspace))
    status = 200
    error = ""
    try:
        account = selectors.account_resolve(
            accounts=accounts, account_id=request.GET.get("account")
        )
    except ValidationFailed as exc:
        account, error, status = None, exc.message, 400
    data = best_times_build(workspace=workspace, account=account, accounts=accounts)
    context = {
        "data": data,
        "accounts": accounts,
        "account": account,
        "error": error,
        "suggestions": best_times_suggest(workspace=workspace, account=account, data=data),
        "hours": list(range(24)),
    }
    return render(request, "analytics/best_times.html", context, status=status)


def _report_filters(request: WorkspaceRequest) -> tuple[Report, list[str]]:
    workspace = request.workspace
    errors: list[str] = []
    if not request.GET.get("range"):
        # A client report defaults to the last full calendar month.
        period = last_complete_period(
            frequency=ReportFrequency.MONTHLY, today=selectors.local_today(workspace)
        )
        _p, _accounts, account, errors = _filters(request, workspace)
    else:
        period, _accounts, account, errors = _filters(request, workspace)
    return report_build(workspace=workspace, period=period, account=account), errors


@workspace_view()
@require_safe
def report(request: WorkspaceRequest) -> HttpResponse:
    built, errors = _report_filters(request)
    context = {
        "report": built,
        "errors": errors,
        "accounts": built.overview.accounts,
        "form": {
            "range": request.GET.get("range", ""),
            "start": request.GET.get("start", built.period.start.isoformat()),
            "end": request.GET.get("end", built.period.end.isoformat()),
            "account": request.GET.get("account", ""),
        },
        "query": _query(request),
    }
    return render(request, "analytics/report.html", context, status=400 if errors else 200)


@workspace_view()
@require_safe
def report_pdf_download(request: WorkspaceRequest) -> HttpResponse:
    built, errors = _report_filters(request)
    if errors:
        return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(report_pdf(built), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="tiktok-report-{built.period.start}-{built.period.end}.pdf"'
    )
    return response


def _settings_page(
    request: WorkspaceRequest, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    workspace = request.workspace
    context = {
        "branding": report_settings_get(workspace=workspace),
        "schedules": report_schedules(workspace=workspace),
        "accounts": list(selectors.accounts_for_analytics(workspace=workspace)),
        "frequencies": ReportFrequency.choices,
        "errors": errors or {},
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "analytics/report_settings.html", context, status=status)


@workspace_view(min_role=Role.ADMIN)
@require_http_methods(["GET", "POST"])
@once_per_form
def report_settings(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    if request.method == "GET":
        return _settings_page(request)
    action = request.POST.get("action")
    try:
        if action == "branding":
            reporting.report_settings_update(
                workspace=workspace,
                agency_name=request.POST.get("agency_name", ""),
                primary_color=request.POST.get("primary_color", ""),
                accent_color=request.POST.get("accent_color", ""),
                logo=request.FILES.get("logo"),
                remove_logo=request.POST.get("remove_logo") == "1",
            )
            messages.success(request, "Report branding saved.")
        elif action == "branding_reset":
            reporting.report_settings_reset(workspace=workspace)
            messages.success(request, "Reports carry the agency's branding again.")
        elif action == "schedule":
            accounts = list(selectors.accounts_for_analytics(workspace=workspace))
            reporting.report_schedule_create(
                workspace=workspace,
                frequency=request.POST.get("frequency", ""),
                recipients=reporting.recipients_from_text(request.POST.get("recipients", "")),
                account=selectors.account_resolve(
                    accounts=accounts, account_id=request.POST.get("account")
                ),
            )
            messages.success(request, "Report scheduled.")
        else:
            return _settings_page(request, errors={"form": "Unknown action."}, status=400)
    except ValidationFailed as exc:
        return _settings_page(request, errors={action or "form": exc.message}, status=400)
    return redirect("analytics:report_settings", workspace_id=workspace.pk)


@workspace_view(min_role=Role.ADMIN, load={"schedule": report_schedule_get})
@require_POST
def report_schedule_delete(request: WorkspaceRequest, schedule: ReportSchedule) -> HttpResponse:
    reporting.report_schedule_delete(schedule=schedule)
    messages.success(request, "Report schedule removed.")
    return redirect("analytics:report_settings", workspace_id=request.workspace.pk)

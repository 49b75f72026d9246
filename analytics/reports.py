"""Client reports: what a period's report contains, and its web page / PDF / e-mail renderings.

The web page and the PDF render the same template body (`analytics/report_body.html`), so a
figure cannot differ between them; the figures come from the overview selector, so they
agree with the analytics page too.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from analytics import charts, selectors
from analytics.models import ReportDelivery, ReportFrequency, ReportSchedule, ReportSettings
from analytics.selectors import DateRange, Overview
from later.errors import NotFound

logger = logging.getLogger(__name__)

TOP_POSTS = 5
REPORT_CSS = Path(__file__).resolve().parent.parent / "static" / "analytics" / "report.css"
REPORT_NARROW_CSS = REPORT_CSS.with_name("report_narrow.css")


@dataclass(frozen=True)
class ResponseTimes:
    """First-response figures from Conversations for the period (seconds)."""

    threads: int
    answered: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def median_display(self) -> str:
        return duration_display(self.median_seconds)

    @property
    def p90_display(self) -> str:
        return duration_display(self.p90_seconds)


def duration_display(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@dataclass
class Report:
    workspace: Workspace
    period: DateRange
    account: TikTokAccount | None
    overview: Overview
    branding: ReportSettings
    top_by_views: list[TikTokVideo]
    top_by_engagement: list[TikTokVideo]
    response_times: ResponseTimes | None
    views_chart: charts.Chart
    followers_chart: charts.Chart

    @property
    def title(self) -> str:
        who = self.account.handle if self.account else self.workspace.name
        return f"TikTok report · {who}"

    @property
    def logo_data_uri(self) -> str:
        if not self.branding.logo:
            return ""
        encoded = base64.b64encode(bytes(self.branding.logo)).decode()
        return f"data:{self.branding.logo_content_type};base64,{encoded}"


def report_settings_get(*, workspace: Workspace) -> ReportSettings:
    """The branding a workspace's reports carry: its own when it saved one, else its agency's
    (name, logo, colours), else the defaults. The last two are unsaved rows; `source` says
    which it is."""
    found = ReportSettings.objects.for_workspace(workspace).first()
    if found is not None:
        return found
    agency = workspace.agency
    if agency is None:
        branding = ReportSettings(workspace=workspace)
        branding.source = "default"
        return branding
    branding = ReportSettings(
        workspace=workspace,
        agency_name=agency.name,
        logo=bytes(agency.logo),
        logo_content_type=agency.logo_content_type,
        primary_color=agency.primary_color,
        accent_color=agency.accent_color,
    )
    branding.source = "agency"
    return branding


def last_complete_period(*, frequency: str, today: dt.date) -> DateRange:
    """The last finished week (Monday-Sunday) or calendar month before `today`."""
    if frequency == ReportFrequency.WEEKLY:
        end = today - dt.timedelta(days=today.weekday() + 1)
        return DateRange(start=end - dt.timedelta(days=6), end=end, key="custom")
    end = today.replace(day=1) - dt.timedelta(days=1)
    return DateRange(start=end.replace(day=1), end=end, key="custom")


def previous_period(period: DateRange) -> DateRange:
    """A calendar month compares with the calendar month before; otherwise same length."""
    if period.start.day == 1 and (period.end + dt.timedelta(days=1)).day == 1:
        end = period.start - dt.timedelta(days=1)
        return DateRange(start=end.replace(day=1), end=end, key=period.key)
    return period.previous()


def _response_times(
    *, workspace: Workspace, period: DateRange, account: TikTokAccount | None
) -> ResponseTimes | None:
    """From Conversations through a settings-named hook; None (section omitted) without it."""
    path = getattr(settings, "REPORT_RESPONSE_TIMES", "")
    if not path:
        return None
    try:
        figures_of = import_string(path)
    except ImportError:
        return None
    tz = workspace.tz
    figures = figures_of(
        workspace=workspace,
        since=dt.datetime.combine(period.start, dt.time.min, tzinfo=tz),
        until=dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        account_id=account.pk if account is not None else None,
    )
    if figures is None or not getattr(figures, "threads", 0):
        return None
    return ResponseTimes(
        threads=figures.threads,
        answered=figures.answered,
        median_seconds=figures.median_seconds,
        p90_seconds=figures.p90_seconds,
    )


def _top(videos: QuerySet[TikTokVideo], sort: str) -> list[TikTokVideo]:
    column = selectors.SORTS[selectors.sort_parse(sort).lstrip("-")]
    return list(videos.order_by(F(column).desc(nulls_last=True), "-posted_at")[:TOP_POSTS])


def report_build(
    *, workspace: Workspace, period: DateRange, account: TikTokAccount | None = None
) -> Report:
    accounts = list(selectors.accounts_for_analytics(workspace=workspace))
    overview = selectors.overview_build(
        workspace=workspace,
        period=period,
        accounts=accounts,
        account=account,
        previous=previous_period(period),
    )
    videos = selectors.videos_for_period(workspace=workspace, period=period, account=account)
    branding = report_settings_get(workspace=workspace)
    return Report(
        workspace=workspace,
        period=period,
        account=account,
        overview=overview,
        branding=branding,
        top_by_views=_top(videos, "-views"),
        top_by_engagement=[
            video
            for video in _top(videos, "-engagement")
            if getattr(video, "engagement_rate", None) is not None
        ],
        response_times=_response_times(workspace=workspace, period=period, account=account),
        # The charts carry the agency's colours themselves: the PDF reads no CSS inside an SVG.
        views_chart=charts.bar_chart(
            overview.views_series,
            label="Video views",
            unit="views",
            color=branding.primary_color,
        ),
        followers_chart=charts.line_chart(
            overview.followers_series,
            label="Followers",
            unit="followers",
            color=branding.accent_color,
        ),
    )


def report_html(report: Report, *, standalone: bool) -> str:
    """The report as a complete HTML document (PDF, e-mail) with its own stylesheet."""
    return render_to_string(
        "analytics/report_document.html",
        {
            "report": report,
            "standalone": standalone,
            "css": REPORT_CSS.read_text(encoding="utf-8"),
            "narrow_css": REPORT_NARROW_CSS.read_text(encoding="utf-8"),
        },
    )


def report_pdf(report: Report) -> bytes:
    """The same content as the web page, laid out by WeasyPrint with Debian's fonts."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=report_html(report, standalone=True)).write_pdf()
    return pdf


def report_schedules(*, workspace: Workspace) -> list[ReportSchedule]:
    return list(
        ReportSchedule.objects.for_workspace(workspace)
        .select_related("account")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=ReportDelivery.objects.for_workspace(workspace).order_by("-period_start"),
            )
        )
    )


def report_schedule_get(*, workspace: Workspace, schedule_id: Any) -> ReportSchedule:
    try:
        return ReportSchedule.objects.for_workspace(workspace).get(pk=schedule_id)
    except (ReportSchedule.DoesNotExist, ValueError, ValidationError) as exc:
        raise NotFound("This report schedule is not in this workspace.") from exc

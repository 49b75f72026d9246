"""What the calendar offers agencies: the agency home's figures per client
(`AGENCY_CLIENT_FIGURES`: posts due in the next seven days, failed and unconfirmed posts, one
query for every client) and the cross-client calendar page."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, DateField, F, Max, Q, When, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from accounts.agency_selectors import ClientFigure, ClientFigures, workspace_urls
from accounts.models import Workspace
from calendar_app.models import Post, PostStatus
from calendar_app.selectors import (
    MAX_POSTS_SHOWN_PER_DAY,
    STATUS_FILTERS,
    CalendarPage,
    _days,
    _lay_out,
    _list_slice,
    _page_frame,
    _utc_bounds,
    display_status,
)
from later.roles import Role, role_at_least

DUE_WINDOW = dt.timedelta(days=7)
#: Not "due": never going out (drafts, cancelled) or already settled one way or another.
NOT_DUE = (
    PostStatus.DRAFT,
    PostStatus.PUBLISHED,
    PostStatus.SENT_TO_INBOX,
    PostStatus.FAILED,
    PostStatus.UNCONFIRMED,
    PostStatus.CANCELLED,
)


def _list_url(base: str, workspace: Workspace, when: dt.datetime | None, status: str = "") -> str:
    query = {"view": "list"}
    if when is not None:
        query["date"] = timezone.localtime(when, workspace.tz).date().isoformat()
    if status:
        query["status"] = status
    return f"{base}?{urlencode(query)}"


def client_figures(*, workspaces: list[Workspace], now: dt.datetime) -> ClientFigures:
    due = Q(scheduled_at__gte=now, scheduled_at__lt=now + DUE_WINDOW) & ~Q(status__in=NOT_DUE)
    failed = Q(status=PostStatus.FAILED)
    unconfirmed = Q(status=PostStatus.UNCONFIRMED)
    rows = (
        Post.objects.filter(workspace_id__in=[ws.pk for ws in workspaces])
        .filter(due | failed | unconfirmed)
        .values("workspace_id")
        .annotate(
            due=Count("pk", filter=due),
            failed=Count("pk", filter=failed),
            unconfirmed=Count("pk", filter=unconfirmed),
            last_failed=Max("scheduled_at", filter=failed),
            last_unconfirmed=Max("scheduled_at", filter=unconfirmed),
        )
        .order_by()
    )
    by_workspace: dict[Any, Any] = {row["workspace_id"]: row for row in rows}
    figures: ClientFigures = {}
    calendars = workspace_urls("calendar_app:calendar", workspaces)
    for ws in workspaces:
        row = by_workspace.get(ws.pk, {})
        base = calendars[ws.pk]
        figures[ws.pk] = {
            "due": ClientFigure(value=row.get("due", 0), url=_list_url(base, ws, now)),
            "failed": ClientFigure(
                value=row.get("failed", 0),
                url=_list_url(base, ws, row.get("last_failed"), "failed"),
            ),
            "unconfirmed": ClientFigure(
                value=row.get("unconfirmed", 0),
                url=_list_url(base, ws, row.get("last_unconfirmed"), "needs_attention"),
            ),
        }
    return figures


# --- the cross-client calendar ------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyCalendarFilters:
    client_id: str = ""
    account_id: str = ""
    status: str = ""


def _local_day(zones: list[str]) -> Any:
    """SQL for a post's day in its own client's zone: clients share few zones, so one CASE
    branch per zone keeps it a single query whatever the number of clients."""
    if len(zones) == 1:
        return TruncDate("scheduled_at", tzinfo=zoneinfo.ZoneInfo(zones[0]))
    return Case(
        *[
            When(
                workspace__time_zone=zone,
                then=TruncDate("scheduled_at", tzinfo=zoneinfo.ZoneInfo(zone)),
            )
            for zone in zones
        ],
        output_field=DateField(),
    )


def _annotate_post(post: Post, can_edit: dict[Any, bool]) -> Post:
    assert post.scheduled_at is not None
    post.local_dt = post.scheduled_at.astimezone(post.workspace.tz)  # type: ignore[attr-defined]
    post.display_status = display_status(post)  # type: ignore[attr-defined]
    post.can_edit = can_edit.get(post.workspace_id, False)  # type: ignore[attr-defined]
    return post


def agency_calendar_page(
    *,
    clients: list[tuple[Workspace, str]],
    view: str,
    anchor: dt.date,
    today: dt.date,
    filters: AgencyCalendarFilters,
    after: str | None = None,
) -> CalendarPage:
    """Every client's posts on one month / week / list page. Each post sits on its day and hour
    in its own client's time zone, which is what a drop on the calendar means to
    `services.post_move`. Query count is fixed: two for the month, one otherwise, one for
    unscheduled drafts."""
    page = _page_frame(view, anchor)
    can_edit = {ws.pk: role_at_least(role, Role.EDITOR) for ws, role in clients}
    workspaces = [ws for ws, _role in clients]
    if filters.client_id:
        workspaces = [ws for ws in workspaces if str(ws.pk) == filters.client_id]
    if not workspaces:
        _lay_out(page, _days(page, today, {}, {} if view == "month" else None))
        return page
    zones = sorted({ws.time_zone for ws in workspaces})
    bounds = [
        _utc_bounds(ws, page.start, page.end)
        for ws in {ws.time_zone: ws for ws in workspaces}.values()
    ]
    posts_qs = Post.objects.filter(workspace_id__in=[ws.pk for ws in workspaces]).select_related(
        "account", "media", "workspace"
    )
    if filters.account_id:
        try:
            posts_qs = posts_qs.filter(account_id=uuid.UUID(filters.account_id))
        except ValueError:
            posts_qs = posts_qs.none()
    if filters.status in STATUS_FILTERS:
        posts_qs = posts_qs.filter(STATUS_FILTERS[filters.status][1])
    local_day = _local_day(zones)
    in_range = (
        posts_qs.filter(
            scheduled_at__gte=min(b[0] for b in bounds), scheduled_at__lt=max(b[1] for b in bounds)
        )
        .annotate(local_day=local_day)
        .filter(local_day__gte=page.start, local_day__lt=page.end)
        .order_by("scheduled_at", "created_at")
    )
    day_counts: dict[dt.date, int] | None = None
    if view == "month":
        day_counts = dict(
            in_range.order_by()
            .values("local_day")
            .annotate(n=Count("id"))
            .values_list("local_day", "n")
        )
        in_range = in_range.annotate(
            day_rank=Window(
                RowNumber(),
                partition_by=[local_day],
                order_by=[F("scheduled_at").asc(), F("created_at").asc()],
            )
        ).filter(day_rank__lte=MAX_POSTS_SHOWN_PER_DAY)
    if view == "list":
        posts, page.next_after = _list_slice(in_range, after)
    else:
        posts = list(in_range)
    by_day: dict[dt.date, list[Post]] = defaultdict(list)
    for post in posts:
        _annotate_post(post, can_edit)
        by_day[post.local_dt.date()].append(post)  # type: ignore[attr-defined]
    page.total = sum(day_counts.values()) if day_counts is not None else len(posts)
    _lay_out(page, _days(page, today, by_day, day_counts))
    if filters.status in ("", "draft"):
        drafts = posts_qs.filter(status=PostStatus.DRAFT, scheduled_at__isnull=True)
        page.unscheduled = list(drafts.order_by("-created_at")[:20])
        for draft in page.unscheduled:
            draft.can_edit = can_edit.get(draft.workspace_id, False)  # type: ignore[attr-defined]
    return page

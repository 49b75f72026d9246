"""Reads for the media library, the calendar and the API. Every query is workspace-scoped and
fetches its relations up front so that pages run a fixed number of queries."""

from __future__ import annotations

import calendar as pycalendar
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate

from accounts.models import TikTokAccount, Workspace
from calendar_app.models import MediaAsset, Post, PostStatus
from later.errors import NotFound

VIEWS = ("month", "week", "list")
MAX_POSTS_SHOWN_PER_DAY = 6

STATUS_FILTERS: dict[str, tuple[str, Q]] = {
    "draft": ("Draft", Q(status=PostStatus.DRAFT)),
    "scheduled": ("Scheduled", Q(status=PostStatus.SCHEDULED)),
    "publishing": ("Publishing", Q(status__in=[PostStatus.QUEUED, PostStatus.PUBLISHING])),
    "published": ("Published", Q(status__in=[PostStatus.PUBLISHED, PostStatus.SENT_TO_INBOX])),
    "failed": ("Failed", Q(status=PostStatus.FAILED)),
    "needs_attention": (
        "Needs attention",
        ~Q(needs_attention="") | Q(status=PostStatus.UNCONFIRMED),
    ),
}


def display_status(post: Post) -> str:
    """The calendar's status key for a post (drives the badge and the filter)."""
    if post.needs_attention or post.status == PostStatus.UNCONFIRMED:
        return "needs_attention"
    return {
        PostStatus.QUEUED: "publishing",
        PostStatus.SENT_TO_INBOX: "published",
    }.get(PostStatus(post.status), post.status)


def media_list(*, workspace: Workspace, kind: str | None = None) -> QuerySet[MediaAsset]:
    qs = MediaAsset.objects.for_workspace(workspace).select_related("uploaded_by")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at")


def media_get(*, workspace: Workspace, media_id: Any) -> MediaAsset:
    try:
        return MediaAsset.objects.for_workspace(workspace).get(pk=media_id)
    except (MediaAsset.DoesNotExist, ValueError) as exc:
        raise NotFound("Media not found.") from exc


def account_list(*, workspace: Workspace) -> QuerySet[TikTokAccount]:
    return TikTokAccount.objects.for_workspace(workspace).order_by("display_name", "username")


def account_get(*, workspace: Workspace, account_id: Any) -> TikTokAccount:
    try:
        return TikTokAccount.objects.for_workspace(workspace).get(pk=account_id)
    except (TikTokAccount.DoesNotExist, ValueError) as exc:
        raise NotFound("TikTok account not found.") from exc


def post_queryset(*, workspace: Workspace) -> QuerySet[Post]:
    return Post.objects.for_workspace(workspace).select_related("account", "media")


def post_get(*, workspace: Workspace, post_id: Any) -> Post:
    try:
        return post_queryset(workspace=workspace).get(pk=post_id)
    except (Post.DoesNotExist, ValueError) as exc:
        raise NotFound("Post not found.") from exc


def post_list(
    *,
    workspace: Workspace,
    account_id: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[Post]:
    qs = post_queryset(workspace=workspace)
    if account_id:
        try:
            qs = qs.filter(account_id=uuid.UUID(str(account_id)))
        except ValueError:
            return qs.none()
    if status in STATUS_FILTERS:
        qs = qs.filter(STATUS_FILTERS[status][1])
    if start is not None:
        qs = qs.filter(scheduled_at__gte=start)
    if end is not None:
        qs = qs.filter(scheduled_at__lt=end)
    return qs.order_by("scheduled_at", "created_at")


def post_timeline(*, workspace: Workspace, post_id: Any) -> Post:
    """A post with what its publishing timeline shows: its events (oldest first), the account,
    the media and the published video."""
    try:
        return (
            Post.objects.for_workspace(workspace)
            .select_related("account", "video", "media")
            .prefetch_related("events")
            .get(pk=post_id)
        )
    except (Post.DoesNotExist, ValueError) as exc:
        raise NotFound("Post not found.") from exc


def post_group(*, workspace: Workspace, group_id: Any) -> QuerySet[Post]:
    return post_queryset(workspace=workspace).filter(group_id=group_id)


# --- calendar ---------------------------------------------------------------------------------


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    is_past: bool
    posts: list[Post] = field(default_factory=list)
    slots: list[list[Post]] = field(default_factory=list)
    count: int | None = None  # all posts that day, when `posts` holds only the first few

    @property
    def shown(self) -> list[Post]:
        return self.posts[:MAX_POSTS_SHOWN_PER_DAY]

    @property
    def hidden_count(self) -> int:
        total = len(self.posts) if self.count is None else self.count
        return max(0, total - len(self.shown))


@dataclass
class CalendarPage:
    view: str
    anchor: date
    start: date
    end: date  # exclusive
    title: str
    prev_date: date
    next_date: date
    weeks: list[list[CalendarDay]] = field(default_factory=list)
    days: list[CalendarDay] = field(default_factory=list)
    hours: list[int] = field(default_factory=list)
    week_rows: list[tuple[int, list[tuple[CalendarDay, list[Post]]]]] = field(default_factory=list)
    unscheduled: list[Post] = field(default_factory=list)
    total: int = 0
    # List view pages through a busy month LIST_PAGE_SIZE posts at a time (keyset, no OFFSET).
    next_after: str = ""


LIST_PAGE_SIZE = 100


def _list_position(after: str | None) -> tuple[datetime, uuid.UUID] | None:
    """Decode the list view's "show more" position; a malformed one starts from the top."""
    if not after or "|" not in after:
        return None
    at, _, pk = after.partition("|")
    try:
        moment = datetime.fromisoformat(at)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), uuid.UUID(pk)
    except ValueError:
        return None


def _utc_bounds(workspace: Workspace, start: date, end: date) -> tuple[datetime, datetime]:
    tz = workspace.tz
    return (
        datetime.combine(start, time(0), tz).astimezone(UTC),
        datetime.combine(end, time(0), tz).astimezone(UTC),
    )


def calendar_page(
    *,
    workspace: Workspace,
    view: str,
    anchor: date,
    today: date,
    account_id: str | None = None,
    status: str | None = None,
    after: str | None = None,
) -> CalendarPage:
    """Posts for one month / week / list page, bucketed by day in the workspace's zone.

    One query for the posts (account and media joined), one for unscheduled drafts.
    """
    page = _page_frame(view, anchor)
    start_utc, end_utc = _utc_bounds(workspace, page.start, page.end)
    in_range = post_list(
        workspace=workspace, account_id=account_id, status=status, start=start_utc, end=end_utc
    )
    day_counts: dict[date, int] | None = None
    if view == "month":
        in_range, day_counts = _first_posts_per_day(in_range, workspace.tz)
    if view == "list":
        posts, page.next_after = _list_slice(in_range, after)
    else:
        posts = list(in_range)
    page.total = sum(day_counts.values()) if day_counts is not None else len(posts)
    days = _days(page, today, _by_local_day(posts, workspace.tz), day_counts)
    _lay_out(page, days)
    if status in (None, "", "draft"):
        page.unscheduled = _unscheduled_drafts(workspace, account_id)
    return page


def _page_frame(view: str, anchor: date) -> CalendarPage:
    """The dates a page covers, its title and its neighbours."""
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        end = start + timedelta(days=7)
        title = f"{start:%d %b} - {(end - timedelta(days=1)):%d %b %Y}"
        prev_date, next_date = start - timedelta(days=7), start + timedelta(days=7)
    else:
        first = anchor.replace(day=1)
        last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
        title = f"{first:%B %Y}"
        prev_date = (first - timedelta(days=1)).replace(day=1)
        next_date = last + timedelta(days=1)
        if view == "month":
            start = first - timedelta(days=first.weekday())
            end = last + timedelta(days=7 - last.weekday())
        else:
            start, end = first, next_date
    return CalendarPage(
        view=view,
        anchor=anchor,
        start=start,
        end=end,
        title=title,
        prev_date=prev_date,
        next_date=next_date,
    )


def _first_posts_per_day(
    in_range: QuerySet[Post], tz: tzinfo
) -> tuple[QuerySet[Post], dict[date, int]]:
    """A month cell shows a few posts and "+N more": rank posts per local day in SQL so a busy
    workspace (thousands of posts) loads at most MAX_POSTS_SHOWN_PER_DAY per day, in one query."""
    local_day = TruncDate("scheduled_at", tzinfo=tz)
    day_counts = dict(
        in_range.order_by()
        .annotate(day=local_day)
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    ranked = in_range.annotate(
        day_rank=Window(
            RowNumber(),
            partition_by=[local_day],
            order_by=[F("scheduled_at").asc(), F("created_at").asc()],
        )
    ).filter(day_rank__lte=MAX_POSTS_SHOWN_PER_DAY)
    return ranked, day_counts


def _list_slice(in_range: QuerySet[Post], after: str | None) -> tuple[list[Post], str]:
    """One page of the list view from the keyset position `after`, and the next position."""
    in_range = in_range.order_by("scheduled_at", "id")
    position = _list_position(after)
    if position is not None:
        at, pk = position
        in_range = in_range.filter(scheduled_at__gte=at).exclude(scheduled_at=at, id__lte=pk)
    posts = list(in_range[: LIST_PAGE_SIZE + 1])
    if len(posts) <= LIST_PAGE_SIZE:
        return posts, ""
    posts = posts[:LIST_PAGE_SIZE]
    last_post = posts[-1]
    assert last_post.scheduled_at is not None
    return posts, f"{last_post.scheduled_at.isoformat()}|{last_post.id}"


def _by_local_day(posts: list[Post], tz: tzinfo) -> dict[date, list[Post]]:
    by_day: dict[date, list[Post]] = defaultdict(list)
    for post in posts:
        assert post.scheduled_at is not None
        local = post.scheduled_at.astimezone(tz)
        post.local_dt = local  # type: ignore[attr-defined]
        post.display_status = display_status(post)  # type: ignore[attr-defined]
        by_day[local.date()].append(post)
    return by_day


def _days(
    page: CalendarPage,
    today: date,
    by_day: dict[date, list[Post]],
    day_counts: dict[date, int] | None,
) -> list[CalendarDay]:
    days = []
    cursor = page.start
    while cursor < page.end:
        days.append(
            CalendarDay(
                day=cursor,
                in_month=page.view == "week" or cursor.month == page.anchor.month,
                is_today=cursor == today,
                is_past=cursor < today,
                posts=by_day.get(cursor, []),
                count=day_counts.get(cursor, 0) if day_counts is not None else None,
            )
        )
        cursor += timedelta(days=1)
    return days


def _lay_out(page: CalendarPage, days: list[CalendarDay]) -> None:
    """Month: rows of seven days. Week: hour slots. List: only the days with posts."""
    page.days = days
    if page.view == "month":
        page.weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    elif page.view == "list":
        page.days = [d for d in days if d.posts]
    if page.view == "week":
        page.hours = list(range(24))
        for d in days:
            d.slots = [[p for p in d.posts if p.local_dt.hour == h] for h in page.hours]  # type: ignore[attr-defined]
        page.week_rows = [(h, [(d, d.slots[h]) for d in days]) for h in page.hours]


def _unscheduled_drafts(workspace: Workspace, account_id: str | None) -> list[Post]:
    drafts = post_list(workspace=workspace, account_id=account_id).filter(
        status=PostStatus.DRAFT, scheduled_at__isnull=True
    )
    return list(drafts.order_by("-created_at")[:20])

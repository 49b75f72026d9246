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
from django.db.models.functions import RowNumber, TruncDate, TruncHour

from accounts.models import TikTokAccount, Workspace
from calendar_app.models import CalendarNote, MediaAsset, Post, PostStatus
from later.errors import NotFound

VIEWS = ("month", "week", "list")
MAX_POSTS_SHOWN_PER_DAY = 6
#: A week cell (one hour of one day) renders this many cards, then "+N more".
MAX_POSTS_SHOWN_PER_HOUR = 2
#: The week view opens scrolled to this hour (the working day).
WORKDAY_START_HOUR = 8

STATUS_FILTERS: dict[str, tuple[str, Q]] = {
    "draft": ("Draft", Q(status=PostStatus.DRAFT)),
    "in_review": ("In review", Q(status=PostStatus.IN_REVIEW)),
    "scheduled": ("Scheduled", Q(status=PostStatus.SCHEDULED)),
    "publishing": ("Publishing", Q(status__in=[PostStatus.QUEUED, PostStatus.PUBLISHING])),
    "published": ("Published", Q(status__in=[PostStatus.PUBLISHED, PostStatus.SENT_TO_INBOX])),
    "failed": ("Failed", Q(status=PostStatus.FAILED)),
    "needs_attention": (
        "Needs attention",
        ~Q(needs_attention="") | Q(status=PostStatus.UNCONFIRMED),
    ),
}


# An inbox draft is not "Published": it waits in the creator's TikTok inbox until they post it
# (the "published" filter still lists it, see STATUS_FILTERS).
_MERGED_STATUSES = {PostStatus.QUEUED.value: "publishing"}
_STATUS_LABELS = {"needs_attention": "Needs attention", "sent_to_inbox": "Sent to inbox"}


def display_status(post: Post) -> str:
    """The calendar's status key for a post (drives the badge and the filter). Any status the
    model gains later (e.g. in_review) shows as itself, so badges need no list of statuses."""
    if post.status == PostStatus.UNCONFIRMED:
        return "unconfirmed"
    if post.needs_attention:
        return "needs_attention"
    return _MERGED_STATUSES.get(post.status, post.status)


_POST_STATUS_LABELS = dict(PostStatus.choices)


def status_label(key: str) -> str:
    """The badge text of a display status key."""
    if key in _STATUS_LABELS:
        return _STATUS_LABELS[key]
    return str(_POST_STATUS_LABELS.get(key, key.replace("_", " ").capitalize()))


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


#: What a calendar card (calendar_app/cards.py) and the calendar's layout read of a post, its
#: account and its media: a busy month loads a few hundred rows, and the other columns (the
#: publishing state, the account's tokens and scopes) cost more to decode than the page to draw.
CARD_FIELDS = (
    "id",
    "workspace",
    "account",
    "media",
    "post_mode",
    "caption",
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "scheduled_at",
    "status",
    "needs_attention",
    "account__id",
    "account__username",
    "account__display_name",
    "account__open_id",
    "account__color",
    "media__id",
    "media__kind",
    "media__thumbnail",
)


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
    #: The day as the page's links and data attributes spell it (YYYY-MM-DD).
    iso: str = ""
    posts: list[Post] = field(default_factory=list)
    slots: list[list[Post]] = field(default_factory=list)
    count: int | None = None  # all posts that day, when `posts` holds only the first few
    notes: list[CalendarNote] = field(default_factory=list)

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
    week_rows: list[tuple[int, list[WeekCell]]] = field(default_factory=list)
    unscheduled: list[Post] = field(default_factory=list)
    notes: list[CalendarNote] = field(default_factory=list)
    total: int = 0
    # List view pages through a busy month LIST_PAGE_SIZE posts at a time (keyset, no OFFSET).
    next_after: str = ""


@dataclass
class WeekCell:
    """One hour of one day in the week view: the first few posts and how many more there are."""

    day: CalendarDay
    hour: int
    posts: list[Post]
    hidden_count: int = 0
    #: The hour as the page spells it ("08").
    hh: str = ""
    #: Free posting slots in this hour: (wall-clock "HH:MM", account), drop targets.
    free: list[tuple[str, TikTokAccount]] = field(default_factory=list)


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
    ).only(*CARD_FIELDS)
    day_counts: dict[date, int] | None = None
    hour_counts: dict[tuple[date, int], int] = {}
    if view == "month":
        in_range, day_counts = _first_posts_per_day(in_range, workspace.tz)
    elif view == "week":
        in_range, hour_counts = _first_posts_per_hour(in_range, workspace.tz)
    if view == "list":
        posts, page.next_after = _list_slice(in_range, after)
    else:
        posts = list(in_range)
    if day_counts is not None:
        page.total = sum(day_counts.values())
    elif hour_counts:
        page.total = sum(hour_counts.values())
    else:
        page.total = len(posts)
    days = _days(page, today, _by_local_day(posts, workspace.tz), day_counts)
    notes = note_list(workspace=workspace, start=page.start, end=page.end)
    for d in days:
        d.notes = notes.get(d.day, [])
        page.notes.extend(d.notes)
    _lay_out(page, days, hour_counts)
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
    elif view == "list":
        # Upcoming posts from the anchor day on, across month ends (paged by `after`).
        start, end = anchor, anchor + timedelta(days=LIST_HORIZON_DAYS)
        title = f"From {anchor:%-d %B %Y}"
        prev_date, next_date = _shift_months(anchor, -1), _shift_months(anchor, 1)
    else:
        first = anchor.replace(day=1)
        last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
        title = f"{first:%B %Y}"
        prev_date = (first - timedelta(days=1)).replace(day=1)
        next_date = last + timedelta(days=1)
        start = first - timedelta(days=first.weekday())
        end = last + timedelta(days=7 - last.weekday())
    return CalendarPage(
        view=view,
        anchor=anchor,
        start=start,
        end=end,
        title=title,
        prev_date=prev_date,
        next_date=next_date,
    )


#: How far ahead the list view reads from its first day.
LIST_HORIZON_DAYS = 366


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = pycalendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _first_posts_per_hour(
    in_range: QuerySet[Post], tz: tzinfo
) -> tuple[QuerySet[Post], dict[tuple[date, int], int]]:
    """A week cell shows a few posts and "+N more": as for the month, rank posts per local hour
    in SQL so a week of thousands of posts loads at most MAX_POSTS_SHOWN_PER_HOUR per hour."""
    local_hour = TruncHour("scheduled_at", tzinfo=tz)
    hour_counts: dict[tuple[date, int], int] = {}
    for moment, n in (
        in_range.order_by()
        .annotate(hour=local_hour)
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    ):
        local = moment.astimezone(tz)
        key = (local.date(), local.hour)
        hour_counts[key] = hour_counts.get(key, 0) + n
    ranked = in_range.annotate(
        hour_rank=Window(
            RowNumber(),
            partition_by=[local_hour],
            order_by=[F("scheduled_at").asc(), F("created_at").asc()],
        )
    ).filter(hour_rank__lte=MAX_POSTS_SHOWN_PER_HOUR)
    return ranked, hour_counts


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
        post.status_label = status_label(post.display_status)  # type: ignore[attr-defined]
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
                iso=cursor.isoformat(),
                posts=by_day.get(cursor, []),
                count=day_counts.get(cursor, 0) if day_counts is not None else None,
            )
        )
        cursor += timedelta(days=1)
    return days


def _lay_out(
    page: CalendarPage,
    days: list[CalendarDay],
    hour_counts: dict[tuple[date, int], int] | None = None,
) -> None:
    """Month: rows of seven days. Week: hour slots of at most MAX_POSTS_SHOWN_PER_HOUR posts
    (`hour_counts` from SQL says how many each hour holds; without it, the posts given count).
    List: only the days with posts."""
    page.days = days
    if page.view == "month":
        page.weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    elif page.view == "list":
        page.days = [d for d in days if d.posts]
    if page.view == "week":
        page.hours = list(range(24))
        for d in days:
            d.slots = [[] for _ in page.hours]
            for p in d.posts:
                d.slots[p.local_dt.hour].append(p)  # type: ignore[attr-defined]
        counts = (
            hour_counts
            if hour_counts is not None
            else {(d.day, h): len(d.slots[h]) for d in days for h in page.hours}
        )
        page.week_rows = [
            (
                h,
                [
                    WeekCell(
                        day=d,
                        hour=h,
                        hh=f"{h:02d}",
                        posts=d.slots[h][:MAX_POSTS_SHOWN_PER_HOUR],
                        hidden_count=max(
                            0,
                            counts.get((d.day, h), 0) - len(d.slots[h][:MAX_POSTS_SHOWN_PER_HOUR]),
                        ),
                    )
                    for d in days
                ],
            )
            for h in page.hours
        ]


def note_list(*, workspace: Workspace, start: date, end: date) -> dict[date, list[CalendarNote]]:
    """The workspace's calendar notes on the days [start, end), by day."""
    by_day: dict[date, list[CalendarNote]] = defaultdict(list)
    for note in CalendarNote.objects.for_workspace(workspace).filter(day__gte=start, day__lt=end):
        by_day[note.day].append(note)
    return by_day


def note_queryset(*, workspace: Workspace) -> QuerySet[CalendarNote]:
    return CalendarNote.objects.for_workspace(workspace).select_related("created_by")


def note_get(*, workspace: Workspace, note_id: Any) -> CalendarNote:
    try:
        return note_queryset(workspace=workspace).get(pk=note_id)
    except (CalendarNote.DoesNotExist, ValueError) as exc:
        raise NotFound("Note not found.") from exc


def _unscheduled_drafts(workspace: Workspace, account_id: str | None) -> list[Post]:
    drafts = post_list(workspace=workspace, account_id=account_id).filter(
        status=PostStatus.DRAFT, scheduled_at__isnull=True
    )
    return list(drafts.order_by("-created_at")[:20])

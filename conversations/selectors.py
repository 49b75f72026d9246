"""Reads for the Inbox, Post and User views and the comments API."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import Contains, IsNull
from django.utils.module_loading import import_string

from accounts.access import workspace_memberships
from accounts.models import (
    AccountType,
    Membership,
    Role,
    TikTokAccount,
    TikTokVideo,
    User,
    Workspace,
)
from conversations.models import (
    BULK_MAX_IDS,
    QUESTION_RANK,
    SEARCH_DOCUMENT,
    Comment,
    CommentLabel,
    Label,
    ModerationRule,
    Priority,
    RuleRun,
    RuleRunStatus,
    SavedReply,
    Sentiment,
    ThreadNote,
    person_key_from_ref,
)
from later import fragments
from later.errors import NotFound, ValidationFailed
from later.tenancy import TenantQuerySet

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
STATUS_FILTERS = ("all", "unread", "open", "handled", "questions")
ORDERS = ("newest", "priority")
SENTIMENT_FILTERS = ("", *Sentiment.values)
ASSIGNEE_MINE = "mine"
ASSIGNEE_NONE = "none"


@dataclass(frozen=True)
class InboxFilters:
    status: str = "all"
    search: str = ""
    account_id: uuid.UUID | None = None
    video_id: uuid.UUID | None = None
    author_key: str = ""
    # "mine", "none" (unassigned) or a member's public id.
    assignee: str = ""
    label_id: uuid.UUID | None = None
    sentiment: str = ""
    order: str = "newest"

    @classmethod
    def parse(cls, params: dict[str, str] | object) -> InboxFilters:
        get = getattr(params, "get", None)
        if get is None:
            return cls()
        status = (get("status") or "all").strip()
        if status not in STATUS_FILTERS:
            raise ValidationFailed(
                f"Unknown filter “{status}”; use one of {', '.join(STATUS_FILTERS)}."
            )
        order = (get("order") or "newest").strip()
        if order not in ORDERS:
            raise ValidationFailed(f"Unknown order “{order}”; use newest or priority.")
        sentiment = (get("sentiment") or "").strip()
        if sentiment not in SENTIMENT_FILTERS:
            raise ValidationFailed("Sentiment must be positive, neutral or negative.")
        assignee = (get("assignee") or "").strip()
        if assignee not in ("", ASSIGNEE_MINE, ASSIGNEE_NONE):
            try:
                assignee = str(uuid.UUID(assignee))
            except ValueError as exc:
                raise ValidationFailed("The assignee filter is not a valid member.") from exc
        return cls(
            status=status,
            search=(get("q") or "").strip()[:200],
            account_id=_uuid_param(get("account"), "account"),
            video_id=_uuid_param(get("video"), "post"),
            author_key=(get("author") or "").strip()[:128],
            assignee=assignee,
            label_id=_uuid_param(get("label"), "label"),
            sentiment=sentiment,
            order=order,
        )

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.search
            or self.status != "all"
            or self.account_id
            or self.assignee
            or self.label_id
            or self.sentiment
        )

    def query(self, **extra: str) -> dict[str, str]:
        """The filters as query parameters (empty ones left out), for links that keep them."""
        params = {
            "status": self.status if self.status != "all" else "",
            "q": self.search,
            "account": str(self.account_id or ""),
            "assignee": self.assignee,
            "label": str(self.label_id or ""),
            "sentiment": self.sentiment,
            "order": self.order if self.order != "newest" else "",
            **extra,
        }
        return {key: value for key, value in params.items() if value}


def uuid_or_none(raw: str | None) -> uuid.UUID | None:
    """A query parameter that should be an id; anything else reads as "not given"."""
    try:
        return uuid.UUID((raw or "").strip()) if (raw or "").strip() else None
    except ValueError:
        return None


def _uuid_param(raw: str | None, what: str) -> uuid.UUID | None:
    value = (raw or "").strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationFailed(f"The {what} filter is not a valid id.") from exc


# Ranked orders put whole groups first, newest first within each group: the priority order
# (Priority) and the Questions filter (unanswered first). Each names the column or annotation
# its rank is read from; a cursor of a ranked order carries the rank of its last row.
RANK_PRIORITY = "priority"
RANK_QUESTION = "question_rank"
RANKS = {RANK_PRIORITY: set(Priority.values), RANK_QUESTION: {0, 1}}


@dataclass(frozen=True)
class Cursor:
    created_at: dt.datetime
    pk: uuid.UUID
    # Set on pages in a ranked order: the position is (rank, created, id).
    ranked_by: str | None = None
    rank: int | None = None

    def encode(self) -> str:
        parts = [self.created_at.isoformat(), str(self.pk)]
        if self.ranked_by is not None:
            parts.append(f"{self.ranked_by}={self.rank}")
        raw = "|".join(parts).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            created, pk, *rest = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
            created_at = dt.datetime.fromisoformat(created)
            if created_at.tzinfo is None or len(rest) > 1:
                raise ValueError("malformed")
            ranked_by, rank = None, None
            if rest:
                ranked_by, _, raw_rank = rest[0].partition("=")
                rank = int(raw_rank)
                if rank not in RANKS.get(ranked_by, ()):
                    raise ValueError("rank")
            return cls(created_at=created_at, pk=uuid.UUID(pk), ranked_by=ranked_by, rank=rank)
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise ValidationFailed(
                "This page link is no longer valid. Start again from the first page."
            ) from exc


@dataclass(frozen=True)
class CommentPage:
    comments: Sequence[Comment]
    next_cursor: str | None


def comments_base(*, workspace: Workspace) -> TenantQuerySet[Comment]:
    """Visible comments of the workspace with what every list renders."""
    return (
        Comment.objects.for_workspace(workspace)
        .filter(deleted_at__isnull=True)
        .select_related("video", "account", "parent", "handled_by", "assignee")
    )


def with_team_details(qs: TenantQuerySet[Comment], *, workspace: Workspace) -> TenantQuerySet[Any]:
    """Labels, automatic actions and the thread's note count of each row (two queries per
    page, whatever its length)."""
    workspace_id = workspace.pk
    labels = (
        CommentLabel.objects.for_workspace(workspace_id)
        .select_related("label")
        .order_by("label__name")
    )
    runs = (
        RuleRun.objects.for_workspace(workspace_id)
        .select_related("rule")
        .exclude(status=RuleRunStatus.PENDING)
        .order_by("created_at")
    )
    notes = (
        ThreadNote.objects.for_workspace(workspace_id)
        .filter(comment_id=Coalesce(OuterRef("parent_id"), OuterRef("pk")))
        .order_by()
        .values("comment_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Typed loosely: the stubs model each prefetch and annotation as a new row type.
    detailed: TenantQuerySet[Any] = qs.prefetch_related(
        Prefetch("label_links", queryset=labels, to_attr="labels_shown")
    )
    detailed = detailed.prefetch_related(Prefetch("rule_runs", queryset=runs, to_attr="runs_shown"))
    return detailed.annotate(note_count=Coalesce(Subquery(notes, output_field=IntegerField()), 0))


def comment_get(*, workspace: Workspace, comment_id: uuid.UUID | str) -> Comment:
    try:
        return comments_base(workspace=workspace).get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This comment does not exist in this workspace.") from exc


def comment_detailed(*, workspace: Workspace, comment_id: uuid.UUID | str) -> Comment:
    """One comment with its labels, automatic actions and note count, as list rows have."""
    try:
        row: Comment = with_team_details(
            comments_base(workspace=workspace), workspace=workspace
        ).get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This comment does not exist in this workspace.") from exc
    return row


@dataclass(frozen=True)
class TeamContext:
    labels: list[Label]
    members: list[Membership]
    saved_replies: list[dict[str, str]]
    sentiment_choices: tuple[tuple[str, str], ...] = (
        ("positive", "Positive"),
        ("neutral", "Neutral"),
        ("negative", "Negative"),
        ("", "Auto"),
    )

    @cached_property
    def fingerprint(self) -> str:
        """Digest of what a comment row shows of the team: its fragment key names this once
        instead of walking the members and labels for every row."""
        return fragments.fingerprint(self.labels, self.members, self.saved_replies)


def team_context(*, workspace: Workspace) -> TeamContext:
    """What every comment row offers: the labels, the members to assign, the saved replies."""
    return TeamContext(
        labels=list(workspace_labels(workspace=workspace)),
        members=assignable_members(workspace=workspace),
        saved_replies=[
            {"id": str(r.pk), "title": r.title, "text": r.text}
            for r in workspace_saved_replies(workspace=workspace)
        ],
    )


def pending_reply(*, comment: Comment, user: Any) -> Comment | None:
    """The newest reply this user sent in the comment's thread that TikTok has not confirmed."""
    return (
        Comment.objects.for_workspace(comment.workspace_id)
        .filter(parent_id=comment.parent_id or comment.pk, is_pending=True, sent_by=user)
        .order_by("-created_at")
        .first()
    )


def comments_by_ids(*, workspace: Workspace, ids: Sequence[uuid.UUID]) -> list[Comment]:
    if len(ids) > BULK_MAX_IDS:
        raise ValidationFailed(
            f"Select at most {BULK_MAX_IDS} comments at a time ({len(ids)} were sent).",
            code="too_many_ids",
        )
    return list(comments_base(workspace=workspace).filter(pk__in=list(ids)))


def apply_filters(
    qs: TenantQuerySet[Comment], filters: InboxFilters, *, user: Any = None
) -> TenantQuerySet[Comment]:
    if filters.status == "questions":
        qs = qs.filter(is_question=True)
    elif filters.status == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif filters.status == "open":
        qs = qs.filter(handled_at__isnull=True)
    elif filters.status == "handled":
        qs = qs.filter(handled_at__isnull=False)
    if filters.account_id:
        qs = qs.filter(account_id=filters.account_id)
    if filters.video_id:
        qs = qs.filter(video_id=filters.video_id)
    if filters.author_key:
        qs = qs.filter(author_key=filters.author_key)
    if filters.assignee == ASSIGNEE_MINE:
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    elif filters.assignee == ASSIGNEE_NONE:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        # The member's id as a subquery PostgreSQL runs first: the assignee indexes then serve a
        # person as they serve "mine" (a join walked the whole workspace in the priority order).
        person = User.objects.filter(public_id=filters.assignee).values("pk")[:1]
        qs = qs.filter(assignee_id=Subquery(person))
    if filters.label_id:
        # A probe of each row's links while the order's index is walked, not a join: a join
        # adds a relation to the page's join search (planning 7-11 ms against 3.7 unfiltered,
        # at 1,000,000 comments); a scalar subquery is never pulled up into it.
        link = CommentLabel.objects.filter(
            workspace=OuterRef("workspace"), comment=OuterRef("pk"), label_id=filters.label_id
        )
        qs = qs.filter(IsNull(Subquery(link.values("pk")[:1]), False))
    if filters.sentiment:
        qs = qs.filter(
            Q(sentiment_override=filters.sentiment)
            | Q(sentiment_override="", sentiment=filters.sentiment)
        )
    term = filters.search.lstrip("@").strip()
    if term:
        qs = qs.filter(Contains(SEARCH_DOCUMENT, term.upper()))
    return qs


def ranking(filters: InboxFilters) -> str | None:
    """What a page of these filters is ranked by (None: newest first). The Questions filter
    shows the unanswered ones first, as its chip counts them."""
    if filters.order == "priority":
        return RANK_PRIORITY
    if filters.status == "questions":
        return RANK_QUESTION
    return None


def ordered(qs: TenantQuerySet[Comment], filters: InboxFilters) -> TenantQuerySet[Comment]:
    ranked_by = ranking(filters)
    if ranked_by == RANK_QUESTION:
        ranked: TenantQuerySet[Any] = qs.alias(question_rank=QUESTION_RANK)
        return ranked.order_by(RANK_QUESTION, "-created_at_tiktok", "-id")
    if ranked_by is not None:
        return qs.order_by(ranked_by, "-created_at_tiktok", "-id")
    return qs.order_by("-created_at_tiktok", "-id")


def inbox_queryset(
    *, workspace: Workspace, filters: InboxFilters, user: Any = None
) -> TenantQuerySet[Comment]:
    """Fans' comments and replies (not our own), newest first or in a ranked order."""
    qs = comments_base(workspace=workspace).filter(is_own=False)
    return ordered(apply_filters(qs, filters, user=user), filters)


def _after(qs: TenantQuerySet[Comment], after: Cursor) -> TenantQuerySet[Comment]:
    # The redundant `<=` gives PostgreSQL an index range; the OR only breaks ties.
    newer_first = Q(created_at_tiktok__lt=after.created_at) | Q(
        created_at_tiktok=after.created_at, id__lt=after.pk
    )
    if after.ranked_by is None:
        return qs.filter(created_at_tiktok__lte=after.created_at).filter(newer_first)
    rank = after.ranked_by
    return qs.filter(**{f"{rank}__gte": after.rank}).filter(
        Q(**{f"{rank}__gt": after.rank}) | (Q(**{rank: after.rank}) & newer_first)
    )


def _rank_of(row: Comment, ranked_by: str) -> int:
    if ranked_by == RANK_QUESTION:
        return 0 if row.handled_at is None else 1
    return int(row.priority)


def keyset_page(
    qs: TenantQuerySet[Comment],
    *,
    cursor: str | None,
    page_size: int = PAGE_SIZE,
    ranked_by: str | None = None,
) -> CommentPage:
    """One page after `cursor` in an order from `ordered` (`ranked_by` = `ranking` of its
    filters); cost does not grow with depth (no OFFSET)."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    if cursor:
        after = Cursor.decode(cursor)
        if after.ranked_by != ranked_by:
            raise ValidationFailed(
                "This page link belongs to another order. Start again from the first page."
            )
        qs = _after(qs, after)
    rows = list(qs[: page_size + 1])
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = Cursor(
            created_at=last.created_at_tiktok,
            pk=last.id,
            ranked_by=ranked_by,
            rank=_rank_of(last, ranked_by) if ranked_by else None,
        ).encode()
    return CommentPage(comments=rows, next_cursor=next_cursor)


def inbox_page(
    *,
    workspace: Workspace,
    filters: InboxFilters,
    cursor: str | None = None,
    page_size: int = PAGE_SIZE,
    user: Any = None,
) -> CommentPage:
    qs = with_team_details(
        inbox_queryset(workspace=workspace, filters=filters, user=user), workspace=workspace
    )
    return keyset_page(qs, cursor=cursor, page_size=page_size, ranked_by=ranking(filters))


def inbox_new_since(
    *,
    workspace: Workspace,
    filters: InboxFilters,
    since: dt.datetime,
    limit: int = 50,
    user: Any = None,
) -> list[Comment]:
    """Comments that arrived (were stored) after `since`, for the live-update fragment."""
    qs = inbox_queryset(workspace=workspace, filters=filters, user=user).filter(
        created_at__gt=since
    )
    return list(
        with_team_details(qs, workspace=workspace).order_by("-created_at_tiktok", "-id")[:limit]
    )


COUNT_CAP = 1000


def inbox_counts(*, workspace: Workspace) -> dict[str, str]:
    """Unread and open counts for the filter chips, capped: an exact 300,000 costs a scan of
    300,000 rows on every page view, and "999+" says the same to a person."""
    qs = Comment.objects.for_workspace(workspace).filter(is_own=False, deleted_at__isnull=True)
    capped = {
        "unread": qs.filter(read_at__isnull=True),
        "open": qs.filter(handled_at__isnull=True),
        # Unanswered questions (priority 0 is exactly that): the ones the Questions filter
        # lists first.
        "questions": qs.filter(priority=Priority.UNANSWERED_QUESTION),
    }
    # One round trip: each count runs on its own partial index, capped, as a scalar subquery.
    parts: list[str] = []
    params: list[Any] = []
    for subset in capped.values():
        sql, subset_params = subset.values("pk")[:COUNT_CAP].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS capped)")  # noqa: S608 - ORM-compiled
        params.extend(subset_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    counts = dict(zip(capped, row, strict=True))
    return {
        key: f"{COUNT_CAP - 1}+" if value >= COUNT_CAP else str(value)
        for key, value in counts.items()
    }


def workspace_labels(*, workspace: Workspace) -> TenantQuerySet[Label]:
    return Label.objects.for_workspace(workspace).order_by("name")


def workspace_saved_replies(*, workspace: Workspace) -> TenantQuerySet[SavedReply]:
    return SavedReply.objects.for_workspace(workspace).order_by("title")


def workspace_rules(*, workspace: Workspace) -> TenantQuerySet[ModerationRule]:
    return (
        ModerationRule.objects.for_workspace(workspace)
        .select_related("label", "account")
        .order_by("name")
    )


def assignable_members(*, workspace: Workspace) -> list[Membership]:
    """Members who can answer comments (editors and above)."""
    # Agency members who reach this client count too (accounts.access).
    everyone = workspace_memberships(workspace=workspace)
    everyone.sort(key=lambda m: (m.user.first_name, m.user.email))
    return [m for m in everyone if m.has_role(Role.EDITOR)]


def note_get(*, workspace: Workspace, note_id: uuid.UUID | str) -> ThreadNote:
    try:
        return ThreadNote.objects.for_workspace(workspace).select_related("comment").get(pk=note_id)
    except (ThreadNote.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This note does not exist in this workspace.") from exc


def saved_reply_get(*, workspace: Workspace, saved_reply_id: uuid.UUID | str) -> SavedReply:
    try:
        return SavedReply.objects.for_workspace(workspace).get(pk=saved_reply_id)
    except (SavedReply.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This saved reply does not exist in this workspace.") from exc


def comment_accounts(*, workspace: Workspace) -> TenantQuerySet[TikTokAccount]:
    return TikTokAccount.objects.for_workspace(workspace).filter(account_type=AccountType.BUSINESS)


def video_get(*, workspace: Workspace, video_id: uuid.UUID | str) -> TikTokVideo:
    try:
        return (
            TikTokVideo.objects.for_workspace(workspace).select_related("account").get(pk=video_id)
        )
    except (TikTokVideo.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This post does not exist in this workspace.") from exc


def video_figures(*, workspace: Workspace, video: TikTokVideo) -> Any | None:
    """The video's counters as Analytics shows them (latest snapshot, `measured_at`,
    `by_snapshot`), through `settings.VIDEO_FIGURES`; None when no app offers them."""
    path = getattr(settings, "VIDEO_FIGURES", "")
    return import_string(path)(workspace=workspace, video=video) if path else None


def video_threads(*, workspace: Workspace, video: TikTokVideo) -> list[Comment]:
    """Top-level comments of a video, newest first, each with its replies oldest first."""
    replies = (
        Comment.objects.for_workspace(workspace)
        .filter(deleted_at__isnull=True)
        .select_related("sent_by")
        .order_by("created_at_tiktok", "id")
    )
    threads = with_team_details(
        comments_base(workspace=workspace).filter(video=video, parent__isnull=True),
        workspace=workspace,
    )
    return list(
        threads.prefetch_related(Prefetch("replies", queryset=replies, to_attr="visible_replies"))
        .prefetch_related(
            Prefetch(
                "notes",
                queryset=ThreadNote.objects.for_workspace(workspace)
                .select_related("author")
                .order_by("created_at"),
                to_attr="notes_shown",
            )
        )
        .order_by("-created_at_tiktok", "-id")[:200]
    )


def author_comments(
    *, workspace: Workspace, author_key: str, cursor: str | None = None
) -> CommentPage:
    qs = with_team_details(
        comments_base(workspace=workspace).filter(author_key=author_key), workspace=workspace
    ).order_by("-created_at_tiktok", "-id")
    return keyset_page(qs, cursor=cursor)


def person_get(*, workspace: Workspace, person_ref: str) -> Comment:
    """The commenter a URL's `person_ref` names (see `models.person_ref`), as `author_profile`."""
    author_key = person_key_from_ref(person_ref)
    if author_key is None:
        raise NotFound("No one by this name has commented on this workspace's posts.")
    return author_profile(workspace=workspace, author_key=author_key)


def author_profile(*, workspace: Workspace, author_key: str) -> Comment:
    """The commenter's newest comment in this workspace (their current name and avatar)."""
    latest = (
        Comment.objects.for_workspace(workspace)
        .filter(author_key=author_key, deleted_at__isnull=True)
        .order_by("-created_at_tiktok")
        .first()
    )
    if latest is None:
        raise NotFound("No one by this name has commented on this workspace's posts.")
    return latest

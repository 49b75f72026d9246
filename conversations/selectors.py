"""Reads for the Inbox, Post and User views and the comments API."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q
from django.db.models.lookups import Contains

from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
from conversations.models import SEARCH_DOCUMENT, Comment, person_key_from_ref
from later.errors import NotFound, ValidationFailed
from later.tenancy import TenantQuerySet

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
STATUS_FILTERS = ("all", "unread", "open", "handled")


@dataclass(frozen=True)
class InboxFilters:
    status: str = "all"
    search: str = ""
    account_id: uuid.UUID | None = None
    video_id: uuid.UUID | None = None
    author_key: str = ""

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
        account_raw = (get("account") or "").strip()
        video_raw = (get("video") or "").strip()
        try:
            account_id = uuid.UUID(account_raw) if account_raw else None
            video_id = uuid.UUID(video_raw) if video_raw else None
        except ValueError as exc:
            raise ValidationFailed("The account or post filter is not a valid id.") from exc
        return cls(
            status=status,
            search=(get("q") or "").strip()[:200],
            account_id=account_id,
            video_id=video_id,
            author_key=(get("author") or "").strip()[:128],
        )


@dataclass(frozen=True)
class Cursor:
    created_at: dt.datetime
    pk: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            created, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
            created_at = dt.datetime.fromisoformat(created)
            if created_at.tzinfo is None:
                raise ValueError("naive")
            return cls(created_at=created_at, pk=uuid.UUID(pk))
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
        .select_related("video", "account", "parent", "handled_by")
    )


def comment_get(*, workspace: Workspace, comment_id: uuid.UUID | str) -> Comment:
    try:
        return comments_base(workspace=workspace).get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError) as exc:
        raise NotFound("This comment does not exist in this workspace.") from exc


def pending_reply(*, comment: Comment, user: Any) -> Comment | None:
    """The newest reply this user sent in the comment's thread that TikTok has not confirmed."""
    return (
        Comment.objects.for_workspace(comment.workspace_id)
        .filter(parent_id=comment.parent_id or comment.pk, is_pending=True, sent_by=user)
        .order_by("-created_at")
        .first()
    )


def comments_by_ids(*, workspace: Workspace, ids: Sequence[uuid.UUID]) -> list[Comment]:
    return list(comments_base(workspace=workspace).filter(pk__in=list(ids)))


def apply_filters(qs: TenantQuerySet[Comment], filters: InboxFilters) -> TenantQuerySet[Comment]:
    if filters.status == "unread":
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
    term = filters.search.lstrip("@").strip()
    if term:
        qs = qs.filter(Contains(SEARCH_DOCUMENT, term.upper()))
    return qs


def inbox_queryset(*, workspace: Workspace, filters: InboxFilters) -> TenantQuerySet[Comment]:
    """Fans' comments and replies (not our own), newest first."""
    qs = comments_base(workspace=workspace).filter(is_own=False)
    return apply_filters(qs, filters).order_by("-created_at_tiktok", "-id")


def keyset_page(
    qs: TenantQuerySet[Comment], *, cursor: str | None, page_size: int = PAGE_SIZE
) -> CommentPage:
    """One page after `cursor`; cost does not grow with depth (no OFFSET)."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    if cursor:
        after = Cursor.decode(cursor)
        # The redundant `<=` gives PostgreSQL an index range; the OR only breaks ties.
        qs = qs.filter(created_at_tiktok__lte=after.created_at).filter(
            Q(created_at_tiktok__lt=after.created_at)
            | Q(created_at_tiktok=after.created_at, id__lt=after.pk)
        )
    rows = list(qs[: page_size + 1])
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = Cursor(created_at=last.created_at_tiktok, pk=last.id).encode()
    return CommentPage(comments=rows, next_cursor=next_cursor)


def inbox_page(
    *,
    workspace: Workspace,
    filters: InboxFilters,
    cursor: str | None = None,
    page_size: int = PAGE_SIZE,
) -> CommentPage:
    return keyset_page(
        inbox_queryset(workspace=workspace, filters=filters), cursor=cursor, page_size=page_size
    )


def inbox_new_since(
    *, workspace: Workspace, filters: InboxFilters, since: dt.datetime, limit: int = 50
) -> list[Comment]:
    """Comments that arrived (were stored) after `since`, for the live-update fragment."""
    qs = inbox_queryset(workspace=workspace, filters=filters).filter(created_at__gt=since)
    return list(qs[:limit])


COUNT_CAP = 1000


def inbox_counts(*, workspace: Workspace) -> dict[str, str]:
    """Unread and open counts for the filter chips, capped: an exact 300,000 costs a scan of
    300,000 rows on every page view, and "999+" says the same to a person."""
    qs = Comment.objects.for_workspace(workspace).filter(is_own=False, deleted_at__isnull=True)
    counts = {
        "unread": qs.filter(read_at__isnull=True).values("pk")[:COUNT_CAP].count(),
        "open": qs.filter(handled_at__isnull=True).values("pk")[:COUNT_CAP].count(),
    }
    return {
        key: f"{COUNT_CAP - 1}+" if value >= COUNT_CAP else str(value)
        for key, value in counts.items()
    }


def comment_accounts(*, workspace: Workspace) -> TenantQuerySet[TikTokAccount]:
    return TikTokAccount.objects.for_workspace(workspace).filter(account_type=AccountType.BUSINESS)


def video_get(*, workspace: Workspace, video_id: uuid.UUID | str) -> TikTokVideo:
    try:
        return (
            TikTokVideo.objects.for_workspace(workspace).select_related("account").get(pk=video_id)
        )
    except (TikTokVideo.DoesNotExist, ValueError) as exc:
        raise NotFound("This post does not exist in this workspace.") from exc


def video_threads(*, workspace: Workspace, video: TikTokVideo) -> list[Comment]:
    """Top-level comments of a video, newest first, each with its replies oldest first."""
    replies = (
        Comment.objects.for_workspace(workspace)
        .filter(deleted_at__isnull=True)
        .select_related("sent_by")
        .order_by("created_at_tiktok", "id")
    )
    return list(
        comments_base(workspace=workspace)
        .filter(video=video, parent__isnull=True)
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="visible_replies"))
        .order_by("-created_at_tiktok", "-id")[:200]
    )


def author_comments(
    *, workspace: Workspace, author_key: str, cursor: str | None = None
) -> CommentPage:
    qs = (
        comments_base(workspace=workspace)
        .filter(author_key=author_key)
        .order_by("-created_at_tiktok", "-id")
    )
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

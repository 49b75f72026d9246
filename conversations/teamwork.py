"""Sharing the inbox: assignment, internal notes, saved replies, labels, sentiment override.

None of this reaches TikTok: it is the team's own bookkeeping about comments.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.access import workspace_memberships
from accounts.models import Membership, Notification, Role, User, Workspace
from conversations.models import (
    REPLY_MAX_CHARS,
    Comment,
    CommentLabel,
    Label,
    SavedReply,
    Sentiment,
    ThreadNote,
)
from conversations.services import BULK_MAX, BulkResult
from later.errors import NotFound, ValidationFailed

NOTE_MAX_CHARS = 2000
LABEL_COLORS = ("#6366f1", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#ec4899", "#64748b")
PLACEHOLDERS = ("name", "username", "account")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


# --------------------------------------------------------------------------- assignment


def assignable_member(*, workspace: Workspace, public_id: uuid.UUID | str) -> User:
    """A member who can answer comments (editor or above), by the user's public id."""
    try:
        wanted = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise ValidationFailed("Choose a member of this workspace.") from exc
    # Members and the agency's people who reach this client alike (accounts.access).
    found = [m for m in workspace_memberships(workspace=workspace) if m.user.public_id == wanted]
    if not found:
        raise ValidationFailed("Choose a member of this workspace.")
    membership = found[0]
    if not membership.has_role(Role.EDITOR):
        raise ValidationFailed(
            f"{membership.user.email} is a viewer and cannot answer comments; "
            "give them the editor role first."
        )
    return membership.user


def comments_assign(
    *,
    workspace: Workspace,
    comments: Sequence[Comment],
    assignee: User | None,
    by: User | None,
    whole_thread: bool = False,
) -> int:
    """Give comments (or their whole threads) to one member, or to nobody. The assignee is
    told once per change; assigning again to the same person changes nothing."""
    if not comments:
        raise ValidationFailed("Select at least one comment first.")
    scoped = Comment.objects.for_workspace(workspace)
    ids = {c.pk for c in comments}
    targets = Q(pk__in=ids)
    if whole_thread:
        roots = {c.thread_root_id for c in comments}
        targets = Q(pk__in=roots) | Q(parent_id__in=roots, is_own=False)
    with transaction.atomic():
        changing = scoped.filter(targets)
        changing = (
            changing.exclude(assignee=assignee)
            if assignee
            else changing.filter(assignee__isnull=False)
        )
        count = changing.update(assignee=assignee, assigned_at=timezone.now() if assignee else None)
        if count and assignee is not None and assignee != by:
            first = comments[0]
            who = by.get_full_name() or by.email if by else "Someone"
            Notification.objects.create(
                workspace=workspace,
                user=assignee,
                kind="comment_assigned",
                title=(
                    f"{who} assigned you a comment by {first.author_label}"
                    if count == 1
                    else f"{who} assigned you {count} comments"
                ),
                body=first.text[:200],
                url=reverse("conversations:inbox", args=[workspace.pk]) + "?assignee=mine",
            )
    return count


# --------------------------------------------------------------------------- notes


def thread_note_add(
    *,
    comment: Comment,
    author: User | None,
    text: str,
    client_token: uuid.UUID | None = None,
) -> ThreadNote:
    """A note on the comment's thread. With the form's token, a second submit of the same
    form returns the first note instead of storing another."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationFailed("Write the note first.")
    if len(cleaned) > NOTE_MAX_CHARS:
        raise ValidationFailed(f"Keep notes under {NOTE_MAX_CHARS} characters.")
    notes = ThreadNote.objects.for_workspace(comment.workspace_id)
    if client_token is not None:
        existing = notes.filter(client_token=client_token).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return ThreadNote.objects.create(
                workspace_id=comment.workspace_id,
                comment_id=comment.thread_root_id,
                comment_created_at_tiktok=comment.thread_root_created_at,
                author=author,
                text=cleaned,
                client_token=client_token,
            )
    except IntegrityError:
        # The same token won a race with this request.
        return notes.get(client_token=client_token)


def thread_note_delete(*, note: ThreadNote, membership: Membership) -> None:
    if note.author_id != membership.user_id and not membership.has_role(Role.ADMIN):
        raise ValidationFailed("Only the note's author or an admin can delete it.")
    note.delete()


# --------------------------------------------------------------------------- saved replies


def _saved_reply_clean(*, title: str, text: str) -> tuple[str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    if not title:
        raise ValidationFailed("Give the saved reply a short title.")
    if len(title) > 60:
        raise ValidationFailed("Keep the title under 60 characters.")
    if not text:
        raise ValidationFailed("Write the reply's text.")
    unknown = sorted({p for p in _PLACEHOLDER.findall(text) if p not in PLACEHOLDERS})
    if unknown:
        raise ValidationFailed(
            f"Unknown placeholder {{{unknown[0]}}}; use "
            + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            + "."
        )
    # Placeholders count as written: the reply box shows the real count once they are filled.
    if len(text) > REPLY_MAX_CHARS:
        raise ValidationFailed(
            f"TikTok allows {REPLY_MAX_CHARS} characters in a reply; this one has {len(text)}."
        )
    return title, text


def saved_reply_create(
    *, workspace: Workspace, title: str, text: str, user: User | None
) -> SavedReply:
    """Idempotent on the title: the same title and text again returns the stored reply."""
    title, text = _saved_reply_clean(title=title, text=text)
    scoped = SavedReply.objects.for_workspace(workspace)
    try:
        with transaction.atomic():
            return SavedReply.objects.create(
                workspace=workspace, title=title, text=text, created_by=user
            )
    except IntegrityError:
        existing = scoped.annotate(lower=Lower("title")).get(lower=title.lower())
        if existing.text == text:
            return existing
        raise ValidationFailed(f"A saved reply called “{existing.title}” already exists.") from None


def saved_reply_update(*, saved_reply: SavedReply, title: str, text: str) -> SavedReply:
    title, text = _saved_reply_clean(title=title, text=text)
    clash = (
        SavedReply.objects.for_workspace(saved_reply.workspace_id)
        .annotate(lower=Lower("title"))
        .filter(lower=title.lower())
        .exclude(pk=saved_reply.pk)
    )
    if clash.exists():
        raise ValidationFailed(f"A saved reply called “{title}” already exists.")
    saved_reply.title, saved_reply.text = title, text
    saved_reply.save(update_fields=["title", "text", "updated_at"])
    return saved_reply


def saved_reply_render(*, text: str, comment: Comment) -> str:
    """The saved reply with this comment's placeholders filled in."""
    values = {
        "name": comment.author_display_name or comment.author_username or "there",
        "username": f"@{comment.author_username}" if comment.author_username else "",
        "account": f"@{comment.account.username}" if comment.account.username else "",
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text).strip()


# --------------------------------------------------------------------------- labels


def label_create(*, workspace: Workspace, name: str, color: str = "") -> Label:
    """Idempotent on the name (any case): asking twice returns the one label."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Give the label a name.")
    if len(name) > 40:
        raise ValidationFailed("Keep label names under 40 characters.")
    if color and not _COLOR.fullmatch(color):
        raise ValidationFailed("Pick the colour as #rrggbb.")
    scoped = Label.objects.for_workspace(workspace)
    existing = scoped.annotate(lower=Lower("name")).filter(lower=name.lower()).first()
    if existing is not None:
        return existing
    color = color or LABEL_COLORS[scoped.count() % len(LABEL_COLORS)]
    try:
        with transaction.atomic():
            return Label.objects.create(workspace=workspace, name=name, color=color)
    except IntegrityError:
        return scoped.annotate(lower=Lower("name")).get(lower=name.lower())


def label_get(*, workspace: Workspace, label_id: uuid.UUID | str) -> Label:
    try:
        return Label.objects.for_workspace(workspace).get(pk=label_id)
    except (Label.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("This label does not exist in this workspace.") from exc


def comments_label(
    *,
    workspace: Workspace,
    comments: Sequence[Comment],
    label: Label,
    add: bool,
    user: User | None,
) -> int:
    """Add the label to (or take it off) comments; labels already there are left alone."""
    if not comments:
        raise ValidationFailed("Select at least one comment first.")
    if label.workspace_id != workspace.pk:
        raise NotFound("This label does not exist in this workspace.")
    links = CommentLabel.objects.for_workspace(workspace)
    if not add:
        deleted, _ = links.filter(label=label, comment_id__in=[c.pk for c in comments]).delete()
        return deleted
    already = set(
        links.filter(label=label, comment_id__in=[c.pk for c in comments]).values_list(
            "comment_id", flat=True
        )
    )
    created = CommentLabel.objects.bulk_create(
        [
            CommentLabel(
                workspace=workspace,
                comment=c,
                comment_created_at_tiktok=c.created_at_tiktok,
                label=label,
                added_by=user,
            )
            for c in comments
            if c.pk not in already
        ],
        ignore_conflicts=True,
    )
    return len(created)


# --------------------------------------------------------------------------- sentiment


def comment_set_sentiment(*, comment: Comment, sentiment: str, user: User | None) -> Comment:
    """A person's reading of the comment; it wins over the analysis until cleared ("")."""
    if sentiment not in ("", *Sentiment.values):
        raise ValidationFailed("Sentiment must be positive, neutral or negative (or empty).")
    Comment.objects.for_workspace(comment.workspace_id).filter(pk=comment.pk).update(
        sentiment_override=sentiment,
        sentiment_override_by=user if sentiment else None,
        updated_at=timezone.now(),
    )
    comment.refresh_from_db()
    return comment


# --------------------------------------------------------------------------- bulk

TEAM_BULK_ACTIONS = ("label", "unlabel", "assign")


def comments_team_bulk(
    *,
    workspace: Workspace,
    comments: Sequence[Comment],
    action: str,
    user: User | None,
    label: Label | None = None,
    assignee: User | None = None,
) -> BulkResult:
    """Label, unlabel or assign a selection of comments in one go."""
    if action not in TEAM_BULK_ACTIONS:
        raise ValidationFailed(f"Unknown action “{action}”.")
    if len(comments) > BULK_MAX:
        raise ValidationFailed(f"Select at most {BULK_MAX} comments at a time.")
    if action == "assign":
        comments_assign(workspace=workspace, comments=comments, assignee=assignee, by=user)
    else:
        if label is None:
            raise ValidationFailed("Choose a label first.")
        comments_label(
            workspace=workspace, comments=comments, label=label, add=action == "label", user=user
        )
    return BulkResult(done=len(comments))

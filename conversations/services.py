"""Moderation: every action goes to TikTok first and is stored only once TikTok accepted it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.tiktok import AccountNeedsReconnect, get_tiktok_client
from accounts.tiktok.access import tiktok_business_call
from conversations.models import (
    BULK_MAX_IDS,
    PENDING_ID_PREFIX,
    REPLY_MAX_CHARS,
    Comment,
    CommentKeys,
)
from later.data_version import data_changed
from later.errors import AppError, ExternalServiceError, ValidationFailed
from later.models import TenantModel
from later.tenancy import TenantQuerySet
from tiktok_client.client import TikTokClient
from tiktok_client.errors import TikTokError, TikTokRateLimited, TikTokUnavailable

T = TypeVar("T")

BULK_ACTIONS = ("read", "unread", "handled", "open", "hide", "unhide", "like", "unlike")
BULK_MAX = BULK_MAX_IDS


def _tiktok(
    *,
    comment: Comment,
    refused: str,
    call: Callable[[TikTokClient, str], T],
    client: TikTokClient | None,
) -> T:
    """Run one moderation call for the comment's account and turn TikTok's refusal into a
    sentence that quotes TikTok's own reason."""
    tiktok = client or get_tiktok_client()
    try:
        return tiktok_business_call(account=comment.account, call=lambda token: call(tiktok, token))
    except AccountNeedsReconnect:
        raise
    except TikTokRateLimited as exc:
        raise ExternalServiceError(exc.user_message, code="tiktok_rate_limited") from exc
    except TikTokError as exc:
        reason = exc.message or exc.user_message
        raise ExternalServiceError(
            f"{refused} TikTok said: {reason}",
            code="tiktok_refused",
            details={"tiktok_code": exc.code},
        ) from exc


def _require_confirmed(comment: Comment) -> None:
    if comment.is_pending:
        raise ValidationFailed("TikTok has not confirmed this reply yet; try again in a minute.")


def reply_text_clean(text: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationFailed("Write something before sending the reply.")
    if len(cleaned) > REPLY_MAX_CHARS:
        raise ValidationFailed(
            f"TikTok allows {REPLY_MAX_CHARS} characters in a reply; this one has "
            f"{len(cleaned)}. Shorten it by {len(cleaned) - REPLY_MAX_CHARS}."
        )
    return cleaned


def comment_reply(
    *, comment: Comment, text: str, user: User | None, client: TikTokClient | None = None
) -> Comment:
    """Reply as the business account. The reply is stored as pending before TikTok is
    called, so a reply whose outcome is unknown (timeout) stays visible instead of lost."""
    cleaned = reply_text_clean(text)
    _require_confirmed(comment)
    root = comment.parent if comment.parent_id else comment
    assert root is not None
    account = comment.account
    now = timezone.now()
    # Not one atomic block on purpose: the pending row must be committed before the call
    # because TikTok has no idempotency key and a lost reply must stay reconcilable.
    pending = Comment.objects.create(
        workspace_id=comment.workspace_id,
        video_id=comment.video_id,
        account=account,
        comment_id=f"{PENDING_ID_PREFIX}{uuid.uuid4()}",
        parent=root,
        author_key=account.open_id[:128],
        author_username=account.username,
        author_display_name=account.display_name,
        author_avatar_url=account.avatar_url if len(account.avatar_url) <= 2000 else "",
        text=cleaned,
        created_at_tiktok=now,
        is_own=True,
        is_pending=True,
        read_at=now,
        handled_at=now,
        sent_by=user,
    )
    try:
        created = _tiktok(
            comment=comment,
            refused="TikTok did not post the reply.",
            client=client,
            call=lambda tiktok, token: tiktok.business_reply_to_comment(
                access_token=token,
                business_id=account.business_id,
                video_id=comment.video.video_id,
                comment_id=root.comment_id,
                text=cleaned,
            ),
        )
    except ExternalServiceError as exc:
        if isinstance(exc.__cause__, TikTokUnavailable):
            pending.pending_error = "TikTok did not answer in time."
            pending.save(update_fields=["pending_error", "updated_at"])
            raise ExternalServiceError(
                "TikTok did not confirm the reply in time. It stays marked pending and is "
                "matched automatically on the next sync; check TikTok before sending it again.",
                code="tiktok_unconfirmed",
            ) from exc
        pending.delete()
        raise
    except AppError:
        pending.delete()
        raise

    with transaction.atomic():
        scoped = Comment.objects.for_workspace(comment.workspace_id)
        if created.comment_id and scoped.filter(comment_id=created.comment_id).exists():
            # A sync stored TikTok's copy while we waited; keep that one.
            pending.delete()
            confirmed = scoped.get(comment_id=created.comment_id)
        else:
            comment_confirm(
                comment=pending,
                comment_id=created.comment_id or pending.comment_id,
                is_pending=not created.comment_id,
                created_at=dt.datetime.fromtimestamp(created.create_time, tz=dt.UTC)
                if created.create_time
                else pending.created_at_tiktok,
            )
            confirmed = pending
        scoped.filter(pk__in={comment.pk, root.pk}).update(
            handled_at=now, handled_by=user, read_at=now
        )
        thread_first_response_record(
            scoped=scoped, root_id=root.pk, at=confirmed.created_at_tiktok, by=user
        )
        if confirmed is pending:
            scoped.filter(pk=root.pk).update(reply_count=F("reply_count") + 1)
    return confirmed


def comment_confirm(
    *, comment: Comment, comment_id: str, is_pending: bool, created_at: dt.datetime
) -> None:
    """Store what TikTok reports for a reply of ours: its id and create time.

    `created_at_tiktok` is the comment table's partition key (docs/scaling.md), and a stored
    row's key never changes in place. When TikTok's time differs from the one stored at
    sending, the row is deleted and inserted again with the same id in one statement, and
    the rows that reference it follow (their composite foreign keys are checked at commit)."""
    now = timezone.now()
    changes: dict[str, Any] = {
        "comment_id": comment_id, "is_pending": is_pending, "pending_error": "",
        "synced_at": now, "updated_at": now,
    }  # fmt: skip
    scoped = Comment.objects.for_workspace(comment.workspace_id)
    with transaction.atomic():
        if created_at == comment.created_at_tiktok or connection.vendor != "postgresql":
            scoped.filter(pk=comment.pk).update(**changes, created_at_tiktok=created_at)
        else:
            _comment_reinsert(comment=comment, changes={**changes, "created_at_tiktok": created_at})
            for relation in Comment._meta.related_objects:
                model = relation.related_model
                if isinstance(model, type) and issubclass(model, CommentKeys):
                    key = model.comment_keys[relation.field.name]
                    referencing = cast("type[TenantModel]", model).objects
                    referencing.for_workspace(comment.workspace_id).filter(
                        **{relation.field.attname: comment.pk}
                    ).update(**{key: created_at})
    for name, value in changes.items():
        setattr(comment, name, value)
    comment.created_at_tiktok = created_at


def _comment_reinsert(*, comment: Comment, changes: dict[str, Any]) -> None:
    table = Comment._meta.db_table
    columns = [str(f.column) for f in Comment._meta.concrete_fields if not f.generated]
    values = [f"%({name})s" if name in changes else f"old.{name}" for name in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH old AS (DELETE FROM {table} WHERE workspace_id = %(ws)s AND id = %(id)s
                             RETURNING *)
            INSERT INTO {table} ({", ".join(columns)}) SELECT {", ".join(values)} FROM old""",  # noqa: S608 - the model's own columns
            {**changes, "ws": comment.workspace_id, "id": comment.pk},
        )
    data_changed(comment.workspace_id)  # hand-written SQL: the ORM's hooks did not see it


def thread_first_response_record(
    *, scoped: TenantQuerySet[Comment], root_id: uuid.UUID, at: dt.datetime, by: User | None
) -> None:
    """Keep the earliest answer of the account in the thread (for response times). A reply
    older than the thread's comment (clock skew, our own top comment) does not count."""
    scoped.filter(pk=root_id, is_own=False, created_at_tiktok__lte=at).filter(
        Q(first_response_at__isnull=True) | Q(first_response_at__gt=at)
    ).update(first_response_at=at, first_response_by=by)


def comment_set_hidden(
    *, comment: Comment, hidden: bool, user: User | None = None, client: TikTokClient | None = None
) -> Comment:
    _require_confirmed(comment)
    _tiktok(
        comment=comment,
        refused="TikTok did not hide the comment." if hidden else "TikTok did not unhide it.",
        client=client,
        call=lambda tiktok, token: tiktok.business_set_comment_hidden(
            access_token=token,
            business_id=comment.account.business_id,
            video_id=comment.video.video_id,
            comment_id=comment.comment_id,
            hidden=hidden,
        ),
    )
    comment.is_hidden = hidden
    fields = ["is_hidden", "updated_at"]
    if hidden and comment.handled_at is None:
        now = timezone.now()
        comment.handled_at, comment.handled_by, comment.read_at = now, user, now
        fields += ["handled_at", "handled_by", "read_at"]
    comment.save(update_fields=fields)
    return comment


def comment_set_liked(
    *, comment: Comment, liked: bool, client: TikTokClient | None = None
) -> Comment:
    _require_confirmed(comment)
    _tiktok(
        comment=comment,
        refused="TikTok did not record the like." if liked else "TikTok did not remove the like.",
        client=client,
        call=lambda tiktok, token: tiktok.business_set_comment_liked(
            access_token=token,
            business_id=comment.account.business_id,
            comment_id=comment.comment_id,
            liked=liked,
        ),
    )
    if comment.liked != liked:
        comment.like_count = max(comment.like_count + (1 if liked else -1), 0)
    comment.liked = liked
    comment.save(update_fields=["liked", "like_count", "updated_at"])
    return comment


def comment_delete(*, comment: Comment, client: TikTokClient | None = None) -> Comment:
    """Delete one of our own replies (TikTok lets a business delete only its own comments)."""
    if not comment.is_own:
        raise ValidationFailed(
            "Only the account's own replies can be deleted. Hide a fan's comment instead."
        )
    if comment.is_pending:
        raise ValidationFailed(
            "This reply is still waiting for TikTok's confirmation and cannot be deleted yet."
        )
    _tiktok(
        comment=comment,
        refused="TikTok did not delete the reply.",
        client=client,
        call=lambda tiktok, token: tiktok.business_delete_comment(
            access_token=token,
            business_id=comment.account.business_id,
            comment_id=comment.comment_id,
        ),
    )
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["deleted_at", "updated_at"])
    if comment.parent_id:
        Comment.objects.for_workspace(comment.workspace_id).filter(
            pk=comment.parent_id, reply_count__gt=0
        ).update(reply_count=F("reply_count") - 1)
    return comment


def comments_mark_handled(
    *, workspace: Workspace, comments: Sequence[Comment], handled: bool, user: User | None
) -> int:
    """Handled (done) or reopened. Handling a thread also handles the fans' replies in it."""
    ids = [c.pk for c in comments]
    scoped = Comment.objects.for_workspace(workspace)
    now = timezone.now()
    with transaction.atomic():
        if handled:
            targets = scoped.filter(pk__in=ids) | scoped.filter(parent_id__in=ids)
            return scoped.filter(pk__in=targets.values("pk"), handled_at__isnull=True).update(
                handled_at=now, handled_by=user, read_at=now
            )
        return scoped.filter(pk__in=ids).update(handled_at=None, handled_by=None)


def comments_mark_read(*, workspace: Workspace, comments: Sequence[Comment], read: bool) -> int:
    scoped = Comment.objects.for_workspace(workspace).filter(pk__in=[c.pk for c in comments])
    if read:
        return scoped.filter(read_at__isnull=True).update(read_at=timezone.now())
    return scoped.update(read_at=None, handled_at=None, handled_by=None)


@dataclass
class BulkResult:
    done: int = 0
    failures: list[tuple[Comment, str]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        parts = [f"{self.done} comment{'s' if self.done != 1 else ''} updated."]
        if self.failures:
            parts.append(f"{len(self.failures)} failed: {self.failures[0][1]}")
        return " ".join(parts)


def comments_bulk_action(
    *,
    workspace: Workspace,
    comments: Sequence[Comment],
    action: str,
    user: User | None,
    client: TikTokClient | None = None,
) -> BulkResult:
    if action not in BULK_ACTIONS:
        raise ValidationFailed(f"Unknown action “{action}”.")
    if not comments:
        raise ValidationFailed("Select at least one comment first.")
    if len(comments) > BULK_MAX:
        raise ValidationFailed(f"Select at most {BULK_MAX} comments at a time.")
    result = BulkResult()
    if action in ("read", "unread"):
        comments_mark_read(workspace=workspace, comments=comments, read=action == "read")
        result.done = len(comments)
        return result
    if action in ("handled", "open"):
        comments_mark_handled(
            workspace=workspace, comments=comments, handled=action == "handled", user=user
        )
        result.done = len(comments)
        return result
    for comment in comments:
        kwargs: dict[str, Any] = {"comment": comment, "client": client}
        try:
            if action in ("hide", "unhide"):
                comment_set_hidden(**kwargs, hidden=action == "hide", user=user)
            else:
                comment_set_liked(**kwargs, liked=action == "like")
        except AppError as exc:
            result.failures.append((comment, exc.message))
            if isinstance(exc, AccountNeedsReconnect):
                break
        else:
            result.done += 1
    return result

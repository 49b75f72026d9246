"""Comment rows without the simulator, for view, selector and isolation tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from accounts.models import AccountType, BusinessStatus, TikTokAccount, TikTokVideo, Workspace
from conversations.models import (
    Comment,
    CommentLabel,
    Label,
    ModerationRule,
    RuleAction,
    RuleRun,
    RuleRunStatus,
    SavedReply,
    ThreadNote,
)

_seq = itertools.count(1)


def make_account(workspace: Workspace, **extra: Any) -> TikTokAccount:
    n = next(_seq)
    values: dict[str, Any] = {
        "open_id": f"biz-{n}",
        "username": f"brand{n}",
        "display_name": f"Brand {n}",
        "account_type": AccountType.BUSINESS,
        "scopes": ["comment.list", "comment.list.manage"],
        "business_id": f"biz-business-{n}",
        "business_status": BusinessStatus.CONNECTED,
    }
    values.update(extra)
    # Comment permissions belong to the Business app's token.
    values.setdefault("business_scopes", values["scopes"])
    return TikTokAccount.objects.create(workspace=workspace, **values)


def make_video(account: TikTokAccount, **extra: Any) -> TikTokVideo:
    n = next(_seq)
    values: dict[str, Any] = {
        "video_id": f"73{n:017d}",
        "caption": f"Video number {n}",
        "posted_at": timezone.now() - dt.timedelta(days=1),
    }
    values.update(extra)
    return TikTokVideo.objects.create(workspace=account.workspace, account=account, **values)


def make_comment(video: TikTokVideo, **extra: Any) -> Comment:
    n = next(_seq)
    values: dict[str, Any] = {
        "comment_id": f"74{n:017d}",
        "author_key": f"fan-key-{n}",
        "author_username": f"fan{n}",
        "author_display_name": f"Fan {n}",
        "text": f"Comment number {n}",
        "created_at_tiktok": timezone.now() - dt.timedelta(minutes=n),
    }
    values.update(extra)
    return Comment.objects.create(
        workspace=video.workspace, video=video, account=video.account, **values
    )


def seed_conversation_team(*, workspace: Workspace, comment: Comment, user: Any) -> dict[str, str]:
    """A label, saved reply, note, rule and rule run whose every text is `comment.text` (the
    security sweep passes a hostile one); returns their URL kwargs."""
    hostile = comment.text
    label = Label.objects.create(workspace=workspace, name=hostile[:40], color="#ef4444")
    CommentLabel.objects.create(workspace=workspace, comment=comment, label=label)
    reply = SavedReply.objects.create(workspace=workspace, title=hostile[:60], text=hostile)
    note = ThreadNote.objects.create(
        workspace=workspace, comment=comment, author=user, text=hostile
    )
    rule = ModerationRule.objects.create(
        workspace=workspace,
        name=hostile[:80],
        action=RuleAction.LABEL,
        label=label,
        blocked_words=[hostile],
        blocked_authors=[hostile],
        is_enabled=True,
    )
    run = RuleRun.objects.create(
        workspace=workspace,
        rule=rule,
        comment=comment,
        action=RuleAction.LABEL,
        status=RuleRunStatus.DONE,
        error=hostile[:500],
    )
    return {
        "label_id": str(label.pk),
        "saved_reply_id": str(reply.pk),
        "note_id": str(note.pk),
        "rule_id": str(rule.pk),
        "run_id": str(run.pk),
    }

"""Foreign-object factories for the tenant isolation sweep (conversations routes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from accounts.models import Workspace
from conversations.models import (
    Label,
    ModerationRule,
    RuleAction,
    RuleRun,
    RuleRunStatus,
    SavedReply,
    ThreadNote,
    person_ref,
)
from tests.conversations.factories import make_account, make_comment, make_video


def _foreign_comment(workspace: Workspace) -> str:
    return str(make_comment(make_video(make_account(workspace))).pk)


def _foreign_video(workspace: Workspace) -> str:
    return str(make_video(make_account(workspace)).pk)


def _foreign_author(workspace: Workspace) -> str:
    key = f"foreign-fan-{uuid.uuid4().hex[:12]}"
    make_comment(make_video(make_account(workspace)), author_key=key)
    return person_ref(key)


def _foreign_label(workspace: Workspace) -> str:
    return str(Label.objects.create(workspace=workspace, name=f"l-{uuid.uuid4().hex[:8]}").pk)


def _foreign_saved_reply(workspace: Workspace) -> str:
    reply = SavedReply.objects.create(
        workspace=workspace, title=f"r-{uuid.uuid4().hex[:8]}", text="Thanks {name}!"
    )
    return str(reply.pk)


def _foreign_note(workspace: Workspace) -> str:
    comment = make_comment(make_video(make_account(workspace)))
    return str(ThreadNote.objects.create(workspace=workspace, comment=comment, text="secret").pk)


def _foreign_rule(workspace: Workspace) -> ModerationRule:
    return ModerationRule.objects.create(
        workspace=workspace, name=f"rule-{uuid.uuid4().hex[:8]}", blocked_words=["spam"]
    )


def _foreign_rule_id(workspace: Workspace) -> str:
    return str(_foreign_rule(workspace).pk)


def _foreign_run(workspace: Workspace) -> str:
    comment = make_comment(make_video(make_account(workspace)), is_hidden=True)
    run = RuleRun.objects.create(
        workspace=workspace,
        rule=_foreign_rule(workspace),
        comment=comment,
        action=RuleAction.HIDE,
        status=RuleRunStatus.DONE,
    )
    return str(run.pk)


FOREIGN_OBJECTS: dict[str, Callable[[Workspace], str]] = {
    "comment_id": _foreign_comment,
    "video_id": _foreign_video,
    "person_ref": _foreign_author,
    "label_id": _foreign_label,
    "saved_reply_id": _foreign_saved_reply,
    "note_id": _foreign_note,
    "rule_id": _foreign_rule_id,
    "run_id": _foreign_run,
}

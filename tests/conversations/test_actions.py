"""Moderation services against the simulator: each action, and each way TikTok refuses it."""

from __future__ import annotations

import pytest

from accounts.models import TikTokAccount, TikTokVideo, User
from conversations import services
from conversations.models import Comment
from conversations.sync import comment_sync_account
from later.errors import ExternalServiceError, ValidationFailed
from tests.conversations.conftest import (
    DELETE_PATH,
    HIDE_PATH,
    REPLY_CREATE_PATH,
    CommentSim,
    roomy_budget,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]) -> None:
    comment_sync_account(account=business_account, budget=roomy_budget(business_account))


def _fan_comment(account: TikTokAccount) -> Comment:
    comment = (
        Comment.objects.for_workspace(account.workspace)
        .filter(parent__isnull=True, is_own=False)
        .select_related("video", "account", "parent")
        .order_by("-created_at_tiktok")
        .first()
    )
    assert comment is not None
    return comment


def test_reply_is_posted_confirmed_and_handles_the_comment(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    comment = _fan_comment(business_account)
    replies_before = comment.reply_count

    reply = services.comment_reply(comment=comment, text="  Thanks for watching!  ", user=editor)

    assert not reply.is_pending
    assert not reply.comment_id.startswith("pending:")
    sim_reply = csim.state.comments[reply.comment_id]
    assert sim_reply.owner and sim_reply.text == "Thanks for watching!"
    assert sim_reply.parent_comment_id == comment.comment_id
    assert reply.parent_id == comment.pk and reply.is_own and reply.sent_by == editor
    comment.refresh_from_db()
    assert comment.handled_at is not None and comment.handled_by == editor
    assert comment.reply_count == replies_before + 1

    # The next sync recognises TikTok's copy of our reply instead of storing it twice.
    before = Comment.objects.for_workspace(business_account.workspace).count()
    comment_sync_account(
        account=business_account,
        budget=roomy_budget(business_account),
        now=reply.created_at_tiktok.replace(year=reply.created_at_tiktok.year + 1),
    )
    assert Comment.objects.for_workspace(business_account.workspace).count() == before


def test_reply_over_150_characters_never_reaches_tiktok(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    comment = _fan_comment(business_account)
    count = Comment.objects.for_workspace(business_account.workspace).count()
    with pytest.raises(ValidationFailed, match="150 characters in a reply; this one has 151"):
        services.comment_reply(comment=comment, text="x" * 151, user=editor)
    with pytest.raises(ValidationFailed):
        services.comment_reply(comment=comment, text="   ", user=editor)
    assert csim.calls(REPLY_CREATE_PATH) == 0
    assert Comment.objects.for_workspace(business_account.workspace).count() == count


def test_reply_refused_by_tiktok_shows_tiktoks_reason_and_stores_nothing(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    comment = _fan_comment(business_account)
    csim.state.comments[comment.comment_id].deleted = True  # the fan deleted it meanwhile
    count = Comment.objects.for_workspace(business_account.workspace).count()

    with pytest.raises(ExternalServiceError) as raised:
        services.comment_reply(comment=comment, text="Hello!", user=editor)

    assert "comment_id does not exist" in raised.value.message
    assert Comment.objects.for_workspace(business_account.workspace).count() == count
    comment.refresh_from_db()
    assert comment.handled_at is None


def test_reply_whose_answer_is_lost_stays_pending_until_sync_confirms_it(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    comment = _fan_comment(business_account)
    csim.fault(REPLY_CREATE_PATH, "drop_after_accept")

    with pytest.raises(ExternalServiceError, match="pending"):
        services.comment_reply(comment=comment, text="Did this arrive?", user=editor)

    scoped = Comment.objects.for_workspace(business_account.workspace)
    pending = scoped.get(is_pending=True)
    assert pending.comment_id.startswith("pending:") and pending.text == "Did this arrive?"

    from datetime import timedelta

    from django.utils import timezone

    comment_sync_account(
        account=business_account,
        budget=roomy_budget(business_account),
        now=timezone.now() + timedelta(days=2),
    )
    pending.refresh_from_db()
    assert not pending.is_pending
    sim_copy = csim.state.comments[pending.comment_id]
    assert sim_copy.owner and sim_copy.text == "Did this arrive?"
    assert scoped.filter(text="Did this arrive?").count() == 1


def test_hide_and_unhide(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    comment = _fan_comment(business_account)
    services.comment_set_hidden(comment=comment, hidden=True, user=editor)
    assert csim.state.comments[comment.comment_id].status == "HIDDEN"
    comment.refresh_from_db()
    assert comment.is_hidden and comment.handled_at is not None

    services.comment_set_hidden(comment=comment, hidden=False, user=editor)
    assert csim.state.comments[comment.comment_id].status == "PUBLIC"
    comment.refresh_from_db()
    assert not comment.is_hidden


def test_hide_failure_leaves_the_comment_visible(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    comment = _fan_comment(business_account)
    csim.fault(HIDE_PATH, "http_500")
    with pytest.raises(ExternalServiceError, match="did not hide"):
        services.comment_set_hidden(comment=comment, hidden=True, user=editor)
    comment.refresh_from_db()
    assert not comment.is_hidden
    assert csim.state.comments[comment.comment_id].status == "PUBLIC"


def test_like_and_unlike(csim: CommentSim, business_account: TikTokAccount, synced: None) -> None:
    comment = _fan_comment(business_account)
    likes = comment.like_count
    services.comment_set_liked(comment=comment, liked=True)
    assert csim.state.comments[comment.comment_id].liked
    comment.refresh_from_db()
    assert comment.liked and comment.like_count == likes + 1
    services.comment_set_liked(comment=comment, liked=False)
    assert not csim.state.comments[comment.comment_id].liked


def test_delete_own_reply(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    reply = services.comment_reply(comment=_fan_comment(business_account), text="Oops", user=editor)
    services.comment_delete(comment=reply)
    assert csim.state.comments[reply.comment_id].deleted
    reply.refresh_from_db()
    assert reply.deleted_at is not None
    assert reply.parent is not None and reply.parent.reply_count == 0


def test_deleting_a_fans_comment_is_refused(
    csim: CommentSim, business_account: TikTokAccount, synced: None
) -> None:
    comment = _fan_comment(business_account)
    with pytest.raises(ValidationFailed, match="Hide a fan's comment instead"):
        services.comment_delete(comment=comment)
    assert csim.calls(DELETE_PATH) == 0

    # Even if our copy wrongly believed it was ours, TikTok refuses and nothing is lost.
    comment.is_own = True
    with pytest.raises(ExternalServiceError, match="Only comments posted by the business"):
        services.comment_delete(comment=comment)
    assert not csim.state.comments[comment.comment_id].deleted
    comment.refresh_from_db()
    assert comment.deleted_at is None


def test_handled_and_read_marks(
    business_account: TikTokAccount, synced: None, editor: User
) -> None:
    workspace = business_account.workspace
    thread = (
        Comment.objects.for_workspace(workspace)
        .filter(parent__isnull=True, reply_count__gt=0)
        .first()
    )
    assert thread is not None
    services.comments_mark_handled(
        workspace=workspace, comments=[thread], handled=True, user=editor
    )
    thread.refresh_from_db()
    assert thread.handled_at and thread.read_at and thread.handled_by == editor
    assert not thread.replies.filter(handled_at__isnull=True).exists()

    services.comments_mark_read(workspace=workspace, comments=[thread], read=False)
    thread.refresh_from_db()
    assert thread.read_at is None and thread.handled_at is None


def test_bulk_hide_reports_each_failure(
    csim: CommentSim, business_account: TikTokAccount, synced: None, editor: User
) -> None:
    workspace = business_account.workspace
    comments = list(
        Comment.objects.for_workspace(workspace)
        .filter(parent__isnull=True)
        .select_related("video", "account")[:3]
    )
    csim.fault(HIDE_PATH, "http_500")
    result = services.comments_bulk_action(
        workspace=workspace, comments=comments, action="hide", user=editor
    )
    assert result.done == 2 and len(result.failures) == 1
    assert "did not hide" in result.summary
    assert Comment.objects.for_workspace(workspace).filter(is_hidden=True).count() == 2

    with pytest.raises(ValidationFailed):
        services.comments_bulk_action(workspace=workspace, comments=[], action="hide", user=editor)
    with pytest.raises(ValidationFailed):
        services.comments_bulk_action(
            workspace=workspace, comments=comments, action="explode", user=editor
        )

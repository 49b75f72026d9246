"""Approvals: the gate, approve / request changes, the dispatcher's skip, deadline warnings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Notification
from calendar_app import services
from calendar_app.approvals import reminders
from calendar_app.approvals.services import (
    MISSED_MESSAGE,
    approval_settings_update,
    post_approve,
    post_comment_add,
    post_request_changes,
    review_requested_notify,
)
from calendar_app.models import ActivityEntry, Post, PostComment, PostStatus
from calendar_app.publishing.dispatch import posts_dispatch_due
from calendar_app.services import PostContent, PostTarget
from later.errors import AppError
from tests.calendar_app.conftest import creator_info
from tests.calendar_app.factories import MediaAssetFactory
from tests.factories import MembershipFactory, TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(workspace):
    return TikTokAccountFactory.create(workspace=workspace, username="ava.creates")


@pytest.fixture
def video(workspace):
    return MediaAssetFactory.create(workspace=workspace, duration_seconds=30.0)


@pytest.fixture
def approvals_on(workspace, owner):
    workspace.approval_required = True
    workspace.save()
    return workspace


def when(hours: float = 48) -> datetime:
    """A UTC wall-clock time `hours` from now, to the minute."""
    local = timezone.now() + timedelta(hours=hours)
    return local.replace(second=0, microsecond=0, tzinfo=None)


def create(workspace, account, video, *, user, caption="First cut #demo", review=False, hours=48):
    (post,) = services.post_create(
        workspace=workspace,
        user=user,
        content=PostContent(
            caption=caption, media_id=video.id, scheduled_local=when(hours), scheduled_tz="UTC"
        ),
        targets=[PostTarget(account_id=account.id, privacy_level="PUBLIC_TO_EVERYONE")],
        schedule=True,
        creator_infos={str(account.id): creator_info()},
        review=review,
    )
    return post


def edit(workspace, post, *, user, caption: str, **kw: Any) -> Post:
    content, target = services.post_content_of(post)
    content = PostContent(**{**content.__dict__, "caption": caption})
    return services.post_update(
        workspace=workspace,
        post=post,
        content=content,
        target=target,
        schedule=True,
        creator_infos={str(post.account_id): creator_info()},
        actor=user,
        **kw,
    )


def verbs(workspace) -> list[str]:
    return list(
        ActivityEntry.objects.for_workspace(workspace)
        .order_by("created_at")
        .values_list("verb", flat=True)
    )


def test_editor_post_waits_in_review_and_is_never_dispatched(approvals_on, account, video, editor):
    post = create(approvals_on, account, video, user=editor)
    assert post.status == PostStatus.IN_REVIEW
    assert post.approved_at is None
    # Even at and after its time the dispatcher does not claim it.
    assert posts_dispatch_due(now=post.scheduled_at + timedelta(minutes=5)) == []
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert verbs(approvals_on) == ["created", "submitted"]


def test_approvers_hear_of_a_submission_at_once(approvals_on, account, video, editor, owner):
    """The owners and admins are told in the app (a note a post) and by one e-mail; the editor
    who submitted and the viewer are not. Saving it again while it waits tells nobody again."""
    admin = UserFactory.create(email="admin@example.com")
    MembershipFactory.create(workspace=approvals_on, user=admin, role="admin")
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        post = create(approvals_on, account, video, user=editor, caption="Latte art #1")
    notes = Notification.objects.for_workspace(approvals_on).filter(kind="post_review")
    assert sorted(n.user.email for n in notes) == ["admin@example.com", "owner@example.com"]
    assert all(str(post.id) in n.url and "Latte art #1" in n.body for n in notes)
    assert editor.display_name in notes[0].body
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin@example.com", "owner@example.com"]
    assert "1 post waiting for your approval" in mail.outbox[0].subject
    assert "status=in_review" in mail.outbox[0].body

    with TestCase.captureOnCommitCallbacks(execute=True):
        edit(approvals_on, post, user=editor, caption="Latte art #1")  # nothing changed
    assert notes.count() == 2 and len(mail.outbox) == 1


def test_a_submission_of_many_posts_tells_the_approvers_in_a_fixed_number_of_queries(
    approvals_on, account, video, editor, owner
):
    """A bulk import or a post for several accounts is one submission: every approver gets one
    note a post, and the notes cost the same queries for 1 post as for 6."""
    admin = UserFactory.create(email="admin@example.com")
    MembershipFactory.create(workspace=approvals_on, user=admin, role="admin")
    posts = [create(approvals_on, account, video, user=owner, caption=f"Cut {i}") for i in range(6)]
    posts = list(Post.objects.for_workspace(approvals_on).filter(pk__in=[p.pk for p in posts]))
    Notification.objects.for_workspace(approvals_on).delete()
    costs = []
    for batch in (posts[:1], posts):
        fresh = list(Post.objects.for_workspace(approvals_on).filter(pk__in=[p.pk for p in batch]))
        with CaptureQueriesContext(connection) as queries:
            review_requested_notify(workspace=approvals_on, posts=fresh, actor=editor)
        costs.append(len(queries.captured_queries))
    assert costs[0] == costs[1]
    notes = Notification.objects.for_workspace(approvals_on).filter(kind="post_review")
    assert notes.count() == 2 * (1 + 6)
    assert {n.body for n in notes.filter(user=admin)} >= {
        f"{editor.display_name} submitted @ava.creates · Cut {i} for "
        f"{timezone.localtime(p.scheduled_at, approvals_on.tz):%a %d %b %H:%M}."
        for i, p in enumerate(sorted(posts, key=lambda p: p.caption))
    }


def test_an_approver_who_submits_for_review_is_not_told_of_it(approvals_on, account, video, owner):
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        post = create(approvals_on, account, video, user=owner, review=True)
    assert post.status == PostStatus.IN_REVIEW
    assert not Notification.objects.for_workspace(approvals_on).filter(kind="post_review").exists()
    assert mail.outbox == []


def test_owner_scheduling_counts_as_approval(approvals_on, account, video, owner):
    post = create(approvals_on, account, video, user=owner)
    assert post.status == PostStatus.SCHEDULED
    assert post.approved_by == owner
    assert [p for p, _ in posts_dispatch_due(now=post.scheduled_at)] == [post.id]


def test_approval_lets_the_dispatcher_claim_it_once(approvals_on, account, video, editor, owner):
    post = create(approvals_on, account, video, user=editor)
    approved = post_approve(workspace=approvals_on, post=post, user=owner, note="Looks great")
    assert approved.status == PostStatus.SCHEDULED
    assert approved.approved_by_name == owner.display_name
    due = post.scheduled_at + timedelta(seconds=1)
    assert [p for p, _ in posts_dispatch_due(now=due)] == [post.id]
    assert posts_dispatch_due(now=due) == []  # claimed once
    assert PostComment.objects.for_workspace(approvals_on).get().kind == "approved"
    # The editor hears about it.
    assert Notification.objects.for_workspace(approvals_on).filter(user=editor).exists()


def test_editors_and_viewers_cannot_approve(approvals_on, account, video, editor, viewer):
    post = create(approvals_on, account, video, user=editor)
    for user in (editor, viewer):
        with pytest.raises(AppError) as exc:
            post_approve(workspace=approvals_on, post=post, user=user)
        assert exc.value.status == 403
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_approving_twice_is_a_conflict(approvals_on, account, video, editor, owner):
    post = create(approvals_on, account, video, user=editor)
    post_approve(workspace=approvals_on, post=post, user=owner)
    with pytest.raises(AppError) as exc:
        post_approve(workspace=approvals_on, post=post, user=owner)
    assert exc.value.code == "post_not_in_review"


def test_request_changes_then_edit_then_approval(approvals_on, account, video, editor, owner):
    post = create(approvals_on, account, video, user=editor)
    with pytest.raises(AppError) as exc:
        post_request_changes(workspace=approvals_on, post=post, comment="  ", user=owner)
    assert exc.value.code == "comment_required"
    post = post_request_changes(
        workspace=approvals_on, post=post, comment="Say 'oat milk' not 'milk'", user=owner
    )
    assert post.status == PostStatus.DRAFT
    assert post.needs_attention.startswith("Changes requested by")
    post = edit(approvals_on, post, user=editor, caption="First cut with oat milk #demo")
    assert post.status == PostStatus.IN_REVIEW
    assert post.needs_attention == ""
    post = post_approve(workspace=approvals_on, post=post, user=owner)
    assert post.status == PostStatus.SCHEDULED
    assert post.versions.count() == 2
    assert verbs(approvals_on) == [
        "created",
        "submitted",
        "changes_requested",
        "edited",
        "submitted",
        "approved",
    ]


def test_editing_an_approved_post_sends_it_back_to_review(
    approvals_on, account, video, editor, owner
):
    post = create(approvals_on, account, video, user=editor)
    approved = post_approve(workspace=approvals_on, post=post, user=owner)
    # Saving with nothing changed keeps the approval...
    same = edit(approvals_on, approved, user=editor, caption=approved.caption)
    assert same.status == PostStatus.SCHEDULED and same.approved_at is not None
    # ...a new caption needs a new approval.
    changed = edit(approvals_on, approved, user=editor, caption="A different caption")
    assert changed.status == PostStatus.IN_REVIEW
    assert changed.approved_at is None
    assert posts_dispatch_due(now=post.scheduled_at + timedelta(seconds=1)) == []


def test_moving_an_approved_post_keeps_its_approval(approvals_on, account, video, editor, owner):
    post = create(approvals_on, account, video, user=editor)
    post = post_approve(workspace=approvals_on, post=post, user=owner)
    moved = services.post_reschedule(
        workspace=approvals_on,
        post=post,
        scheduled_local=when(72),
        scheduled_tz="UTC",
        actor=editor,
    )
    assert moved.status == PostStatus.SCHEDULED and moved.approved_at is not None
    assert verbs(approvals_on)[-1] == "rescheduled"


def test_switching_approvals_on_sends_unapproved_scheduled_posts_to_review(
    workspace, account, video, editor, owner
):
    post = create(workspace, account, video, user=editor)
    assert post.status == PostStatus.SCHEDULED
    actor = Membership.objects.for_workspace(workspace).get(user=owner)
    assert approval_settings_update(workspace=workspace, actor=actor, approval_required=True) == 1
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    editor_m = Membership.objects.for_workspace(workspace).get(user=editor)
    with pytest.raises(AppError) as exc:
        approval_settings_update(workspace=workspace, actor=editor_m, approval_required=False)
    assert exc.value.status == 403


def test_unapproved_scheduled_post_is_skipped_and_then_held(approvals_on, account, video, editor):
    """A scheduled post with no approval (a race with the switch, a retry) never goes out."""
    post = create(approvals_on, account, video, user=editor)
    Post.objects.for_workspace(approvals_on).filter(pk=post.pk).update(status=PostStatus.SCHEDULED)
    assert posts_dispatch_due(now=post.scheduled_at + timedelta(seconds=1)) == []
    assert reminders.posts_hold_unapproved() == 1
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_deadline_warnings_are_sent_once_each(
    approvals_on, account, video, editor, owner, settings
):
    settings.APPROVAL_WARNING_MINUTES = 60
    post = create(approvals_on, account, video, user=editor, hours=3)
    mail.outbox.clear()
    start = timezone.now()
    # Too early: nothing.
    assert reminders.review_deadlines_check(now=start)["warned"] == 0
    soon = post.scheduled_at - timedelta(minutes=30)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.review_deadlines_check(now=soon)["warned"] == 1
    assert reminders.review_deadlines_check(now=soon + timedelta(minutes=1))["warned"] == 0
    owner_notes = Notification.objects.for_workspace(approvals_on).filter(
        user=owner, kind="review_deadline"
    )
    assert owner_notes.count() == 1
    assert (
        Notification.objects.for_workspace(approvals_on)
        .filter(user=editor, kind="review_deadline")
        .count()
        == 1
    )
    assert len(mail.outbox) == 2  # the approvers, then the author
    assert "Waiting for approval" in mail.outbox[0].subject

    late = post.scheduled_at + timedelta(minutes=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.review_deadlines_check(now=late)["missed"] == 1
    assert reminders.review_deadlines_check(now=late + timedelta(minutes=5))["missed"] == 0
    assert posts_dispatch_due(now=late) == []
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.needs_attention == MISSED_MESSAGE
    assert owner_notes.count() == 2
    assert len(mail.outbox) == 4
    assert "Not published" in mail.outbox[2].subject
    # Too late to approve as planned; a new time makes it approvable again.
    with pytest.raises(AppError) as exc:
        post_approve(workspace=approvals_on, post=post, user=owner, now=late)
    assert exc.value.code == "review_time_passed"


def test_internal_comments_are_kept_apart_from_the_caption(
    approvals_on, account, video, editor, owner
):
    post = create(approvals_on, account, video, user=editor)
    body = "Use the blue cup"
    comment = post_comment_add(workspace=approvals_on, post=post, body=body, user=owner)
    again = post_comment_add(workspace=approvals_on, post=post, body=body, user=owner)
    assert again.pk == comment.pk  # a resent form does not post twice
    post.refresh_from_db()
    assert "blue cup" not in post.caption
    assert post.versions.count() == 1


def test_versions_and_readable_diff(approvals_on, account, video, owner):
    from calendar_app.approvals.versions import version_history

    post = create(approvals_on, account, video, user=owner, caption="Monday latte art #coffee")
    content, target = services.post_content_of(post)
    services.post_update(
        workspace=approvals_on,
        post=post,
        content=PostContent(**{**content.__dict__, "caption": "Tuesday latte art #coffee"}),
        target=PostTarget(**{**target.__dict__, "privacy_level": "SELF_ONLY"}),
        schedule=True,
        creator_infos={str(account.id): creator_info()},
        actor=owner,
    )
    latest, first = version_history(post)
    assert [(s.op, s.text) for s in latest.caption if s.op != "same"] == [
        ("removed", "Monday"),
        ("added", "Tuesday"),
    ]
    assert [(c.label, c.before, c.after) for c in latest.changes] == [
        ("Who can view", "Everyone", "Only me")
    ]
    assert first.old is None and first.new.number == 1

"""Approval writes: the gate the composer's services pass through, approve, request changes,
internal comments and the workspace switch. HTML views, the API and review links call these."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Notification, Role, User, Workspace
from accounts.services import (
    NotificationMessage,
    notification_notify_members,
    notification_notify_members_of_each,
)
from calendar_app.approvals.activity import activity_record, post_subject
from calendar_app.approvals.versions import version_latest
from calendar_app.models import (
    ActivityVerb,
    Post,
    PostComment,
    PostCommentKind,
    PostStatus,
    ReviewLink,
)
from calendar_app.publishing.state import post_event_add
from later.errors import Conflict, NotFound, RoleRequired, ValidationFailed
from later.tenancy import membership_resolve

COMMENT_MAX = 2000
MISSED_MESSAGE = "Not approved before its time, so it was not published. Pick a new time."
CHANGES_PREFIX = "Changes requested by "


class NotInReview(Conflict):
    code = "post_not_in_review"


class ReviewTimePassed(Conflict):
    code = "review_time_passed"


def _membership(workspace_id: Any, user: User | None) -> Membership | None:
    """The user's role in the workspace, as every page resolves it: a member row or access
    through the agency that owns the workspace, the higher role winning. None for outsiders."""
    if user is None:
        return None
    try:
        return membership_resolve(user=user, workspace_id=workspace_id)
    except NotFound:
        return None


def is_approver(*, workspace: Workspace, user: User | None) -> bool:
    """Owners and admins (directly or through the agency) approve; a client approves through
    a review link instead."""
    membership = _membership(workspace.pk, user)
    return membership is not None and membership.has_role(Role.ADMIN)


def approval_gate(
    *,
    workspace: Workspace,
    post: Post,
    actor: User | None,
    review: bool,
    content_changed: bool,
    now: datetime | None = None,
) -> str | None:
    """Decide what a post that is being scheduled becomes; set its approval fields.

    Called by the composer's services on a row about to be saved with status `scheduled`.
    Returns the activity verb to log ("submitted", "approved") or None.
    - `review` (Submit for review) always goes to review, in any workspace.
    - In a workspace that requires approval, an approver's scheduling approves the post; an
      editor's goes to review, unless it is an approved post whose content (`version_record`) is
      unchanged (moving it in time keeps its approval).
    """
    at = now or timezone.now()
    approver = is_approver(workspace=workspace, user=actor)
    if review or (workspace.approval_required and not approver):
        if not review and not content_changed and post.approved_at is not None:
            return None
        post.status = PostStatus.IN_REVIEW
        post.approved_at, post.approved_by, post.approved_by_name = None, None, ""
        return ActivityVerb.SUBMITTED
    if workspace.approval_required and (content_changed or post.approved_at is None):
        assert actor is not None  # an approver is a signed-in member
        post.approved_at, post.approved_by = at, actor
        post.approved_by_name = actor.display_name[:200]
        return ActivityVerb.APPROVED
    if content_changed:
        post.approved_at, post.approved_by, post.approved_by_name = None, None, ""
    return None


def review_flags_clear(post: Post) -> list[str]:
    """Forget the deadline warnings (a new time, a decision) and the review's own notice."""
    if post.needs_attention == MISSED_MESSAGE or (
        post.status != PostStatus.DRAFT and post.needs_attention.startswith(CHANGES_PREFIX)
    ):
        post.needs_attention = ""
    post.review_warned_at = post.review_missed_at = None
    return ["review_warned_at", "review_missed_at", "needs_attention"]


def _locked(workspace: Workspace, post: Post | Any) -> Post:
    found = (
        Post.objects.for_workspace(workspace)
        .select_for_update(of=("self",))
        .select_related("account", "created_by")
        .filter(pk=getattr(post, "pk", post))
        .first()
    )
    if found is None:
        raise NotFound("Post not found.")
    return found


def _who(user: User | None, link: ReviewLink | None) -> str:
    if link is not None:
        return f"{link.name} (review link)"[:200]
    return user.display_name if user is not None else "Someone"


def _require_approver(workspace: Workspace, user: User | None, link: ReviewLink | None) -> None:
    if link is not None:
        if link.workspace_id != workspace.pk:
            raise NotFound("Post not found.")
        return
    if not is_approver(workspace=workspace, user=user):
        raise RoleRequired("Only owners and admins (or a client's review link) can approve.")


def _notify_author(post: Post, *, title: str, body: str, actor: User | None) -> None:
    author = post.created_by
    if author is None or (actor is not None and author.pk == actor.pk):
        return
    if _membership(post.workspace_id, author) is None:
        return  # no longer reaches the workspace
    Notification.objects.create(
        workspace_id=post.workspace_id,
        user=author,
        kind="post_review",
        title=title[:200],
        body=body,
        url=post_page(post),
    )


def post_page(post: Post) -> str:
    return reverse(
        "calendar_app:post_detail", kwargs={"workspace_id": post.workspace_id, "post_id": post.id}
    )


def post_approve(
    *,
    workspace: Workspace,
    post: Post | Any,
    user: User | None = None,
    link: ReviewLink | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Post:
    """Approve a post in review: it becomes scheduled and the dispatcher may publish it."""
    at = now or timezone.now()
    note = _clean(note, required=False)
    with transaction.atomic():
        _require_approver(workspace, user, link)
        locked = _locked(workspace, post)
        if locked.status != PostStatus.IN_REVIEW:
            raise NotInReview(
                f"This post is {locked.get_status_display().lower()}, not waiting for review."
            )
        if locked.scheduled_at is None or locked.scheduled_at <= at:
            raise ReviewTimePassed(
                "This post's time has passed, so it can no longer be approved as planned. "
                "Move it to a new time first."
            )
        who = _who(user, link)
        locked.status = PostStatus.SCHEDULED
        locked.approved_at, locked.approved_by, locked.approved_by_name = at, user, who
        fields = review_flags_clear(locked)
        locked.save(update_fields=[*_DECISION_FIELDS, *fields, "updated_at"])
        _, number = _thread_add(
            workspace=workspace,
            post=locked,
            kind=PostCommentKind.APPROVED,
            body=note,
            user=user,
            who=who,
            link=link,
        )
        version = f"version {number}" if number is not None else "the post"
        activity_record(
            workspace=workspace,
            verb=ActivityVerb.APPROVED,
            post=locked,
            actor=user,
            actor_name=who,
            detail=f"Approved {version}." + (f" “{note[:200]}”" if note else ""),
        )
        post_event_add(post=locked, kind="approved", message=f"Approved by {who}.")
        _notify_author(
            locked,
            title=f"Approved: your post for {locked.account}",
            body=f"{who} approved it; it will publish as scheduled.",
            actor=user,
        )
    return locked


def post_request_changes(
    *,
    workspace: Workspace,
    post: Post | Any,
    comment: str,
    user: User | None = None,
    link: ReviewLink | None = None,
) -> Post:
    """Send a post in review (or an approved, scheduled one) back to draft with a comment."""
    comment = _clean(comment, required=True)
    with transaction.atomic():
        _require_approver(workspace, user, link)
        locked = _locked(workspace, post)
        allowed = {PostStatus.IN_REVIEW} if link else {PostStatus.IN_REVIEW, PostStatus.SCHEDULED}
        if locked.status not in allowed:
            raise NotInReview(
                f"This post is {locked.get_status_display().lower()}; changes can be requested "
                "only while it is in review."
            )
        who = _who(user, link)
        locked.status = PostStatus.DRAFT
        locked.approved_at, locked.approved_by, locked.approved_by_name = None, None, ""
        fields = review_flags_clear(locked)
        locked.needs_attention = f"{CHANGES_PREFIX}{who}."[:300]
        locked.save(update_fields=[*_DECISION_FIELDS, *fields, "updated_at"])
        _thread_add(
            workspace=workspace,
            post=locked,
            kind=PostCommentKind.CHANGES_REQUESTED,
            body=comment,
            user=user,
            who=who,
            link=link,
        )
        activity_record(
            workspace=workspace,
            verb=ActivityVerb.CHANGES_REQUESTED,
            post=locked,
            actor=user,
            actor_name=who,
            detail=comment[:500],
        )
        post_event_add(post=locked, kind="changes_requested", message=f"{who}: {comment}")
        _notify_author(
            locked,
            title=f"Changes requested on your post for {locked.account}",
            body=f"{who}: {comment}",
            actor=user,
        )
    return locked


# What a review decision writes on the post, beside the flags `review_flags_clear` names.
_DECISION_FIELDS = ["status", "approved_at", "approved_by", "approved_by_name"]


def _thread_add(
    *,
    workspace: Workspace,
    post: Post,
    kind: str,
    body: str,
    user: User | None,
    who: str,
    link: ReviewLink | None,
) -> tuple[PostComment, int | None]:
    """One entry of the post's internal thread, tied to the version it was written about."""
    latest = version_latest(post)
    number = latest.number if latest else None
    comment = PostComment.objects.create(
        workspace=workspace,
        post=post,
        kind=kind,
        body=body,
        author=user,
        author_name=who,
        review_link=link,
        version_number=number,
    )
    return comment, number


def _clean(text: str, *, required: bool) -> str:
    text = (text or "").replace("\x00", "").strip()
    if required and not text:
        raise ValidationFailed(
            "Write what should change.", code="comment_required", details={"body": ["Required."]}
        )
    if len(text) > COMMENT_MAX:
        raise ValidationFailed(
            f"Comments are at most {COMMENT_MAX} characters.",
            code="comment_too_long",
            details={"body": ["Too long."]},
        )
    return text


def post_comment_add(
    *,
    workspace: Workspace,
    post: Post | Any,
    body: str,
    user: User | None = None,
    link: ReviewLink | None = None,
) -> PostComment:
    """An internal comment: stored and shown to the team, never sent to TikTok."""
    body = _clean(body, required=True)
    with transaction.atomic():
        locked = _locked(workspace, post)
        if link is not None and locked.status != PostStatus.IN_REVIEW:
            raise NotFound("Post not found.")
        who = _who(user, link)
        # A double-clicked or resent form must not post the same words twice.
        recent = (
            locked.internal_comments.filter(
                body=body,
                author=user,
                review_link=link,
                created_at__gte=timezone.now() - timedelta(minutes=2),
            )
            .order_by("-created_at")
            .first()
        )
        if recent is not None:
            return recent
        comment, _ = _thread_add(
            workspace=workspace,
            post=locked,
            kind=PostCommentKind.COMMENT,
            body=body,
            user=user,
            who=who,
            link=link,
        )
        activity_record(
            workspace=workspace,
            verb=ActivityVerb.COMMENTED,
            post=locked,
            actor=user,
            actor_name=who,
            detail=body[:500],
        )
        if link is not None or user is None or locked.created_by_id != user.pk:
            _notify_author(
                locked,
                title=f"New comment on your post for {locked.account}",
                body=f"{who}: {body[:300]}",
                actor=user,
            )
    return comment


def approval_settings_update(
    *, workspace: Workspace, actor: Membership, approval_required: bool
) -> int:
    """Switch approvals on or off. Switching on sends every scheduled post that nobody
    approved to review, so nothing publishes unapproved. Returns how many were sent."""
    if not actor.has_role(Role.ADMIN):
        raise RoleRequired("Only owners and admins can change approval settings.")
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        moved = 0
        if approval_required and not locked.approval_required:
            unapproved = list(
                Post.objects.for_workspace(locked)
                .select_for_update(of=("self",))
                .select_related("account")
                .filter(status=PostStatus.SCHEDULED, approved_at__isnull=True)
            )
            for post in unapproved:
                post.status = PostStatus.IN_REVIEW
                post.save(update_fields=["status", "updated_at"])
                post_event_add(
                    post=post,
                    kind="sent_to_review",
                    message="Approvals were switched on: this post waits for approval.",
                )
            moved = len(unapproved)
        if locked.approval_required != approval_required:
            locked.approval_required = approval_required
            locked.save(update_fields=["approval_required", "updated_at"])
            activity_record(
                workspace=locked,
                verb=ActivityVerb.SETTINGS,
                actor=actor.user,
                subject=locked.name,
                detail=(
                    "Approval before publishing switched on"
                    if approval_required
                    else "Approval before publishing switched off"
                )
                + (f"; {moved} scheduled post(s) sent to review." if moved else "."),
            )
        workspace.approval_required = approval_required
    return moved


def review_requested_notify(*, workspace: Workspace, posts: list[Post], actor: User | None) -> None:
    """Tell the approvers (owners and admins, directly or through the agency) that posts wait
    for them: a notification a post in the app, and one e-mail for the whole submission (a
    group of accounts or a bulk import is one e-mail). Whoever submitted is not told."""
    if not posts:
        return
    who = actor.display_name if actor is not None else "Someone"
    prefetch_related_objects(posts, "account")  # post_subject names each post's account

    def when(post: Post) -> str:
        if not post.scheduled_at:
            return ""
        return f" for {timezone.localtime(post.scheduled_at, workspace.tz):%a %d %b %H:%M}"

    notes = notification_notify_members_of_each(
        workspace=workspace,
        kind="post_review",
        messages=[
            NotificationMessage(
                title="A post is waiting for your approval",
                body=f"{who} submitted {post_subject(post)}{when(post)}.",
                url=post_page(post),
            )
            for post in posts
        ],
        min_role=Role.ADMIN,
        exclude=actor,
    )
    recipients = {n.user_id: n.user.email for n in notes}
    if not recipients:
        return
    count = len(posts)
    posts_word = "post" if count == 1 else "posts"
    subject = f"[{workspace.name}] {count} {posts_word} waiting for your approval"
    link = settings.SITE_URL.rstrip("/") + (
        reverse("calendar_app:calendar", kwargs={"workspace_id": workspace.pk})
        + "?view=list&status=in_review"
    )
    lines = [f"{who} submitted:"] + [f"- {post_subject(p)}" for p in posts[:20]]
    if count > 20:
        lines.append(f"… and {count - 20} more.")
    message = "\n".join(lines) + f"\n\nReview them: {link}"
    emails = sorted(set(recipients.values()))
    transaction.on_commit(
        lambda: send_mail(
            subject=subject,
            message=message,
            from_email=None,
            recipient_list=emails,
            fail_silently=True,
        )
    )


def deadline_notify(*, post: Post, title: str, body: str) -> None:
    """Tell the approvers (owners and admins, directly or through the agency; in the app and by
    e-mail) and the post's author."""
    workspace = post.workspace
    url = post_page(post)
    notes = notification_notify_members(
        workspace=workspace,
        kind="review_deadline",
        title=title,
        body=body,
        url=url,
        min_role=Role.ADMIN,
        email=True,
    )
    author = post.created_by
    if author is None or any(n.user_id == author.pk for n in notes):
        return
    if _membership(workspace.pk, author) is None:
        return  # no longer reaches the workspace
    Notification.objects.create(
        workspace=workspace, user=author, kind="review_deadline", title=title, body=body, url=url
    )
    link = settings.SITE_URL.rstrip("/") + url
    recipient = author.email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"[{workspace.name}] {title}",
            message=f"{body}\n\n{link}",
            from_email=None,
            recipient_list=[recipient],
            fail_silently=True,
        )
    )

"""HTML views of approvals: the review queue and settings, post actions, versions, activity."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from calendar_app import selectors, services
from calendar_app.approvals import activity, links
from calendar_app.approvals import services as approvals
from calendar_app.approvals.versions import version_history
from calendar_app.models import ActivityVerb, Post, PostStatus, ReviewLink
from later.errors import AppError, RoleRequired
from later.idempotency import once_per_form
from later.roles import Role
from later.tenancy import WorkspaceRequest, workspace_view

_POST = {"post": selectors.post_get}
_LINK = {"link": links.review_link_get}
ACTIVITY_PAGE_SIZE = 50


def _to_post(request: WorkspaceRequest, post: Post) -> HttpResponse:
    target = request.POST.get("next", "")
    if target == "queue":
        return redirect("approvals:queue", workspace_id=request.workspace.id)
    return redirect("calendar_app:post_detail", workspace_id=request.workspace.id, post_id=post.id)


def post_review_context(request: WorkspaceRequest, post: Post) -> dict[str, Any]:
    """What the post page shows about review: state, actions, comments and versions."""
    membership = request.membership
    return {
        "review_comments": list(post.internal_comments.select_related("author").all()),
        "versions": version_history(post)[:10],
        "can_approve": membership.can_manage and post.status == PostStatus.IN_REVIEW,
        "can_request_changes": membership.can_manage
        and post.status in (PostStatus.IN_REVIEW, PostStatus.SCHEDULED),
        "can_submit": membership.can_edit
        and post.status in (PostStatus.DRAFT, PostStatus.FAILED)
        and post.media_id is not None,
        "can_comment": membership.can_edit,
    }


@workspace_view(min_role=Role.VIEWER)
@require_http_methods(["GET", "HEAD", "POST"])
@once_per_form
def queue(request: WorkspaceRequest) -> HttpResponse:
    """Posts in review, the workspace switch and the client review links."""
    workspace = request.workspace
    status = 200
    if request.method == "POST":
        try:
            if not request.membership.can_manage:
                raise RoleRequired("Only owners and admins can change approvals.")
            if request.POST.get("form") == "link":
                try:
                    days = int(request.POST.get("days", links.LINK_DAYS_DEFAULT))
                except ValueError:
                    days = 0
                link = links.review_link_create(
                    workspace=workspace,
                    actor=request.membership,
                    name=request.POST.get("name", ""),
                    days=days,
                )
                messages.success(request, f"Review link for {link.name} created; copy it below.")
            else:
                required = request.POST.get("approval_required") == "on"
                moved = approvals.approval_settings_update(
                    workspace=workspace, actor=request.membership, approval_required=required
                )
                note = f" {moved} scheduled post(s) now wait for approval." if moved else ""
                messages.success(
                    request,
                    ("Approval before publishing is on." if required else "Approvals are off.")
                    + note,
                )
        except AppError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            return redirect("approvals:queue", workspace_id=workspace.id)
    now = timezone.now()
    review_links = [
        {"link": link, "url": links.review_link_url(link), "expired": link.expires_at <= now}
        for link in links.review_links(workspace=workspace)[:50]
    ]
    return render(
        request,
        "calendar_app/approvals/queue.html",
        {
            "posts": list(links.review_queue(workspace=workspace)),
            "review_links": review_links,
            "link_days": links.LINK_DAYS_DEFAULT,
            "link_days_max": links.LINK_DAYS_MAX,
        },
        status=status,
    )


@workspace_view(min_role=Role.ADMIN, load=_LINK)
@require_POST
def link_revoke(request: WorkspaceRequest, link: ReviewLink) -> HttpResponse:
    try:
        links.review_link_revoke(workspace=request.workspace, actor=request.membership, link=link)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The review link of {link.name} no longer works.")
    return redirect("approvals:queue", workspace_id=request.workspace.id)


@workspace_view(min_role=Role.EDITOR, load=_POST)
@require_POST
def post_submit(request: WorkspaceRequest, post: Post) -> HttpResponse:
    try:
        services.post_schedule(
            workspace=request.workspace,
            post=post,
            acknowledge_warnings=request.POST.get("acknowledge_warnings") == "on",
            actor=request.user,
            review=True,
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Submitted for review.")
    return _to_post(request, post)


@workspace_view(min_role=Role.ADMIN, load=_POST)
@require_POST
def post_approve(request: WorkspaceRequest, post: Post) -> HttpResponse:
    try:
        approvals.post_approve(
            workspace=request.workspace,
            post=post,
            user=request.user,
            note=request.POST.get("body", ""),
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Approved: the post for {post.account} will publish on time.")
    return _to_post(request, post)


@workspace_view(min_role=Role.ADMIN, load=_POST)
@require_POST
def post_request_changes(request: WorkspaceRequest, post: Post) -> HttpResponse:
    try:
        approvals.post_request_changes(
            workspace=request.workspace,
            post=post,
            comment=request.POST.get("body", ""),
            user=request.user,
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Changes requested; the post is back in drafts.")
    return _to_post(request, post)


@workspace_view(min_role=Role.EDITOR, load=_POST)
@require_POST
@once_per_form
def post_comment(request: WorkspaceRequest, post: Post) -> HttpResponse:
    try:
        approvals.post_comment_add(
            workspace=request.workspace,
            post=post,
            body=request.POST.get("body", ""),
            user=request.user,
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Comment added (only your team and reviewers see it).")
    return _to_post(request, post)


@workspace_view(min_role=Role.VIEWER, load=_POST)
@require_safe
def post_versions(request: WorkspaceRequest, post: Post) -> HttpResponse:
    return render(
        request,
        "calendar_app/approvals/versions.html",
        {"post": post, "versions": version_history(post)},
    )


@workspace_view(min_role=Role.VIEWER)
@require_safe
def activity_log(request: WorkspaceRequest) -> HttpResponse:
    verb = request.GET.get("verb", "")
    entries = activity.activity_list(workspace=request.workspace, verb=verb)
    page = Paginator(entries, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "calendar_app/approvals/activity.html",
        {
            "page": page,
            "verb": verb if verb in ActivityVerb.values else "",
            "verbs": ActivityVerb.choices,
        },
    )

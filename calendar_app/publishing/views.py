"""HTML views of the publishing pipeline: the per-post timeline and its actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from calendar_app import selectors
from calendar_app.models import FirstCommentStatus, Post
from calendar_app.publishing import actions, first_comment
from later.errors import AppError, NotFound
from later.roles import Role
from later.tenancy import WorkspaceRequest, workspace_view

# The post is loaded before the role and the method are checked: a foreign id is a 404
# whatever the verb.
_POST = {"post": selectors.post_timeline}


def _timeline_context(post: Post) -> dict[str, Any]:
    return {
        "post": post,
        "events": list(post.events.all()),
        "display_status": selectors.display_status(post),
    }


@workspace_view(min_role=Role.VIEWER, load=_POST)
@require_safe
def post_publishing(request: WorkspaceRequest, post: Post) -> HttpResponse:
    context = _timeline_context(post)
    context["workspace"] = request.workspace
    return render(request, "calendar_app/publishing_page.html", context)


@workspace_view(min_role=Role.VIEWER, load=_POST)
@require_safe
def post_timeline_fragment(request: WorkspaceRequest, post: Post) -> HttpResponse:
    return render(request, "calendar_app/publishing_timeline.html", _timeline_context(post))


def _action(request: WorkspaceRequest, post: Post, action: str) -> HttpResponse:
    workspace = request.workspace
    notice, failed = "", False
    try:
        if action == "retry":
            actions.post_publish_retry(workspace=workspace, post_id=post.pk, actor=request.user)
            notice = "The post will be published again in a few seconds."
        elif action == "cancel":
            actions.post_publish_cancel(workspace=workspace, post_id=post.pk, actor=request.user)
            notice = "Publishing was cancelled; nothing was sent to TikTok."
        elif action == "first_comment":
            settled = first_comment.first_comment_settle(
                workspace=workspace, post_id=post.pk, actor=request.user
            )
            notice = (
                "The first comment is on TikTok; marked as posted."
                if settled == FirstCommentStatus.POSTED
                else "The first comment is not on TikTok; it will be posted in a few seconds."
            )
        else:
            outcome = request.POST.get("outcome", "")
            actions.post_publish_resolve(
                workspace=workspace, post_id=post.pk, actor=request.user, outcome=outcome
            )
            notice = (
                "Marked as published."
                if outcome == "published"
                else "The post will be published again in a few seconds."
            )
    except NotFound as exc:  # deleted since it was loaded
        raise Http404(exc.message) from exc
    except AppError as exc:
        notice, failed = exc.message, True
    if request.headers.get("HX-Request"):
        # Included in other pages (the post detail): answer with the refreshed timeline only.
        try:
            fresh = selectors.post_timeline(workspace=workspace, post_id=post.pk)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        context = _timeline_context(fresh)
        context.update(notice=notice, notice_error=failed)
        return render(request, "calendar_app/publishing_timeline.html", context)
    (messages.error if failed else messages.success)(request, notice)
    return redirect("publishing:post_publishing", workspace_id=workspace.id, post_id=post.pk)


@workspace_view(min_role=Role.EDITOR, load=_POST)
@require_POST
def post_retry(request: WorkspaceRequest, post: Post) -> HttpResponse:
    return _action(request, post, "retry")


@workspace_view(min_role=Role.EDITOR, load=_POST)
@require_POST
def post_cancel(request: WorkspaceRequest, post: Post) -> HttpResponse:
    return _action(request, post, "cancel")


@workspace_view(min_role=Role.EDITOR, load=_POST)
@require_POST
def post_resolve(request: WorkspaceRequest, post: Post) -> HttpResponse:
    return _action(request, post, "resolve")


@workspace_view(min_role=Role.EDITOR, load=_POST)
@require_POST
def post_first_comment_settle(request: WorkspaceRequest, post: Post) -> HttpResponse:
    """A failed first comment or one stuck in "posting": looked up on TikTok, posted only if
    it is certainly not there."""
    return _action(request, post, "first_comment")

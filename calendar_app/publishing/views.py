"""HTML views of the publishing pipeline: the per-post timeline and its actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from calendar_app import selectors
from calendar_app.publishing import actions
from later.errors import AppError, NotFound
from later.tenancy import workspace_view


def _timeline_context(request: HttpRequest, post_id: Any) -> dict[str, Any]:
    try:
        post, events = selectors.post_timeline(
            workspace=request.workspace,  # type: ignore[attr-defined]
            post_id=post_id,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return {"post": post, "events": events, "display_status": selectors.display_status(post)}


# The post is looked up before the method is checked: a foreign id is a 404 whatever the verb.


@workspace_view(min_role="viewer")
def post_publishing(request: HttpRequest, post_id: Any) -> HttpResponse:
    context = _timeline_context(request, post_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    context["workspace"] = request.workspace  # type: ignore[attr-defined]
    return render(request, "calendar_app/publishing_page.html", context)


@workspace_view(min_role="viewer")
def post_timeline_fragment(request: HttpRequest, post_id: Any) -> HttpResponse:
    context = _timeline_context(request, post_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return render(request, "calendar_app/publishing_timeline.html", context)


def _action(request: HttpRequest, post_id: Any, action: str) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    if request.method != "POST":
        _timeline_context(request, post_id)
        return HttpResponseNotAllowed(["POST"])
    notice, failed = "", False
    try:
        if action == "retry":
            actions.post_publish_retry(workspace=workspace, post_id=post_id, actor=request.user)
            notice = "The post will be published again in a few seconds."
        elif action == "cancel":
            actions.post_publish_cancel(workspace=workspace, post_id=post_id, actor=request.user)
            notice = "Publishing was cancelled; nothing was sent to TikTok."
        else:
            outcome = request.POST.get("outcome", "")
            actions.post_publish_resolve(
                workspace=workspace, post_id=post_id, actor=request.user, outcome=outcome
            )
            notice = (
                "Marked as published."
                if outcome == "published"
                else "The post will be published again in a few seconds."
            )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except AppError as exc:
        notice, failed = exc.message, True
    if request.headers.get("HX-Request"):
        # Included in other pages (the post detail): answer with the refreshed timeline only.
        context = _timeline_context(request, post_id)
        context.update(notice=notice, notice_error=failed)
        return render(request, "calendar_app/publishing_timeline.html", context)
    (messages.error if failed else messages.success)(request, notice)
    return redirect("publishing:post_publishing", workspace_id=workspace.id, post_id=post_id)


@workspace_view(min_role="editor")
def post_retry(request: HttpRequest, post_id: Any) -> HttpResponse:
    return _action(request, post_id, "retry")


@workspace_view(min_role="editor")
def post_cancel(request: HttpRequest, post_id: Any) -> HttpResponse:
    return _action(request, post_id, "cancel")


@workspace_view(min_role="editor")
def post_resolve(request: HttpRequest, post_id: Any) -> HttpResponse:
    return _action(request, post_id, "resolve")

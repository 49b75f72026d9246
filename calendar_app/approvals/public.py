"""The client's review page, reached through a signed review link without an account.

Everything here is resolved from the token alone: the link names one workspace, and only that
workspace's posts in review are shown or acted on. A forged or revoked token is a 404, an
expired one a 410; a post of another workspace, or one no longer in review, is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from calendar_app.approvals import links
from calendar_app.approvals import services as approvals
from calendar_app.models import Post, PostComment, ReviewLink
from later.errors import AppError
from later.idempotency import form_once

ACTIONS = ("approve", "changes", "comment")


def _refused(request: HttpRequest, exc: AppError) -> HttpResponse:
    response = render(
        request,
        "calendar_app/approvals/review_invalid.html",
        {"reason": exc.message, "expired": exc.status == 410},
        status=exc.status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _private(response: HttpResponse) -> HttpResponse:
    # The page is the client's: no shared cache, no referrer carrying the token to another
    # site ("same-origin": a stricter policy makes browsers send `Origin: null` on the page's
    # own forms, which CSRF protection refuses).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_safe
def page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = links.review_link_resolve(token=token)
    except AppError as exc:
        return _refused(request, exc)
    links.review_link_touch(link)
    posts = list(links.review_queue(workspace=link.workspace))
    threads: dict[Any, list[PostComment]] = {p.pk: [] for p in posts}
    # The client sees what reviewers wrote through review links, never the team's notes.
    for comment in (
        PostComment.objects.for_workspace(link.workspace_id)
        .filter(post__in=posts, review_link__isnull=False)
        .order_by("created_at")
    ):
        threads[comment.post_id].append(comment)
    now = timezone.now()
    # No member's session activates the workspace's zone here: without it the template would
    # turn every time (the posts', the comments', the link's expiry) back into UTC.
    with timezone.override(link.workspace.tz):
        response = render(
            request,
            "calendar_app/approvals/review_page.html",
            {
                "link": link,
                "token": token,
                "items": [
                    {
                        "post": p,
                        "comments": threads[p.pk],
                        "late": p.scheduled_at is None or p.scheduled_at <= now,
                        "local": timezone.localtime(p.scheduled_at, link.workspace.tz)
                        if p.scheduled_at
                        else None,
                    }
                    for p in posts
                ],
            },
        )
    return _private(response)


@never_cache
@require_POST
def decide(request: HttpRequest, token: str, post_id: Any) -> HttpResponse:
    try:
        link = links.review_link_resolve(token=token)
        post = links.review_post_get(link=link, post_id=post_id)
    except AppError as exc:
        return _refused(request, exc)
    # The reviewer has no account: the link's creator namespaces the form's one-time token.
    return form_once(
        request,
        owner=link.created_by,
        workspace_key=str(link.workspace_id),
        act=lambda: _decide(request, token, link, post),
    )


def _decide(request: HttpRequest, token: str, link: ReviewLink, post: Post) -> HttpResponse:
    action = request.POST.get("action", "")
    body = request.POST.get("body", "")
    try:
        if action == "approve":
            approvals.post_approve(workspace=link.workspace, post=post, link=link, note=body)
            messages.success(request, f"Approved: the post for {post.account} will go out on time.")
        elif action == "changes":
            approvals.post_request_changes(
                workspace=link.workspace, post=post, comment=body, link=link
            )
            messages.success(request, "Thanks: the team has your requested changes.")
        elif action == "comment":
            approvals.post_comment_add(workspace=link.workspace, post=post, body=body, link=link)
            messages.success(request, "Comment sent to the team.")
        else:
            messages.error(request, "Choose Approve, Request changes or Comment.")
    except AppError as exc:
        messages.error(request, exc.message)
    return redirect("review:page", token=token)


def _media(token: str, post_id: Any, field: str) -> FileResponse:
    try:
        link = links.review_link_resolve(token=token)
        post: Post = links.review_post_get(link=link, post_id=post_id)
    except AppError as exc:
        raise Http404(exc.message) from exc
    asset = post.media
    stored = getattr(asset, field) if asset is not None else None
    if asset is None or not stored:
        raise Http404("No such file.")
    try:
        handle = stored.storage.open(stored.name, "rb")
    except OSError as exc:
        raise Http404("The file is missing from storage.") from exc
    response = FileResponse(
        handle, content_type=asset.content_type if field == "file" else "image/jpeg"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def media(request: HttpRequest, token: str, post_id: Any) -> FileResponse:
    """The video or photo of a post in review, for the phone preview; nothing else."""
    return _media(token, post_id, "file")


@require_safe
def thumbnail(request: HttpRequest, token: str, post_id: Any) -> FileResponse:
    return _media(token, post_id, "thumbnail")

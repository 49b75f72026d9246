"""HTML: the Inbox, Post and User views and the moderation actions (htmx-first, no-JS safe)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts.models import Role, TikTokVideo
from conversations import response_times, selectors, services, teamwork
from conversations.models import REPLY_MAX_CHARS, Comment
from later.data_version import lazy_entries, page_token
from later.errors import AppError, ValidationFailed
from later.idempotency import once_per_form
from later.tenancy import WorkspaceRequest, workspace_view

STATUS_CHOICES = (
    ("all", "All"),
    ("questions", "Questions"),
    ("unread", "Unread"),
    ("open", "Open"),
    ("handled", "Handled"),
)
ACTIONS = ("hide", "unhide", "like", "unlike", "handled", "open", "read", "unread", "delete")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request: WorkspaceRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)  # a path, never a view name to reverse
    return redirect("conversations:inbox", workspace_id=request.workspace.pk)


def _filters(request: HttpRequest) -> selectors.InboxFilters:
    try:
        return selectors.InboxFilters.parse(request.GET)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return selectors.InboxFilters()


def _filter_query(filters: selectors.InboxFilters, **extra: str) -> str:
    return urlencode(filters.query(**extra))


def _micros(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


@workspace_view()
@require_GET
def inbox(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    filters = _filters(request)
    cursor = request.GET.get("cursor") or None
    user = request.user
    # The first page is cached under the workspace's data version (read before the data:
    # later/data_version.py). `since` may be as old as the cached page: no comment was
    # stored since, or the version would have changed. Later pages (a cursor, which may be
    # refused with a message) are rendered every time.
    version = page_token(workspace.pk) if cursor is None else uuid.uuid4().hex

    def build() -> dict[str, Any]:
        nonlocal cursor
        try:
            page = selectors.inbox_page(
                workspace=workspace, filters=filters, cursor=cursor, user=user
            )
        except ValidationFailed as exc:
            messages.error(request, exc.message)
            cursor = None
            page = selectors.inbox_page(workspace=workspace, filters=filters, user=user)
        return {
            "page": page,
            "cursor": cursor,
            "team": selectors.team_context(workspace=workspace),
            "speed": response_times.response_time_summary_cached(workspace=workspace, days=7),
            "counts": selectors.inbox_counts(workspace=workspace),
            "accounts": selectors.comment_accounts(workspace=workspace),
            "next_query": _filter_query(filters, cursor=page.next_cursor or ""),
        }

    data = SimpleLazyObject(build)
    if cursor is not None:
        data["page"]  # the refused cursor's message must be queued before the layout renders
    context = lazy_entries(
        data, ("page", "cursor", "team", "speed", "counts", "accounts", "next_query")
    )
    context.update(
        {
            "page_version": version,
            "page_params": [request.get_full_path(), user.pk],
            "filters": filters,
            "status_choices": STATUS_CHOICES,
            "order_query": {
                order: _filter_query(replace(filters, order=order)) for order in selectors.ORDERS
            },
            "status_query": {
                value: _filter_query(replace(filters, status=value)) for value, _ in STATUS_CHOICES
            },
            "filter_query": _filter_query(filters),
            "since": _micros(timezone.now()),
            "reply_max": REPLY_MAX_CHARS,
            "next_url": request.get_full_path(),
        }
    )
    return render(request, "conversations/inbox.html", context)


@workspace_view()
@require_GET
def inbox_new(request: WorkspaceRequest) -> HttpResponse:
    """htmx poll: comments stored since `since`, prepended to the list out of band."""
    workspace = request.workspace
    filters = _filters(request)
    try:
        since = dt.datetime.fromtimestamp(int(request.GET.get("since", "")) / 1_000_000, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):  # OSError: past the platform's time_t
        since = timezone.now()
    now = timezone.now()
    comments = selectors.inbox_new_since(
        workspace=workspace, filters=filters, since=since, user=request.user
    )
    return render(
        request,
        "conversations/_new_since.html",
        {
            "comments": comments,
            "filters": filters,
            "filter_query": _filter_query(filters),
            "since": _micros(max([now, *[c.created_at for c in comments]])),
            "reply_max": REPLY_MAX_CHARS,
            "team": selectors.team_context(workspace=workspace) if comments else None,
            "next_url": reverse("conversations:inbox", args=[workspace.pk]),
        },
    )


@workspace_view(load={"video": selectors.video_get})
@require_safe
def post_detail(request: WorkspaceRequest, video: TikTokVideo) -> HttpResponse:
    threads = selectors.video_threads(workspace=request.workspace, video=video)
    return render(
        request,
        "conversations/post.html",
        {
            "video": video,
            "figures": selectors.video_figures(workspace=request.workspace, video=video),
            "threads": threads,
            "team": selectors.team_context(workspace=request.workspace),
            "reply_max": REPLY_MAX_CHARS,
            "next_url": request.get_full_path(),
        },
    )


@workspace_view(load={"profile": selectors.person_get})
@require_safe
def person_detail(request: WorkspaceRequest, profile: Comment) -> HttpResponse:
    workspace, author_key = request.workspace, profile.author_key
    try:
        page = selectors.author_comments(
            workspace=workspace, author_key=author_key, cursor=request.GET.get("cursor") or None
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        page = selectors.author_comments(workspace=workspace, author_key=author_key)
    return render(
        request,
        "conversations/person.html",
        {
            "profile": profile,
            "page": page,
            "team": selectors.team_context(workspace=workspace),
            "reply_max": REPLY_MAX_CHARS,
            "next_url": request.get_full_path(),
        },
    )


def _render_item(
    request: WorkspaceRequest,
    comment: Comment,
    *,
    error: str = "",
    draft: str = "",
    sent_reply: Comment | None = None,
    status: int = 200,
) -> HttpResponse:
    next_url = request.POST.get("next", "")
    # Re-rendered in place: keep the Post view's thread layout when the action came from there.
    in_post = "/conversations/videos/" in next_url
    inbox_url = reverse("conversations:inbox", kwargs={"workspace_id": request.workspace.pk})
    on_inbox = next_url.split("?", 1)[0] == inbox_url
    return render(
        request,
        "conversations/_comment.html",
        {
            "c": comment,
            "in_post": in_post,
            "compact": in_post and comment.parent_id is not None,
            "error": error,
            "draft": draft,
            "reply_open": bool(draft),
            "sent_reply": sent_reply,
            "reply_max": REPLY_MAX_CHARS,
            "next_url": next_url,
            "membership": request.membership,
            "workspace": request.workspace,
            "team": selectors.team_context(workspace=request.workspace),
            # The inbox header's unread / open / questions counts follow the change in place.
            "counts_oob": selectors.inbox_counts(workspace=request.workspace) if on_inbox else None,
        },
        status=status,
    )


@workspace_view(min_role=Role.EDITOR, load={"comment": selectors.comment_get})
@require_POST
@once_per_form
def comment_reply(request: WorkspaceRequest, comment: Comment) -> HttpResponse:
    text = request.POST.get("text", "")
    try:
        reply = services.comment_reply(comment=comment, text=text, user=request.user)
    except AppError as exc:
        if exc.code == "tiktok_unconfirmed" and _is_htmx(request):
            # TikTok may have posted it: show the reply as pending, not a draft to resend.
            pending = selectors.pending_reply(comment=comment, user=request.user)
            return _render_item(request, comment, error=exc.message, sent_reply=pending)
        if _is_htmx(request):
            # htmx swaps 2xx only; the fragment carries the error and keeps the draft.
            return _render_item(request, comment, error=exc.message, draft=text)
        return render(
            request,
            "conversations/reply_failed.html",
            {
                "c": comment,
                "error": exc.message,
                "draft": text,
                "reply_max": REPLY_MAX_CHARS,
                "reply_open": True,
                "next_url": request.POST.get("next", ""),
            },
            status=exc.status,
        )
    comment.refresh_from_db()
    if _is_htmx(request):
        return _render_item(request, comment, sent_reply=reply)
    messages.success(request, "Reply posted on TikTok.")
    return _back(request)


def _run_action(request: WorkspaceRequest, comment: Comment, action: str) -> str:
    workspace = request.workspace
    user = request.user
    if action in ("hide", "unhide"):
        services.comment_set_hidden(comment=comment, hidden=action == "hide", user=user)
        return "Comment hidden on TikTok." if action == "hide" else "Comment visible again."
    if action in ("like", "unlike"):
        services.comment_set_liked(comment=comment, liked=action == "like")
        return "Liked." if action == "like" else "Like removed."
    if action in ("handled", "open"):
        services.comments_mark_handled(
            workspace=workspace,
            comments=[comment],
            handled=action == "handled",
            user=user,
        )
        return "Marked as handled." if action == "handled" else "Reopened."
    if action in ("read", "unread"):
        services.comments_mark_read(workspace=workspace, comments=[comment], read=action == "read")
        return "Marked as read." if action == "read" else "Marked as unread."
    services.comment_delete(comment=comment)
    return "Reply deleted on TikTok."


@workspace_view(min_role=Role.EDITOR, load={"comment": selectors.comment_get})
@require_POST
def comment_action(request: WorkspaceRequest, comment: Comment, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("Unknown action.")
    try:
        done = _run_action(request, comment, action)
    except AppError as exc:
        if _is_htmx(request):
            return _render_item(request, comment, error=exc.message)
        messages.error(request, exc.message)
        return _back(request)
    if _is_htmx(request):
        if action == "delete":
            return HttpResponse("")
        comment.refresh_from_db()
        return _render_item(request, comment)
    messages.success(request, done)
    return _back(request)


@workspace_view(min_role=Role.EDITOR)
@require_POST
@once_per_form
def bulk_action(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    ids: list[uuid.UUID] = []
    for raw in request.POST.getlist("ids"):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    action = request.POST.get("action", "")
    try:
        comments = selectors.comments_by_ids(workspace=workspace, ids=ids)
        if action in teamwork.TEAM_BULK_ACTIONS:
            result = _team_bulk(request, comments, action)
        else:
            result = services.comments_bulk_action(
                workspace=workspace,
                comments=comments,
                action=action,
                user=request.user,
            )
    except AppError as exc:
        messages.error(request, exc.message)
        return _back(request)
    if result.failures:
        messages.warning(request, result.summary)
    else:
        messages.success(request, result.summary)
    return _back(request)


def _team_bulk(
    request: WorkspaceRequest, comments: list[Comment], action: str
) -> services.BulkResult:
    workspace = request.workspace
    if not comments:
        raise ValidationFailed("Select at least one comment first.")
    label = None
    if action in ("label", "unlabel"):
        new_name = request.POST.get("new_label", "").strip()
        label = (
            teamwork.label_create(workspace=workspace, name=new_name)
            if new_name
            else teamwork.label_get(workspace=workspace, label_id=request.POST.get("label", ""))
        )
    assignee = None
    raw = request.POST.get("assignee", "").strip()
    if action == "assign" and raw:
        assignee = (
            request.user
            if raw == "me"
            else teamwork.assignable_member(workspace=workspace, public_id=raw)
        )
    return teamwork.comments_team_bulk(
        workspace=workspace,
        comments=comments,
        action=action,
        user=request.user,
        label=label,
        assignee=assignee,
    )

"""HTML pages of the planner: posting slots, "Add to queue" from a post's page. Parse, call one
service, render."""

from __future__ import annotations

from datetime import time

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from calendar_app import queue, selectors
from calendar_app.models import Post
from later.errors import AppError, ValidationFailed
from later.tenancy import WorkspaceRequest, workspace_view


def queued_sentence(post: Post) -> str:
    """What "Add to queue" did, said once for the page and the composer."""
    assert post.scheduled_at is not None
    local = timezone.localtime(post.scheduled_at, post.workspace.tz)
    what = "Submitted for review" if post.status == "in_review" else "Queued"
    return (
        f"{what} for {post.account} on {local:%a %-d %b at %H:%M} (its next free slot). "
        "Other posts keep their times."
    )


@workspace_view(min_role="editor", load={"post": selectors.post_get})
@require_POST
def post_queue(request: WorkspaceRequest, post: Post) -> HttpResponse:
    """Add a draft (or move a scheduled or failed post) to its account's next free slot."""
    try:
        post = queue.post_add_to_queue(workspace=request.workspace, post=post, actor=request.user)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, queued_sentence(post))
    return redirect("calendar_app:post_detail", workspace_id=request.workspace.id, post_id=post.id)


def parse_day_times(raw: str, weekday: int) -> list[queue.SlotTime]:
    """“09:00 12:30, 18:00” -> slots of one weekday; a bad time is an error naming it."""
    slots = []
    for token in raw.replace(",", " ").split():
        try:
            at = time.fromisoformat(token if len(token) > 2 else f"{token}:00")
        except ValueError:
            raise ValidationFailed(
                f"“{token}” on {queue.WEEKDAYS[weekday]} is not a time like 09:00.",
                code="invalid_slot_time",
                details={"weekday": weekday},
            ) from None
        slots.append(queue.SlotTime(weekday=weekday, time=at))
    return slots


@workspace_view(min_role="viewer")
@require_http_methods(["GET", "POST"])
def posting_slots(request: WorkspaceRequest) -> HttpResponse:
    """Each account's weekly posting times, in the workspace's zone."""
    workspace = request.workspace
    accounts = list(selectors.account_list(workspace=workspace))
    submitted: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        account_id = request.POST.get("account", "")
        account = next((a for a in accounts if str(a.id) == account_id), None)
        raw = [request.POST.get(f"day{d}", "")[:500] for d in range(7)]
        if account is None:
            messages.error(request, "Choose one of this workspace's accounts.")
            return redirect("calendar_app:posting_slots", workspace_id=workspace.id)
        try:
            slots = [s for d in range(7) for s in parse_day_times(raw[d], d)]
            kept = queue.slots_replace(workspace=workspace, account=account, slots=slots)
        except AppError as exc:
            submitted[str(account.id)] = raw
            errors[str(account.id)] = exc.message
        else:
            messages.success(
                request,
                f"{account}: {len(kept)} weekly slot{'s' if len(kept) != 1 else ''} saved. "
                "Posts already scheduled keep their times.",
            )
            return redirect("calendar_app:posting_slots", workspace_id=workspace.id)
    by_account = queue.slots_by_account(workspace=workspace)
    rows = []
    for account in accounts:
        slots = by_account.get(str(account.id), [])
        days = submitted.get(str(account.id)) or [
            " ".join(f"{s.time:%H:%M}" for s in slots if s.weekday == d) for d in range(7)
        ]
        next_free = None
        if slots:
            try:
                next_free = queue.queue_next_free(workspace=workspace, account=account)
            except AppError:
                next_free = None
        rows.append(
            {
                "account": account,
                "days": list(zip(queue.WEEKDAYS, days, strict=True)),
                "count": len(slots),
                "next_free": next_free,
                "error": errors.get(str(account.id), ""),
            }
        )
    return render(
        request,
        "calendar_app/posting_slots.html",
        {"rows": rows, "can_edit": request.membership.can_edit},
        status=400 if errors else 200,
    )

"""HTML pages of the planner: posting slots, "Add to queue" from a post's page. Parse, call one
service, render."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from calendar_app import bulk, library, queue, selectors
from calendar_app.models import CaptionTemplate, HashtagGroup, Post, PostImport
from calendar_app.timezones import clock_time
from later.errors import AppError, ValidationFailed
from later.idempotency import once_per_form
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
@once_per_form
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
    # "2:30 PM" is one time, not two tokens.
    for token in re.sub(r"\s+([AaPp][Mm])\b", r"\1", raw.replace(",", " ")).split():
        try:
            at = clock_time(token)
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
@once_per_form
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


@workspace_view(min_role="viewer")
@require_http_methods(["GET", "POST"])
@once_per_form
def caption_library(request: WorkspaceRequest) -> HttpResponse:
    """Caption templates and hashtag groups of the workspace; editors add and delete them."""
    workspace = request.workspace
    errors: dict[str, str] = {}
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        name = request.POST.get("name", "")[:500]
        try:
            if kind == "template":
                row: object = library.caption_template_create(
                    workspace=workspace, name=name, body=request.POST.get("body", "")[:20000]
                )
            elif kind == "hashtags":
                row = library.hashtag_group_create(
                    workspace=workspace, name=name, hashtags=request.POST.get("hashtags", "")[:5000]
                )
            else:
                raise ValidationFailed("Choose what to add.", code="invalid_kind")
        except AppError as exc:
            errors[kind] = exc.message
        else:
            messages.success(request, f"Added “{row}”. It is in the composer's Insert menus now.")
            return redirect("calendar_app:caption_library", workspace_id=workspace.id)
    return render(
        request,
        "calendar_app/caption_library.html",
        {
            "templates": list(library.caption_template_list(workspace=workspace)),
            "groups": list(library.hashtag_group_list(workspace=workspace)),
            "can_edit": request.membership.can_edit,
            "errors": errors,
            "submitted": request.POST if errors else {},
        },
        status=400 if errors else 200,
    )


@workspace_view(min_role="editor", load={"template": library.caption_template_get})
@require_POST
def caption_template_delete(request: WorkspaceRequest, template: CaptionTemplate) -> HttpResponse:
    library.caption_template_delete(workspace=request.workspace, template=template)
    messages.success(request, f"Deleted the template “{template.name}”.")
    return redirect("calendar_app:caption_library", workspace_id=request.workspace.id)


@workspace_view(min_role="editor", load={"group": library.hashtag_group_get})
@require_POST
def hashtag_group_delete(request: WorkspaceRequest, group: HashtagGroup) -> HttpResponse:
    library.hashtag_group_delete(workspace=request.workspace, group=group)
    messages.success(request, f"Deleted the hashtag group “{group.name}”.")
    return redirect("calendar_app:caption_library", workspace_id=request.workspace.id)


# --- bulk: drafts from a drop, CSV import ------------------------------------------------------


@workspace_view(min_role="editor")
@require_http_methods(["GET", "POST"])
@once_per_form
def import_start(request: WorkspaceRequest) -> HttpResponse:
    """Upload a CSV; the next page previews every row before anything is created."""
    workspace = request.workspace
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationFailed("Choose a CSV file.", code="file_required")
            preview = bulk.import_preview(
                workspace=workspace,
                user=request.user,
                file_name=upload.name or "import.csv",
                content=upload.read(bulk.MAX_IMPORT_BYTES + 1),
                acknowledge_warnings=request.POST.get("acknowledge_warnings") == "on",
            )
        except AppError as exc:
            error = exc.message
        else:
            return redirect(
                "calendar_app:import_detail", workspace_id=workspace.id, import_id=preview.id
            )
    return render(
        request,
        "calendar_app/import.html",
        {
            "post_import": None,
            "error": error,
            "columns": bulk.COLUMNS,
            "accounts": list(selectors.account_list(workspace=workspace)),
        },
        status=400 if error else 200,
    )


@workspace_view(min_role="editor", load={"post_import": bulk.import_get})
@require_http_methods(["GET", "POST"])
@once_per_form
def import_detail(request: WorkspaceRequest, post_import: PostImport) -> HttpResponse:
    """The row-by-row preview; confirming imports it once (a repeat creates nothing)."""
    workspace = request.workspace
    if request.method == "POST":
        try:
            post_import = bulk.import_confirm(
                workspace=workspace, user=request.user, post_import=post_import
            )
        except AppError as exc:
            messages.error(request, exc.message)
        else:
            counts = bulk.import_counts(post_import)
            messages.success(
                request,
                f"Imported {counts['ok']} post{'s' if counts['ok'] != 1 else ''}"
                + (f"; {counts['error']} row(s) reported below." if counts["error"] else "."),
            )
        return redirect(
            "calendar_app:import_detail", workspace_id=workspace.id, import_id=post_import.id
        )
    lines = {int(r["line"]): r["values"] for r in post_import.rows}
    rows = [{"outcome": o, "values": lines.get(int(o["line"]), {})} for o in post_import.result]
    return render(
        request,
        "calendar_app/import.html",
        {
            "post_import": post_import,
            "rows": rows,
            "counts": bulk.import_counts(post_import),
            "columns": bulk.COLUMNS,
        },
    )

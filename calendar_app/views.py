"""HTML interface: media library, composer, calendar. Parse, call one service, render."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import TikTokAccount
from calendar_app import composer, onboarding, planner_views, queue, selectors, services
from calendar_app.approvals.views import post_review_context
from calendar_app.forms import ComposerForm, MediaUploadForm
from calendar_app.media import UPLOAD_CUT_SHORT, MediaRejected, upload_cut_short
from calendar_app.models import CalendarNote, MediaAsset, Post
from later.data_version import lazy_entries, page_token
from later.errors import AppError, ValidationFailed
from later.idempotency import once_per_form
from later.middleware import bad_request
from later.tenancy import WorkspaceRequest, workspace_view


def _wants_json(request: WorkspaceRequest) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


# Years the calendar pages through; beyond them month arithmetic and zone offsets overflow.
CALENDAR_YEARS = range(1900, 2201)


def _parse_date(value: str | None, default: date) -> date:
    try:
        parsed = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    if parsed.year not in CALENDAR_YEARS:
        raise ValidationFailed(
            f"The calendar shows the years {CALENDAR_YEARS.start} to {CALENDAR_YEARS.stop - 1}."
        )
    return parsed


# --- calendar ---------------------------------------------------------------------------------


@workspace_view(min_role="viewer")
@require_GET
def calendar(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    today = timezone.localtime(timezone.now(), workspace.tz).date()
    view = request.GET.get("view", "month")
    if view not in selectors.VIEWS:
        view = "month"
    try:
        anchor = _parse_date(request.GET.get("date"), today)
    except ValidationFailed as exc:
        return bad_request(request, code=exc.code, message=exc.message)
    account_id = request.GET.get("account") or ""
    status = request.GET.get("status") or ""
    if status not in selectors.STATUS_FILTERS:
        status = ""
    can_edit = request.membership.can_edit

    def build() -> dict[str, Any]:
        page = selectors.calendar_page(
            workspace=workspace,
            view=view,
            anchor=anchor,
            today=today,
            account_id=account_id or None,
            status=status or None,
            after=request.GET.get("after") or None,
        )
        accounts = list(selectors.account_list(workspace=workspace))
        media = list(selectors.media_list(workspace=workspace)[:24]) if can_edit else []
        if view == "week" and can_edit:
            _show_free_slots(page, workspace, accounts, account_id)
        return {
            "page": page,
            "accounts": accounts,
            "media_items": media,
            "checklist": onboarding.checklist(workspace=workspace),
        }

    # The body is cached under the workspace's data version (read first: later/data_version.py);
    # on a hit none of `build`'s queries run.
    version = page_token(workspace.pk)
    data = SimpleLazyObject(build)
    return render(
        request,
        "calendar_app/calendar.html",
        {
            "page_version": version,
            "page_params": [view, anchor, account_id, status, request.GET.get("after") or ""],
            **lazy_entries(data, ("page", "accounts", "media_items", "checklist")),
            "can_edit": can_edit,
            "filter_account": account_id,
            "filter_status": status,
            "status_filters": [(k, v[0]) for k, v in selectors.STATUS_FILTERS.items()],
            "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "today": today,
            "workday_start_hour": selectors.WORKDAY_START_HOUR,
        },
    )


@workspace_view(min_role="editor")
@require_POST
def checklist_dismiss(request: WorkspaceRequest) -> HttpResponse:
    onboarding.checklist_finish(workspace=request.workspace)
    messages.success(request, "The getting-started list is hidden.")
    return redirect("calendar_app:calendar", workspace_id=request.workspace.id)


def _show_free_slots(
    page: selectors.CalendarPage, workspace: Any, accounts: list[TikTokAccount], account_id: str
) -> None:
    """Empty posting slots of the week (of the filtered account), as drop targets."""
    shown = [a for a in accounts if not account_id or str(a.id) == account_id]
    start = datetime.combine(page.start, time(0), workspace.tz)
    end = datetime.combine(page.end, time(0), workspace.tz)
    free = queue.week_free_slots(
        workspace=workspace, accounts=shown, start=start, end=end, now=timezone.now()
    )
    for _hour, cells in page.week_rows:
        for cell in cells:
            cell.free = [
                (slot.local.strftime("%H:%M"), account)
                for slot, account in free.get((cell.day.day, cell.hour), [])
            ]


def _calendar_at(request: WorkspaceRequest, day: date | None) -> HttpResponse:
    view = request.POST.get("view", "")
    url = reverse("calendar_app:calendar", kwargs={"workspace_id": request.workspace.id})
    query = [f"view={view}"] if view in selectors.VIEWS else []
    if day is not None:
        query.append(f"date={day.isoformat()}")
    return redirect(url + ("?" + "&".join(query) if query else ""))


@workspace_view(min_role="editor")
@require_POST
@once_per_form
def note_create(request: WorkspaceRequest) -> HttpResponse:
    try:
        try:
            day = date.fromisoformat(request.POST.get("day") or "")
        except ValueError:
            raise ValidationFailed("Pick the day the note belongs to.", code="note_day") from None
        if day.year not in CALENDAR_YEARS:
            raise ValidationFailed("Pick a day between 1900 and 2200.", code="note_day")
        note = services.note_create(
            workspace=request.workspace,
            user=request.user,
            day=day,
            text=request.POST.get("text", ""),
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return _calendar_at(request, None)
    messages.success(request, f"Note added to {note.day:%-d %B}.")
    return _calendar_at(request, note.day)


@workspace_view(min_role="editor", load={"note": selectors.note_get})
@require_POST
def note_delete(request: WorkspaceRequest, note: CalendarNote) -> HttpResponse:
    services.note_delete(workspace=request.workspace, note=note)
    messages.success(request, "Note deleted.")
    return _calendar_at(request, note.day)


@workspace_view(min_role="editor", load={"post": selectors.post_get})
@require_POST
def post_reschedule(request: WorkspaceRequest, post: Post) -> JsonResponse:
    """Drop target of the calendar's drag and drop. Answers JSON, never a redirect."""
    workspace = request.workspace
    try:
        target_date = date.fromisoformat(request.POST.get("date", ""))
        if target_date.year not in CALENDAR_YEARS:
            raise ValueError("out of range")
        raw_time = request.POST.get("time", "")
        target_time = time.fromisoformat(raw_time) if raw_time else None
        raw_fold = request.POST.get("fold", "")
        fold = int(raw_fold) if raw_fold in ("0", "1") else None
    except ValueError:
        return JsonResponse(
            {"error": {"code": "validation_failed", "message": "That is not a valid day or time."}},
            status=400,
        )
    try:
        post = services.post_move(
            workspace=workspace,
            post=post,
            target_date=target_date,
            target_time=target_time,
            fold=fold,
            actor=request.user,
        )
    except AppError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse({"post": _post_json(post, workspace)})


def _post_json(post: Post, workspace: Any) -> dict[str, Any]:
    local = timezone.localtime(post.scheduled_at, workspace.tz) if post.scheduled_at else None
    return {
        "id": str(post.id),
        "status": post.status,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "scheduled_local": post.scheduled_local,
        "scheduled_tz": post.scheduled_tz,
        "display_date": local.date().isoformat() if local else None,
        "display_time": local.strftime("%H:%M") if local else None,
    }


# --- media library ----------------------------------------------------------------------------


@workspace_view(min_role="viewer")
@require_http_methods(["GET", "POST"])
@once_per_form
def media(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    form = MediaUploadForm()
    if request.method == "POST":
        form = MediaUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload_cut_short(request):
                    raise MediaRejected(UPLOAD_CUT_SHORT)
                asset = services.media_upload(
                    workspace=workspace,
                    user=request.user,
                    upload=upload,
                    original_name=upload.name,
                )
            except AppError as exc:
                if _wants_json(request):
                    return JsonResponse(exc.as_dict(), status=exc.status)
                form.add_error("file", exc.message)
            else:
                if _wants_json(request):
                    return JsonResponse({"media": _media_json(asset)}, status=201)
                messages.success(request, f"Uploaded {asset.original_name}.")
                return redirect("calendar_app:media", workspace_id=workspace.id)
        elif _wants_json(request):
            message = " ".join(str(e) for errs in form.errors.values() for e in errs)
            return JsonResponse(
                {"error": {"code": "validation_failed", "message": message}}, status=400
            )
    items = list(selectors.media_list(workspace=workspace))
    return render(
        request,
        "calendar_app/media.html",
        {
            "form": form,
            "items": items,
            "can_edit": request.membership.can_edit,
            "accounts": list(selectors.account_list(workspace=workspace)),
        },
    )


def _media_json(asset: MediaAsset) -> dict[str, Any]:
    return {
        "id": str(asset.id),
        "kind": asset.kind,
        "original_name": asset.original_name,
        "content_type": asset.content_type,
        "size_bytes": asset.size_bytes,
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "frame_rate": asset.frame_rate,
        "url": reverse("calendar_app:media_file", args=[asset.workspace_id, asset.id]),
        "thumbnail_url": reverse(
            "calendar_app:media_thumbnail", args=[asset.workspace_id, asset.id]
        )
        if asset.thumbnail
        else None,
    }


def _serve(asset: MediaAsset, field: str) -> FileResponse:
    stored = getattr(asset, field)
    if not stored:
        raise Http404("No such file.")
    try:
        handle = stored.storage.open(stored.name, "rb")
    except (OSError, FileNotFoundError) as exc:
        raise Http404("The file is missing from storage.") from exc
    content_type = asset.content_type if field == "file" else "image/jpeg"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@workspace_view(min_role="viewer", load={"asset": selectors.media_get})
@require_GET
def media_file(request: WorkspaceRequest, asset: MediaAsset) -> FileResponse:
    """Media is tenant data: served only to members, through the storage API (disk or S3)."""
    return _serve(asset, "file")


@workspace_view(min_role="viewer", load={"asset": selectors.media_get})
@require_GET
def media_thumbnail(request: WorkspaceRequest, asset: MediaAsset) -> FileResponse:
    return _serve(asset, "thumbnail")


@workspace_view(min_role="editor", load={"asset": selectors.media_get})
@require_POST
def media_delete(request: WorkspaceRequest, asset: MediaAsset) -> HttpResponse:
    workspace = request.workspace
    try:
        services.media_delete(workspace=workspace, media=asset)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted {asset.original_name}.")
    return redirect("calendar_app:media", workspace_id=workspace.id)


# --- composer ---------------------------------------------------------------------------------


@workspace_view(min_role="editor", load={"account": selectors.account_get})
@require_GET
def creator_panel(request: WorkspaceRequest, account: TikTokAccount) -> HttpResponse:
    """The per-account block of the composer, with creator_info fetched live (fact sheet 2.10)."""
    return render(
        request,
        "calendar_app/_creator_panel.html",
        composer.panel_context(
            workspace=request.workspace,
            account=account,
            target=composer.target_from_fields(request.GET, str(account.id)),
            content=composer.content_from_fields(request.GET),
        ),
    )


def _composer_page(
    request: WorkspaceRequest,
    form: ComposerForm,
    *,
    post: Post | None,
    content: services.PostContent,
    selected_ids: list[str],
    targets: dict[str, services.PostTarget],
    problem: AppError | None = None,
    status: int = 200,
) -> HttpResponse:
    context = composer.composer_context(
        workspace=request.workspace,
        form=form,
        post=post,
        content=content,
        selected_ids=selected_ids,
        targets=targets,
        problem=problem,
    )
    return render(request, "calendar_app/composer.html", context, status=status)


@workspace_view(min_role="editor")
@require_http_methods(["GET", "POST"])
@once_per_form
def post_create(request: WorkspaceRequest) -> HttpResponse:
    workspace = request.workspace
    media_qs = selectors.media_list(workspace=workspace)
    if request.method == "GET":
        content = composer.new_post_content(
            workspace=workspace,
            media_id=request.GET.get("media", ""),
            day=request.GET.get("date"),
            today=timezone.localdate(),
            at=request.GET.get("time"),
        )
        form = ComposerForm(initial=composer.form_initial(content, workspace), media_qs=media_qs)
        selected = composer.selected_account_ids(request.GET.getlist("account"))
        return _composer_page(
            request, form, post=None, content=content, selected_ids=selected, targets={}
        )
    form = ComposerForm(request.POST, media_qs=media_qs)
    selected = composer.selected_account_ids(request.POST.getlist("accounts"))
    targets = {a: composer.target_from_fields(request.POST, a) for a in selected}
    submitted = composer.content_from_fields(request.POST)
    if not form.is_valid():
        return _composer_page(
            request,
            form,
            post=None,
            content=submitted,
            selected_ids=selected,
            targets=targets,
            problem=composer.other_problems(workspace, form, [targets[a] for a in selected]),
            status=400,
        )
    try:
        if form.cleaned_data["action"] == "queue":
            posts = queue.post_create_queued(
                workspace=workspace,
                user=request.user,
                content=composer.content_from_form(form),
                targets=[targets[a] for a in selected],
                acknowledge_warnings=bool(form.cleaned_data.get("acknowledge_warnings")),
            )
        else:
            posts = services.post_create(
                workspace=workspace,
                user=request.user,
                content=composer.content_from_form(form),
                targets=[targets[a] for a in selected],
                schedule=form.cleaned_data["action"] in ("schedule", "review"),
                acknowledge_warnings=bool(form.cleaned_data.get("acknowledge_warnings")),
                review=form.cleaned_data["action"] == "review",
            )
    except AppError as exc:
        return _composer_page(
            request,
            form,
            post=None,
            content=submitted,
            selected_ids=selected,
            targets=targets,
            problem=exc,
            status=400,
        )
    if form.cleaned_data["action"] == "queue":
        for post in posts:
            messages.success(request, planner_views.queued_sentence(post))
    else:
        verb = {"scheduled": "Scheduled", "in_review": "Submitted for review:"}.get(
            posts[0].status, "Saved as draft:"
        )
        messages.success(
            request,
            f"{verb} {len(posts)} post{'s' if len(posts) != 1 else ''} "
            f"({', '.join(str(p.account) for p in posts)}).",
        )
    url = reverse("calendar_app:calendar", kwargs={"workspace_id": workspace.id})
    if posts[0].scheduled_at:
        day = timezone.localtime(posts[0].scheduled_at, workspace.tz).date()
        url += f"?date={day.isoformat()}"
    return redirect(url)


@workspace_view(min_role="editor", load={"post": selectors.post_get})
@require_http_methods(["GET", "POST"])
def post_edit(request: WorkspaceRequest, post: Post) -> HttpResponse:
    workspace = request.workspace
    if post.status not in services.EDITABLE_STATUSES:
        messages.error(
            request, f"This post is {post.get_status_display().lower()} and can't be edited."
        )
        return redirect("calendar_app:post_detail", workspace_id=workspace.id, post_id=post.id)
    media_qs = selectors.media_list(workspace=workspace)
    account_id = str(post.account_id)
    if request.method == "GET":
        content, target = services.post_content_of(post)
        form = ComposerForm(initial=composer.form_initial(content, workspace), media_qs=media_qs)
        return _composer_page(
            request,
            form,
            post=post,
            content=content,
            selected_ids=[account_id],
            targets={account_id: target},
        )
    form = ComposerForm(request.POST, media_qs=media_qs)
    targets = {account_id: composer.target_from_fields(request.POST, account_id)}
    submitted = composer.content_from_fields(request.POST)
    if not form.is_valid():
        return _composer_page(
            request,
            form,
            post=post,
            content=submitted,
            selected_ids=[account_id],
            targets=targets,
            problem=composer.other_problems(workspace, form, [targets[account_id]]),
            status=400,
        )
    try:
        if form.cleaned_data["action"] == "queue":
            post = queue.post_update_queued(
                workspace=workspace,
                post=post,
                content=composer.content_from_form(form),
                target=targets[account_id],
                acknowledge_warnings=bool(form.cleaned_data.get("acknowledge_warnings")),
                actor=request.user,
            )
        else:
            post = services.post_update(
                workspace=workspace,
                post=post,
                content=composer.content_from_form(form),
                target=targets[account_id],
                schedule=form.cleaned_data["action"] in ("schedule", "review"),
                acknowledge_warnings=bool(form.cleaned_data.get("acknowledge_warnings")),
                actor=request.user,
                review=form.cleaned_data["action"] == "review",
            )
    except AppError as exc:
        return _composer_page(
            request,
            form,
            post=post,
            content=submitted,
            selected_ids=[account_id],
            targets=targets,
            problem=exc,
            status=400,
        )
    messages.success(
        request,
        planner_views.queued_sentence(post)
        if form.cleaned_data["action"] == "queue"
        else "Post saved and submitted for review."
        if post.status == "in_review"
        else "Post saved.",
    )
    return redirect("calendar_app:post_detail", workspace_id=workspace.id, post_id=post.id)


@workspace_view(min_role="viewer", load={"post": selectors.post_get})
@require_GET
def post_detail(request: WorkspaceRequest, post: Post) -> HttpResponse:
    workspace = request.workspace
    siblings = [
        p
        for p in selectors.post_group(workspace=workspace, group_id=post.group_id)
        if p.pk != post.pk
    ]
    return render(
        request,
        "calendar_app/post_detail.html",
        {
            "post": post,
            "siblings": siblings,
            "display_status": selectors.display_status(post),
            "editable": post.status in services.EDITABLE_STATUSES and request.membership.can_edit,
            "local_dt": timezone.localtime(post.scheduled_at, workspace.tz)
            if post.scheduled_at
            else None,
            **post_review_context(request, post),
        },
    )


@workspace_view(min_role="editor", load={"post": selectors.post_get})
@require_POST
def post_delete(request: WorkspaceRequest, post: Post) -> HttpResponse:
    workspace = request.workspace
    try:
        services.post_delete(workspace=workspace, post=post, actor=request.user)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("calendar_app:post_detail", workspace_id=workspace.id, post_id=post.id)
    messages.success(request, "Post deleted. Its time is free again; other posts keep theirs.")
    return redirect("calendar_app:calendar", workspace_id=workspace.id)

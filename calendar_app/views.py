"""HTML interface: media library, composer, calendar. Parse, call one service, render."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import TikTokAccount
from calendar_app import selectors, services
from calendar_app.captions import MAX_CAPTION_UTF16
from calendar_app.creators import creator_info_fetch
from calendar_app.forms import ComposerForm, MediaUploadForm
from calendar_app.media import UPLOAD_CUT_SHORT, MediaRejected, upload_cut_short
from calendar_app.models import MediaAsset, Post, PostMode, PrivacyLevel
from calendar_app.preflight import Preflight, post_preflight
from calendar_app.timezones import AmbiguousLocalTime, NonexistentLocalTime
from later.errors import AppError, NotFound
from later.tenancy import workspace_view
from tiktok_client.schemas import CreatorInfo


def _scoped(kwarg: str, getter: Callable[..., Any]) -> Callable[[Any], Any]:
    """Resolve `kwarg` to the workspace's object (404 otherwise) before anything else runs,
    so a foreign id answers 404 whatever the HTTP method."""

    def decorator(view: Any) -> Any:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> Any:
            try:
                obj = getter(workspace=_ws(request), **{kwarg: kwargs.pop(kwarg)})
            except NotFound as exc:
                raise Http404(exc.message) from exc
            return view(request, obj, **kwargs)

        return wrapper

    return decorator


def _wants_json(request: HttpRequest) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def _ws(request: HttpRequest) -> Any:
    return request.workspace  # type: ignore[attr-defined]


def _parse_date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


# --- calendar ---------------------------------------------------------------------------------


@workspace_view(min_role="viewer")
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    workspace = _ws(request)
    today = timezone.localtime(timezone.now(), workspace.tz).date()
    view = request.GET.get("view", "month")
    if view not in selectors.VIEWS:
        view = "month"
    anchor = _parse_date(request.GET.get("date"), today)
    account_id = request.GET.get("account") or ""
    status = request.GET.get("status") or ""
    if status not in selectors.STATUS_FILTERS:
        status = ""
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
    can_edit = request.membership.can_edit  # type: ignore[attr-defined]
    media = list(selectors.media_list(workspace=workspace)[:24]) if can_edit else []
    return render(
        request,
        "calendar_app/calendar.html",
        {
            "page": page,
            "accounts": accounts,
            "media_items": media,
            "can_edit": can_edit,
            "filter_account": account_id,
            "filter_status": status,
            "status_filters": [(k, v[0]) for k, v in selectors.STATUS_FILTERS.items()],
            "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "today": today,
        },
    )


@workspace_view(min_role="editor")
@_scoped("post_id", selectors.post_get)
@require_POST
def post_reschedule(request: HttpRequest, post: Post) -> JsonResponse:
    """Drop target of the calendar's drag and drop. Answers JSON, never a redirect."""
    workspace = _ws(request)
    try:
        target_date = date.fromisoformat(request.POST.get("date", ""))
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
def media(request: HttpRequest) -> HttpResponse:
    workspace = _ws(request)
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
                    user=request.user,  # type: ignore[arg-type]
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
        {"form": form, "items": items, "can_edit": request.membership.can_edit},  # type: ignore[attr-defined]
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


@workspace_view(min_role="viewer")
@_scoped("media_id", selectors.media_get)
@require_GET
def media_file(request: HttpRequest, asset: MediaAsset) -> FileResponse:
    """Media is tenant data: served only to members, through the storage API (disk or S3)."""
    return _serve(asset, "file")


@workspace_view(min_role="viewer")
@_scoped("media_id", selectors.media_get)
@require_GET
def media_thumbnail(request: HttpRequest, asset: MediaAsset) -> FileResponse:
    return _serve(asset, "thumbnail")


@workspace_view(min_role="editor")
@_scoped("media_id", selectors.media_get)
@require_POST
def media_delete(request: HttpRequest, asset: MediaAsset) -> HttpResponse:
    workspace = _ws(request)
    try:
        services.media_delete(workspace=workspace, media=asset)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted {asset.original_name}.")
    return redirect("calendar_app:media", workspace_id=workspace.id)


# --- composer ---------------------------------------------------------------------------------


def _target_values(data: Any, account_id: str) -> dict[str, Any]:
    return {
        "privacy_level": data.get(f"privacy_level__{account_id}", ""),
        "allow_comment": data.get(f"allow_comment__{account_id}") == "on",
        "allow_duet": data.get(f"allow_duet__{account_id}") == "on",
        "allow_stitch": data.get(f"allow_stitch__{account_id}") == "on",
    }


def _target(account_id: str, values: dict[str, Any]) -> services.PostTarget:
    return services.PostTarget(
        account_id=account_id,
        privacy_level=str(values["privacy_level"]),
        allow_comment=bool(values["allow_comment"]),
        allow_duet=bool(values["allow_duet"]),
        allow_stitch=bool(values["allow_stitch"]),
    )


def _panel_preflight(
    workspace: Any,
    account: TikTokAccount,
    info: CreatorInfo | None,
    data: Any,
    exclude: list[Any],
) -> Preflight:
    """What TikTok would refuse later, for the composer's current media, time and mode."""
    media = None
    media_uuid = _uuid_or_none(data.get("media_id", ""))
    if media_uuid:
        media = selectors.media_list(workspace=workspace).filter(pk=media_uuid).first()
    scheduled_at = None
    if data.get("scheduled_date") and data.get("scheduled_time"):
        fold = data.get("fold")
        content = services.PostContent(
            scheduled_local=f"{data['scheduled_date']}T{data['scheduled_time'][:5]}",
            scheduled_tz=data.get("scheduled_tz") or workspace.time_zone,
            fold=int(fold) if fold in ("0", "1") else None,
        )
        try:
            resolved = services.resolve_schedule(content, workspace)
            scheduled_at = resolved.utc if resolved else None
        except AppError:
            scheduled_at = None  # the form reports bad times on submit
    return post_preflight(
        workspace=workspace,
        account=account,
        media=media,
        post_mode=data.get("post_mode") or PostMode.DIRECT,
        scheduled_at=scheduled_at,
        creator_info=info,
        exclude_post_ids=exclude,
    )


def _panel_context(
    account: TikTokAccount,
    values: dict[str, Any] | None,
    *,
    workspace: Any,
    data: Any,
    exclude: list[Any] | None = None,
) -> dict[str, Any]:
    """creator_info is fetched live on every render, as TikTok's posting guidelines require."""
    info: CreatorInfo | None = None
    error = ""
    try:
        info = creator_info_fetch(account=account)
    except AppError as exc:
        error = exc.message
    preflight = _panel_preflight(workspace, account, info, data, exclude or [])
    values = values or {}
    options = []
    if info is not None:
        order = [p.value for p in PrivacyLevel]
        for value in sorted(
            info.privacy_level_options, key=lambda v: order.index(v) if v in order else 99
        ):
            label = PrivacyLevel(value).label if value in order else value
            options.append({"value": value, "label": label})
    return {
        "account": account,
        "info": info,
        "error": error,
        "values": values,
        "privacy_options": options,
        "preflight": preflight,
    }


@workspace_view(min_role="editor")
@_scoped("account_id", selectors.account_get)
@require_GET
def creator_panel(request: HttpRequest, account: TikTokAccount) -> HttpResponse:
    """The per-account block of the composer, with creator_info fetched live (fact sheet 2.10)."""
    workspace = _ws(request)
    return render(
        request,
        "calendar_app/_creator_panel.html",
        _panel_context(
            account,
            _target_values(request.GET, str(account.id)),
            workspace=workspace,
            data=request.GET,
        ),
    )


def _composer_response(
    request: HttpRequest,
    form: ComposerForm,
    *,
    post: Post | None,
    selected_ids: list[str],
    target_values: dict[str, dict[str, Any]],
    problem: AppError | None = None,
    status: int = 200,
) -> HttpResponse:
    workspace = _ws(request)
    accounts = list(selectors.account_list(workspace=workspace))
    data = request.POST if request.method == "POST" else _initial_data(form)
    panels = [
        _panel_context(
            a,
            target_values.get(str(a.id)),
            workspace=workspace,
            data=data,
            exclude=[post.pk] if post else [],
        )
        for a in accounts
        if str(a.id) in selected_ids
    ]
    media_items = list(selectors.media_list(workspace=workspace))
    ctx = {
        "form": form,
        "post": post,
        "accounts": accounts,
        "selected_ids": selected_ids,
        "panels": panels,
        "media_items": media_items,
        "max_caption": MAX_CAPTION_UTF16,
        "problem": problem,
        "gap": problem if isinstance(problem, NonexistentLocalTime) else None,
        "fold": problem if isinstance(problem, AmbiguousLocalTime) else None,
        "confirm": problem if isinstance(problem, services.ConfirmationRequired) else None,
        "blocked": any(p["error"] for p in panels),
    }
    return render(request, "calendar_app/composer.html", ctx, status=status)


def _initial_data(form: ComposerForm) -> dict[str, str]:
    """The unbound form's initial values as the strings a submitted form would carry."""
    out: dict[str, str] = {}
    for name in ("media_id", "scheduled_date", "scheduled_time", "scheduled_tz", "post_mode"):
        value = form.initial.get(name)
        if value is None or value == "":
            continue
        if hasattr(value, "strftime"):
            value = value.strftime("%H:%M" if name == "scheduled_time" else "%Y-%m-%d")
        out[name] = str(value)
    return out


def _content_from(form: ComposerForm) -> services.PostContent:
    d = form.cleaned_data
    local = ""
    if d.get("scheduled_date") and d.get("scheduled_time"):
        local = datetime.combine(d["scheduled_date"], d["scheduled_time"]).isoformat(
            timespec="minutes"
        )
    media = d.get("media_id")
    return services.PostContent(
        caption=d.get("caption") or "",
        media_id=media.id if media else None,
        post_mode=d.get("post_mode") or PostMode.DIRECT,
        commercial_content=bool(d.get("commercial_content")),
        brand_organic=bool(d.get("brand_organic")),
        brand_content=bool(d.get("brand_content")),
        is_aigc=bool(d.get("is_aigc")),
        cover_timestamp_ms=d.get("cover_timestamp_ms"),
        scheduled_local=local,
        scheduled_tz=d.get("scheduled_tz") or "",
        fold=int(d["fold"]) if d.get("fold") in ("0", "1") else None,
    )


@workspace_view(min_role="editor")
@require_http_methods(["GET", "POST"])
def post_create(request: HttpRequest) -> HttpResponse:
    workspace = _ws(request)
    media_qs = selectors.media_list(workspace=workspace)
    if request.method == "GET":
        initial: dict[str, Any] = {"scheduled_tz": workspace.time_zone, "post_mode": "direct"}
        media_uuid = _uuid_or_none(request.GET.get("media", ""))
        if media_uuid and media_qs.filter(pk=media_uuid).exists():
            initial["media_id"] = media_uuid
        if d := request.GET.get("date"):
            initial["scheduled_date"] = _parse_date(d, timezone.localdate())
            initial["scheduled_time"] = time(12, 0)
        selected = [a for a in request.GET.getlist("account") if _uuid_or_none(a)]
        form = ComposerForm(initial=initial, media_qs=media_qs)
        return _composer_response(request, form, post=None, selected_ids=selected, target_values={})
    form = ComposerForm(request.POST, media_qs=media_qs)
    selected = [a for a in request.POST.getlist("accounts") if _uuid_or_none(a)]
    values = {a: _target_values(request.POST, a) for a in selected}
    if not form.is_valid():
        return _composer_response(
            request, form, post=None, selected_ids=selected, target_values=values, status=400
        )
    content = _content_from(form)
    try:
        posts = services.post_create(
            workspace=workspace,
            user=request.user,  # type: ignore[arg-type]
            content=content,
            targets=[_target(a, values[a]) for a in selected],
            schedule=form.cleaned_data["action"] == "schedule",
            acknowledge_warnings=bool(form.cleaned_data.get("acknowledge_warnings")),
        )
    except AppError as exc:
        return _composer_response(
            request,
            form,
            post=None,
            selected_ids=selected,
            target_values=values,
            problem=exc,
            status=400,
        )
    verb = "Scheduled" if posts[0].status == "scheduled" else "Saved as draft:"
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


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@workspace_view(min_role="editor")
@_scoped("post_id", selectors.post_get)
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, post: Post) -> HttpResponse:
    workspace = _ws(request)
    if post.status not in services.EDITABLE_STATUSES:
        messages.error(
            request, f"This post is {post.get_status_display().lower()} and can't be edited."
        )
        return redirect("calendar_app:post_detail", workspace_id=workspace.id, post_id=post.id)
    media_qs = selectors.media_list(workspace=workspace)
    account_id = str(post.account_id)
    if request.method == "GET":
        local = datetime.fromisoformat(post.scheduled_local) if post.scheduled_local else None
        form = ComposerForm(
            initial={
                "caption": post.caption,
                "media_id": post.media_id,
                "post_mode": post.post_mode,
                "commercial_content": post.commercial_content,
                "brand_organic": post.brand_organic,
                "brand_content": post.brand_content,
                "is_aigc": post.is_aigc,
                "cover_timestamp_ms": post.cover_timestamp_ms,
                "scheduled_date": local.date() if local else None,
                "scheduled_time": local.time() if local else None,
                "scheduled_tz": post.scheduled_tz or workspace.time_zone,
            },
            media_qs=media_qs,
        )
        values = {
            account_id: {
                "privacy_level": post.privacy_level,
                "allow_comment": post.allow_comment,
                "allow_duet": post.allow_duet,
                "allow_stitch": post.allow_stitch,
            }
        }
        return _composer_response(
            request, form, post=post, selected_ids=[account_id], target_values=values
        )
    form = ComposerForm(request.POST, media_qs=media_qs)
    values = {account_id: _target_values(request.POST, account_id)}
    if not form.is_valid():
        return _composer_response(
            request, form, post=post, selected_ids=[account_id], target_values=values, status=400
        )
    try:
        post = services.post_update(
            workspace=workspace,
            post=post,
            content=_content_from(form),
            target=_target(account_id, values[account_id]),
            schedule=form.cleaned_data["action"] == "schedule",
            acknowledge_warnings=bool(form.cleaned_data.get("acknowledge_warnings")),
        )
    except AppError as exc:
        return _composer_response(
            request,
            form,
            post=post,
            selected_ids=[account_id],
            target_values=values,
            problem=exc,
            status=400,
        )
    messages.success(request, "Post saved.")
    return redirect("calendar_app:post_detail", workspace_id=workspace.id, post_id=post.id)


def _has_publishing_timeline() -> bool:
    try:
        get_template("calendar_app/publishing_timeline.html")
    except TemplateDoesNotExist:
        return False
    return True


@workspace_view(min_role="viewer")
@_scoped("post_id", selectors.post_get)
@require_GET
def post_detail(request: HttpRequest, post: Post) -> HttpResponse:
    workspace = _ws(request)
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
            "editable": post.status in services.EDITABLE_STATUSES and request.membership.can_edit,  # type: ignore[attr-defined]
            "has_timeline": _has_publishing_timeline(),
            "local_dt": timezone.localtime(post.scheduled_at, workspace.tz)
            if post.scheduled_at
            else None,
        },
    )


@workspace_view(min_role="editor")
@_scoped("post_id", selectors.post_get)
@require_POST
def post_delete(request: HttpRequest, post: Post) -> HttpResponse:
    workspace = _ws(request)
    try:
        services.post_delete(workspace=workspace, post=post)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("calendar_app:post_detail", workspace_id=workspace.id, post_id=post.id)
    messages.success(request, "Post deleted.")
    return redirect("calendar_app:calendar", workspace_id=workspace.id)

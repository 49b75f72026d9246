"""The composer in one place: post content and per-account targets from the HTML form or the
API, and the context of the composer page and its creator panels.

A scheduled time travels as a naive wall-clock `datetime` (plus its zone and fold) from the
interface to `services.resolve_schedule`; strings are parsed once, at the edge.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from django.urls import reverse

from accounts.models import TikTokAccount, Workspace
from calendar_app import selectors
from calendar_app.captions import MAX_CAPTION_UTF16, MAX_PHOTO_CAPTION_UTF16
from calendar_app.creators import creator_info_fetch
from calendar_app.forms import ComposerForm
from calendar_app.models import (
    CaptionTemplate,
    HashtagGroup,
    MediaKind,
    Post,
    PostMode,
    PrivacyLevel,
)
from calendar_app.preflight import Preflight, post_preflight
from calendar_app.queue import NoPostingSlots
from calendar_app.services import (
    ConfirmationRequired,
    PostContent,
    PostTarget,
    post_problems,
    resolve_schedule,
)
from calendar_app.timezones import AmbiguousLocalTime, NonexistentLocalTime, parse_local
from later.errors import AppError, ValidationFailed
from tiktok_client.schemas import CreatorInfo

NEW_POST_TIME = time(12, 0)
_CONTENT_FIELDS = frozenset(f.name for f in dataclasses.fields(PostContent))
_TARGET_FIELDS = frozenset({"privacy_level", "allow_comment", "allow_duet", "allow_stitch"})


# --- wall-clock times -------------------------------------------------------------------------


def local_time(day: date | None, at: time | None) -> datetime | None:
    """The composer's date and time fields as one wall-clock time (None for a draft)."""
    if day is None or at is None:
        return None
    return datetime.combine(day, at.replace(second=0, microsecond=0))


def _fold(value: Any) -> int | None:
    return int(value) if str(value) in ("0", "1") else None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _time(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value)[:5]) if value else None
    except ValueError:
        return None


# --- content and targets ----------------------------------------------------------------------


def new_post_content(
    *, workspace: Workspace, media_id: Any, day: Any, today: date, at: Any = None
) -> PostContent:
    """A fresh composer: the library item, calendar day and slot time it was opened from."""
    media_uuid = _uuid(media_id) if media_id else None
    if media_uuid and not selectors.media_list(workspace=workspace).filter(pk=media_uuid).exists():
        media_uuid = None
    return PostContent(
        media_id=media_uuid,
        scheduled_local=local_time(_date(day) or today, _time(at) or NEW_POST_TIME)
        if day
        else None,
        scheduled_tz=workspace.time_zone,
    )


def form_initial(content: PostContent, workspace: Workspace) -> dict[str, Any]:
    local = content.scheduled_local
    photo_ids = [str(i) for i in content.photo_ids]
    return {
        "caption": content.caption,
        "media_id": None if photo_ids else content.media_id,
        "photo_ids": photo_ids,
        "photo_cover": photo_ids[content.photo_cover_index] if photo_ids else "",
        "title": content.title,
        "auto_add_music": content.auto_add_music,
        "first_comment": content.first_comment,
        "post_mode": content.post_mode,
        "commercial_content": content.commercial_content,
        "brand_organic": content.brand_organic,
        "brand_content": content.brand_content,
        "is_aigc": content.is_aigc,
        "cover_timestamp_ms": content.cover_timestamp_ms,
        "scheduled_date": local.date() if local else None,
        "scheduled_time": local.time() if local else None,
        "scheduled_tz": content.scheduled_tz or workspace.time_zone,
    }


def content_from_form(form: ComposerForm) -> PostContent:
    """A valid composer form's shared fields."""
    data = form.cleaned_data
    media = data.get("media_id")
    photo_ids = list(data.get("photo_ids") or [])
    cover = data.get("photo_cover") or ""
    # The cover is picked by id; one that is not in the carousel is reported by the service.
    cover_index = photo_ids.index(cover) if cover in photo_ids else (-1 if cover else 0)
    return PostContent(
        caption=data.get("caption") or "",
        media_id=media.id if media else None,
        photo_ids=tuple(photo_ids),
        photo_cover_index=cover_index,
        title=data.get("title") or "",
        auto_add_music=bool(data.get("auto_add_music")),
        first_comment=data.get("first_comment") or "",
        post_mode=data.get("post_mode") or PostMode.DIRECT,
        commercial_content=bool(data.get("commercial_content")),
        brand_organic=bool(data.get("brand_organic")),
        brand_content=bool(data.get("brand_content")),
        is_aigc=bool(data.get("is_aigc")),
        cover_timestamp_ms=data.get("cover_timestamp_ms"),
        scheduled_local=local_time(data.get("scheduled_date"), data.get("scheduled_time")),
        scheduled_tz=data.get("scheduled_tz") or "",
        fold=_fold(data.get("fold")),
    )


def content_from_fields(data: Mapping[str, Any]) -> PostContent:
    """What the creator panels need from a submitted or half-filled composer, read leniently:
    a bad value is left out here, and the form reports it on submit."""
    return PostContent(
        media_id=_uuid(data.get("media_id")) if data.get("media_id") else None,
        post_mode=data.get("post_mode") or PostMode.DIRECT,
        scheduled_local=local_time(
            _date(data.get("scheduled_date")), _time(data.get("scheduled_time"))
        ),
        scheduled_tz=data.get("scheduled_tz") or "",
        fold=_fold(data.get("fold")),
    )


def target_from_fields(data: Mapping[str, Any], account_id: str) -> PostTarget:
    """One creator panel's fields (named `<field>__<account id>`)."""
    return PostTarget(
        account_id=account_id,
        privacy_level=str(data.get(f"privacy_level__{account_id}", "")),
        allow_comment=data.get(f"allow_comment__{account_id}") == "on",
        allow_duet=data.get(f"allow_duet__{account_id}") == "on",
        allow_stitch=data.get(f"allow_stitch__{account_id}") == "on",
    )


def selected_account_ids(values: Sequence[str]) -> list[str]:
    return [a for a in values if _uuid(a)]


def _api_local(raw: Any) -> datetime | None:
    return parse_local(str(raw)) if raw else None


def content_from_api(data: Mapping[str, Any], workspace: Workspace) -> PostContent:
    """Validated API input (see api._ContentFields)."""
    return PostContent(
        caption=data.get("caption", ""),
        media_id=data.get("media_id"),
        post_mode=data.get("post_mode") or PostMode.DIRECT,
        commercial_content=data.get("commercial_content", False),
        brand_organic=data.get("brand_organic", False),
        brand_content=data.get("brand_content", False),
        is_aigc=data.get("is_aigc", False),
        cover_timestamp_ms=data.get("cover_timestamp_ms"),
        scheduled_local=_api_local(data.get("scheduled_local")),
        scheduled_tz=data.get("scheduled_tz") or workspace.time_zone,
        fold=data.get("fold"),
        photo_ids=tuple(data.get("photo_ids") or ()),
        photo_cover_index=data.get("photo_cover_index", 0),
        title=data.get("title", ""),
        auto_add_music=data.get("auto_add_music", False),
        first_comment=data.get("first_comment", ""),
    )


def content_patched(content: PostContent, data: Mapping[str, Any]) -> PostContent:
    """A post's content with the fields an API PATCH sent replaced."""
    changes = {k: v for k, v in data.items() if k in _CONTENT_FIELDS}
    if "scheduled_local" in changes:
        changes["scheduled_local"] = _api_local(changes["scheduled_local"])
    if "photo_ids" in changes:
        changes["photo_ids"] = tuple(changes["photo_ids"])
    return dataclasses.replace(content, **changes)


def target_patched(target: PostTarget, data: Mapping[str, Any]) -> PostTarget:
    return dataclasses.replace(target, **{k: v for k, v in data.items() if k in _TARGET_FIELDS})


# --- page context -----------------------------------------------------------------------------


def _privacy_options(info: CreatorInfo | None) -> list[dict[str, str]]:
    if info is None:
        return []
    order = [p.value for p in PrivacyLevel]
    options = []
    for value in sorted(
        info.privacy_level_options, key=lambda v: order.index(v) if v in order else 99
    ):
        label = PrivacyLevel(value).label if value in order else value
        options.append({"value": value, "label": label})
    return options


def _panel_preflight(
    *,
    workspace: Workspace,
    account: TikTokAccount,
    info: CreatorInfo | None,
    content: PostContent,
    exclude: Sequence[Any],
) -> Preflight:
    """What TikTok would refuse later, for the composer's current media, time and mode."""
    media = None
    if content.media_id:
        media = selectors.media_list(workspace=workspace).filter(pk=content.media_id).first()
    try:
        resolved = resolve_schedule(content, workspace)
    except AppError:
        resolved = None  # the form reports bad times on submit
    return post_preflight(
        workspace=workspace,
        account=account,
        media=media,
        post_mode=content.post_mode,
        scheduled_at=resolved.utc if resolved else None,
        creator_info=info,
        exclude_post_ids=exclude,
    )


def panel_context(
    *,
    workspace: Workspace,
    account: TikTokAccount,
    target: PostTarget | None,
    content: PostContent,
    exclude: Sequence[Any] = (),
) -> dict[str, Any]:
    """One account's panel. creator_info is fetched live on every render, as TikTok's posting
    guidelines require (fact sheet 2.10)."""
    info: CreatorInfo | None = None
    error = ""
    business_only = ""
    privacy_options: list[dict[str, str]] = []
    if not account.login_kit_linked and not account.needs_reconnect:
        # No creator_info without Login Kit: the Business app publishes directly, videos public.
        business_only = (
            f"{account} is connected through the TikTok API for Business only: it publishes "
            "directly, videos to everyone. Drafts sent to the TikTok inbox, other audiences and "
            "the creator's posting settings need the Login Kit app."
        )
        public = PrivacyLevel.PUBLIC_TO_EVERYONE
        privacy_options = [{"value": public.value, "label": public.label}]
    else:
        try:
            info = creator_info_fetch(account=account)
        except AppError as exc:
            error = exc.message
        privacy_options = _privacy_options(info)
    return {
        "account": account,
        "info": info,
        "error": error,
        "business_only": business_only,
        "values": target or PostTarget(account_id=account.id),
        "privacy_options": privacy_options,
        "preflight": _panel_preflight(
            workspace=workspace, account=account, info=info, content=content, exclude=exclude
        ),
    }


def composer_context(
    *,
    workspace: Workspace,
    form: ComposerForm,
    post: Post | None,
    content: PostContent,
    selected_ids: Sequence[str],
    targets: Mapping[str, PostTarget],
    problem: AppError | None = None,
) -> dict[str, Any]:
    accounts = list(selectors.account_list(workspace=workspace))
    media_items = list(selectors.media_list(workspace=workspace))
    shown = composer_errors(workspace=workspace, problem=problem, form=form)
    panels = [
        {
            **panel_context(
                workspace=workspace,
                account=account,
                target=targets.get(str(account.id)),
                content=content,
                exclude=[post.pk] if post else [],
            ),
            "field_errors": shown.per_account.get(str(account.id), {}),
        }
        for account in accounts
        if str(account.id) in selected_ids
    ]
    return {
        "errors": shown.fields,
        "error_summary": shown.summary,
        "form": form,
        "post": post,
        "accounts": accounts,
        "selected_ids": list(selected_ids),
        "panels": panels,
        "media_items": media_items,
        "caption_templates": list(
            CaptionTemplate.objects.for_workspace(workspace).order_by("name")
        ),
        "hashtag_groups": list(HashtagGroup.objects.for_workspace(workspace).order_by("name")),
        **_carousel_context(form, media_items),
        "business_ids": [str(a.id) for a in accounts if a.business_connected],
        "max_caption": MAX_CAPTION_UTF16,
        "max_photo_caption": MAX_PHOTO_CAPTION_UTF16,
        "problem": None if shown.summary or isinstance(problem, ConfirmationRequired) else problem,
        "gap": _among(problem, NonexistentLocalTime),
        "fold": _among(problem, AmbiguousLocalTime),
        "confirm": problem if isinstance(problem, ConfirmationRequired) else None,
        "blocked": any(p["error"] for p in panels),
    }


def _carousel_context(form: ComposerForm, media_items: Sequence[Any]) -> dict[str, Any]:
    """The library's photos for the carousel picker: the chosen ones first, in their order."""
    chosen = [str(i) for i in (form["photo_ids"].value() or [])]
    photos = {str(m.id): m for m in media_items if m.kind == MediaKind.IMAGE}
    ordered = [photos[i] for i in chosen if i in photos]
    ordered += [m for key, m in photos.items() if key not in chosen]
    return {
        "photo_items": ordered,
        "photo_chosen": chosen,
        "photo_cover": str(form["photo_cover"].value() or (chosen[0] if chosen else "")),
    }


# --- errors beside their fields -----------------------------------------------------------------

# Where each field's message is shown (the id the summary links to and the input it describes).
_ANCHORS = {
    "targets": "field-accounts",
    "accounts": "field-accounts",
    "media_id": "field-media",
    "photo_ids": "field-photos",
    "photo_cover": "field-photos",
    "photo_cover_index": "field-photos",
    "title": "id_title",
    "auto_add_music": "field-photos",
    "cover_timestamp_ms": "cover",
    "caption": "caption",
    "post_mode": "field-post-mode",
    "commercial_content": "field-commercial",
    "brand_organic": "field-commercial",
    "brand_content": "field-commercial",
    "is_aigc": "field-aigc",
    "scheduled_local": "id_scheduled_date",
    "scheduled_date": "id_scheduled_date",
    "scheduled_time": "id_scheduled_time",
    "scheduled_tz": "id_scheduled_tz",
    "fold": "id_scheduled_date",
    "first_comment": "id_first_comment",
    "__all__": "id_scheduled_date",
}
# Form field names that report under another key (one message slot per place on the page).
_SLOTS = {
    "accounts": "targets",
    "photo_cover": "photo_ids",
    "photo_cover_index": "photo_ids",
    "auto_add_music": "photo_ids",
    "brand_organic": "commercial_content",
    "brand_content": "commercial_content",
    "scheduled_date": "scheduled_local",
    "scheduled_time": "scheduled_local",
    "fold": "scheduled_local",
    "__all__": "scheduled_local",  # the form's one cross-field rule: date and time together
}
_PANEL_ANCHORS = {
    "privacy_level": "privacy-{id}",
    "allow_comment": "allow_comment-{id}",
    "allow_duet": "allow_duet-{id}",
    "allow_stitch": "allow_stitch-{id}",
}


@dataclasses.dataclass
class ShownErrors:
    """What the composer shows: messages by field slot, by account and setting, and one
    summary at the top whose links go to the fields."""

    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    per_account: dict[str, dict[str, list[str]]] = dataclasses.field(default_factory=dict)
    summary: list[dict[str, str]] = dataclasses.field(default_factory=list)


def other_problems(
    workspace: Workspace, form: ComposerForm, targets: Sequence[PostTarget]
) -> ValidationFailed | None:
    """When the form itself refuses some fields, the rules' verdict on the fields it could
    read, so the page shows every problem at once instead of one round at a time."""
    action = form.cleaned_data.get("action") or "draft"
    errors = post_problems(
        workspace=workspace,
        content=content_from_form(form),
        targets=targets,
        schedule=action != "draft",
    )
    return ValidationFailed.combined(errors) if errors else None


def _among(problem: AppError | None, kind: type[ValidationFailed]) -> ValidationFailed | None:
    if isinstance(problem, ValidationFailed):
        return next((e for e in problem.errors if isinstance(e, kind)), None)
    return None


def _fix_link(workspace: Workspace, problem: ValidationFailed, code: str) -> dict[str, str]:
    """Where the person can fix a problem the composer itself cannot, as a summary link."""
    if code != NoPostingSlots.code:
        return {}
    refused = next(e for e in problem.errors if e.code == code)
    account_id = (refused.details or {}).get("account_id", "")
    url = reverse("calendar_app:posting_slots", kwargs={"workspace_id": workspace.id})
    return {"fix_url": f"{url}#slots-{account_id}", "fix_label": "Set posting slots"}


def composer_errors(
    *, workspace: Workspace, problem: AppError | None, form: ComposerForm
) -> ShownErrors:
    """The form's own errors and the service's problems, each placed beside its field."""
    shown = ShownErrors()
    for name, messages in form.errors.items():
        slot = _SLOTS.get(name, name)
        for message in messages:
            shown.fields.setdefault(slot, []).append(str(message))
            shown.summary.append(
                {"anchor": _ANCHORS.get(name, "composer-errors"), "message": str(message)}
            )
    if isinstance(problem, ValidationFailed) and not isinstance(problem, ConfirmationRequired):
        # A skipped or repeated time has its own notice beside the time (with its choices).
        noticed = {NonexistentLocalTime.code, AmbiguousLocalTime.code}
        form_slots = set(shown.fields)  # the form's reading of a field says it first
        for item in problem.problems:
            if not item.account_id and _SLOTS.get(item.field, item.field) in form_slots:
                continue
            if item.account_id:
                anchor = _PANEL_ANCHORS.get(item.field, "panel-{id}").format(id=item.account_id)
                shown.per_account.setdefault(item.account_id, {}).setdefault(
                    item.field if item.field in _PANEL_ANCHORS else "account", []
                ).append(item.message)
            else:
                slot = _SLOTS.get(item.field, item.field) or "composer-errors"
                anchor = _ANCHORS.get(item.field, "composer-errors")
                if item.code in noticed:
                    anchor = "time-choice"
                else:
                    shown.fields.setdefault(slot, []).append(item.message)
            shown.summary.append(
                {
                    "anchor": anchor,
                    "message": item.message,
                    **_fix_link(workspace, problem, item.code),
                }
            )
    for name in form.fields:
        slot = _SLOTS.get(name, name)
        if slot in shown.fields and name in _ANCHORS and _ANCHORS[name].startswith("id_"):
            widget = form.fields[name].widget
            widget.attrs["aria-invalid"] = "true"
            widget.attrs["aria-describedby"] = f"error-{slot}"
    return shown

"""Writes for the media library, the composer and the calendar.

HTML views and the REST API call these same functions, so validation cannot drift.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import TikTokAccount, User, Workspace
from calendar_app.approvals.activity import activity_record
from calendar_app.approvals.services import (
    CHANGES_PREFIX,
    approval_gate,
    review_flags_clear,
    review_requested_notify,
)
from calendar_app.approvals.versions import post_snapshot, version_record
from calendar_app.captions import clean_caption
from calendar_app.creators import creator_info_fetch
from calendar_app.media import MediaInfo, MediaRejected, inspect_file, video_thumbnail
from calendar_app.models import (
    ActivityVerb,
    CalendarNote,
    MediaAsset,
    MediaKind,
    Post,
    PostMode,
    PostStatus,
    PrivacyLevel,
)
from calendar_app.photos import (
    check_first_comment,
    check_title,
    photo_ids_of,
    photos_attach,
    photos_for,
)
from calendar_app.preflight import (
    business_only_refusals,
    content_refusals,
    creator_refusals,
    post_preflight,
)
from calendar_app.renditions import (
    MAX_PHOTO_SIDES,
    PhotoCopies,
    RenditionFailed,
    over_1080p,
    photo_copies,
    photo_not_ready_refusal,
    rendition_attach,
    rendition_examine,
    renditions_store_after_commit,
    tiktok_ready,
)
from calendar_app.timezones import (
    InvalidTimeZone,
    ResolvedTime,
    parse_local,
    require_future,
    resolve_local_time,
)
from later.errors import AppError, Conflict, NotFound, Problems, ValidationFailed
from tiktok_client.schemas import CreatorInfo

logger = logging.getLogger(__name__)

EDITABLE_STATUSES = frozenset(
    {PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.SCHEDULED, PostStatus.FAILED}
)


class NotEditable(Conflict):
    code = "post_not_editable"


class ConfirmationRequired(ValidationFailed):
    """TikTok would probably refuse the post later; the user must confirm to go ahead."""

    code = "confirmation_required"


# --- media ------------------------------------------------------------------------------------


def media_upload(
    *, workspace: Workspace, user: User | None, upload: IO[bytes] | File, original_name: str
) -> MediaAsset:
    """Inspect an upload by content, then store it (and a thumbnail) through default storage."""
    declared = getattr(upload, "size", None)
    ceiling = max(settings.MEDIA_MAX_VIDEO_BYTES, settings.MEDIA_MAX_IMAGE_BYTES)
    if declared is not None and declared > ceiling:
        # Refuse before copying a huge body to disk; the exact per-type limit is checked below.
        raise MediaRejected(
            f"This file is {declared / (1024 * 1024):.1f} MB; the limit is "
            f"{ceiling / (1024 * 1024):.1f} MB.",
            code="media_too_large",
        )
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(prefix="later-upload-", suffix=".bin") as tmp:
        chunks = (
            upload.chunks() if isinstance(upload, File) else iter(lambda: upload.read(1 << 20), b"")
        )
        for chunk in chunks:
            digest.update(chunk)
            tmp.write(chunk)
        tmp.flush()
        path = Path(tmp.name)
        info = inspect_file(path)
        copies = None
        if info.kind == MediaKind.IMAGE:
            copies = _photo_copies_or_rejected(path, info)
            thumb = copies.thumbnail
        else:
            thumb = video_thumbnail(path, info)
        rendition = copies.rendition if copies else None
        asset = MediaAsset(
            workspace=workspace,
            kind=info.kind,
            original_name=(original_name or "upload")[:255],
            content_type=info.content_type,
            size_bytes=path.stat().st_size,
            sha256=digest.hexdigest(),
            duration_seconds=info.duration_seconds,
            width=info.width,
            height=info.height,
            frame_rate=info.frame_rate,
            private_exif=copies.private_exif if copies else None,
            uploaded_by=user,
        )
        tmp.seek(0)
        # The storage write happens before the row exists; on failure we delete the blob.
        asset.file.save("upload", File(tmp), save=False)
    try:
        if thumb:
            asset.thumbnail.save(f"{asset.id}.jpg", ContentFile(thumb), save=False)
        if rendition:
            rendition_attach(media=asset, rendition=rendition)
        asset.save()
    except Exception:
        for stored in (asset.file, asset.thumbnail, asset.rendition):
            if stored:
                stored.delete(save=False)
        raise
    return asset


def _photo_copies_or_rejected(path: Path, info: MediaInfo) -> PhotoCopies:
    """The photo's thumbnail and, if it is over 1080p or its EXIF is private, its rendition."""
    try:
        return photo_copies(path, thumbnail=True)
    except RenditionFailed as exc:
        if over_1080p(info.width, info.height):
            short, long = MAX_PHOTO_SIDES
            reason = (
                f"This photo is {info.width}x{info.height} px, over the {short}x{long} TikTok "
                "takes, and we couldn't read it to make a TikTok-sized copy"
            )
        else:
            reason = (
                "We couldn't read this photo to make a copy for TikTok without its location and "
                "other camera data"
            )
        raise MediaRejected(
            f"{reason}: the file may be damaged. Open it, export it again as JPEG and upload that.",
            code="photo_unreadable",
        ) from exc


def media_delete(*, workspace: Workspace, media: MediaAsset) -> None:
    if media.workspace_id != workspace.id:
        raise NotFound("Media not found.")
    in_use = (
        Post.objects.for_workspace(workspace)
        .filter(Q(media=media) | Q(photos__media=media))
        .distinct()
        .count()
    )
    if in_use:
        raise Conflict(
            f"This file is used by {in_use} post{'s' if in_use != 1 else ''}; "
            "delete or change those posts first.",
            code="media_in_use",
        )
    names = [str(f.name) for f in (media.file, media.thumbnail, media.rendition) if f]
    storage = media.file.storage
    media.delete()

    def delete_blobs() -> None:
        for name in names:
            storage.delete(name)

    # Blobs go only once the row is gone for good; a rolled-back delete keeps its file.
    transaction.on_commit(delete_blobs)


# --- composer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostContent:
    """What every account in a multi-account post shares (each row keeps its own copy)."""

    caption: str = ""
    media_id: Any = None
    post_mode: str = PostMode.DIRECT
    commercial_content: bool = False
    brand_organic: bool = False
    brand_content: bool = False
    is_aigc: bool = False
    cover_timestamp_ms: int | None = None
    scheduled_local: datetime | None = None  # naive wall-clock time in scheduled_tz
    scheduled_tz: str = ""
    fold: int | None = None  # which occurrence of a time repeated when clocks go back
    # A photo carousel (photos.py): library images in order; the cover becomes `media`.
    photo_ids: tuple[Any, ...] = ()
    photo_cover_index: int = 0
    title: str = ""
    auto_add_music: bool = False
    # Posted through the Business comment API once the post is public.
    first_comment: str = ""


@dataclass(frozen=True)
class PostTarget:
    """Per-account settings, chosen against that creator's creator_info."""

    account_id: Any
    privacy_level: str = ""
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False


def _media_for(workspace: Workspace, media_id: Any) -> MediaAsset | None:
    if not media_id:
        return None
    try:
        return MediaAsset.objects.for_workspace(workspace).get(pk=media_id)
    except (MediaAsset.DoesNotExist, ValueError, TypeError) as exc:
        raise ValidationFailed(
            "That media file isn't in this workspace's library.", code="media_not_found"
        ) from exc


def _accounts_for(workspace: Workspace, ids: Iterable[Any]) -> dict[str, TikTokAccount]:
    wanted = [str(i) for i in ids]
    if not wanted:
        raise ValidationFailed("Choose at least one TikTok account.", code="no_account")
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed("Each account can appear only once.", code="duplicate_account")
    try:
        wanted = [str(uuid.UUID(i)) for i in wanted]
    except ValueError as exc:
        raise ValidationFailed("Unknown TikTok account.", code="account_not_found") from exc
    found = {
        str(a.id): a for a in TikTokAccount.objects.for_workspace(workspace).filter(pk__in=wanted)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            "One of the chosen TikTok accounts isn't connected to this workspace.",
            code="account_not_found",
            details={"account_ids": missing},
        )
    return found


def resolve_schedule(content: PostContent, workspace: Workspace) -> ResolvedTime | None:
    if content.scheduled_local is None:
        return None
    return resolve_local_time(
        content.scheduled_local, content.scheduled_tz or workspace.time_zone, content.fold
    )


def _validate_target(
    *,
    content: PostContent,
    target: PostTarget,
    account: TikTokAccount,
    media: MediaAsset | None,
    creator_info: CreatorInfo | None,
    scheduling: bool,
    problems: Problems,
) -> dict[str, Any]:
    """Field values for one Post row; each problem, naming the account, goes to `problems`."""
    inbox = content.post_mode == PostMode.INBOX
    is_photo = media is not None and media.kind == MediaKind.IMAGE
    values: dict[str, Any] = {
        "privacy_level": target.privacy_level or "",
        "allow_comment": bool(target.allow_comment),
        "allow_duet": bool(target.allow_duet) and not is_photo,
        "allow_stitch": bool(target.allow_stitch) and not is_photo,
        "commercial_content": bool(content.commercial_content),
        "brand_organic": bool(content.commercial_content and content.brand_organic),
        "brand_content": bool(content.commercial_content and content.brand_content),
        "is_aigc": bool(content.is_aigc),
    }
    if scheduling:
        for refusal in business_only_refusals(
            account=account,
            post_mode=content.post_mode,
            media=media,
            privacy_level=values["privacy_level"] if not inbox else "",
        ):
            problems.add(
                _refused(refusal, str(account.id)), refusal.setting or "account", str(account.id)
            )
    if inbox:
        # TikTok's inbox init takes no post_info: the creator sets all of this in the app.
        values.update(
            privacy_level="",
            allow_comment=False,
            allow_duet=False,
            allow_stitch=False,
            commercial_content=False,
            brand_organic=False,
            brand_content=False,
            is_aigc=False,
        )
        return values

    account_id = str(account.id)

    def fail(message: str, code: str, field: str, *, per_account: bool = True) -> None:
        problems.add(
            ValidationFailed(
                f"{account}: {message}", code=code, details={"account_id": account_id}
            ),
            field,
            account_id if per_account else "",
        )

    privacy = values["privacy_level"]
    if privacy and privacy not in PrivacyLevel.values:
        fail("choose who can view this post.", "invalid_privacy_level", "privacy_level")
    refused = content_refusals(
        account=account,
        privacy_level=privacy,
        commercial_content=values["commercial_content"],
        brand_organic=values["brand_organic"],
        brand_content=values["brand_content"],
        scheduling=scheduling,
    )
    for refusal in refused:
        if refusal.setting == "commercial_content":
            # The disclosure is shared by every account: reported once, at its own field.
            if not problems.has_code(refusal.code):
                problems.add(_refused(refusal, account_id), refusal.setting)
        else:
            problems.add(_refused(refusal, account_id), refusal.setting, account_id)
    if not scheduling:
        return values
    if creator_info is not None:
        # Settings the creator no longer offers; content problems are the preflight's errors.
        refused = creator_refusals(
            account=account,
            info=creator_info,
            privacy_level=privacy,
            allow_comment=values["allow_comment"],
            allow_duet=values["allow_duet"],
            allow_stitch=values["allow_stitch"],
            media=None,
        )
        for refusal in refused:
            problems.add(_refused(refusal, account_id), refusal.setting or "account", account_id)
    return values


def _refused(refusal: Any, account_id: Any) -> ValidationFailed:
    """One preflight refusal of one account, as the composer reports it."""
    return ValidationFailed(refusal.sentence, code=refusal.code, details={"account_id": account_id})


def post_create(
    *,
    workspace: Workspace,
    user: User | None,
    content: PostContent,
    targets: Sequence[PostTarget],
    schedule: bool,
    acknowledge_warnings: bool = False,
    creator_infos: Mapping[str, CreatorInfo] | None = None,
    now: datetime | None = None,
    review: bool = False,
) -> list[Post]:
    """One Post per account sharing a group_id; `schedule=False` saves drafts.

    Scheduling passes the approval gate: `review=True` (or an editor in a workspace that
    requires approval) leaves the posts in review instead of scheduled.
    creator_info is fetched before the transaction opens (see `_creator_infos`).
    """
    problems = Problems()
    accounts: dict[str, TikTokAccount] = {}
    with problems.field("targets"):
        accounts = _accounts_for(workspace, [t.account_id for t in targets])
    checked = _check_content(
        workspace=workspace, content=content, schedule=schedule, now=now, problems=problems
    )
    if not accounts:
        problems.raise_any()
    infos = _creator_infos(
        accounts=[accounts[str(t.account_id)] for t in targets],
        content=content,
        schedule=schedule,
        given=creator_infos,
        problems=problems,
    )
    with transaction.atomic():
        prepared = _rows(
            problems=problems,
            workspace=workspace,
            content=content,
            checked=checked,
            targets=targets,
            accounts=accounts,
            schedule=schedule,
            acknowledge_warnings=acknowledge_warnings,
            creator_infos=infos,
            exclude_post_ids=(),
        )
        group_id = uuid.uuid4()
        posts = []
        for values in prepared:
            post = Post(workspace=workspace, group_id=group_id, created_by=user, **values)
            verb = None
            if post.status == PostStatus.SCHEDULED:
                verb = approval_gate(
                    workspace=workspace, post=post, actor=user, review=review, content_changed=True
                )
            post.save()
            photos_attach(post=post, photos=checked.photos)
            version_record(post=post, author=user)
            activity_record(workspace=workspace, verb=ActivityVerb.CREATED, post=post, actor=user)
            if verb:
                activity_record(workspace=workspace, verb=verb, post=post, actor=user)
            posts.append(post)
        review_requested_notify(
            workspace=workspace,
            posts=[p for p in posts if p.status == PostStatus.IN_REVIEW],
            actor=user,
        )
        renditions_store_after_commit(checked.pending_renditions)
    return posts


def post_problems(
    *,
    workspace: Workspace,
    content: PostContent,
    targets: Sequence[PostTarget],
    schedule: bool,
    now: datetime | None = None,
) -> list[ValidationFailed]:
    """Every problem of a composer whose form could not even be read whole, found without
    asking TikTok or writing anything, so the page can show them all at once."""
    problems = Problems()
    accounts: dict[str, TikTokAccount] = {}
    with problems.field("targets"):
        accounts = _accounts_for(workspace, [t.account_id for t in targets])
    checked = _check_content(
        workspace=workspace, content=content, schedule=schedule, now=now, problems=problems
    )
    for target in targets:
        account = accounts.get(str(target.account_id))
        if account is None:
            continue
        _validate_target(
            content=content,
            target=target,
            account=account,
            media=checked.media,
            creator_info=None,
            scheduling=schedule,
            problems=problems,
        )
    return problems.errors


@dataclass(frozen=True)
class _CheckedContent:
    caption: str
    media: MediaAsset | None
    resolved: ResolvedTime | None
    photos: tuple[MediaAsset, ...] = ()
    title: str = ""
    first_comment: str = ""
    # Photos read by the check whose rendition is stored once the post's transaction commits.
    pending_renditions: tuple[tuple[MediaAsset, PhotoCopies], ...] = ()


def _check_content(
    *,
    workspace: Workspace,
    content: PostContent,
    schedule: bool,
    now: datetime | None,
    problems: Problems,
) -> _CheckedContent:
    """What every account's post shares, validated once; every problem goes to `problems`
    under its field, so the composer can show them all at once."""
    if content.post_mode not in PostMode.values:
        problems.add(
            ValidationFailed(
                "Choose how to post: directly or to the TikTok inbox.", code="invalid_post_mode"
            ),
            "post_mode",
        )
    photos: list[MediaAsset] = []
    with problems.field("photo_ids"):
        photos = photos_for(
            workspace=workspace, photo_ids=content.photo_ids, cover_index=content.photo_cover_index
        )
    media: MediaAsset | None = None
    if photos and content.media_id and str(content.media_id) not in {str(p.pk) for p in photos}:
        problems.add(
            ValidationFailed(
                "Choose one video or photo, or photos for a carousel, not both.",
                code="media_and_carousel",
            ),
            "photo_ids",
        )
    elif photos:
        media = photos[content.photo_cover_index]
    elif not content.photo_ids:
        with problems.field("media_id"):
            media = _media_for(workspace, content.media_id)
    is_photo = bool(content.photo_ids) or (media is not None and media.kind == MediaKind.IMAGE)
    caption = title = first_comment = ""
    with problems.field("caption"):
        caption = clean_caption(content.caption, photo=is_photo)
    with problems.field("title"):
        title = check_title(content.title)
    with problems.field("first_comment"):
        first_comment = check_first_comment(content.first_comment)
    if first_comment and content.post_mode == PostMode.INBOX:
        # It would never be sent: the first comment waits for the post's public link, and an
        # inbox draft only gets one if the creator posts it from the TikTok app.
        problems.add(
            ValidationFailed(
                "An inbox draft gets no first comment: the creator posts it from the TikTok "
                "app. Leave the first comment empty, or publish directly.",
                code="first_comment_inbox",
            ),
            "first_comment",
        )
    if schedule and media is None and not content.media_id and not content.photo_ids:
        problems.add(
            ValidationFailed("Add a video or photo before scheduling.", code="media_required"),
            "media_id",
        )
    resolved: ResolvedTime | None = None
    try:
        resolved = resolve_schedule(content, workspace)
        if schedule:
            if resolved is None:
                raise ValidationFailed("Pick a date and time to schedule.", code="time_required")
            require_future(resolved, now or timezone.now())
    except InvalidTimeZone as exc:
        problems.add(exc, "scheduled_tz")
    except ValidationFailed as exc:
        problems.add(exc, "scheduled_local")
    if content.cover_timestamp_ms is not None:
        limit_ms = int((media.duration_seconds or 0) * 1000) if media else 0
        if content.cover_timestamp_ms < 0 or (media and content.cover_timestamp_ms > limit_ms):
            problems.add(
                ValidationFailed(
                    "The cover frame must be a moment inside the video.", code="invalid_cover"
                ),
                "cover_timestamp_ms",
            )
    chosen = tuple(photos) or ((media,) if media and media.kind == MediaKind.IMAGE else ())
    pending: list[tuple[MediaAsset, PhotoCopies]] = []
    for number, photo in enumerate(chosen, start=1):
        if tiktok_ready(photo):
            continue
        # Stored before renditions (or before its EXIF was read): read it now, so a photo that
        # cannot be made TikTok-ready is named before saving; the copy is stored on commit.
        try:
            pending.append((photo, rendition_examine(media=photo)))
        except (OSError, RenditionFailed):
            code, sentence = photo_not_ready_refusal(number, photo)
            problems.add(
                ValidationFailed(sentence, code=code), "photo_ids" if photos else "media_id"
            )
    return _CheckedContent(
        caption=caption,
        media=media,
        resolved=resolved,
        photos=chosen,
        title=title,
        first_comment=first_comment,
        pending_renditions=tuple(pending),
    )


def _creator_infos(
    *,
    accounts: Sequence[TikTokAccount],
    content: PostContent,
    schedule: bool,
    given: Mapping[str, CreatorInfo] | None,
    problems: Problems | None = None,
) -> dict[str, CreatorInfo]:
    """Live creator_info for each account a direct post is scheduled to.

    Called before any transaction opens: the call may refresh the token and waits up to
    TikTok's timeout, which must never hold a transaction or a post's row lock. When the
    input already has problems, those are the answer if TikTok cannot be asked.
    """
    infos = dict(given or {})
    if not (schedule and content.post_mode == PostMode.DIRECT):
        return infos
    for account in accounts:
        # creator_info is Content Posting's (Login Kit); a Business-only account has none.
        if str(account.id) not in infos and account.login_kit_linked:
            try:
                infos[str(account.id)] = creator_info_fetch(account=account)
            except AppError:
                if problems:
                    problems.raise_any()
                raise
    return infos


def _rows(
    *,
    problems: Problems,
    workspace: Workspace,
    content: PostContent,
    checked: _CheckedContent,
    targets: Sequence[PostTarget],
    accounts: Mapping[str, TikTokAccount],
    schedule: bool,
    acknowledge_warnings: bool,
    creator_infos: Mapping[str, CreatorInfo],
    exclude_post_ids: Iterable[Any],
) -> list[dict[str, Any]]:
    """Field values of one Post per target; raises every problem (with those already in
    `problems`) at once, and the warnings to confirm only when nothing else is wrong."""
    media, resolved = checked.media, checked.resolved
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for target in targets:
        account = accounts[str(target.account_id)]
        direct = schedule and content.post_mode == PostMode.DIRECT
        info = creator_infos.get(str(account.id)) if direct else None
        values = _validate_target(
            content=content,
            target=target,
            account=account,
            media=media,
            creator_info=info,
            scheduling=schedule,
            problems=problems,
        )
        if schedule:
            check = post_preflight(
                workspace=workspace,
                account=account,
                media=media,
                post_mode=content.post_mode,
                scheduled_at=resolved.utc if resolved else None,
                creator_info=info,
                exclude_post_ids=exclude_post_ids,
            )
            for error in check.errors:
                problems.add(
                    ValidationFailed(
                        error, code="preflight_failed", details={"errors": check.errors}
                    ),
                    "account",
                    str(account.id),
                )
            warnings.extend(check.warnings)
        if checked.first_comment and not account.has_business_scope("comment.list.manage"):
            problems.add(
                ValidationFailed(
                    f"{account}: a first comment is posted through the TikTok API for Business. "
                    "Connect the account's Business side (with comment management) or leave the "
                    "first comment empty.",
                    code="first_comment_needs_business",
                    details={"account_id": str(account.id), "field": "first_comment"},
                ),
                "first_comment",
            )
        is_photo = bool(checked.photos)
        values.update(
            account=account,
            media=media,
            caption=checked.caption,
            title=checked.title if is_photo else "",
            photo_cover_index=content.photo_cover_index if len(checked.photos) > 1 else 0,
            auto_add_music=bool(content.auto_add_music) and is_photo,
            first_comment=checked.first_comment,
            post_mode=content.post_mode,
            cover_timestamp_ms=content.cover_timestamp_ms
            if media and media.kind == "video"
            else None,
            scheduled_at=resolved.utc if resolved else None,
            scheduled_local=resolved.local_iso if resolved else "",
            scheduled_tz=resolved.tz_name if resolved else "",
            status=PostStatus.SCHEDULED if schedule else PostStatus.DRAFT,
        )
        rows.append(values)
    problems.raise_any()
    if warnings and not acknowledge_warnings:
        raise ConfirmationRequired(
            "TikTok will probably refuse this post: "
            + " ".join(warnings)
            + " Confirm to schedule it anyway.",
            details={"warnings": warnings},
        )
    return rows


def _editable(workspace: Workspace, post: Post, *, lock: bool) -> Post:
    qs = Post.objects.for_workspace(workspace)
    found = (qs.select_for_update() if lock else qs).filter(pk=post.pk).first()
    if found is None:
        raise NotFound("Post not found.")
    if found.status not in EDITABLE_STATUSES:
        raise NotEditable(
            f"This post is {found.get_status_display().lower()}; only drafts, scheduled and "
            "failed posts can be changed."
        )
    return found


def _lock_editable(workspace: Workspace, post: Post) -> Post:
    return _editable(workspace, post, lock=True)


def post_update(
    *,
    workspace: Workspace,
    post: Post,
    content: PostContent,
    target: PostTarget,
    schedule: bool,
    acknowledge_warnings: bool = False,
    creator_infos: Mapping[str, CreatorInfo] | None = None,
    now: datetime | None = None,
    actor: User | None = None,
    review: bool = False,
) -> Post:
    """Change a draft, in-review, scheduled or failed post. creator_info is fetched before the
    post's row is locked; the checks run again under the lock. A change of anything that goes
    to TikTok is a new version (`version_record`); scheduling passes the approval gate
    (`approval_gate`)."""
    _editable(workspace, post, lock=False)
    accounts = _accounts_for(workspace, [target.account_id])
    problems = Problems()
    checked = _check_content(
        workspace=workspace, content=content, schedule=schedule, now=now, problems=problems
    )
    infos = _creator_infos(
        accounts=list(accounts.values()),
        content=content,
        schedule=schedule,
        given=creator_infos,
        problems=problems,
    )
    with transaction.atomic():
        locked = _lock_editable(workspace, post)
        (values,) = _rows(
            problems=problems,
            workspace=workspace,
            content=content,
            checked=checked,
            targets=[target],
            accounts=accounts,
            schedule=schedule,
            acknowledge_warnings=acknowledge_warnings,
            creator_infos=infos,
            exclude_post_ids=[locked.pk],
        )
        if locked.status == PostStatus.FAILED and values["status"] == PostStatus.SCHEDULED:
            _revive_failed(locked)
        elif locked.status == PostStatus.FAILED:
            values["status"] = PostStatus.FAILED  # editing a failed post doesn't reschedule it
        old_at, was_in_review = locked.scheduled_at, locked.status == PostStatus.IN_REVIEW
        before = post_snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        photos_attach(post=locked, photos=checked.photos)
        renditions_store_after_commit(checked.pending_renditions)
        # Anything that goes to TikTok (caption, title, first comment, media and photo order,
        # cover, music, settings) changed: a new version, and an approval to earn again.
        changed = version_record(post=locked, before=before, author=actor)
        verb = None
        if locked.status == PostStatus.SCHEDULED:
            verb = approval_gate(
                workspace=workspace,
                post=locked,
                actor=actor,
                review=review,
                content_changed=changed,
            )
        else:
            locked.approved_at, locked.approved_by, locked.approved_by_name = None, None, ""
        if verb == ActivityVerb.SUBMITTED and was_in_review and not changed:
            verb = None  # saved again while already waiting: nothing new to log
        if old_at != locked.scheduled_at or locked.status != PostStatus.IN_REVIEW:
            review_flags_clear(locked)
        elif locked.needs_attention.startswith(CHANGES_PREFIX):
            locked.needs_attention = ""  # resubmitted after the requested changes
        locked.save()
        if changed:
            activity_record(workspace=workspace, verb=ActivityVerb.EDITED, post=locked, actor=actor)
        elif old_at != locked.scheduled_at:
            activity_record(
                workspace=workspace,
                verb=ActivityVerb.RESCHEDULED,
                post=locked,
                actor=actor,
                detail=_when_changed(workspace, old_at, locked.scheduled_at),
            )
        if verb:
            activity_record(workspace=workspace, verb=verb, post=locked, actor=actor)
        if verb == ActivityVerb.SUBMITTED:
            review_requested_notify(workspace=workspace, posts=[locked], actor=actor)
    return locked


def _when_changed(workspace: Workspace, before: datetime | None, after: datetime | None) -> str:
    def shown(at: datetime | None) -> str:
        return f"{timezone.localtime(at, workspace.tz):%a %d %b %Y %H:%M}" if at else "no time"

    return f"From {shown(before)} to {shown(after)} ({workspace.time_zone})."


def _revive_failed(post: Post) -> list[str]:
    """Clear a failed post's pipeline state before it is scheduled again, unless TikTok may
    already hold it (then a second publish could post it twice)."""
    from calendar_app.publishing.state import post_can_retry, post_pipeline_reset

    if not post_can_retry(post):
        raise NotEditable(
            "TikTok may already have received this post, so scheduling it again could post it "
            "twice. Check the publishing timeline and resolve it there first."
        )
    return post_pipeline_reset(post)


def post_content_of(post: Post) -> tuple[PostContent, PostTarget]:
    return (
        PostContent(
            caption=post.caption,
            media_id=post.media_id,
            post_mode=post.post_mode,
            commercial_content=post.commercial_content,
            brand_organic=post.brand_organic,
            brand_content=post.brand_content,
            is_aigc=post.is_aigc,
            cover_timestamp_ms=post.cover_timestamp_ms,
            scheduled_local=parse_local(post.scheduled_local) if post.scheduled_local else None,
            scheduled_tz=post.scheduled_tz,
            fold=_fold_of(post),
            photo_ids=photo_ids_of(post),
            photo_cover_index=post.photo_cover_index,
            title=post.title,
            auto_add_music=post.auto_add_music,
            first_comment=post.first_comment,
        ),
        PostTarget(
            account_id=post.account_id,
            privacy_level=post.privacy_level,
            allow_comment=post.allow_comment,
            allow_duet=post.allow_duet,
            allow_stitch=post.allow_stitch,
        ),
    )


def _fold_of(post: Post) -> int | None:
    """Which occurrence a stored ambiguous wall-clock time meant, recovered from the UTC instant."""
    if not (post.scheduled_at and post.scheduled_local and post.scheduled_tz):
        return None
    local = parse_local(post.scheduled_local)
    for fold in (0, 1):
        try:
            if resolve_local_time(local, post.scheduled_tz, fold).utc == post.scheduled_at:
                return fold
        except ValidationFailed:
            return None
    return None


def post_schedule(
    *,
    workspace: Workspace,
    post: Post,
    acknowledge_warnings: bool = False,
    creator_infos: Mapping[str, CreatorInfo] | None = None,
    now: datetime | None = None,
    actor: User | None = None,
    review: bool = False,
) -> Post:
    """Schedule a draft (or a failed post) with its stored settings; `review=True` submits it
    for review instead."""
    content, target = post_content_of(post)
    return post_update(
        workspace=workspace,
        post=post,
        content=content,
        target=target,
        schedule=True,
        acknowledge_warnings=acknowledge_warnings,
        creator_infos=creator_infos,
        now=now,
        actor=actor,
        review=review,
    )


@transaction.atomic
def post_reschedule(
    *,
    workspace: Workspace,
    post: Post,
    scheduled_local: datetime,
    scheduled_tz: str,
    fold: int | None = None,
    now: datetime | None = None,
    actor: User | None = None,
) -> Post:
    """Move a post to a new wall-clock time (drag and drop, API). Past times are refused.

    Moving keeps an approval (the caption and settings did not change); a post in review
    stays in review and its deadline warnings start again for the new time."""
    locked = _lock_editable(workspace, post)
    resolved = resolve_local_time(scheduled_local, scheduled_tz, fold)
    require_future(resolved, now or timezone.now())
    old_at = locked.scheduled_at
    locked.scheduled_at = resolved.utc
    locked.scheduled_local = resolved.local_iso
    locked.scheduled_tz = resolved.tz_name
    revived: list[str] = []
    if locked.status == PostStatus.FAILED:
        revived = _revive_failed(locked)
        locked.status = PostStatus.SCHEDULED
        if workspace.approval_required and locked.approved_at is None:
            approval_gate(
                workspace=workspace, post=locked, actor=actor, review=False, content_changed=False
            )
            revived += ["approved_at", "approved_by", "approved_by_name"]
    locked.save(
        update_fields=[
            "scheduled_at",
            "scheduled_local",
            "scheduled_tz",
            "status",
            "updated_at",
            *revived,
            *review_flags_clear(locked),
        ]
    )
    if old_at != locked.scheduled_at:
        activity_record(
            workspace=workspace,
            verb=ActivityVerb.RESCHEDULED,
            post=locked,
            actor=actor,
            detail=_when_changed(workspace, old_at, locked.scheduled_at),
        )
    return locked


def post_move(
    *,
    workspace: Workspace,
    post: Post,
    target_date: date,
    target_time: time | None = None,
    fold: int | None = None,
    now: datetime | None = None,
    actor: User | None = None,
) -> Post:
    """Calendar drop. Month view passes a day: the post keeps its wall-clock time in its own
    zone. Week view passes a slot: the time is read in the workspace's zone."""
    if target_time is not None:
        return post_reschedule(
            workspace=workspace,
            post=post,
            scheduled_local=datetime.combine(target_date, target_time),
            scheduled_tz=workspace.time_zone,
            fold=fold,
            now=now,
            actor=actor,
        )
    if post.scheduled_at is None or not post.scheduled_local:
        local = datetime.combine(target_date, time(12, 0))
        tz_name = workspace.time_zone
    else:
        shown_day = timezone.localtime(post.scheduled_at, workspace.tz).date()
        tz_name = post.scheduled_tz or workspace.time_zone
        local = parse_local(post.scheduled_local) + (target_date - shown_day)
    return post_reschedule(
        workspace=workspace,
        post=post,
        scheduled_local=local,
        scheduled_tz=tz_name,
        fold=fold,
        now=now,
        actor=actor,
    )


@transaction.atomic
def post_delete(*, workspace: Workspace, post: Post, actor: User | None = None) -> None:
    locked = _lock_editable(workspace, post)
    activity_record(workspace=workspace, verb=ActivityVerb.DELETED, post=locked, actor=actor)
    locked.delete()


# --- calendar notes ---------------------------------------------------------------------------

MAX_NOTE_LENGTH = 200


def note_create(*, workspace: Workspace, user: User | None, day: date, text: str) -> CalendarNote:
    """A note on one calendar day, seen by everyone in the workspace."""
    text = " ".join((text or "").split())
    if not text:
        raise ValidationFailed("Write the note.", code="note_empty", details={"field": "text"})
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            f"A note holds at most {MAX_NOTE_LENGTH} characters; this one has {len(text)}.",
            code="note_too_long",
            details={"field": "text"},
        )
    return CalendarNote.objects.create(workspace=workspace, day=day, text=text, created_by=user)


def note_delete(*, workspace: Workspace, note: CalendarNote) -> None:
    CalendarNote.objects.for_workspace(workspace).filter(pk=note.pk).delete()

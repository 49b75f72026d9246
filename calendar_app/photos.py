"""Photo carousels: which library images a post shows, in order, and which is the cover.

TikTok takes 1 to 35 JPEG or WebP images per photo post, a title of at most 90 UTF-16 units
and a cover index (fact sheet §2.5). `Post.media` is the cover, so every page that shows one
thumbnail per post keeps working; `PostPhoto` rows hold the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from accounts.models import Workspace
from calendar_app.models import MediaAsset, MediaKind, Post, PostPhoto
from later.errors import ValidationFailed

MAX_PHOTOS = 35
MAX_TITLE_UTF16 = 90
MAX_FIRST_COMMENT = 150  # Business comment API (§4.5)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def photos_for(
    *, workspace: Workspace, photo_ids: Sequence[Any], cover_index: int
) -> list[MediaAsset]:
    """The chosen images in order, validated; raises ValidationFailed with the field's name."""
    if not photo_ids:
        return []
    if len(photo_ids) > MAX_PHOTOS:
        raise ValidationFailed(
            f"A photo post holds at most {MAX_PHOTOS} images; you picked {len(photo_ids)}.",
            code="too_many_photos",
            details={"field": "photo_ids"},
        )
    try:
        wanted = [uuid.UUID(str(i)) for i in photo_ids]
    except ValueError as exc:
        raise ValidationFailed(
            "One of the photos isn't in this workspace's library.",
            code="media_not_found",
            details={"field": "photo_ids"},
        ) from exc
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed(
            "Each photo can appear only once in a carousel.",
            code="duplicate_photo",
            details={"field": "photo_ids"},
        )
    found = {a.pk: a for a in MediaAsset.objects.for_workspace(workspace).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise ValidationFailed(
            "One of the photos isn't in this workspace's library.",
            code="media_not_found",
            details={"field": "photo_ids"},
        )
    photos = [found[i] for i in wanted]
    if any(p.kind != MediaKind.IMAGE for p in photos):
        raise ValidationFailed(
            "A carousel holds photos only (JPEG or WebP); post videos on their own.",
            code="carousel_not_photos",
            details={"field": "photo_ids"},
        )
    if not 0 <= cover_index < len(photos):
        raise ValidationFailed(
            "Choose one of the carousel's photos as its cover.",
            code="invalid_photo_cover",
            details={"field": "photo_cover_index"},
        )
    return photos


def check_title(title: str) -> str:
    title = title.strip()
    if utf16_len(title) > MAX_TITLE_UTF16:
        raise ValidationFailed(
            f"The photo title is {utf16_len(title)} characters; TikTok allows {MAX_TITLE_UTF16}.",
            code="title_too_long",
            details={"field": "title"},
        )
    return title


def check_first_comment(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_FIRST_COMMENT:
        raise ValidationFailed(
            f"The first comment is {len(text)} characters; TikTok allows {MAX_FIRST_COMMENT}.",
            code="first_comment_too_long",
            details={"field": "first_comment"},
        )
    return text


def photos_attach(*, post: Post, photos: Sequence[MediaAsset]) -> None:
    """Replace the post's carousel with `photos` (inside the caller's transaction)."""
    post.photos.all().delete()
    PostPhoto.objects.bulk_create(
        PostPhoto(workspace_id=post.workspace_id, post=post, media=photo, position=i)
        for i, photo in enumerate(photos)
    )


def photo_ids_of(post: Post) -> tuple[Any, ...]:
    """A carousel's ids in order; () for a single photo or a video (its `media` says it all)."""
    ids = tuple(post.photos.order_by("position").values_list("media_id", flat=True))
    return ids if len(ids) > 1 else ()

"""Post versions (everything that goes to TikTok: caption, title, first comment, media and photo
order, cover, music and settings) and a readable difference between two of them."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from accounts.models import User
from calendar_app.models import Post, PostMode, PostVersion, PrivacyLevel

# What a version keeps besides the caption: everything that goes to TikTok, in the order a
# diff lists it, with its label. An edit of any of it is a new version and needs a new approval.
OPTION_LABELS: dict[str, str] = {
    "account": "TikTok account",
    "post_mode": "How it is posted",
    "media": "Video or photo",
    "photos": "Photos (in order)",
    "photo_cover_index": "Cover photo",
    "cover_timestamp_ms": "Cover frame",
    "title": "Photo title",
    "auto_add_music": "Music added by TikTok",
    "first_comment": "First comment",
    "privacy_level": "Who can view",
    "allow_comment": "Comments",
    "allow_duet": "Duet",
    "allow_stitch": "Stitch",
    "commercial_content": "Commercial content disclosure",
    "brand_organic": "Your brand",
    "brand_content": "Branded content",
    "is_aigc": "AI-generated label",
}
# Files are shown by name but told apart by id: another file of the same name is a change.
_IDENTITY = {"account": "account_id", "media": "media_id", "photos": "photo_ids"}


def post_options(post: Post) -> dict[str, Any]:
    """Everything a version keeps besides the caption, as plain JSON values. A carousel's images
    come from its `PostPhoto` rows, so attach them first; its `media` (the cover) is not
    repeated."""
    photos = list(post.photos.select_related("media").order_by("position")) if post.pk else []
    carousel = len(photos) > 1
    media = post.media if post.media_id and not carousel else None
    return {
        "account": str(post.account) if post.account_id else "",
        "account_id": str(post.account_id or ""),
        "post_mode": post.post_mode,
        "media": media.original_name if media else "",
        "media_id": str(media.pk) if media else "",
        "photos": [p.media.original_name for p in photos] if carousel else [],
        "photo_ids": [str(p.media_id) for p in photos] if carousel else [],
        "photo_cover_index": post.photo_cover_index,
        "cover_timestamp_ms": post.cover_timestamp_ms,
        "title": post.title,
        "auto_add_music": post.auto_add_music,
        "first_comment": post.first_comment,
        "privacy_level": post.privacy_level,
        "allow_comment": post.allow_comment,
        "allow_duet": post.allow_duet,
        "allow_stitch": post.allow_stitch,
        "commercial_content": post.commercial_content,
        "brand_organic": post.brand_organic,
        "brand_content": post.brand_content,
        "is_aigc": post.is_aigc,
    }


#: A post's content as a version keeps it: the caption and `post_options`.
Snapshot = tuple[str, dict[str, Any]]


def post_snapshot(post: Post) -> Snapshot:
    return post.caption, post_options(post)


def version_latest(post: Post) -> PostVersion | None:
    return post.versions.order_by("-number").first()


def version_record(
    *,
    post: Post,
    before: Snapshot | None = None,
    author: User | None = None,
    author_name: str = "",
) -> bool:
    """Store a new version when the post's content differs from `before` (its snapshot taken
    before the edit; None for a new post). True when the content changed.

    The edit is compared with the post as it was, not with the last version, so a save that
    changes nothing never counts as an edit, even against a version kept before a field was
    versioned. Called inside the write's transaction, with the post's row locked or just
    created, so version numbers cannot collide.
    """
    caption, options = post_snapshot(post)
    if before is not None and before == (caption, options):
        return False
    number = (post.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    PostVersion.objects.create(
        workspace_id=post.workspace_id,
        post=post,
        number=number,
        caption=caption,
        options=options,
        author=author,
        author_name=(author_name or (author.display_name if author else ""))[:200],
    )
    return True


def _shown(name: str, options: dict[str, Any]) -> str:
    """How the diff shows one of a version's `options`."""
    value = options.get(name)
    if name == "photos":
        return ", ".join(f"{i}. {n}" for i, n in enumerate(value, 1)) if value else "None"
    if name == "photo_cover_index":
        if not isinstance(value, int):
            return "First photo"
        names = options.get("photos") or []
        return f"Photo {value + 1}" + (f" ({names[value]})" if value < len(names) else "")
    if name == "privacy_level":
        return str(PrivacyLevel(value).label) if value in PrivacyLevel.values else "Not chosen"
    if name == "post_mode":
        return str(PostMode(value).label) if value in PostMode.values else str(value)
    if name == "cover_timestamp_ms":
        return f"{value / 1000:.1f} s" if isinstance(value, int) else "Default"
    if isinstance(value, bool):
        return "On" if value else "Off"
    return str(value) if value not in (None, "") else "None"


@dataclass(frozen=True)
class Segment:
    """A run of caption text: `op` is "same", "added" or "removed"."""

    op: str
    text: str


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class VersionDiff:
    old: PostVersion | None
    new: PostVersion
    caption: list[Segment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def caption_changed(self) -> bool:
        return any(s.op != "same" for s in self.caption)


_TOKENS = re.compile(r"\s+|[^\s]+")


def caption_diff(before: str, after: str) -> list[Segment]:
    """Word-level difference (whitespace kept), readable where a character diff is not."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(Segment("same", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(Segment("removed", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(Segment("added", "".join(b[j1:j2])))
    return segments


def version_diff(old: PostVersion | None, new: PostVersion) -> VersionDiff:
    """What changed from `old` to `new` (from nothing, for the first version)."""
    diff = VersionDiff(old=old, new=new)
    diff.caption = caption_diff(old.caption if old else "", new.caption)
    before = old.options if old else {}
    for name, label in OPTION_LABELS.items():
        now_shown = _shown(name, new.options)
        if old is None or name not in before:
            if new.options.get(name) in (None, "", False, []):
                continue  # empty at first, or still empty since it was first recorded
            # A version kept before this was versioned does not know its value.
            was_shown = "" if old is None else "Not recorded"
        else:
            was_shown = _shown(name, before)
            if was_shown == now_shown:
                key = _IDENTITY.get(name)
                if key is None or before.get(key, new.options.get(key)) == new.options.get(key):
                    continue
                now_shown += " (another file of the same name)"
        diff.changes.append(Change(label, was_shown, now_shown))
    return diff


def version_history(post: Post) -> list[VersionDiff]:
    """Every version with its difference from the one before, newest first."""
    versions = list(post.versions.select_related("author").order_by("number"))
    diffs = [
        version_diff(prev, cur) for prev, cur in zip([None, *versions], versions, strict=False)
    ]
    return list(reversed(diffs))

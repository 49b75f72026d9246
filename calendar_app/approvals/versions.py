"""Post versions (caption and settings) and a readable difference between two of them."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from accounts.models import User
from calendar_app.models import Post, PostMode, PostVersion, PrivacyLevel

# The settings a version keeps, in the order a diff lists them, with their labels.
OPTION_LABELS: dict[str, str] = {
    "post_mode": "How it is posted",
    "media": "Video or photo",
    "privacy_level": "Who can view",
    "allow_comment": "Comments",
    "allow_duet": "Duet",
    "allow_stitch": "Stitch",
    "commercial_content": "Commercial content disclosure",
    "brand_organic": "Your brand",
    "brand_content": "Branded content",
    "is_aigc": "AI-generated label",
    "cover_timestamp_ms": "Cover frame",
}


def post_options(post: Post) -> dict[str, Any]:
    """The versioned settings of a post as plain JSON values."""
    return {
        "post_mode": post.post_mode,
        "media": post.media.original_name if post.media_id and post.media else "",
        "privacy_level": post.privacy_level,
        "allow_comment": post.allow_comment,
        "allow_duet": post.allow_duet,
        "allow_stitch": post.allow_stitch,
        "commercial_content": post.commercial_content,
        "brand_organic": post.brand_organic,
        "brand_content": post.brand_content,
        "is_aigc": post.is_aigc,
        "cover_timestamp_ms": post.cover_timestamp_ms,
    }


def version_latest(post: Post) -> PostVersion | None:
    return post.versions.order_by("-number").first()


def version_record(*, post: Post, author: User | None = None, author_name: str = "") -> bool:
    """Store a new version when the caption or a setting changed; True when one was stored.

    Called inside the write's transaction, with the post's row locked or just created, so
    version numbers cannot collide.
    """
    options = post_options(post)
    latest = version_latest(post)
    if latest is not None and latest.caption == post.caption and latest.options == options:
        return False
    number = (post.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    PostVersion.objects.create(
        workspace_id=post.workspace_id,
        post=post,
        number=number,
        caption=post.caption,
        options=options,
        author=author,
        author_name=(author_name or (author.display_name if author else ""))[:200],
    )
    return True


def _shown(name: str, value: Any) -> str:
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
        was, now = before.get(name), new.options.get(name)
        if old is not None and was == now:
            continue
        if old is None and now in (None, "", False):
            continue
        diff.changes.append(Change(label, _shown(name, was) if old else "", _shown(name, now)))
    return diff


def version_history(post: Post) -> list[VersionDiff]:
    """Every version with its difference from the one before, newest first."""
    versions = list(post.versions.select_related("author").order_by("number"))
    diffs = [
        version_diff(prev, cur) for prev, cur in zip([None, *versions], versions, strict=False)
    ]
    return list(reversed(diffs))

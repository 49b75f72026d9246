"""Captions as TikTok counts and parses them.

TikTok limits a video's `title` to 2,200 UTF-16 code units and a photo post's `description` to
4,000 (fact sheet §2.3, §2.5), so an emoji outside the BMP costs two.
Captions are stored as plain text and always rendered escaped; markup that looks like an
injection attempt is refused outright rather than silently altered.
"""

from __future__ import annotations

import re

from later.errors import ValidationFailed

MAX_CAPTION_UTF16 = 2200
MAX_PHOTO_CAPTION_UTF16 = 4000

_SCRIPT_RE = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|img|link|meta)\b|javascript\s*:|\bon\w+\s*=",
    re.IGNORECASE,
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CaptionInvalid(ValidationFailed):
    code = "caption_invalid"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def caption_limit(*, photo: bool) -> int:
    return MAX_PHOTO_CAPTION_UTF16 if photo else MAX_CAPTION_UTF16


def clean_caption(text: str, *, photo: bool = False) -> str:
    """The caption to store, or CaptionInvalid with a sentence the user can act on. A photo
    post's caption is its `description`, which TikTok allows to be longer."""
    text = _CONTROL_RE.sub("", (text or "").replace("\r\n", "\n")).strip()
    if _SCRIPT_RE.search(text):
        raise CaptionInvalid(
            "Captions can't contain HTML or script code (such as <script> or javascript:). "
            "Remove it and try again.",
            details={"field": "caption"},
        )
    length = utf16_length(text)
    limit = caption_limit(photo=photo)
    if length > limit:
        raise CaptionInvalid(
            f"The caption is {length:,} characters as TikTok counts them (emoji count double); "
            f"the limit is {limit:,}{' for a photo post' if photo else ''}.",
            details={"field": "caption", "length": length, "max": limit},
        )
    return text

"""Report branding's checks, shared by an agency's branding (the default for its clients' reports)
and a workspace's own override (analytics.reporting): two colours and a small PNG or JPEG logo,
stored in the row and embedded in the page, the PDF and the e-mail."""

from __future__ import annotations

import io
import re

from django.core.files.uploadedfile import UploadedFile

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_LOGO_BYTES = 512 * 1024
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
DEFAULT_PRIMARY_COLOR = "#fe2c55"
DEFAULT_ACCENT_COLOR = "#25c2d9"


def color_errors(*, primary_color: str, accent_color: str) -> dict[str, str]:
    return {
        name: "Use a colour like #fe2c55."
        for name, value in (("primary_color", primary_color), ("accent_color", accent_color))
        if not HEX_COLOR.fullmatch(value or "")
    }


def read_logo(logo: UploadedFile) -> tuple[bytes, str, str]:
    """(bytes, content type, problem): Pillow must recognise a PNG or JPEG of at most 512 KB."""
    from PIL import Image, UnidentifiedImageError

    if (logo.size or 0) > MAX_LOGO_BYTES:
        return b"", "", "The logo must be at most 512 KB."
    data = logo.read()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format or ""
    except (UnidentifiedImageError, OSError, ValueError):
        return b"", "", "The logo must be a PNG or JPEG image."
    if kind not in LOGO_FORMATS:
        return b"", "", "The logo must be a PNG or JPEG image."
    return data, LOGO_FORMATS[kind], ""

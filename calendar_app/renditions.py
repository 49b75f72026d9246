"""TikTok-ready copies ("renditions") of library photos.

TikTok takes photos as JPEG or WebP of at most 1080p and 20 MB each, and fails a bigger one
after pulling it (fact sheet §2.5); phones take 3024x4032. A photo over 1080p therefore gets a
high-quality JPEG scaled to fit 1080x1920 in its own orientation, EXIF rotation applied and
colour profile kept, made at upload. The signed public link serves it instead of the original
(public_media.py); the library keeps and shows the original.

Photos stored before renditions existed get theirs the first time they are needed: when the
composer checks a post or the pipeline prepares one for TikTok, both outside any transaction.
A failure there is reported where it happens, so no migration or command has to be run, and a
photo that cannot be decoded is named to the user rather than failing a deploy.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageOps

from calendar_app.models import MediaAsset, MediaKind

logger = logging.getLogger(__name__)

# §2.5: the short side at most 1080 px and the long side at most 1920 px; 20 MB each.
MAX_PHOTO_SIDES = (1080, 1920)
MAX_PHOTO_BYTES = 20 * 1024 * 1024
RENDITION_CONTENT_TYPE = "image/jpeg"
# Tried in turn until the JPEG fits MAX_PHOTO_BYTES; a 1080x1920 photo fits at the first.
QUALITIES = (92, 85, 75, 60)
_ORIENTATION_TAG = 0x0112
_ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})


class RenditionFailed(Exception):
    """The photo could not be decoded or re-encoded within TikTok's limits."""


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


def over_1080p(width: int | None, height: int | None) -> bool:
    short, long = MAX_PHOTO_SIDES
    sides = (width or 0, height or 0)
    return min(sides) > short or max(sides) > long


def needs_rendition(media: MediaAsset) -> bool:
    return media.kind == MediaKind.IMAGE and over_1080p(media.width, media.height)


def fitted_size(width: int, height: int) -> tuple[int, int]:
    """`width`x`height` scaled down to fit 1080x1920 (1920x1080 when landscape)."""
    short, long = MAX_PHOTO_SIDES
    box = (short, long) if height >= width else (long, short)
    scale = min(box[0] / width, box[1] / height, 1.0)
    return (
        max(1, min(box[0], round(width * scale))),
        max(1, min(box[1], round(height * scale))),
    )


def render(source: Path | BinaryIO) -> Rendition:
    """A TikTok-ready JPEG of the image in `source`. Raises RenditionFailed."""
    try:
        with Image.open(source) as img:
            rotated = img.getexif().get(_ORIENTATION_TAG, 1) in _ROTATED_ORIENTATIONS
            shown = (img.height, img.width) if rotated else img.size
            target = fitted_size(*shown)
            stored_target = (target[1], target[0]) if rotated else target
            # Lets the JPEG decoder scale by 1/2..1/8 while staying at least twice the target.
            img.draft(None, (stored_target[0] * 2, stored_target[1] * 2))
            icc_profile = img.info.get("icc_profile") or None
            upright = ImageOps.exif_transpose(img)
            rgb, icc_profile = _without_alpha(upright, icc_profile)
            if rgb.size != target:
                rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
            for quality in QUALITIES:
                out = io.BytesIO()
                rgb.save(
                    out,
                    "JPEG",
                    quality=quality,
                    subsampling=0 if quality >= 90 else 2,
                    optimize=True,
                    icc_profile=icc_profile,
                )
                if out.tell() <= MAX_PHOTO_BYTES:
                    return Rendition(data=out.getvalue(), width=target[0], height=target[1])
    except Exception as exc:  # Pillow's decoders raise many types for one damaged file
        logger.info("photo rendition failed", exc_info=True)
        raise RenditionFailed(str(exc)) from exc
    raise RenditionFailed(f"still over {MAX_PHOTO_BYTES} bytes at quality {QUALITIES[-1]}")


def _without_alpha(img: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, bytes | None]:
    """The image as RGB or greyscale, and the colour profile that still describes it.

    JPEG has no transparency: it is flattened onto white. A CMYK photo with a CMYK profile is
    converted through that profile to sRGB so its colours survive the change of model."""
    space = icc_profile[16:20] if icc_profile and len(icc_profile) >= 20 else b""
    if img.mode == "CMYK" and space == b"CMYK" and icc_profile:
        try:
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(img, source, srgb, outputMode="RGB")
            if converted is not None:
                return converted, srgb.tobytes()
        except ImageCms.PyCMSError:
            logger.info("CMYK profile conversion failed; converting without it", exc_info=True)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    keeps_profile = (img.mode, space) in (("RGB", b"RGB "), ("L", b"GRAY"))
    return img, icc_profile if keeps_profile else None


def rendition_attach(*, media: MediaAsset, rendition: Rendition) -> None:
    """Store `rendition` as `media`'s (the caller saves the row)."""
    media.rendition.save("rendition.jpg", ContentFile(rendition.data), save=False)
    media.rendition_width, media.rendition_height = rendition.width, rendition.height
    media.rendition_size_bytes = len(rendition.data)


def media_rendition_ensure(*, media: MediaAsset) -> bool:
    """Whether TikTok can pull `media` within its limits, making the missing rendition of a
    photo over 1080p first. Storage is written, so call it outside a transaction."""
    if not needs_rendition(media) or media.rendition:
        return True
    try:
        # At most MEDIA_MAX_IMAGE_BYTES; read whole because not every storage's files seek.
        with media.file.storage.open(str(media.file.name), "rb") as fh:
            rendition = render(io.BytesIO(fh.read()))
    except (OSError, RenditionFailed):
        logger.warning("no rendition for media %s", media.pk, exc_info=True)
        return False
    rendition_attach(media=media, rendition=rendition)
    stored = (
        MediaAsset.objects.for_workspace(media.workspace_id)
        .filter(pk=media.pk, rendition="")
        .update(
            rendition=media.rendition.name,
            rendition_width=media.rendition_width,
            rendition_height=media.rendition_height,
            rendition_size_bytes=media.rendition_size_bytes,
        )
    )
    if stored:
        return True
    # Another run stored one meanwhile (or the photo is gone): keep theirs.
    media.rendition.storage.delete(str(media.rendition.name))
    current = MediaAsset.objects.for_workspace(media.workspace_id).filter(pk=media.pk).first()
    if current is None:
        return False
    for name in ("rendition", "rendition_width", "rendition_height", "rendition_size_bytes"):
        setattr(media, name, getattr(current, name))
    return bool(media.rendition)


def photo_too_large_sentence(number: int, photo: MediaAsset) -> str:
    short, long = MAX_PHOTO_SIDES
    return (
        f"Photo {number} is {photo.width}x{photo.height} px, over the {short}x{long} px TikTok "
        "takes, and we couldn't make a TikTok-sized copy of it: the file may be damaged. Export "
        "it again as JPEG, upload that and use it in the post."
    )


def served_file(media: MediaAsset) -> tuple[str, str]:
    """(storage name, content type) of the file TikTok pulls for `media`."""
    if media.rendition:
        return str(media.rendition.name), RENDITION_CONTENT_TYPE
    return str(media.file.name), media.content_type


def served_size(media: MediaAsset) -> int:
    if media.rendition and media.rendition_size_bytes is not None:
        return media.rendition_size_bytes
    return media.size_bytes

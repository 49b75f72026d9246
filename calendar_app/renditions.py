"""TikTok-ready copies ("renditions") of library photos.

TikTok takes photos as JPEG or WebP of at most 1080p and 20 MB each, and fails a bigger one
after pulling it (fact sheet §2.5); phones take 3024x4032. A photo over 1080p therefore gets a
high-quality JPEG scaled to fit 1080x1920 in its own orientation, EXIF rotation applied and
colour profile kept. So does a photo whose EXIF carries a location (a phone's GPS position) or a
turn: the rendition carries no EXIF, so TikTok never learns where the photo was taken. Other
photos go to TikTok as uploaded. The signed public link serves the rendition instead of the
original (public_media.py); the library keeps and shows the original.

Renditions are made at upload, from the one decode that also makes the thumbnail. Photos stored
before then get theirs when a post is prepared: the publishing pipeline calls
`media_rendition_ensure` before it hands TikTok the links, and the composer reads the photo
(`rendition_examine`, no write) and stores what it made only once its transaction commits, so a
rolled-back import or queue leaves no file behind. Checks (`tiktok_ready`) only read the row.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageCms, ImageOps

from calendar_app.models import MediaAsset, MediaKind

logger = logging.getLogger(__name__)

# §2.5: the short side at most 1080 px and the long side at most 1920 px; 20 MB each.
MAX_PHOTO_SIDES = (1080, 1920)
MAX_PHOTO_BYTES = 20 * 1024 * 1024
RENDITION_CONTENT_TYPE = "image/jpeg"
# Tried in turn until the JPEG fits MAX_PHOTO_BYTES; a 1080x1920 photo fits at the first.
QUALITIES = (92, 85, 75, 60)
THUMBNAIL_SIDES = (320, 320)
_ORIENTATION_TAG = 0x0112
_GPS_IFD_TAG = 0x8825
_ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})
# XMP can repeat the EXIF position (Lightroom, Apple Photos exports).
_XMP_LOCATION_MARKERS = (b"GPSLatitude", b"GPSLongitude")


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


def tiktok_ready(media: MediaAsset) -> bool:
    """Whether what the public link serves for `media` is fit for TikTok, read from the row
    alone: a video, a photo with its rendition, or a photo within 1080p whose EXIF was read and
    carries no location or turn."""
    if media.kind != MediaKind.IMAGE or media.rendition:
        return True
    return media.private_exif is False and not over_1080p(media.width, media.height)


def private_exif_in(img: Image.Image) -> bool:
    """Whether the opened image's metadata carries a location, or a turn TikTok may not apply."""
    exif = img.getexif()
    if exif.get(_ORIENTATION_TAG, 1) != 1 or exif.get_ifd(_GPS_IFD_TAG):
        return True
    xmp = img.info.get("xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode()
    return any(marker in xmp for marker in _XMP_LOCATION_MARKERS)


def fitted_size(width: int, height: int) -> tuple[int, int]:
    """`width`x`height` scaled down to fit 1080x1920 (1920x1080 when landscape)."""
    short, long = MAX_PHOTO_SIDES
    box = (short, long) if height >= width else (long, short)
    scale = min(box[0] / width, box[1] / height, 1.0)
    return (
        max(1, min(box[0], round(width * scale))),
        max(1, min(box[1], round(height * scale))),
    )


@dataclass(frozen=True)
class PhotoCopies:
    """What one decode of a photo gives: the TikTok copy if it needs one, and a thumbnail."""

    private_exif: bool
    rendition: Rendition | None
    thumbnail: bytes | None = None


def photo_copies(source: Path | BinaryIO, *, thumbnail: bool = False) -> PhotoCopies:
    """Read the photo in `source` once: whether its EXIF is private, its rendition when it needs
    one, and (if asked) a library thumbnail, from a single decode. Raises RenditionFailed when
    a needed rendition cannot be made; a failed thumbnail is only None (the UI shows a
    placeholder)."""
    try:
        with Image.open(source) as img:
            private = private_exif_in(img)
            if not (private or over_1080p(*img.size)):
                return PhotoCopies(
                    private_exif=False,
                    rendition=None,
                    thumbnail=_thumbnail_of(img) if thumbnail else None,
                )
            upright = _decoded_upright(img)
    except Exception as exc:  # Pillow's decoders raise many types for one damaged file
        logger.info("photo rendition failed", exc_info=True)
        raise RenditionFailed(str(exc)) from exc
    rendition, fitted = _encoded(upright)
    return PhotoCopies(
        private_exif=private,
        rendition=rendition,
        thumbnail=_thumbnail_of(fitted) if thumbnail else None,
    )


@dataclass(frozen=True)
class _Decoded:
    image: Image.Image
    icc_profile: bytes | None
    target: tuple[int, int]


def _decoded_upright(img: Image.Image) -> _Decoded:
    """The photo decoded once, as shown (EXIF turn applied), at least twice the size it will be
    fitted to, with the colour profile that describes it and the size to fit it to."""
    rotated = img.getexif().get(_ORIENTATION_TAG, 1) in _ROTATED_ORIENTATIONS
    shown = (img.height, img.width) if rotated else img.size
    target = fitted_size(*shown)
    stored_target = (target[1], target[0]) if rotated else target
    # Lets the JPEG decoder scale by 1/2..1/8 while staying at least twice the target.
    img.draft(None, (stored_target[0] * 2, stored_target[1] * 2))
    icc_profile = img.info.get("icc_profile") or None
    upright = ImageOps.exif_transpose(img)
    rgb, icc_profile = _without_alpha(upright, icc_profile)
    return _Decoded(image=rgb, icc_profile=icc_profile, target=target)


def _encoded(decoded: _Decoded) -> tuple[Rendition, Image.Image]:
    """The rendition JPEG (no EXIF, no XMP: only the colour profile is written) and the fitted
    image it was encoded from."""
    rgb, icc_profile, target = decoded.image, decoded.icc_profile, decoded.target
    try:
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
                rendition = Rendition(data=out.getvalue(), width=target[0], height=target[1])
                return rendition, rgb
    except Exception as exc:
        logger.info("photo rendition failed", exc_info=True)
        raise RenditionFailed(str(exc)) from exc
    raise RenditionFailed(f"still over {MAX_PHOTO_BYTES} bytes at quality {QUALITIES[-1]}")


def _thumbnail_of(img: Image.Image) -> bytes | None:
    """A small JPEG for the library; shrinks `img` itself (a not yet decoded JPEG is drafted)."""
    try:
        img.thumbnail(THUMBNAIL_SIDES)
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()
    except Exception:
        logger.warning("image thumbnail failed", exc_info=True)
        return None


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


def rendition_examine(*, media: MediaAsset) -> PhotoCopies:
    """Read a stored photo that is not `tiktok_ready` and make what it lacks, writing nothing.
    Raises OSError (storage) or RenditionFailed (damaged photo)."""
    # At most MEDIA_MAX_IMAGE_BYTES; read whole because not every storage's files seek.
    with media.file.storage.open(str(media.file.name), "rb") as fh:
        return photo_copies(io.BytesIO(fh.read()))


def rendition_store(*, media: MediaAsset, copies: PhotoCopies) -> bool:
    """Store what `rendition_examine` made; whether `media` is TikTok-ready afterwards.
    Writes storage, so call it outside a transaction (or from `transaction.on_commit`)."""
    scoped = MediaAsset.objects.for_workspace(media.workspace_id).filter(pk=media.pk)
    if copies.rendition is None:
        scoped.filter(rendition="").update(private_exif=copies.private_exif)
        media.private_exif = copies.private_exif
        return tiktok_ready(media)
    rendition_attach(media=media, rendition=copies.rendition)
    media.private_exif = copies.private_exif
    stored = scoped.filter(rendition="").update(
        rendition=media.rendition.name,
        rendition_width=media.rendition_width,
        rendition_height=media.rendition_height,
        rendition_size_bytes=media.rendition_size_bytes,
        private_exif=copies.private_exif,
    )
    if stored:
        return True
    # Another run stored one meanwhile (or the photo is gone): keep theirs.
    media.rendition.storage.delete(str(media.rendition.name))
    current = scoped.first()
    if current is None:
        return False
    for name in ("rendition", "rendition_width", "rendition_height", "rendition_size_bytes"):
        setattr(media, name, getattr(current, name))
    return bool(media.rendition)


def media_rendition_ensure(*, media: MediaAsset) -> bool:
    """Whether TikTok can pull `media` within its limits and without its location, making the
    missing rendition first. Storage is written, so call it outside a transaction."""
    if tiktok_ready(media):
        return True
    try:
        copies = rendition_examine(media=media)
    except (OSError, RenditionFailed):
        logger.warning("no rendition for media %s", media.pk, exc_info=True)
        return False
    return rendition_store(media=media, copies=copies)


def renditions_store_after_commit(pending: Sequence[tuple[MediaAsset, PhotoCopies]]) -> None:
    """Store examined photos' renditions once the surrounding transaction commits: a rollback
    (an import preview, a refused queue) discards the callback and so writes no file at all."""

    def store() -> None:
        for media, copies in pending:
            try:
                rendition_store(media=media, copies=copies)
            except OSError:  # the pipeline makes it again before TikTok is asked
                logger.warning("storing the rendition of media %s failed", media.pk, exc_info=True)

    if pending:
        transaction.on_commit(store, robust=True)


def photo_not_ready_refusal(number: int, photo: MediaAsset) -> tuple[str, str]:
    """(code, sentence) for a photo that cannot be made TikTok-ready."""
    if over_1080p(photo.width, photo.height):
        short, long = MAX_PHOTO_SIDES
        return (
            "photo_too_large",
            f"Photo {number} is {photo.width}x{photo.height} px, over the {short}x{long} px "
            "TikTok takes, and we couldn't make a TikTok-sized copy of it: the file may be "
            "damaged. Export it again as JPEG, upload that and use it in the post.",
        )
    return (
        "photo_unreadable",
        f"We couldn't read photo {number} to make a copy for TikTok without its location and "
        "other camera data: the file may be damaged or missing. Export it again as JPEG, "
        "upload that and use it in the post.",
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

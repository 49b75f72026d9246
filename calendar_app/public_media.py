"""Public, signed, expiring media URLs for TikTok's PULL_FROM_URL (fact sheet §2.5, §2.6).

TikTok downloads photos (always) and, when configured, videos itself, from an https URL under
a prefix or domain the developer verified with TikTok. Each file gets a URL under
`MEDIA_PUBLIC_BASE_URL` whose token names one asset of one workspace and expires after
`MEDIA_PUBLIC_URL_TTL_SECONDS`; nothing else can be fetched with it. The route answers the file
itself, never a redirect (TikTok refuses 3xx). A photo over 1080p, or whose EXIF carries a
location or a turn, is served as its TikTok-ready rendition (renditions.py), a JPEG without
EXIF, whatever the original's format; a video is served without the boxes that say where it was
filmed (video_location.py).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from accounts.tiktok.url_properties import public_media_base
from calendar_app.models import MediaAsset, MediaKind
from calendar_app.renditions import served_file
from calendar_app.video_location import LocationFreeFile

SALT = "calendar_app.public_media"
ROUTE_PREFIX = "public-media/"


def _file_name(asset: MediaAsset) -> str:
    # TikTok reads the extension (it refuses .png photos); the stored name carries the right one.
    stored, _ = served_file(asset)
    suffix = stored.rsplit(".", 1)[-1] if "." in stored else "bin"
    return f"{asset.pk}.{suffix}"


def public_media_url(asset: MediaAsset) -> str:
    """A URL TikTok can fetch `asset` from until the TTL runs out."""
    token = signing.TimestampSigner(salt=SALT).sign_object(
        {"m": str(asset.pk), "w": str(asset.workspace_id)}
    )
    return f"{public_media_base()}{token}/{_file_name(asset)}"


def _asset_for(token: str, name: str) -> MediaAsset:
    try:
        payload = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=settings.MEDIA_PUBLIC_URL_TTL_SECONDS
        )
        media_id = uuid.UUID(str(payload["m"]))
        workspace_id = uuid.UUID(str(payload["w"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("This link is invalid or has expired.") from exc
    # A signed public link names one asset of one workspace: the named bypass is safe here.
    asset = MediaAsset.objects.unscoped().filter(pk=media_id, workspace_id=workspace_id).first()
    if asset is None or not asset.file or name != _file_name(asset):
        raise Http404("This link is invalid or has expired.")
    return asset


@require_safe
def public_media(request: HttpRequest, token: str, name: str) -> FileResponse:
    """The file behind a signed link, for TikTok's servers (no session, no redirect)."""
    asset = _asset_for(token, name)
    stored, content_type = served_file(asset)
    try:
        handle = asset.file.storage.open(stored, "rb")
    except OSError as exc:
        raise Http404("The file is missing from storage.") from exc
    # TikTok gets a video without the place it was filmed (video_location.py).
    served = LocationFreeFile(handle) if asset.kind == MediaKind.VIDEO else handle
    response = FileResponse(served, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["X-Content-Type-Options"] = "nosniff"
    return response

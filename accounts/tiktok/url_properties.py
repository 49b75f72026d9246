"""What to verify with TikTok for PULL_FROM_URL ("URL properties", fact sheet §2.6, §4.4).

TikTok downloads photos (and pulled videos) only from an https URL prefix or domain the
developer verified in the developer portal (Content Posting) and the Business portal (Business
publishing). The product serves them under `MEDIA_PUBLIC_BASE_URL`; this is the one place that
reads it, for the settings page and for the links themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


@dataclass(frozen=True)
class UrlProperty:
    prefix: str  # the URL prefix to verify (ends with "/")
    domain: str  # or verify the whole domain
    problem: str  # why TikTok would refuse it, or ""


def public_media_base() -> str:
    base: str = settings.MEDIA_PUBLIC_BASE_URL
    return base if base.endswith("/") else base + "/"


def url_property() -> UrlProperty:
    base = public_media_base()
    parts = urlsplit(base)
    problem = ""
    if parts.scheme != "https" or not parts.hostname:
        problem = (
            "TikTok only pulls media over https: set MEDIA_PUBLIC_BASE_URL to an https URL "
            "that reaches this site's /public-media/."
        )
    return UrlProperty(prefix=base, domain=parts.hostname or "", problem=problem)

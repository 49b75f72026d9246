"""Links from TikTok (or the local simulator) shown as images: only http(s), never other schemes."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def is_web_url(value: object) -> bool:
    """True for an http:// or https:// URL with a host (the simulator serves media over http)."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)

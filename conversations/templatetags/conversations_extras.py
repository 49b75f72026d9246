"""Template filters of the Conversations pages."""

from __future__ import annotations

from django import template

from conversations.response_times import humanize_seconds

register = template.Library()


@register.filter
def duration_short(seconds: float | None) -> str:
    """12 s, 4 min, 2.5 h, 3.0 d; "n/a" when there is nothing to measure."""
    return humanize_seconds(seconds)

"""The calendar card of a post, built in one place for the month, week and list views (and the
agency's cross-client calendar).

A busy week renders hundreds of cards; building each one in Python is several times faster than
a template include per card (see bench/calendar_week.py), and keeps the markup lean.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from calendar_app.models import Post, PostMode
from calendar_app.selectors import display_status, status_label
from calendar_app.services import EDITABLE_STATUSES

CAPTION_CHARS = 48
PEEK_CHARS = 80


def _truncated(text: str, chars: int) -> str:
    """`Truncator(text).chars(chars)`, without its per-character walk for a text that fits
    (most captions fit the peek; it returns a fitting text NFC-normalised, as here)."""
    normal = unicodedata.normalize("NFC", text)
    return normal if len(normal) <= chars else Truncator(normal).chars(chars)


_MARKER = "00000000-0000-0000-0000-000000000000"


@functools.lru_cache(maxsize=1024)
def _url_around(name: str, workspace_id: str, script_prefix: str) -> tuple[str, str]:
    """A workspace object's URL as the text before and after the object's id: a page of
    hundreds of cards reverses each URL once, not once per card."""
    head, _, tail = reverse(name, args=[workspace_id, _MARKER]).partition(_MARKER)
    return head, tail


def _url(name: str, workspace_id: Any, object_id: Any) -> str:
    head, tail = _url_around(name, str(workspace_id), get_script_prefix())
    return f"{head}{object_id}{tail}"


def card_html(
    *,
    post: Post,
    workspace_id: Any,
    can_edit: bool,
    list_row: bool = False,
    client: str = "",
) -> SafeString:
    """One post's card: thumbnail, time, caption, status badge, the account's @handle (and the
    client's name on the cross-client calendar). The account's full name and whether Comments,
    Duet and Stitch are on are in the tooltip and the text screen readers read.

    Expects `local_dt` (the post's time in its zone), as the calendar selectors set it. Drag
    handles only for members who may edit and posts that can move; the reschedule URL is the
    post's URL + "reschedule/", completed by calendar.js.
    """
    pid = str(post.id)
    key = getattr(post, "display_status", None) or display_status(post)
    status = escape(key)
    label = escape(status_label(key))
    local = post.local_dt  # type: ignore[attr-defined]
    account = post.account
    caption = post.caption or ""
    href = _url("calendar_app:post_detail", workspace_id, pid)
    media = post.media
    handle = str(account)
    named = (
        f"{account.display_name} ({handle})" if account.display_name and account.username else ""
    )
    interactions = ""
    if post.post_mode != PostMode.INBOX:
        interactions = ", ".join(
            f"{name} {'on' if flag else 'off'}"
            for name, flag in (
                ("Comments", post.allow_comment),
                ("Duet", post.allow_duet),
                ("Stitch", post.allow_stitch),
            )
        )
    about = [client, named or handle, status_label(key), interactions]
    title = escape(" · ".join(part for part in about if part))
    parts = [
        f'<a class="cal-post status-{status}{" cal-post-row" if list_row else ""}" href="{href}"'
        f' style="--acct: {escape(account.color)}" data-post-id="{pid}"'
        f' data-utc="{local.isoformat()}" data-testid="post-{pid}"'
    ]
    if can_edit and post.status in EDITABLE_STATUSES:
        # data-minutes: dropped on another hour of the week, the post keeps its minutes.
        parts.append(f' draggable="true" data-reschedule-url="" data-minutes="{local:%M}"')
    parts.append(f' data-peek="{escape(_truncated(caption, PEEK_CHARS))}" title="{title}">')
    if media is not None and media.thumbnail:
        thumb = _url("calendar_app:media_thumbnail", workspace_id, media.pk)
        parts.append(f'<img class="cal-post-thumb" src="{thumb}" alt="" loading="lazy">')
    else:
        glyph = "▣" if media is not None and media.kind == "image" else "▶"
        parts.append(
            f'<span class="cal-post-thumb cal-post-nothumb" aria-hidden="true">{glyph}</span>'
        )
    parts.append(
        '<span class="cal-post-top">'
        f'<span class="cal-post-time" data-role="time">{local:%H:%M}</span>'
    )
    shown = escape(_truncated(caption, CAPTION_CHARS)) if caption else "(no caption)"
    parts.append(f'</span><span class="cal-post-caption">{shown}</span>')
    if client:
        parts.append(
            f'<span class="cal-post-client" data-testid="post-client">{escape(client)}</span>'
        )
    if named:  # the chip shows the @handle; screen readers hear the name too
        acct = (
            f'<span aria-hidden="true">{escape(handle)}</span>'
            f'<span class="sr-only">{escape(named)}</span>'
        )
    else:
        acct = escape(handle)
    parts.append(
        f'<span class="cal-post-meta"><span class="badge badge-{status}">{label}</span> '
        f'<span class="cal-post-acct">{acct}</span></span>'
    )
    if interactions:
        parts.append(f'<span class="sr-only">{interactions}</span>')
    parts.append("</a>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped

"""Synced TikTok comments and the per-video sync watermark."""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Concat, Lower, Upper

from accounts.models import TikTokAccount, TikTokVideo, Workspace
from later.models import TenantModel

#: TikTok's limit for a comment or reply, in characters.
REPLY_MAX_CHARS = 150
PENDING_ID_PREFIX = "pending:"

# What Inbox search matches, as one upper-cased string; migration 0002 indexes exactly this
# expression with pg_trgm (Meta.indexes cannot: Django puts the opclass inside the parentheses).
SEARCH_DOCUMENT = Upper(
    Concat(
        "text",
        models.Value(" "),
        "author_username",
        models.Value(" "),
        "author_display_name",
        output_field=models.TextField(),
    )
)


def person_ref(author_key: str) -> str:
    """The product's URL id for a commenter. TikTok's identifier may hold "/", "?" or anything
    else, so it never appears raw in a path: the route carries this URL-safe encoding."""
    return base64.urlsafe_b64encode(author_key.encode()).decode().rstrip("=")


def person_key_from_ref(ref: str) -> str | None:
    """Inverse of `person_ref`; None when `ref` is not one the product made."""
    try:
        key = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not key or person_ref(key) != ref or "\x00" in key:
        return None
    return key


class Comment(TenantModel):
    """One TikTok comment or reply on a video of a connected business account.

    Everything under "author" and `text` is written by strangers on the internet: it is
    stored verbatim and must only ever be rendered escaped.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="comments")
    video = models.ForeignKey(TikTokVideo, on_delete=models.CASCADE, related_name="comments")
    account = models.ForeignKey(TikTokAccount, on_delete=models.CASCADE, related_name="comments")
    comment_id = models.CharField(max_length=128)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author_key = models.CharField(max_length=128, help_text="TikTok's unique_identifier")
    author_username = models.CharField(max_length=128, blank=True)
    author_display_name = models.CharField(max_length=256, blank=True)
    author_avatar_url = models.URLField(max_length=2000, blank=True)
    text = models.TextField(blank=True)
    created_at_tiktok = models.DateTimeField()
    like_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    is_own = models.BooleanField(default=False, help_text="Written by the business account")
    liked = models.BooleanField(default=False, help_text="Liked by the business account")
    read_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A reply we sent whose creation TikTok has not confirmed yet (comment_id is a placeholder).
    is_pending = models.BooleanField(default=False)
    pending_error = models.CharField(max_length=500, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "comment_id"], name="comment_unique_id")
        ]
        indexes: ClassVar = [
            # Inbox keyset pagination: WHERE workspace = ? AND (created, id) < (?, ?) ORDER BY
            # created DESC, id DESC.
            models.Index(
                "workspace",
                models.F("created_at_tiktok").desc(),
                models.F("id").desc(),
                name="comment_inbox_keyset",
            ),
            models.Index(
                "workspace",
                "account",
                models.F("created_at_tiktok").desc(),
                name="comment_account_keyset",
            ),
            models.Index(
                "workspace",
                models.F("created_at_tiktok").desc(),
                name="comment_unread_keyset",
                condition=models.Q(read_at__isnull=True, is_own=False, deleted_at__isnull=True),
            ),
            models.Index(
                "workspace",
                models.F("created_at_tiktok").desc(),
                name="comment_open_keyset",
                condition=models.Q(handled_at__isnull=True, is_own=False, deleted_at__isnull=True),
            ),
            models.Index(
                "workspace", "video", models.F("created_at_tiktok").desc(), name="comment_video"
            ),
            models.Index(
                "workspace",
                "author_key",
                models.F("created_at_tiktok").desc(),
                name="comment_author",
            ),
            models.Index("workspace", Lower("author_username"), name="comment_author_username"),
        ]

    def __str__(self) -> str:
        return f"{self.author_username or self.author_key}: {self.text[:40]}"

    @property
    def person_ref(self) -> str:
        return person_ref(self.author_key)

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def author_label(self) -> str:
        return self.author_display_name or self.author_username or "TikTok user"


class CommentSyncState(TenantModel):
    """Where the last comment sync of one video stopped, so the next one fetches only news."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="comment_sync_states"
    )
    video = models.OneToOneField(
        TikTokVideo, on_delete=models.CASCADE, related_name="comment_sync_state"
    )
    newest_seen_at = models.DateTimeField(null=True, blank=True)
    full_pass_at = models.DateTimeField(null=True, blank=True)
    # A pass cut short by the call budget resumes here instead of starting over.
    pass_cursor = models.BigIntegerField(null=True, blank=True)
    pass_is_full = models.BooleanField(default=False)
    pass_watermark = models.DateTimeField(null=True, blank=True)
    pass_newest_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"Comment sync of {self.video_id}"

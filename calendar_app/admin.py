from __future__ import annotations

from django.contrib import admin

from calendar_app.models import (
    ActivityEntry,
    CalendarNote,
    CaptionTemplate,
    HashtagGroup,
    MediaAsset,
    Post,
    PostComment,
    PostEvent,
    PostImport,
    PostingSlot,
    PostPhoto,
    PostVersion,
    ReviewLink,
)
from later.admin import TenantAdmin

# Staff see every workspace: the admin is the named place where tenants are crossed.
UnscopedAdmin = TenantAdmin


@admin.register(MediaAsset)
class MediaAssetAdmin(UnscopedAdmin):
    list_display = (
        "original_name",
        "workspace",
        "kind",
        "content_type",
        "size_bytes",
        "duration_seconds",
        "created_at",
    )
    list_filter = ("kind",)
    search_fields = ("original_name", "sha256")
    raw_id_fields = ("workspace", "uploaded_by")


@admin.register(Post)
class PostAdmin(UnscopedAdmin):
    list_display = ("__str__", "workspace", "account", "status", "post_mode", "scheduled_at")
    list_filter = ("status", "post_mode")
    search_fields = ("caption", "publish_id")
    raw_id_fields = ("workspace", "account", "media", "created_by", "video")


@admin.register(PostEvent)
class PostEventAdmin(UnscopedAdmin):
    list_display = ("post", "kind", "message", "created_at")
    raw_id_fields = ("workspace", "post")


@admin.register(PostPhoto)
class PostPhotoAdmin(UnscopedAdmin):
    list_display = ("post", "media", "position")
    raw_id_fields = ("workspace", "post", "media")


@admin.register(PostVersion)
class PostVersionAdmin(UnscopedAdmin):
    list_display = ("post", "number", "created_at")
    raw_id_fields = ("workspace", "post")


@admin.register(PostComment)
class PostCommentAdmin(UnscopedAdmin):
    list_display = ("post", "kind", "created_at")
    raw_id_fields = ("workspace", "post")


@admin.register(ReviewLink)
class ReviewLinkAdmin(UnscopedAdmin):
    list_display = ("name", "workspace", "expires_at", "revoked_at", "last_used_at")
    raw_id_fields = ("workspace",)


@admin.register(ActivityEntry)
class ActivityEntryAdmin(UnscopedAdmin):
    list_display = ("verb", "actor_name", "post", "created_at")
    raw_id_fields = ("workspace", "post")


@admin.register(CalendarNote)
class CalendarNoteAdmin(UnscopedAdmin):
    list_display = ("day", "text", "workspace")
    raw_id_fields = ("workspace",)


@admin.register(PostingSlot)
class PostingSlotAdmin(UnscopedAdmin):
    list_display = ("account", "weekday", "time")
    raw_id_fields = ("workspace", "account")


@admin.register(CaptionTemplate)
class CaptionTemplateAdmin(UnscopedAdmin):
    list_display = ("name", "workspace")
    raw_id_fields = ("workspace",)


@admin.register(HashtagGroup)
class HashtagGroupAdmin(UnscopedAdmin):
    list_display = ("name", "workspace")
    raw_id_fields = ("workspace",)


@admin.register(PostImport)
class PostImportAdmin(UnscopedAdmin):
    list_display = ("file_name", "state", "workspace", "created_at")
    raw_id_fields = ("workspace",)

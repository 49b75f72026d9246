from __future__ import annotations

from django.contrib import admin

from calendar_app.models import MediaAsset, Post, PostEvent
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

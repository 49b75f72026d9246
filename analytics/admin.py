from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import AccountDailySnapshot, VideoSnapshot
from later.admin import TenantAdmin


@admin.register(AccountDailySnapshot)
class AccountDailySnapshotAdmin(TenantAdmin):
    list_display = ("date", "account", "followers", "video_views", "source")
    list_filter = ("source",)
    date_hierarchy = "date"
    raw_id_fields = ("workspace", "account")

    def get_queryset(self, request: HttpRequest) -> Any:
        # Admin crosses tenants knowingly.
        return AccountDailySnapshot.objects.unscoped().select_related("account")


@admin.register(VideoSnapshot)
class VideoSnapshotAdmin(TenantAdmin):
    list_display = ("captured_at", "video", "views", "likes", "reach")
    raw_id_fields = ("workspace", "video")

    def get_queryset(self, request: HttpRequest) -> Any:
        return VideoSnapshot.objects.unscoped().select_related("video")

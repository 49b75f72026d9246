from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import (
    AccountDailySnapshot,
    ReportDelivery,
    ReportSchedule,
    ReportSettings,
    VideoSnapshot,
    VideoViews24h,
)
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


@admin.register(VideoViews24h)
class VideoViews24hAdmin(TenantAdmin):
    list_display = ("video", "views", "captured_at")
    raw_id_fields = ("workspace", "video")

    def get_queryset(self, request: HttpRequest) -> Any:
        return VideoViews24h.objects.unscoped().select_related("video")


@admin.register(ReportSettings)
class ReportSettingsAdmin(TenantAdmin):
    list_display = ("workspace", "agency_name", "primary_color", "accent_color")
    exclude = ("logo",)
    raw_id_fields = ("workspace",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return ReportSettings.objects.unscoped().select_related("workspace")


@admin.register(ReportSchedule)
class ReportScheduleAdmin(TenantAdmin):
    list_display = ("workspace", "frequency", "active", "starts_at")
    list_filter = ("frequency", "active")
    raw_id_fields = ("workspace", "account")

    def get_queryset(self, request: HttpRequest) -> Any:
        return ReportSchedule.objects.unscoped().select_related("workspace")


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(TenantAdmin):
    """Read-only: a delivery row is the once-per-period claim; editing it could send twice."""

    list_display = ("schedule", "period_start", "period_end", "status", "attempts", "sent_at")
    list_filter = ("status",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return ReportDelivery.objects.unscoped().select_related("schedule")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

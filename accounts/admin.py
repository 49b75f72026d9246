"""Admin for people, workspaces and TikTok accounts. Token fields are never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from accounts.models import (
    Agency,
    AgencyMember,
    ApiToken,
    Invitation,
    Membership,
    Notification,
    TikTokAccount,
    TikTokOAuthState,
    TikTokVideo,
    TikTokWebhookEvent,
    User,
    Workspace,
)
from later.admin import TenantAdmin

# Admins see every tenant on purpose: the named bypass is used there knowingly.
UnscopedAdminMixin = TenantAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "agency", "time_zone", "created_at")
    search_fields = ("name", "id", "agency__name")
    list_filter = ("time_zone",)
    list_select_related = ("agency",)
    autocomplete_fields = ("agency",)
    inlines = (MembershipInline,)


class AgencyMemberInline(admin.TabularInline):
    model = AgencyMember
    extra = 0
    autocomplete_fields = ("user",)
    filter_horizontal = ("clients",)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A member's chosen clients can only be the agency's own clients.
        if db_field.name == "clients":
            agency_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            kwargs["queryset"] = (
                Workspace.objects.filter(agency_id=agency_id)
                if agency_id
                else Workspace.objects.none()
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ClientInline(admin.TabularInline):
    model = Workspace
    fk_name = "agency"
    fields = ("name", "time_zone")
    extra = 0
    show_change_link = True


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "primary_color", "accent_color", "created_at")
    search_fields = ("name", "id")
    # The logo is uploaded (and checked with Pillow) on the agency's own page, as for
    # ReportSettings.
    exclude = ("logo",)
    inlines = (AgencyMemberInline, ClientInline)


@admin.register(AgencyMember)
class AgencyMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "agency", "role", "all_clients", "created_at")
    list_filter = ("role", "all_clients")
    search_fields = ("user__email", "agency__name")
    list_select_related = ("user", "agency")
    autocomplete_fields = ("user", "agency")
    filter_horizontal = ("clients",)


@admin.register(Membership)
class MembershipAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "workspace__name")
    list_select_related = ("user", "workspace")
    autocomplete_fields = ("user", "workspace")


@admin.register(Invitation)
class InvitationAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = ("email", "workspace", "role", "expires_at", "accepted_at")
    list_filter = ("role",)
    search_fields = ("email", "workspace__name")
    list_select_related = ("workspace",)
    exclude = ("token",)
    readonly_fields = ("accepted_at", "accepted_by", "invited_by")


@admin.register(Notification)
class NotificationAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "user", "workspace", "kind", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "user__email", "workspace__name")
    list_select_related = ("user", "workspace")


@admin.register(TikTokAccount)
class TikTokAccountAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "display_name",
        "workspace",
        "account_type",
        "status",
        "access_token_expires_at",
        "created_at",
    )
    list_filter = ("status", "account_type", "is_private")
    search_fields = ("username", "display_name", "open_id", "workspace__name")
    list_select_related = ("workspace",)
    # Encrypted tokens are excluded outright: not even ciphertext leaves the database via admin.
    exclude = (
        "access_token_encrypted",
        "refresh_token_encrypted",
        "business_access_token_encrypted",
        "business_refresh_token_encrypted",
    )
    readonly_fields = (
        "open_id",
        "union_id",
        "scopes",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "token_refreshed_at",
        "connected_by",
    )


@admin.register(TikTokVideo)
class TikTokVideoAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = ("video_id", "account", "workspace", "posted_at", "view_count", "like_count")
    search_fields = ("video_id", "caption", "account__username")
    list_select_related = ("account", "workspace")
    date_hierarchy = "posted_at"


@admin.register(TikTokOAuthState)
class TikTokOAuthStateAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    """Pending "Connect TikTok" attempts, read-only: useful when a user reports a failed connect."""

    list_display = ("workspace", "user", "created_at", "expires_at", "used_at")
    list_filter = ("used_at",)
    search_fields = ("workspace__name", "user__email")
    list_select_related = ("workspace", "user")
    # Digests and the encrypted PKCE verifier are secrets' shadows: never shown.
    fields = ("workspace", "user", "created_at", "expires_at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Personal API tokens, read-only: staff may revoke by setting revoked_at, never see secrets
    (only a digest is stored, and it is not shown either)."""

    list_display = ("name", "user", "prefix", "access", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("access",)
    search_fields = ("name", "user__email", "prefix")
    list_select_related = ("user",)
    fields = (
        "name",
        "user",
        "prefix",
        "access",
        "workspaces",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = (
        "name",
        "user",
        "prefix",
        "access",
        "workspaces",
        "expires_at",
        "last_used_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TikTokWebhookEvent)
class TikTokWebhookEventAdmin(admin.ModelAdmin):
    """TikTok webhook deliveries as received, read-only: when an event arrived and was applied,
    or why it was given up."""

    list_display = (
        "event",
        "app",
        "user_openid",
        "occurred_at",
        "created_at",
        "processed_at",
        "attempts",
        "gave_up_at",
    )
    list_filter = ("app", "event", "processed_at", "gave_up_at")
    search_fields = ("user_openid", "event")
    fields = (
        "app",
        "event",
        "user_openid",
        "occurred_at",
        "content",
        "created_at",
        "queued_at",
        "claimed_at",
        "processed_at",
        "attempts",
        "last_error",
        "gave_up_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from conversations.models import (
    Comment,
    CommentLabel,
    CommentSyncState,
    Label,
    ModerationRule,
    RuleRun,
    SavedReply,
    ThreadNote,
)
from later.admin import TenantAdmin


@admin.register(Comment)
class CommentAdmin(TenantAdmin):
    list_display = ["author_username", "text", "created_at_tiktok", "is_hidden", "is_own"]
    list_filter = ["is_hidden", "is_own", "is_pending"]
    search_fields = ["comment_id", "author_username", "text"]
    raw_id_fields = [
        "video",
        "account",
        "parent",
        "handled_by",
        "sent_by",
        "workspace",
        "assignee",
        "sentiment_override_by",
        "first_response_by",
    ]

    def get_queryset(self, request: HttpRequest) -> Any:
        return Comment.objects.unscoped().select_related("workspace")


@admin.register(CommentSyncState)
class CommentSyncStateAdmin(TenantAdmin):
    list_display = ["video", "newest_seen_at", "full_pass_at", "last_error"]
    raw_id_fields = ["video", "workspace"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return CommentSyncState.objects.unscoped()


class _WorkspaceOwnedAdmin(TenantAdmin):
    """Admin reads across workspaces on purpose (named bypass)."""

    def get_queryset(self, request: HttpRequest) -> Any:
        return self.model.objects.unscoped().select_related("workspace")


@admin.register(Label)
class LabelAdmin(_WorkspaceOwnedAdmin):
    list_display = ["name", "workspace", "color"]
    search_fields = ["name"]
    raw_id_fields = ["workspace"]


@admin.register(CommentLabel)
class CommentLabelAdmin(_WorkspaceOwnedAdmin):
    list_display = ["label", "comment", "rule", "created_at"]
    raw_id_fields = ["workspace", "comment", "label", "added_by", "rule"]


@admin.register(SavedReply)
class SavedReplyAdmin(_WorkspaceOwnedAdmin):
    list_display = ["title", "workspace", "updated_at"]
    search_fields = ["title", "text"]
    raw_id_fields = ["workspace", "created_by"]


@admin.register(ThreadNote)
class ThreadNoteAdmin(_WorkspaceOwnedAdmin):
    list_display = ["comment", "author", "created_at"]
    raw_id_fields = ["workspace", "comment", "author"]


@admin.register(ModerationRule)
class ModerationRuleAdmin(_WorkspaceOwnedAdmin):
    list_display = ["name", "workspace", "action", "is_enabled"]
    list_filter = ["action", "is_enabled"]
    raw_id_fields = ["workspace", "account", "label", "created_by"]


@admin.register(RuleRun)
class RuleRunAdmin(_WorkspaceOwnedAdmin):
    list_display = ["rule", "comment", "action", "status", "created_at"]
    list_filter = ["status", "action"]
    raw_id_fields = ["workspace", "rule", "comment", "undone_by"]

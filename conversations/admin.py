from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from conversations.models import Comment, CommentSyncState


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = ["author_username", "text", "created_at_tiktok", "is_hidden", "is_own"]
    list_filter = ["is_hidden", "is_own", "is_pending"]
    search_fields = ["comment_id", "author_username", "text"]
    raw_id_fields = ["video", "account", "parent", "handled_by", "sent_by", "workspace"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return Comment.objects.unscoped().select_related("workspace")


@admin.register(CommentSyncState)
class CommentSyncStateAdmin(admin.ModelAdmin[CommentSyncState]):
    list_display = ["video", "newest_seen_at", "full_pass_at", "last_error"]
    raw_id_fields = ["video", "workspace"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return CommentSyncState.objects.unscoped()

"""REST API for posts, media and creator info. Same services as the HTML views."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import TikTokAccount
from calendar_app import composer, selectors, services
from calendar_app.creators import creator_info_fetch
from calendar_app.hashtags import hashtag_suggestions
from calendar_app.media import UPLOAD_CUT_SHORT, MediaRejected, upload_cut_short
from calendar_app.models import MediaAsset, Post, PostMode, PrivacyLevel
from calendar_app.timezones import parse_local
from later.api import CursorPagination, WorkspaceAPIView, WorkspaceObjectAPIView, validated
from later.errors import ValidationFailed
from later.parsers import JSONParser
from later.schema import PAGE_PARAMETERS, cursor_page

# --- serializers ------------------------------------------------------------------------------


class AccountRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    color = serializers.CharField()


class PostSerializer(serializers.ModelSerializer):
    account = AccountRefSerializer(read_only=True)
    media_id = serializers.UUIDField(allow_null=True, read_only=True)
    photo_ids = serializers.SerializerMethodField(
        help_text="A photo post's images in order (empty for a video)."
    )

    class Meta:
        model = Post
        fields = [
            "id",
            "group_id",
            "account",
            "media_id",
            "caption",
            "post_mode",
            "privacy_level",
            "allow_comment",
            "allow_duet",
            "allow_stitch",
            "commercial_content",
            "brand_organic",
            "brand_content",
            "is_aigc",
            "cover_timestamp_ms",
            "photo_ids",
            "photo_cover_index",
            "title",
            "auto_add_music",
            "first_comment",
            "first_comment_status",
            "publish_api",
            "scheduled_at",
            "scheduled_local",
            "scheduled_tz",
            "status",
            "needs_attention",
            "approved_at",
            "approved_by_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_photo_ids(self, obj: Post) -> list[str]:
        return [str(p.media_id) for p in obj.photos.all()]


class TargetSerializer(serializers.Serializer):
    account_id = serializers.UUIDField()
    privacy_level = serializers.ChoiceField(
        choices=PrivacyLevel.choices, required=False, allow_blank=True, default=""
    )
    allow_comment = serializers.BooleanField(default=False)
    allow_duet = serializers.BooleanField(default=False)
    allow_stitch = serializers.BooleanField(default=False)


class _ContentFields(serializers.Serializer):
    caption = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    media_id = serializers.UUIDField(required=False, allow_null=True)
    post_mode = serializers.ChoiceField(choices=PostMode.choices, required=False)
    commercial_content = serializers.BooleanField(required=False)
    brand_organic = serializers.BooleanField(required=False, help_text="Your brand")
    brand_content = serializers.BooleanField(required=False, help_text="Branded content")
    is_aigc = serializers.BooleanField(required=False)
    cover_timestamp_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    photo_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=35,
        help_text="A photo carousel: 1-35 library images (JPEG/WebP) in the order TikTok shows "
        "them. The cover becomes media_id.",
    )
    photo_cover_index = serializers.IntegerField(
        required=False, min_value=0, max_value=34, help_text="0-based index of the cover photo."
    )
    title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=90,
        help_text="Photo posts: the title (at most 90 characters).",
    )
    auto_add_music = serializers.BooleanField(
        required=False, help_text="Photo posts: let TikTok add recommended music."
    )
    first_comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        help_text="Business accounts: posted from the account once the post is public.",
    )
    scheduled_local = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Wall-clock time in scheduled_tz, e.g. 2026-03-29T14:30.",
    )
    scheduled_tz = serializers.CharField(
        required=False, allow_blank=True, help_text="IANA zone; defaults to the workspace's."
    )
    fold = serializers.ChoiceField(
        choices=[0, 1],
        required=False,
        allow_null=True,
        help_text="For a repeated local time (clocks going back): 0 first, 1 second occurrence.",
    )
    schedule = serializers.BooleanField(
        default=True, help_text="false saves drafts (privacy may be left empty)."
    )
    acknowledge_warnings = serializers.BooleanField(
        default=False, help_text="Schedule even if TikTok's daily caps would probably refuse it."
    )
    submit_for_review = serializers.BooleanField(
        default=False,
        help_text="Schedule the post as “in review”: it publishes only once an owner, admin or "
        "client review link approves it. In a workspace that requires approval, an editor's "
        "scheduled posts go to review anyway.",
    )


class PostCreateSerializer(_ContentFields):
    targets = TargetSerializer(many=True, help_text="One post is created per account.")


class PostUpdateSerializer(_ContentFields):
    privacy_level = serializers.ChoiceField(
        choices=PrivacyLevel.choices, required=False, allow_blank=True
    )
    allow_comment = serializers.BooleanField(required=False)
    allow_duet = serializers.BooleanField(required=False)
    allow_stitch = serializers.BooleanField(required=False)


class RescheduleSerializer(serializers.Serializer):
    scheduled_local = serializers.CharField(help_text="e.g. 2026-03-29T14:30")
    scheduled_tz = serializers.CharField(required=False, allow_blank=True)
    fold = serializers.ChoiceField(choices=[0, 1], required=False, allow_null=True)


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = MediaAsset
        fields = [
            "id",
            "kind",
            "original_name",
            "content_type",
            "size_bytes",
            "sha256",
            "duration_seconds",
            "width",
            "height",
            "frame_rate",
            "url",
            "thumbnail_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, obj: MediaAsset) -> str | None:
        # Member-only download through the app, whatever the storage backend.
        return reverse("calendar_app:media_file", args=[obj.workspace_id, obj.id])

    def get_thumbnail_url(self, obj: MediaAsset) -> str | None:
        if not obj.thumbnail:
            return None
        return reverse("calendar_app:media_thumbnail", args=[obj.workspace_id, obj.id])


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CreatorInfoSerializer(serializers.Serializer):
    avatar_url = serializers.CharField()
    username = serializers.CharField()
    nickname = serializers.CharField()
    privacy_level_options = serializers.ListField(child=serializers.CharField())
    comment_disabled = serializers.BooleanField()
    duet_disabled = serializers.BooleanField()
    stitch_disabled = serializers.BooleanField()
    max_video_post_duration_sec = serializers.IntegerField()


# --- views ------------------------------------------------------------------------------------


class PostListApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="posts_list",
        parameters=[
            OpenApiParameter("account", str, description="TikTok account id"),
            OpenApiParameter("status", str, enum=list(selectors.STATUS_FILTERS)),
            OpenApiParameter("from", str, description="ISO datetime, inclusive (scheduled_at)"),
            OpenApiParameter("to", str, description="ISO datetime, exclusive"),
            *PAGE_PARAMETERS,
        ],
        responses=cursor_page(PostSerializer(many=True), name="PaginatedPostList"),
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        def when(name: str) -> datetime | None:
            raw = request.query_params.get(name)
            if not raw:
                return None
            try:
                value = datetime.fromisoformat(raw)
            except ValueError as exc:
                raise ValidationFailed(f"“{raw}” is not an ISO date-time.") from exc
            return value if value.tzinfo else value.replace(tzinfo=self.workspace.tz)

        qs = selectors.post_list(
            workspace=self.workspace,
            account_id=request.query_params.get("account"),
            status=request.query_params.get("status"),
            start=when("from"),
            end=when("to"),
        )
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(PostSerializer(page, many=True).data)

    @extend_schema(
        operation_id="posts_create",
        request=PostCreateSerializer,
        responses={201: PostSerializer(many=True)},
        description="Creates one post per target account (sharing a group_id). Scheduling "
        "validates against each creator's live creator_info.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(PostCreateSerializer, request.data)
        posts = services.post_create(
            workspace=self.workspace,
            user=self.user,
            content=composer.content_from_api(data, self.workspace),
            targets=[services.PostTarget(**t) for t in data["targets"]],
            schedule=data["schedule"] or data["submit_for_review"],
            acknowledge_warnings=data["acknowledge_warnings"],
            review=data["submit_for_review"],
        )
        posts = list(
            selectors.post_queryset(workspace=self.workspace).filter(pk__in=[p.pk for p in posts])
        )
        return Response(PostSerializer(posts, many=True).data, status=status.HTTP_201_CREATED)


class _PostApi(WorkspaceObjectAPIView[Post]):
    load = selectors.post_get

    def fresh(self, post: Post) -> Response:
        """The post as stored now (a service changed it)."""
        return Response(
            PostSerializer(selectors.post_get(workspace=self.workspace, post_id=post.pk)).data
        )


class PostDetailApi(_PostApi):
    @extend_schema(operation_id="posts_retrieve", responses=PostSerializer)
    def get(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        return Response(PostSerializer(self.object).data)

    @extend_schema(
        operation_id="posts_partial_update", request=PostUpdateSerializer, responses=PostSerializer
    )
    def patch(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        post = self.object
        data = validated(PostUpdateSerializer, request.data)
        content, target = services.post_content_of(post)
        content = composer.content_patched(content, data)
        target = composer.target_patched(target, data)
        schedule = data["schedule"] if "schedule" in request.data else post.status != "draft"
        post = services.post_update(
            workspace=self.workspace,
            post=post,
            content=content,
            target=target,
            schedule=schedule or data["submit_for_review"],
            acknowledge_warnings=data["acknowledge_warnings"],
            actor=self.user,
            review=data["submit_for_review"],
        )
        return self.fresh(post)

    @extend_schema(operation_id="posts_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        services.post_delete(workspace=self.workspace, post=self.object, actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostRescheduleApi(_PostApi):
    @extend_schema(
        operation_id="posts_reschedule", request=RescheduleSerializer, responses=PostSerializer
    )
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        data = validated(RescheduleSerializer, request.data)
        post = services.post_reschedule(
            workspace=self.workspace,
            post=self.object,
            scheduled_local=parse_local(data["scheduled_local"]),
            scheduled_tz=data.get("scheduled_tz") or self.workspace.time_zone,
            fold=data.get("fold"),
            actor=self.user,
        )
        return self.fresh(post)


class MediaListApi(WorkspaceAPIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="media_list",
        parameters=[OpenApiParameter("kind", str, enum=["video", "image"]), *PAGE_PARAMETERS],
        responses=cursor_page(MediaSerializer(many=True), name="PaginatedMediaList"),
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        qs = selectors.media_list(workspace=self.workspace, kind=request.query_params.get("kind"))
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(MediaSerializer(page, many=True).data)

    @extend_schema(
        operation_id="media_upload",
        request={"multipart/form-data": MediaUploadSerializer},
        responses={201: MediaSerializer},
        description="The type is detected from the file's content; duration, resolution and "
        "frame rate are read from the file and checked against TikTok's limits.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("Attach the file as multipart field “file”.")
        if upload_cut_short(request):
            raise MediaRejected(UPLOAD_CUT_SHORT)
        asset = services.media_upload(
            workspace=self.workspace,
            user=self.user,
            upload=upload,
            original_name=upload.name or "upload",
        )
        return Response(MediaSerializer(asset).data, status=status.HTTP_201_CREATED)


class MediaDetailApi(WorkspaceObjectAPIView[MediaAsset]):
    load = selectors.media_get

    @extend_schema(operation_id="media_retrieve", responses=MediaSerializer)
    def get(self, request: Request, workspace_id: Any, media_id: Any) -> Response:
        return Response(MediaSerializer(self.object).data)

    @extend_schema(operation_id="media_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, media_id: Any) -> Response:
        services.media_delete(workspace=self.workspace, media=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CreatorInfoApi(WorkspaceObjectAPIView[TikTokAccount]):
    load = selectors.account_get
    # Fetching creator_info is part of composing a post, so it needs the editor role.
    read_role = "editor"

    @extend_schema(
        operation_id="tiktok_account_creator_info",
        responses={
            200: CreatorInfoSerializer,
            409: inline_serializer("CreatorInfoError", {"error": serializers.DictField()}),
        },
        description="Live creator_info from TikTok (never cached): who is posting, the privacy "
        "options, disabled interactions and the creator's max video duration.",
    )
    def get(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        info = creator_info_fetch(account=self.object)
        return Response(CreatorInfoSerializer(dataclasses.asdict(info)).data)


class HashtagSuggestionSerializer(serializers.Serializer):
    name = serializers.CharField()
    view_count = serializers.IntegerField()


class HashtagSuggestionsApi(WorkspaceObjectAPIView[TikTokAccount]):
    load = selectors.account_get
    read_role = "editor"  # part of composing a post

    @extend_schema(
        operation_id="tiktok_account_hashtag_suggestions",
        parameters=[
            OpenApiParameter(
                "keyword", str, required=True, description="What follows # (1-100 characters)."
            ),
            OpenApiParameter("language", str, description="Language code, default en."),
        ],
        responses={
            200: inline_serializer(
                "HashtagSuggestions",
                {"suggestions": HashtagSuggestionSerializer(many=True)},
            ),
            409: inline_serializer("HashtagSuggestionsError", {"error": serializers.DictField()}),
        },
        description="Hashtags TikTok suggests for a keyword, most viewed first "
        "(/business/hashtag/suggestion/; Business accounts only, cached 15 min). 409 when the "
        "account has no Business connection or TikTok gives none right now.",
    )
    def get(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        language = str(request.query_params.get("language") or "en")[:8]
        found = hashtag_suggestions(
            account=self.object,
            keyword=str(request.query_params.get("keyword", "")),
            language=language,
        )
        return Response({"suggestions": found})

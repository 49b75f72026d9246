"""REST API of approvals. Same services as the HTML views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from calendar_app import selectors, services
from calendar_app.api import PostSerializer
from calendar_app.approvals import activity, links
from calendar_app.approvals import services as approvals
from calendar_app.approvals.versions import VersionDiff, version_history
from calendar_app.models import ActivityEntry, ActivityVerb, Post, PostComment, ReviewLink
from later.api import CursorPagination, WorkspaceAPIView, WorkspaceObjectAPIView, validated
from later.errors import ValidationFailed
from later.roles import Role
from later.schema import PAGE_PARAMETERS, cursor_page


class ApprovalSettingsSerializer(serializers.Serializer):
    approval_required = serializers.BooleanField(
        help_text="Posts scheduled by editors wait in review until an owner, admin or client "
        "review link approves them; unapproved posts are never published."
    )


class ApprovalSettingsResultSerializer(ApprovalSettingsSerializer):
    sent_to_review = serializers.IntegerField(
        help_text="Scheduled posts without an approval that were sent to review by this change."
    )


class ReviewLinkSerializer(serializers.ModelSerializer[ReviewLink]):
    url = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = ReviewLink
        fields = ("id", "name", "url", "expires_at", "revoked_at", "last_used_at", "active")
        read_only_fields = fields

    def get_url(self, link: ReviewLink) -> str:
        return links.review_link_url(link)

    def get_active(self, link: ReviewLink) -> bool:
        from django.utils import timezone

        return link.revoked_at is None and link.expires_at > timezone.now()


class ReviewLinkCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, help_text="Who the link is for.")
    days = serializers.IntegerField(
        min_value=1, max_value=links.LINK_DAYS_MAX, default=links.LINK_DAYS_DEFAULT
    )


class ActivitySerializer(serializers.ModelSerializer[ActivityEntry]):
    post_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = ActivityEntry
        fields = ("id", "created_at", "actor_name", "verb", "post_id", "subject", "detail")
        read_only_fields = fields


class InternalCommentSerializer(serializers.ModelSerializer[PostComment]):
    class Meta:
        model = PostComment
        fields = ("id", "created_at", "kind", "body", "author_name", "version_number")
        read_only_fields = fields


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=approvals.COMMENT_MAX, trim_whitespace=True)


class ApproveSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=approvals.COMMENT_MAX, required=False, allow_blank=True, default=""
    )


class SubmitSerializer(serializers.Serializer):
    acknowledge_warnings = serializers.BooleanField(default=False)


class SegmentSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["same", "added", "removed"])
    text = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    setting = serializers.CharField(source="label")
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(source="new.number")
    created_at = serializers.DateTimeField(source="new.created_at")
    author_name = serializers.CharField(source="new.author_name")
    caption = serializers.CharField(source="new.caption", allow_blank=True)
    options = serializers.DictField(source="new.options")
    caption_diff = SegmentSerializer(source="caption", many=True)
    changes = ChangeSerializer(many=True)


class ApprovalSettingsApi(WorkspaceAPIView):
    write_role = Role.ADMIN

    @extend_schema(operation_id="approval_settings_retrieve", responses=ApprovalSettingsSerializer)
    def get(self, request: Request, workspace_id: Any) -> Response:
        return Response({"approval_required": self.workspace.approval_required})

    @extend_schema(
        operation_id="approval_settings_update",
        request=ApprovalSettingsSerializer,
        responses=ApprovalSettingsResultSerializer,
    )
    def put(self, request: Request, workspace_id: Any) -> Response:
        data = validated(ApprovalSettingsSerializer, request.data)
        moved = approvals.approval_settings_update(
            workspace=self.workspace,
            actor=self.membership,
            approval_required=data["approval_required"],
        )
        return Response({"approval_required": data["approval_required"], "sent_to_review": moved})


class ReviewLinkListApi(WorkspaceAPIView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(operation_id="review_links_list", responses=ReviewLinkSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        rows = list(links.review_links(workspace=self.workspace)[:200])
        return Response(ReviewLinkSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="review_links_create",
        request=ReviewLinkCreateSerializer,
        responses={201: ReviewLinkSerializer},
        description="A signed link for a client without an account: it shows the posts in "
        "review (with a phone preview) and lets the holder approve, request changes or comment, "
        "nothing else. It stops working when it expires or is revoked.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(ReviewLinkCreateSerializer, request.data)
        link = links.review_link_create(
            workspace=self.workspace, actor=self.membership, name=data["name"], days=data["days"]
        )
        return Response(ReviewLinkSerializer(link).data, status=status.HTTP_201_CREATED)


class ReviewLinkDetailApi(WorkspaceObjectAPIView[ReviewLink]):
    load = links.review_link_get
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(operation_id="review_links_retrieve", responses=ReviewLinkSerializer)
    def get(self, request: Request, workspace_id: Any, link_id: Any) -> Response:
        return Response(ReviewLinkSerializer(self.object).data)

    @extend_schema(operation_id="review_links_revoke", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, link_id: Any) -> Response:
        links.review_link_revoke(workspace=self.workspace, actor=self.membership, link=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivityListApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="activity_list",
        parameters=[
            OpenApiParameter("verb", str, enum=list(ActivityVerb.values)),
            OpenApiParameter("post", str, description="Only entries about this post id"),
            *PAGE_PARAMETERS,
        ],
        responses=cursor_page(ActivitySerializer(many=True), name="PaginatedActivityList"),
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        post_id = request.query_params.get("post") or None
        if post_id:
            try:
                import uuid

                uuid.UUID(post_id)
            except ValueError as exc:
                raise ValidationFailed("“post” must be a post id.") from exc
        qs = activity.activity_list(
            workspace=self.workspace, verb=request.query_params.get("verb"), post_id=post_id
        )
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ActivitySerializer(page, many=True).data)


class _PostApi(WorkspaceObjectAPIView[Post]):
    load = selectors.post_get

    def fresh(self, post: Post) -> Response:
        return Response(
            PostSerializer(selectors.post_get(workspace=self.workspace, post_id=post.pk)).data
        )


class PostSubmitApi(_PostApi):
    @extend_schema(
        operation_id="posts_submit_for_review",
        request=SubmitSerializer,
        responses=PostSerializer,
        description="Schedule a draft (or failed) post as “in review”, with its stored "
        "settings and the same checks as scheduling.",
    )
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        data = validated(SubmitSerializer, request.data)
        post = services.post_schedule(
            workspace=self.workspace,
            post=self.object,
            acknowledge_warnings=data["acknowledge_warnings"],
            actor=self.user,
            review=True,
        )
        return self.fresh(post)


class PostApproveApi(_PostApi):
    write_role = Role.ADMIN

    @extend_schema(
        operation_id="posts_approve",
        request=ApproveSerializer,
        responses=PostSerializer,
        description="Approve a post in review; it will publish at its time. 409 "
        "`post_not_in_review` when it is not in review, 409 `review_time_passed` when its time "
        "has passed (move it first).",
    )
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        data = validated(ApproveSerializer, request.data)
        post = approvals.post_approve(
            workspace=self.workspace, post=self.object, user=self.user, note=data["note"]
        )
        return self.fresh(post)


class PostRequestChangesApi(_PostApi):
    write_role = Role.ADMIN

    @extend_schema(
        operation_id="posts_request_changes",
        request=CommentCreateSerializer,
        responses=PostSerializer,
        description="Send a post in review (or an approved one) back to draft with a comment.",
    )
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        data = validated(CommentCreateSerializer, request.data)
        post = approvals.post_request_changes(
            workspace=self.workspace, post=self.object, comment=data["body"], user=self.user
        )
        return self.fresh(post)


class PostCommentListApi(_PostApi):
    @extend_schema(
        operation_id="post_comments_list", responses=InternalCommentSerializer(many=True)
    )
    def get(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        rows = list(self.object.internal_comments.all())
        return Response(InternalCommentSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="post_comments_create",
        request=CommentCreateSerializer,
        responses={201: InternalCommentSerializer},
        description="An internal comment for the team; it is never sent to TikTok.",
    )
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        data = validated(CommentCreateSerializer, request.data)
        comment = approvals.post_comment_add(
            workspace=self.workspace, post=self.object, body=data["body"], user=self.user
        )
        return Response(InternalCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class PostVersionListApi(_PostApi):
    @extend_schema(
        operation_id="post_versions_list",
        responses=VersionSerializer(many=True),
        description="Every version of what goes to TikTok (caption, title, first comment, media "
        "and photo order, cover, music and settings), newest first, each with its difference "
        "from the one before.",
    )
    def get(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        diffs: list[VersionDiff] = version_history(self.object)
        return Response(VersionSerializer(diffs, many=True).data)

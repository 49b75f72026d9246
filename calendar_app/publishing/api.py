"""API of the publishing pipeline: timeline, retry, cancel, resolve an unconfirmed post."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from calendar_app import selectors
from calendar_app.models import Post, PostEvent
from calendar_app.publishing import actions, first_comment
from later.api import WorkspaceObjectAPIView


class PostEventSerializer(serializers.ModelSerializer[PostEvent]):
    class Meta:
        model = PostEvent
        fields = ("id", "kind", "message", "data", "created_at")


class PublishingStateSerializer(serializers.ModelSerializer[Post]):
    can_retry = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()
    video_id = serializers.CharField(source="tiktok_post_id")
    share_url = serializers.CharField(source="tiktok_share_url")

    class Meta:
        model = Post
        fields = (
            "id",
            "status",
            "post_mode",
            "scheduled_at",
            "published_at",
            "attempts",
            "publish_id",
            "tiktok_status",
            "bytes_uploaded",
            "bytes_total",
            "chunks_uploaded",
            "chunks_total",
            "fail_code",
            "fail_message",
            "needs_attention",
            "first_comment_status",
            "video_id",
            "share_url",
            "can_retry",
            "can_cancel",
        )

    def get_can_retry(self, post: Post) -> bool:
        return actions.post_can_retry(post)

    def get_can_cancel(self, post: Post) -> bool:
        return actions.post_can_cancel(post)


class TimelineSerializer(serializers.Serializer[Any]):
    """Documents the response of every publishing endpoint: the post's state and its events."""

    post = PublishingStateSerializer()
    events = PostEventSerializer(many=True)


def _timeline_body(post: Post) -> dict[str, Any]:
    return {
        "post": PublishingStateSerializer(post).data,
        "events": PostEventSerializer(post.events.all(), many=True).data,
    }


class _PostPublishingApi(WorkspaceObjectAPIView[Post]):
    load = selectors.post_timeline

    def timeline(self) -> Response:
        """The post's state and events as they are now (after an action changed them)."""
        post = selectors.post_timeline(workspace=self.workspace, post_id=self.object.pk)
        return Response(_timeline_body(post))


class PostTimelineAPI(_PostPublishingApi):
    @extend_schema(responses=TimelineSerializer)
    def get(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        return Response(_timeline_body(self.object))


class PostRetryAPI(_PostPublishingApi):
    @extend_schema(request=None, responses=TimelineSerializer)
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        actions.post_publish_retry(
            workspace=self.workspace, post_id=self.object.pk, actor=self.user
        )
        return self.timeline()


class PostCancelAPI(_PostPublishingApi):
    @extend_schema(request=None, responses=TimelineSerializer)
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        actions.post_publish_cancel(
            workspace=self.workspace, post_id=self.object.pk, actor=self.user
        )
        return self.timeline()


class ResolveSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=actions.RESOLVE_OUTCOMES)


class PostResolveAPI(_PostPublishingApi):
    @extend_schema(request=ResolveSerializer, responses=TimelineSerializer)
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.post_publish_resolve(
            workspace=self.workspace,
            post_id=self.object.pk,
            actor=self.user,
            outcome=body.validated_data["outcome"],
        )
        return self.timeline()


class PostFirstCommentSettleAPI(_PostPublishingApi):
    """A failed first comment, or one stuck in "posting" (its worker died mid-send): looked up
    through the Business comment list; marked posted if it is there, posted again only if it
    certainly is not. 409 while a send may still be running."""

    @extend_schema(request=None, responses=TimelineSerializer)
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        first_comment.first_comment_settle(
            workspace=self.workspace, post_id=self.object.pk, actor=self.user
        )
        return self.timeline()

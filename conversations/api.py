"""REST API for comments: the same selectors and services as the HTML views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from conversations import selectors, services, teamwork
from conversations.models import BULK_MAX_IDS, Comment, Sentiment
from conversations.teamwork import TEAM_BULK_ACTIONS, comments_team_bulk
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView
from later.errors import ValidationFailed


class CommentSerializer(serializers.ModelSerializer[Comment]):
    video = serializers.SerializerMethodField()
    account = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    is_read = serializers.BooleanField(read_only=True)
    is_handled = serializers.BooleanField(read_only=True)
    assignee = serializers.SerializerMethodField()
    labels = serializers.SerializerMethodField()
    # "" while the comment waits for triage (`triage_pending`) and no person set one.
    effective_sentiment = serializers.ChoiceField(
        choices=Sentiment.choices, allow_blank=True, read_only=True
    )
    # Declared, not derived: a derived read-only field loses allow_blank, and the schema would then
    # promise an enum that the empty value ("not analysed", "no override") breaks.
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, allow_blank=True, read_only=True)
    sentiment_override = serializers.ChoiceField(
        choices=Sentiment.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Comment
        fields = [
            "id",
            "comment_id",
            "parent_id",
            "video",
            "account",
            "author",
            "text",
            "created_at_tiktok",
            "like_count",
            "reply_count",
            "is_hidden",
            "is_pinned",
            "is_own",
            "liked",
            "is_read",
            "read_at",
            "is_handled",
            "handled_at",
            "is_pending",
            "pending_error",
            "assignee",
            "assigned_at",
            "labels",
            "triage_pending",
            "is_question",
            "sentiment",
            "sentiment_score",
            "sentiment_override",
            "effective_sentiment",
            "language",
            "priority",
            "first_response_at",
        ]
        read_only_fields = fields

    def get_assignee(self, obj: Comment) -> dict[str, str] | None:
        if obj.assignee is None:
            return None
        return {"id": str(obj.assignee.public_id), "email": obj.assignee.email}

    def get_labels(self, obj: Comment) -> list[dict[str, str]]:
        links = getattr(obj, "labels_shown", None)
        if links is None:
            links = list(obj.label_links.select_related("label").order_by("label__name"))
        return [{"id": str(link.label_id), "name": link.label.name} for link in links]

    def get_video(self, obj: Comment) -> dict[str, Any]:
        return {"id": str(obj.video_id), "video_id": obj.video.video_id}

    def get_account(self, obj: Comment) -> dict[str, Any]:
        return {"id": str(obj.account_id), "username": obj.account.username}

    def get_author(self, obj: Comment) -> dict[str, str]:
        return {
            "key": obj.author_key,
            "username": obj.author_username,
            "display_name": obj.author_display_name,
            "avatar_url": obj.author_avatar_url,
        }


class ReplySerializer(serializers.Serializer[Any]):
    # No max_length here: the service counts it and words the error.
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


BULK_ACTION_CHOICES = [*services.BULK_ACTIONS, *TEAM_BULK_ACTIONS]


class BulkSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, max_length=BULK_MAX_IDS
    )
    action = serializers.ChoiceField(choices=BULK_ACTION_CHOICES)
    label_id = serializers.UUIDField(required=False, allow_null=True, help_text="For label/unlabel")
    assignee = serializers.UUIDField(
        required=False, allow_null=True, help_text="For assign: a member's user id; null unassigns"
    )


class CommentPageSerializer(serializers.Serializer[Any]):
    results = CommentSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def _flag_serializer(name: str) -> type[serializers.Serializer[Any]]:
    field = serializers.BooleanField(default=True)
    return type(f"{name.title()}FlagSerializer", (serializers.Serializer,), {name: field})


HiddenSerializer = _flag_serializer("hidden")
LikedSerializer = _flag_serializer("liked")
HandledSerializer = _flag_serializer("handled")
ReadSerializer = _flag_serializer("read")


class BulkFailureSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer[Any]):
    done = serializers.IntegerField()
    failures = BulkFailureSerializer(many=True)


LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=list(selectors.STATUS_FILTERS)),
    OpenApiParameter("order", str, enum=list(selectors.ORDERS)),
    OpenApiParameter("assignee", str, description="mine, none, or a member's user id"),
    OpenApiParameter("label", str, description="Label id"),
    OpenApiParameter("sentiment", str, enum=list(selectors.SENTIMENT_FILTERS[1:])),
    OpenApiParameter("q", str, description="Search in text and author names"),
    OpenApiParameter("account", str, description="TikTok account id"),
    OpenApiParameter("video", str, description="Video id"),
    OpenApiParameter("author", str, description="Author key (TikTok unique_identifier)"),
    OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
    OpenApiParameter("page_size", int),
    OpenApiParameter("include_own", bool, description="Include the account's own replies"),
]


def _flag(request: Request, name: str) -> bool:
    value = request.data.get(name, True) if hasattr(request.data, "get") else True
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"“{name}” must be true or false.")


class CommentListApi(WorkspaceAPIView):
    """Newest first, keyset-paginated: pass `next_cursor` back as `cursor`."""

    @extend_schema(
        operation_id="comments_list", parameters=LIST_PARAMETERS, responses=CommentPageSerializer
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        filters = selectors.InboxFilters.parse(request.query_params)
        try:
            page_size = int(request.query_params.get("page_size", selectors.PAGE_SIZE))
        except ValueError as exc:
            raise ValidationFailed("page_size must be a number.") from exc
        qs = selectors.comments_base(workspace=self.workspace)
        if request.query_params.get("include_own") != "true":
            qs = qs.filter(is_own=False)
        qs = selectors.ordered(selectors.apply_filters(qs, filters, user=self.user), filters)
        page = selectors.keyset_page(
            selectors.with_team_details(qs, workspace=self.workspace),
            cursor=request.query_params.get("cursor") or None,
            page_size=page_size,
            ranked_by=selectors.ranking(filters),
        )
        return Response(
            {
                "results": CommentSerializer(page.comments, many=True).data,
                "next_cursor": page.next_cursor,
            }
        )


class _CommentApi(WorkspaceObjectAPIView[Comment]):
    load = selectors.comment_get

    def ok(self, comment: Comment, status: int = 200) -> Response:
        comment.refresh_from_db()
        return Response(CommentSerializer(comment).data, status=status)


class CommentDetailApi(_CommentApi):
    @extend_schema(operation_id="comments_retrieve", responses=CommentSerializer)
    def get(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        return Response(CommentSerializer(self.object).data)

    @extend_schema(operation_id="comments_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        services.comment_delete(comment=self.object)
        return Response(status=204)


class CommentReplyApi(_CommentApi):
    @extend_schema(
        operation_id="comments_reply", request=ReplySerializer, responses={201: CommentSerializer}
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        comment = self.object
        body = ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reply = services.comment_reply(
            comment=comment,
            text=body.validated_data["text"],
            user=self.user,
        )
        return Response(CommentSerializer(reply).data, status=201)


class CommentHideApi(_CommentApi):
    @extend_schema(
        operation_id="comments_hide", request=HiddenSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        comment = self.object
        services.comment_set_hidden(
            comment=comment,
            hidden=_flag(request, "hidden"),
            user=self.user,
        )
        return self.ok(comment)


class CommentLikeApi(_CommentApi):
    @extend_schema(
        operation_id="comments_like", request=LikedSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        comment = self.object
        services.comment_set_liked(comment=comment, liked=_flag(request, "liked"))
        return self.ok(comment)


class CommentHandledApi(_CommentApi):
    @extend_schema(
        operation_id="comments_handled", request=HandledSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        comment = self.object
        services.comments_mark_handled(
            workspace=self.workspace,
            comments=[comment],
            handled=_flag(request, "handled"),
            user=self.user,
        )
        return self.ok(comment)


class CommentReadApi(_CommentApi):
    @extend_schema(
        operation_id="comments_read", request=ReadSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        comment = self.object
        services.comments_mark_read(
            workspace=self.workspace, comments=[comment], read=_flag(request, "read")
        )
        return self.ok(comment)


class CommentBulkApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="comments_bulk", request=BulkSerializer, responses=BulkResultSerializer
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comments = selectors.comments_by_ids(
            workspace=self.workspace, ids=body.validated_data["ids"]
        )
        action = body.validated_data["action"]
        if action in TEAM_BULK_ACTIONS:
            raw_label = body.validated_data.get("label_id")
            raw_assignee = body.validated_data.get("assignee")
            result = comments_team_bulk(
                workspace=self.workspace,
                comments=comments,
                action=action,
                user=self.user,
                label=teamwork.label_get(workspace=self.workspace, label_id=raw_label)
                if raw_label
                else None,
                assignee=teamwork.assignable_member(
                    workspace=self.workspace, public_id=raw_assignee
                )
                if raw_assignee
                else None,
            )
        else:
            result = services.comments_bulk_action(
                workspace=self.workspace,
                comments=comments,
                action=action,
                user=self.user,
            )
        return Response(
            {
                "done": result.done,
                "failures": [
                    {"id": str(comment.pk), "message": message}
                    for comment, message in result.failures
                ],
            }
        )

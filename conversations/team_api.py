"""REST API for team work: the same services as the HTML (assignment, labels, notes,
sentiment override, saved replies, moderation rules with dry run, response times)."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, TikTokAccount
from conversations import response_times as rt
from conversations import rules, selectors, teamwork
from conversations.api import CommentSerializer, _CommentApi
from conversations.models import (
    Label,
    ModerationRule,
    RuleAction,
    RuleRun,
    SavedReply,
    Sentiment,
    ThreadNote,
)
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView
from later.errors import NotFound, ValidationFailed

# --------------------------------------------------------------------------- serializers


class LabelSerializer(serializers.ModelSerializer[Label]):
    class Meta:
        model = Label
        fields = ["id", "name", "color", "created_at"]
        read_only_fields = fields


class LabelCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    color = serializers.CharField(allow_blank=True, required=False, default="")


class SavedReplySerializer(serializers.ModelSerializer[SavedReply]):
    class Meta:
        model = SavedReply
        fields = ["id", "title", "text", "created_at", "updated_at"]
        read_only_fields = fields


class SavedReplyWriteSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(allow_blank=True, trim_whitespace=False)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class RenderedReplySerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    length = serializers.IntegerField()
    max_length = serializers.IntegerField()


class NoteSerializer(serializers.ModelSerializer[ThreadNote]):
    author = serializers.SerializerMethodField()
    thread_id = serializers.UUIDField(source="comment_id", read_only=True)

    class Meta:
        model = ThreadNote
        fields = ["id", "thread_id", "author", "text", "created_at"]
        read_only_fields = fields

    def get_author(self, obj: ThreadNote) -> str | None:
        return obj.author.email if obj.author else None


class NoteCreateSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    client_token = serializers.UUIDField(
        required=False, allow_null=True, help_text="Repeat it on a retry: the note is stored once"
    )


class AssignSerializer(serializers.Serializer[Any]):
    assignee = serializers.UUIDField(
        allow_null=True, help_text="The member's user id (public id); null unassigns"
    )
    thread = serializers.BooleanField(default=False, help_text="Assign the whole thread")


class CommentLabelSerializer(serializers.Serializer[Any]):
    label_id = serializers.UUIDField()
    add = serializers.BooleanField(default=True)


class SentimentSerializer(serializers.Serializer[Any]):
    sentiment = serializers.ChoiceField(
        choices=Sentiment.choices, allow_blank=True, help_text="Empty clears the override"
    )


class RuleSerializer(serializers.ModelSerializer[ModerationRule]):
    class Meta:
        model = ModerationRule
        fields = [
            "id",
            "name",
            "account_id",
            "action",
            "label_id",
            "blocked_words",
            "block_links",
            "blocked_authors",
            "is_enabled",
            "created_at",
        ]
        read_only_fields = fields


class RuleWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    action = serializers.ChoiceField(choices=RuleAction.values, default=RuleAction.HIDE)
    label_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    account_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    blocked_words = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, default=list
    )
    block_links = serializers.BooleanField(default=False)
    blocked_authors = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, default=list
    )
    is_enabled = serializers.BooleanField(default=False)


class DryRunSampleSerializer(serializers.Serializer[Any]):
    comment = CommentSerializer()
    reason = serializers.CharField()


class DryRunSerializer(serializers.Serializer[Any]):
    days = serializers.IntegerField()
    scanned = serializers.IntegerField()
    matched = serializers.IntegerField()
    already_hidden = serializers.IntegerField()
    truncated = serializers.BooleanField()
    samples = DryRunSampleSerializer(many=True)


class RuleRunSerializer(serializers.ModelSerializer[RuleRun]):
    rule = serializers.UUIDField(source="rule_id", read_only=True)
    comment = serializers.UUIDField(source="comment_id", read_only=True)

    class Meta:
        model = RuleRun
        fields = ["id", "rule", "comment", "action", "status", "error", "created_at", "undone_at"]
        read_only_fields = fields


class FiguresSerializer(serializers.Serializer[Any]):
    threads = serializers.IntegerField()
    answered = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)
    questions = serializers.IntegerField()
    questions_answered = serializers.IntegerField()
    questions_answered_share = serializers.FloatField(allow_null=True)
    unanswered_questions_over_24h = serializers.IntegerField()


class ResponseRowSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField()
    figures = FiguresSerializer()


class ResponseTimesSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    # The period as asked: a preset's days (null for a chosen period) and its first and last
    # day in the workspace's time zone.
    days = serializers.IntegerField(source="period.days", allow_null=True)
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end")
    overall = FiguresSerializer()
    by_account = ResponseRowSerializer(many=True)
    by_member = ResponseRowSerializer(many=True)


def _valid(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    body = serializer_class(data=data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


# --------------------------------------------------------------------------- comments


class CommentAssignApi(_CommentApi):
    @extend_schema(
        operation_id="comments_assign", request=AssignSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        data = _valid(AssignSerializer, request.data)
        assignee = (
            teamwork.assignable_member(workspace=self.workspace, public_id=data["assignee"])
            if data["assignee"]
            else None
        )
        teamwork.comments_assign(
            workspace=self.workspace,
            comments=[self.object],
            assignee=assignee,
            by=self.user,
            whole_thread=data["thread"],
        )
        return self.ok(self.object)


class CommentLabelApi(_CommentApi):
    @extend_schema(
        operation_id="comments_label", request=CommentLabelSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        data = _valid(CommentLabelSerializer, request.data)
        label = teamwork.label_get(workspace=self.workspace, label_id=data["label_id"])
        teamwork.comments_label(
            workspace=self.workspace,
            comments=[self.object],
            label=label,
            add=data["add"],
            user=self.user,
        )
        return self.ok(self.object)


class CommentSentimentApi(_CommentApi):
    @extend_schema(
        operation_id="comments_sentiment", request=SentimentSerializer, responses=CommentSerializer
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        data = _valid(SentimentSerializer, request.data)
        teamwork.comment_set_sentiment(
            comment=self.object,
            sentiment=data["sentiment"],
            user=self.user,
        )
        return self.ok(self.object)


class CommentNotesApi(_CommentApi):
    @extend_schema(operation_id="comments_notes_list", responses=NoteSerializer(many=True))
    def get(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        notes = (
            ThreadNote.objects.for_workspace(self.workspace)
            .filter(comment_id=self.object.thread_root_id)
            .select_related("author")
            .order_by("created_at")
        )
        return Response(NoteSerializer(notes, many=True).data)

    @extend_schema(
        operation_id="comments_notes_create",
        request=NoteCreateSerializer,
        responses={201: NoteSerializer},
    )
    def post(self, request: Request, workspace_id: Any, comment_id: Any) -> Response:
        data = _valid(NoteCreateSerializer, request.data)
        note = teamwork.thread_note_add(
            comment=self.object,
            author=self.user,
            text=data["text"],
            client_token=data.get("client_token"),
        )
        return Response(NoteSerializer(note).data, status=201)


# --------------------------------------------------------------------------- labels


class LabelListApi(WorkspaceAPIView):
    @extend_schema(operation_id="labels_list", responses=LabelSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        labels = selectors.workspace_labels(workspace=self.workspace)
        return Response(LabelSerializer(labels, many=True).data)

    @extend_schema(
        operation_id="labels_create",
        request=LabelCreateSerializer,
        responses={201: LabelSerializer},
        description="Idempotent on the name: the same name returns the existing label.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = _valid(LabelCreateSerializer, request.data)
        label = teamwork.label_create(
            workspace=self.workspace, name=data["name"], color=data["color"]
        )
        return Response(LabelSerializer(label).data, status=201)


class LabelDetailApi(WorkspaceObjectAPIView[Label]):
    load = teamwork.label_get

    @extend_schema(operation_id="labels_retrieve", responses=LabelSerializer)
    def get(self, request: Request, workspace_id: Any, label_id: Any) -> Response:
        return Response(LabelSerializer(self.object).data)

    @extend_schema(operation_id="labels_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, label_id: Any) -> Response:
        self.object.delete()
        return Response(status=204)


# --------------------------------------------------------------------------- saved replies


class SavedReplyListApi(WorkspaceAPIView):
    @extend_schema(operation_id="saved_replies_list", responses=SavedReplySerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        replies = selectors.workspace_saved_replies(workspace=self.workspace)
        return Response(SavedReplySerializer(replies, many=True).data)

    @extend_schema(
        operation_id="saved_replies_create",
        request=SavedReplyWriteSerializer,
        responses={201: SavedReplySerializer},
        description="Placeholders: {name}, {username}, {account}. The same title and text "
        "again returns the stored reply.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = _valid(SavedReplyWriteSerializer, request.data)
        reply = teamwork.saved_reply_create(
            workspace=self.workspace,
            title=data["title"],
            text=data["text"],
            user=self.user,
        )
        return Response(SavedReplySerializer(reply).data, status=201)


class SavedReplyDetailApi(WorkspaceObjectAPIView[SavedReply]):
    load = selectors.saved_reply_get

    @extend_schema(operation_id="saved_replies_retrieve", responses=SavedReplySerializer)
    def get(self, request: Request, workspace_id: Any, saved_reply_id: Any) -> Response:
        return Response(SavedReplySerializer(self.object).data)

    @extend_schema(
        operation_id="saved_replies_update",
        request=SavedReplyWriteSerializer,
        responses=SavedReplySerializer,
    )
    def put(self, request: Request, workspace_id: Any, saved_reply_id: Any) -> Response:
        data = _valid(SavedReplyWriteSerializer, request.data)
        reply = teamwork.saved_reply_update(
            saved_reply=self.object, title=data["title"], text=data["text"]
        )
        return Response(SavedReplySerializer(reply).data)

    @extend_schema(operation_id="saved_replies_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, saved_reply_id: Any) -> Response:
        self.object.delete()
        return Response(status=204)


class SavedReplyRenderApi(WorkspaceObjectAPIView[SavedReply]):
    load = selectors.saved_reply_get

    @extend_schema(
        operation_id="saved_replies_render",
        parameters=[OpenApiParameter("comment", str, required=True, description="Comment id")],
        responses=RenderedReplySerializer,
    )
    def get(self, request: Request, workspace_id: Any, saved_reply_id: Any) -> Response:
        comment_id = selectors.uuid_or_none(request.query_params.get("comment"))
        if comment_id is None:
            raise ValidationFailed("Pass the comment the reply is for as ?comment=<id>.")
        comment = selectors.comment_get(workspace=self.workspace, comment_id=comment_id)
        text = teamwork.saved_reply_render(text=self.object.text, comment=comment)
        return Response({"text": text, "length": len(text), "max_length": teamwork.REPLY_MAX_CHARS})


# --------------------------------------------------------------------------- rules


def _rule_input(workspace: Any, data: dict[str, Any]) -> rules.RuleInput:
    label_id, account_id = data["label_id"], data["account_id"]
    label = teamwork.label_get(workspace=workspace, label_id=label_id) if label_id else None
    account = None
    if account_id:
        account = TikTokAccount.objects.for_workspace(workspace).filter(pk=account_id).first()
        if account is None:
            raise NotFound("This account does not exist in this workspace.")
    return rules.RuleInput.clean(
        name=data["name"],
        action=data["action"],
        label=label,
        account=account,
        blocked_words=data["blocked_words"],
        block_links=data["block_links"],
        blocked_authors=data["blocked_authors"],
        is_enabled=data["is_enabled"],
    )


class RuleListApi(WorkspaceAPIView):
    write_role = Role.ADMIN

    @extend_schema(operation_id="moderation_rules_list", responses=RuleSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        return Response(
            RuleSerializer(selectors.workspace_rules(workspace=self.workspace), many=True).data
        )

    @extend_schema(
        operation_id="moderation_rules_create",
        request=RuleWriteSerializer,
        responses={201: RuleSerializer},
        description="Idempotent on the name: the same rule again returns the stored one.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = _rule_input(self.workspace, _valid(RuleWriteSerializer, request.data))
        rule = rules.moderation_rule_create(
            workspace=self.workspace,
            data=data,
            user=self.user,
        )
        return Response(RuleSerializer(rule).data, status=201)


class RuleDryRunApi(WorkspaceAPIView):
    # A dry run writes nothing: any member may ask what a rule would do.
    write_role = Role.VIEWER

    @extend_schema(
        operation_id="moderation_rules_dry_run",
        request=RuleWriteSerializer,
        responses=DryRunSerializer,
        description="What the rule would have done to the last 30 days of comments. Saves nothing.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = _rule_input(self.workspace, _valid(RuleWriteSerializer, request.data))
        result = rules.moderation_rule_dry_run(workspace=self.workspace, spec=data.spec)
        return Response(
            {
                "days": rules.DRY_RUN_DAYS,
                "scanned": result.scanned,
                "matched": result.matched,
                "already_hidden": result.already_hidden,
                "truncated": result.truncated,
                "samples": [
                    {"comment": CommentSerializer(c).data, "reason": reason}
                    for c, reason in result.samples
                ],
            }
        )


class RuleDetailApi(WorkspaceObjectAPIView[ModerationRule]):
    write_role = Role.ADMIN
    load = rules.moderation_rule_get

    @extend_schema(operation_id="moderation_rules_retrieve", responses=RuleSerializer)
    def get(self, request: Request, workspace_id: Any, rule_id: Any) -> Response:
        return Response(RuleSerializer(self.object).data)

    @extend_schema(
        operation_id="moderation_rules_update",
        request=RuleWriteSerializer,
        responses=RuleSerializer,
    )
    def put(self, request: Request, workspace_id: Any, rule_id: Any) -> Response:
        data = _rule_input(self.workspace, _valid(RuleWriteSerializer, request.data))
        return Response(
            RuleSerializer(rules.moderation_rule_update(rule=self.object, data=data)).data
        )

    @extend_schema(operation_id="moderation_rules_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, rule_id: Any) -> Response:
        self.object.delete()
        return Response(status=204)


class RuleRunUndoApi(WorkspaceObjectAPIView[RuleRun]):
    load = rules.rule_run_get

    @extend_schema(operation_id="rule_runs_undo", request=None, responses=RuleRunSerializer)
    def post(self, request: Request, workspace_id: Any, run_id: Any) -> Response:
        run = rules.rule_run_undo(run=self.object, user=self.user)
        return Response(RuleRunSerializer(run).data)


# --------------------------------------------------------------------------- response times


class ResponseTimesApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="response_times",
        parameters=[
            OpenApiParameter("days", int, enum=list(rt.PERIODS)),
            OpenApiParameter(
                "start",
                OpenApiTypes.DATE,
                description="First day of a chosen period (YYYY-MM-DD, the workspace's time "
                f"zone); with `end`, replaces `days`. At most {rt.MAX_PERIOD_DAYS} days.",
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATE, description="Last day of a chosen period (included)."
            ),
            OpenApiParameter("account", str, description="TikTok account id"),
        ],
        responses=ResponseTimesSerializer,
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        period = rt.period_parse(
            workspace=self.workspace,
            days=request.query_params.get("days"),
            start=request.query_params.get("start"),
            end=request.query_params.get("end"),
        )
        raw_account = request.query_params.get("account")
        account_id: uuid.UUID | None = selectors.uuid_or_none(raw_account)
        if raw_account and account_id is None:
            raise ValidationFailed("The account filter is not a valid id.")
        report = rt.response_times(workspace=self.workspace, period=period, account_id=account_id)
        return Response(ResponseTimesSerializer(report).data)

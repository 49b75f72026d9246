"""REST API of the planner: calendar notes, posting slots and the queue, caption templates and
hashtag groups, bulk drafts and CSV imports. Same services as the HTML views."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import TikTokAccount
from calendar_app import bulk, composer, library, queue, selectors, services
from calendar_app.api import PostCreateSerializer, PostSerializer
from calendar_app.models import CalendarNote, CaptionTemplate, HashtagGroup, Post, PostImport
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView, validated
from later.errors import ValidationFailed


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            f"“{raw}” is not a date like 2026-12-01.", code="invalid_date"
        ) from None
    if not 1900 <= value.year <= 2200:
        raise ValidationFailed(f"{name} must be between 1900 and 2200.", code="invalid_date")
    return value


# --- calendar notes ---------------------------------------------------------------------------


class CalendarNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarNote
        fields = ["id", "day", "text", "created_at"]
        read_only_fields = ["id", "created_at"]


class CalendarNoteCreateSerializer(serializers.Serializer):
    day = serializers.DateField()
    text = serializers.CharField(max_length=services.MAX_NOTE_LENGTH, trim_whitespace=True)


class NoteListApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="calendar_notes_list",
        parameters=[
            OpenApiParameter("start", str, description="first day, YYYY-MM-DD (default: today)"),
            OpenApiParameter("end", str, description="day after the last, YYYY-MM-DD"),
        ],
        responses=CalendarNoteSerializer(many=True),
        description="Notes on the calendar days [start, end), at most 400 days.",
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        from django.utils import timezone

        today = timezone.localtime(timezone.now(), self.workspace.tz).date()
        start = _day(request.query_params.get("start"), "start") or today
        end = _day(request.query_params.get("end"), "end") or date.fromordinal(
            start.toordinal() + 31
        )
        if end <= start or (end - start).days > 400:
            raise ValidationFailed("end must come after start, at most 400 days later.")
        by_day = selectors.note_list(workspace=self.workspace, start=start, end=end)
        notes = [n for day in sorted(by_day) for n in by_day[day]]
        return Response(CalendarNoteSerializer(notes, many=True).data)

    @extend_schema(
        operation_id="calendar_notes_create",
        request=CalendarNoteCreateSerializer,
        responses={201: CalendarNoteSerializer},
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(CalendarNoteCreateSerializer, request.data)
        if not 1900 <= data["day"].year <= 2200:
            raise ValidationFailed("day must be between 1900 and 2200.", code="invalid_date")
        note = services.note_create(
            workspace=self.workspace, user=self.user, day=data["day"], text=data["text"]
        )
        return Response(CalendarNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class NoteDetailApi(WorkspaceObjectAPIView[CalendarNote]):
    load = selectors.note_get

    @extend_schema(operation_id="calendar_notes_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, note_id: Any) -> Response:
        services.note_delete(workspace=self.workspace, note=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- posting slots and the queue --------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:30"}
)
class WallClockTimeField(serializers.TimeField):
    """A wall-clock "HH:MM" in the workspace time zone (not an RFC 3339 time: no offset)."""


class SlotSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday")
    time = WallClockTimeField(format="%H:%M", help_text="wall-clock, workspace time zone")


class SlotsSerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)


class SlotsResponseSerializer(serializers.Serializer):
    account_id = serializers.UUIDField()
    time_zone = serializers.CharField()
    slots = SlotSerializer(many=True)
    next_free = serializers.CharField(
        allow_null=True, help_text="next free slot, wall-clock ISO in time_zone"
    )


class QueueSerializer(serializers.Serializer):
    acknowledge_warnings = serializers.BooleanField(default=False)


class PostQueueCreateSerializer(PostCreateSerializer):
    """The composer's fields; the time comes from each account's next free slot."""


class PostingSlotsApi(WorkspaceObjectAPIView[TikTokAccount]):
    load = selectors.account_get

    def _body(self, account: TikTokAccount, slots: list[queue.SlotTime]) -> dict[str, Any]:
        next_free = None
        if slots:
            try:
                next_free = queue.queue_next_free(
                    workspace=self.workspace, account=account
                ).local_iso
            except queue.QueueFull:
                next_free = None
        return {
            "account_id": account.pk,
            "time_zone": self.workspace.time_zone,
            "slots": [{"weekday": s.weekday, "time": s.time} for s in slots],
            "next_free": next_free,
        }

    @extend_schema(operation_id="posting_slots_retrieve", responses=SlotsResponseSerializer)
    def get(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        slots = queue.slot_list(workspace=self.workspace, account=self.object)
        return Response(SlotsResponseSerializer(self._body(self.object, slots)).data)

    @extend_schema(
        operation_id="posting_slots_update",
        request=SlotsSerializer,
        responses=SlotsResponseSerializer,
        description="Replaces the account's weekly slots. Posts already scheduled keep their "
        "times. At most 15 slots per weekday (TikTok's daily cap).",
    )
    def put(self, request: Request, workspace_id: Any, account_id: Any) -> Response:
        data = validated(SlotsSerializer, request.data)
        kept = queue.slots_replace(
            workspace=self.workspace,
            account=self.object,
            slots=[queue.SlotTime(weekday=s["weekday"], time=s["time"]) for s in data["slots"]],
        )
        return Response(SlotsResponseSerializer(self._body(self.object, kept)).data)


class PostQueueApi(WorkspaceObjectAPIView[Post]):
    load = selectors.post_get

    @extend_schema(
        operation_id="posts_add_to_queue",
        request=QueueSerializer,
        responses=PostSerializer,
        description="Schedules the post, with its stored settings, into its account's next free "
        "posting slot (its own slot counts as free). No other post moves. 400 "
        "no_posting_slots, 409 queue_full when every slot of the next 92 days is taken.",
    )
    def post(self, request: Request, workspace_id: Any, post_id: Any) -> Response:
        data = validated(QueueSerializer, request.data)
        post = queue.post_add_to_queue(
            workspace=self.workspace,
            post=self.object,
            acknowledge_warnings=data["acknowledge_warnings"],
            actor=self.user,
        )
        return Response(
            PostSerializer(selectors.post_get(workspace=self.workspace, post_id=post.pk)).data
        )


class PostQueueCreateApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="posts_create_queued",
        request=PostQueueCreateSerializer,
        responses={201: PostSerializer(many=True)},
        description="Like posts_create with schedule=true, but each account's post goes into "
        "that account's next free posting slot (scheduled_local is ignored). All or none.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(PostQueueCreateSerializer, request.data)
        posts = queue.post_create_queued(
            workspace=self.workspace,
            user=self.user,
            content=composer.content_from_api(data, self.workspace),
            targets=[services.PostTarget(**t) for t in data["targets"]],
            acknowledge_warnings=data["acknowledge_warnings"],
        )
        rows = list(
            selectors.post_queryset(workspace=self.workspace).filter(pk__in=[p.pk for p in posts])
        )
        return Response(PostSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


# --- caption templates and hashtag groups -----------------------------------------------------


class CaptionTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaptionTemplate
        fields = ["id", "name", "body", "created_at"]
        read_only_fields = ["id", "created_at"]


class HashtagGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = HashtagGroup
        fields = ["id", "name", "hashtags", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs: ClassVar = {
            "hashtags": {
                "help_text": "space-separated, e.g. “#bakery #bread”; # is added if missing"
            }
        }


class CaptionTemplateListApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="caption_templates_list", responses=CaptionTemplateSerializer(many=True)
    )
    def get(self, request: Request, workspace_id: Any) -> Response:
        rows = library.caption_template_list(workspace=self.workspace)
        return Response(CaptionTemplateSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="caption_templates_create",
        request=CaptionTemplateSerializer,
        responses={201: CaptionTemplateSerializer},
        description="409 name_taken when the workspace already has a template of that name.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(CaptionTemplateSerializer, request.data)
        row = library.caption_template_create(
            workspace=self.workspace, name=data["name"], body=data["body"]
        )
        return Response(CaptionTemplateSerializer(row).data, status=status.HTTP_201_CREATED)


class CaptionTemplateDetailApi(WorkspaceObjectAPIView[CaptionTemplate]):
    load = library.caption_template_get

    @extend_schema(operation_id="caption_templates_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, template_id: Any) -> Response:
        library.caption_template_delete(workspace=self.workspace, template=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HashtagGroupListApi(WorkspaceAPIView):
    @extend_schema(operation_id="hashtag_groups_list", responses=HashtagGroupSerializer(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        rows = library.hashtag_group_list(workspace=self.workspace)
        return Response(HashtagGroupSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="hashtag_groups_create",
        request=HashtagGroupSerializer,
        responses={201: HashtagGroupSerializer},
        description="409 name_taken when the workspace already has a group of that name.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(HashtagGroupSerializer, request.data)
        row = library.hashtag_group_create(
            workspace=self.workspace, name=data["name"], hashtags=data["hashtags"]
        )
        return Response(HashtagGroupSerializer(row).data, status=status.HTTP_201_CREATED)


class HashtagGroupDetailApi(WorkspaceObjectAPIView[HashtagGroup]):
    load = library.hashtag_group_get

    @extend_schema(operation_id="hashtag_groups_destroy", responses={204: None})
    def delete(self, request: Request, workspace_id: Any, hashtag_group_id: Any) -> Response:
        library.hashtag_group_delete(workspace=self.workspace, group=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- bulk drafts and CSV imports --------------------------------------------------------------


class BulkDraftsSerializer(serializers.Serializer):
    account_id = serializers.UUIDField()
    media_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=bulk.MAX_FILES_PER_DROP
    )
    date = serializers.DateField(
        required=False, allow_null=True, help_text="the calendar day dropped on (12:00 local)"
    )


class BulkDraftsApi(WorkspaceAPIView):
    @extend_schema(
        operation_id="posts_bulk_drafts",
        request=BulkDraftsSerializer,
        responses={201: PostSerializer(many=True)},
        description="One draft per media file, for one account, all or none (at most 50).",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = validated(BulkDraftsSerializer, request.data)
        day = data.get("date")
        if day is not None and not 1900 <= day.year <= 2200:
            raise ValidationFailed("date must be between 1900 and 2200.", code="invalid_date")
        posts = bulk.drafts_from_media(
            workspace=self.workspace,
            user=self.user,
            media_ids=data["media_ids"],
            account_id=data["account_id"],
            day=day,
        )
        rows = list(
            selectors.post_queryset(workspace=self.workspace)
            .filter(pk__in=[p.pk for p in posts])
            .order_by("created_at")
        )
        return Response(PostSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["ok", "error"])
    message = serializers.CharField()
    code = serializers.CharField()
    post_id = serializers.CharField(help_text="the created post, once imported")
    summary = serializers.CharField()


class PostImportSerializer(serializers.ModelSerializer):
    rows = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = PostImport
        fields = [
            "id",
            "file_name",
            "state",
            "acknowledge_warnings",
            "counts",
            "rows",
            "created_at",
            "imported_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ImportRowSerializer(many=True))
    def get_rows(self, obj: PostImport) -> list[dict[str, Any]]:
        return list(obj.result)

    @extend_schema_field(
        inline_serializer(
            "ImportCounts",
            {
                "ok": serializers.IntegerField(),
                "error": serializers.IntegerField(),
                "rows": serializers.IntegerField(),
            },
        )
    )
    def get_counts(self, obj: PostImport) -> dict[str, int]:
        return bulk.import_counts(obj)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, UTF-8, at most 1 MB and 500 rows")
    acknowledge_warnings = serializers.BooleanField(default=False)


class PostImportListApi(WorkspaceAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="post_imports_preview",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: PostImportSerializer},
        description="Reads a CSV (columns: account, date, time, caption, privacy, toggles, "
        "media file name; optional dst = first|second and mode = direct|inbox) and says row by "
        "row what importing it would do. Creates no post.",
    )
    def post(self, request: Request, workspace_id: Any) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("Attach the CSV as multipart field “file”.")
        ack = str(request.POST.get("acknowledge_warnings", "")).lower() in ("true", "1", "on")
        preview = bulk.import_preview(
            workspace=self.workspace,
            user=self.user,
            file_name=upload.name or "import.csv",
            content=upload.read(bulk.MAX_IMPORT_BYTES + 1),
            acknowledge_warnings=ack,
        )
        return Response(PostImportSerializer(preview).data, status=status.HTTP_201_CREATED)


class PostImportDetailApi(WorkspaceObjectAPIView[PostImport]):
    load = bulk.import_get

    @extend_schema(operation_id="post_imports_retrieve", responses=PostImportSerializer)
    def get(self, request: Request, workspace_id: Any, import_id: Any) -> Response:
        return Response(PostImportSerializer(self.object).data)


class PostImportConfirmApi(WorkspaceObjectAPIView[PostImport]):
    load = bulk.import_get

    @extend_schema(
        operation_id="post_imports_confirm",
        request=None,
        responses=PostImportSerializer,
        description="Imports the previewed rows once: each row becomes a post or is reported "
        "with its reason. A repeat returns the same result and creates nothing.",
    )
    def post(self, request: Request, workspace_id: Any, import_id: Any) -> Response:
        done = bulk.import_confirm(
            workspace=self.workspace, user=self.user, post_import=self.object
        )
        return Response(PostImportSerializer(done).data)

"""REST API of the planner: calendar notes, posting slots and the queue, caption templates and
hashtag groups, bulk drafts and CSV imports. Same services as the HTML views."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import TikTokAccount
from calendar_app import composer, queue, selectors, services
from calendar_app.api import PostCreateSerializer, PostSerializer
from calendar_app.models import CalendarNote, Post
from later.api import WorkspaceAPIView, WorkspaceObjectAPIView
from later.errors import ValidationFailed


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    s = serializer_class(data=data)
    if not s.is_valid():
        raise ValidationFailed("Some fields are invalid.", details=s.errors)
    return dict(s.validated_data)


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
        data = _valid(CalendarNoteCreateSerializer, request.data)
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


class SlotSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday")
    time = serializers.TimeField(format="%H:%M", help_text="wall-clock, workspace time zone")


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
        data = _valid(SlotsSerializer, request.data)
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
        data = _valid(QueueSerializer, request.data)
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
        data = _valid(PostQueueCreateSerializer, request.data)
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

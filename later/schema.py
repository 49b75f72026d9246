"""OpenAPI generation: the error envelope documented once and attached to every operation,
the `Idempotency-Key` header on every POST, and paginated list shapes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

IDEMPOTENCY_HEADER = "Idempotency-Key"


class FieldProblemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable code of this problem, e.g. caption_too_long.")
    message = serializers.CharField(help_text="A human sentence saying what is wrong here.")


class ErrorBodySerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. validation_failed.")
    message = serializers.CharField(help_text="A human sentence saying what went wrong.")
    details = serializers.JSONField(
        required=False, help_text="Per-field messages or other structured detail, when any."
    )
    # The wire name is `fields`; DRF's metaclass takes declared fields off the class, so this
    # does not shadow Serializer.fields at run time, but mypy only sees the class body.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=FieldProblemSerializer(many=True),
        required=False,
        help_text="Every problem of a validation_failed request at once, by field: `caption`, "
        "`targets.<account id>.privacy_level`, `targets.0.account_id`; `__all__` for problems of "
        "the whole request.",
    )


class ErrorSerializer(serializers.Serializer[Any]):
    """The one error shape of the API: {"error": {"code", "message", "details"?, "fields"?}}."""

    error = ErrorBodySerializer()

    class Meta:
        ref_name = "Error"


ERROR_RESPONSES: dict[str, str] = {
    "400": "The request is malformed or a field is invalid.",
    "401": "No valid credentials were sent.",
    "403": "Signed in, but the role or token scope does not allow this.",
    "404": "No such object in this workspace (other workspaces' ids are 404 too).",
    "409": "The request conflicts with the object's state, or the same Idempotency-Key is "
    "still being processed.",
    "413": "The request body is too large.",
    "415": "The Content-Type of the body is not one this operation accepts.",
    "422": "The Idempotency-Key was already used with a different request.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
}
UNSAFE_ONLY = {"409", "413", "415", "422"}

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from `next` or `previous`."),
    OpenApiParameter("page_size", int, description="Rows per page, 1 to 200 (default 50)."),
]


def cursor_page(
    child: serializers.BaseSerializer[Any], *, name: str
) -> serializers.Serializer[Any]:
    """The shape `later.api.CursorPagination` answers with, for `responses=`."""
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(allow_null=True, help_text="URL of the next page."),
            "previous": serializers.URLField(allow_null=True, help_text="URL of the page before."),
            "results": child,
        },
    )


class AutoSchema(SpectacularAutoSchema):
    def _is_unsafe(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    str,
                    location=OpenApiParameter.HEADER,
                    required=False,
                    description="Any unique string of up to 255 characters. Repeating a request "
                    "with the same key and body within 24 hours replays the first response "
                    "instead of acting twice; the same key with a different body is a 422, and "
                    "a repeat while the first is still running is a 409. Keys are kept per "
                    "user and workspace.",
                )
            )
        return params

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, description in ERROR_RESPONSES.items():
            if code in responses or (code in UNSAFE_ONLY and not self._is_unsafe()):
                continue
            response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            response["description"] = description
            responses[code] = response
        return responses

"""DRF base classes: workspace resolution for the API, error rendering, pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import Role
from later.errors import AppError, NotFound, RoleRequired
from later.tenancy import resolve_membership


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """One JSON shape for every error: {"error": {"code", "message", "details"?}}."""
    if isinstance(exc, AppError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"error": {"code": "validation_failed", "message": " ".join(exc.messages)}},
            status=400,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):
        code, message = "not_found", "Not found."
    elif isinstance(exc, exceptions.ValidationError):
        code, message = "validation_failed", "Some fields are invalid."
        response.data = {"error": {"code": code, "message": message, "details": response.data}}
        return response
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else str(exc.default_code)
        message = str(exc.detail)
    else:
        code, message = "error", "Request failed."
    response.data = {"error": {"code": str(code), "message": message}}
    return response


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200


class WorkspaceAPIView(APIView):
    """Base for every workspace-scoped endpoint under /api/v1/workspaces/<workspace_id>/.

    The only place the API resolves the tenant: sets self.workspace and self.membership;
    outsiders get 404, members below `write_role` get 403 on unsafe methods.
    """

    permission_classes = [permissions.IsAuthenticated]
    read_role: str = Role.VIEWER
    write_role: str = Role.EDITOR

    workspace: Any
    membership: Any

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        membership = resolve_membership(user=request.user, workspace_id=kwargs.get("workspace_id"))
        needed = self.read_role if request.method in permissions.SAFE_METHODS else self.write_role
        if not membership.has_role(needed):
            raise RoleRequired(f"This needs the {needed} role in this workspace.")
        self.membership = membership
        self.workspace = membership.workspace

    def get_object_or_404(self, queryset: Any, **lookup: Any) -> Any:
        try:
            return queryset.get(**lookup)
        except (queryset.model.DoesNotExist, DjangoValidationError, ValueError) as exc:
            raise NotFound("Not found.") from exc

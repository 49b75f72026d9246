"""DRF base classes: workspace resolution for the API, error rendering, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from later.authentication import request_token
from later.errors import AppError, FieldProblem, NotFound, RoleRequired, ValidationFailed
from later.idempotency import IdempotentAPIMixin
from later.roles import Role
from later.tenancy import Loader, load_url_objects, loader_url_kwargs, membership_resolve

if TYPE_CHECKING:
    # Types only: at run time `later/` does not import the apps (see docs/architecture.md).
    from accounts.models import Membership, User, Workspace

_Obj = TypeVar("_Obj")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """One JSON shape for every error: {"error": {"code", "message", "details"?, "fields"?}}."""
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
        # The same body as `validated()`, so every endpoint's 400 names its fields in `fields`.
        error = ValidationFailed("Some fields are invalid.", details=response.data)
        error.problems = list(_field_problems(exc.detail, "")) or error.problems
        response.data = error.as_dict()
        return response
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else str(exc.default_code)
        message = str(exc.detail)
    else:
        code, message = "error", "Request failed."
    response.data = {"error": {"code": str(code), "message": message}}
    return response


def enforce_token_scope(request: Request, *, workspace_id: Any) -> None:
    """An API token reaches only its workspaces (others are 404, as for outsiders) and writes
    only when it was made read-and-write; the user's role applies on top of that."""
    token = request_token(request)
    if token is None:
        return
    if not token.reaches(workspace_id):
        raise NotFound("Workspace not found.")
    if request.method not in permissions.SAFE_METHODS and not token.can_write:
        raise TokenScopeError("This API token is read only.")


class TokenScopeError(AppError):
    code = "token_read_only"
    status = 403


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200


class WorkspaceAPIView(IdempotentAPIMixin, APIView):
    """Base for every workspace-scoped endpoint under /api/v1/w/<workspace_id>/.

    The only place the API resolves the tenant: sets self.workspace, self.membership and
    self.user (the member, typed); outsiders get 404, members below `read_role` / `write_role`
    get 403.
    """

    permission_classes = [permissions.IsAuthenticated]
    read_role: str = Role.VIEWER
    write_role: str = Role.EDITOR

    workspace: Workspace
    membership: Membership
    user: User

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        enforce_token_scope(request, workspace_id=kwargs.get("workspace_id"))
        membership = membership_resolve(user=request.user, workspace_id=kwargs.get("workspace_id"))
        self.membership = membership
        self.workspace = membership.workspace
        self.user = cast("User", request.user)  # a member, so a signed-in User
        self.load_objects(kwargs)
        needed = self.read_role if request.method in permissions.SAFE_METHODS else self.write_role
        if not membership.has_role(needed):
            raise RoleRequired(f"This needs the {needed} role in this workspace.")
        self.idempotency_begin(request, workspace_id=membership.workspace_id)

    def load_objects(self, url_kwargs: dict[str, Any]) -> None:
        """Hook for WorkspaceObjectAPIView: runs after the membership, before the role check."""


class WorkspaceObjectAPIView(WorkspaceAPIView, Generic[_Obj]):
    """Base for endpoints about one object of the URL (`/posts/<post_id>/...`).

    Set `load` to a selector following the loader convention of `later.tenancy.workspace_view`
    (keyword-only `workspace=` plus the URL kwargs it names, NotFound when absent):

        class PostDetailApi(WorkspaceObjectAPIView[Post]):
            load = selectors.post_get

    The object is loaded before the role and the method are checked (another workspace's id
    is a 404 whatever the verb) and handlers read it as `self.object`.
    """

    load: ClassVar[Loader]
    object: _Obj

    def load_objects(self, url_kwargs: dict[str, Any]) -> None:
        # Through the class: a plain function stored on the class must not bind to self.
        loader = type(self).load
        loaded = load_url_objects(
            {"object": (loader, loader_url_kwargs(loader))},
            workspace=self.workspace,
            url_kwargs=dict(url_kwargs),
        )
        self.object = loaded["object"]


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The request body checked by `serializer_class`; a 400 naming each bad field otherwise."""
    checked = serializer_class(data=data)
    if not checked.is_valid():
        error = ValidationFailed("Some fields are invalid.", details=checked.errors)
        error.problems = list(_field_problems(checked.errors, "")) or error.problems
        raise error
    return dict(checked.validated_data)


def _field_problems(errors: Any, prefix: str) -> Iterator[FieldProblem]:
    """DRF's nested error tree as one problem per message, keyed `targets.0.privacy_level`."""
    if isinstance(errors, dict):
        for name, nested in errors.items():
            key = prefix if name == "non_field_errors" else f"{prefix}.{name}".lstrip(".")
            yield from _field_problems(nested, key)
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        for index, nested in enumerate(errors):
            yield from _field_problems(nested, f"{prefix}.{index}".lstrip("."))
    elif isinstance(errors, list):
        for detail in errors:
            code = getattr(detail, "code", None) or "invalid"
            yield FieldProblem(field=prefix, code=str(code), message=str(detail))

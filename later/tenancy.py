"""Tenant isolation machinery.

Layer 2 of four (see docs/architecture.md): the default manager of every tenant-owned model
fails closed. A queryset is only evaluated when its WHERE clause constrains `workspace_id`,
when it came through a related manager of an already-loaded row, or when the caller named
the bypass with `.unscoped()` (admin, periodic tasks that fan out per workspace).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.where import AND, WhereNode

if TYPE_CHECKING:
    from accounts.models import Workspace

_M = TypeVar("_M", bound=models.Model)


class UnscopedQueryError(RuntimeError):
    """A tenant-owned model was queried without a workspace."""


def _constrains_workspace(node: WhereNode) -> bool:
    if node.connector != AND or node.negated:
        return False
    for child in node.children:
        if isinstance(child, WhereNode):
            if _constrains_workspace(child):
                return True
        elif isinstance(child, Lookup) and child.lookup_name in ("exact", "in"):
            lhs = child.lhs
            if isinstance(lhs, Col) and lhs.target.column == "workspace_id":
                return True
    return False


class TenantQuerySet(models.QuerySet[_M]):
    _tenant_scoped: bool = False

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._tenant_scoped = self._tenant_scoped
        return clone

    def for_workspace(self, workspace: Workspace | Any) -> Self:
        qs = self.filter(workspace=workspace)
        qs._tenant_scoped = True
        return qs

    def unscoped(self) -> Self:
        """Named bypass for admin and fan-out tasks. Grep for it in review."""
        qs = self._clone()
        qs._tenant_scoped = True
        return qs

    def _assert_scoped(self) -> None:
        if self._tenant_scoped or _constrains_workspace(self.query.where):
            return
        raise UnscopedQueryError(
            f"{self.model.__name__} queried without a workspace; use .for_workspace(ws) "
            "or, where crossing tenants is intended, .unscoped()"
        )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._assert_scoped()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._assert_scoped()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._assert_scoped()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._assert_scoped()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._assert_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._assert_scoped()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._assert_scoped()
        return super().delete()


class TenantManager(models.Manager[_M]):
    def get_queryset(self) -> TenantQuerySet[_M]:
        qs: TenantQuerySet[_M] = TenantQuerySet(self.model, using=self._db)
        # Related managers (workspace.posts, post.comments) hang off a row that was itself
        # loaded through a scoped query, so they are scoped by construction.
        if getattr(self, "instance", None) is not None:
            qs._tenant_scoped = True
        return qs

    def for_workspace(self, workspace: Workspace | Any) -> TenantQuerySet[_M]:
        return self.get_queryset().for_workspace(workspace)

    def unscoped(self) -> TenantQuerySet[_M]:
        return self.get_queryset().unscoped()


# --- Layer 3: the workspace is resolved in one place per interface ---------------------------


def resolve_membership(*, user: Any, workspace_id: Any) -> Any:
    """The caller's membership of `workspace_id`, or NotFound (outsiders never learn it exists)."""
    from accounts.models import Membership
    from later.errors import NotFound

    if not getattr(user, "is_authenticated", False):
        raise NotFound("Workspace not found.")
    try:
        return (
            Membership.objects.select_related("workspace")
            .filter(workspace_id=workspace_id, user=user)
            .get()
        )
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Workspace not found.") from exc


def workspace_view(min_role: str = "viewer") -> Any:
    """Decorator for HTML views under /w/<workspace_id>/.

    Sets request.workspace and request.membership; non-members get 404, members below
    `min_role` get 403 with a sentence. Unsafe methods always need at least `editor`
    unless min_role says more.
    """
    import functools

    from django.contrib.auth.views import redirect_to_login
    from django.http import Http404, HttpRequest, HttpResponse
    from django.shortcuts import render
    from django.utils import timezone

    from accounts.models import ROLE_RANK, Role
    from later.errors import NotFound

    def decorator(view: Any) -> Any:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, workspace_id: Any, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                membership = resolve_membership(user=request.user, workspace_id=workspace_id)
            except NotFound as exc:
                raise Http404(str(exc)) from exc
            needed = min_role
            if (
                request.method not in ("GET", "HEAD", "OPTIONS")
                and ROLE_RANK[needed] < ROLE_RANK[Role.EDITOR]
            ):
                needed = Role.EDITOR
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if not membership.has_role(needed):
                response: HttpResponse = render(
                    request,
                    "errors/role_required.html",
                    {"needed_role": needed, "membership": membership},
                    status=403,
                )
                return response
            request.session["current_workspace_id"] = str(membership.workspace_id)
            # Every date and time on a workspace page is shown in the workspace's zone.
            with timezone.override(membership.workspace.tz):
                return view(request, *args, **kwargs)

        return wrapper

    return decorator


def workspace_task(func: Any) -> Any:
    """Decorator for Celery task bodies that take `workspace_id` and ids only.

    Resolves the workspace and passes it as `workspace=`; returns None early when the
    workspace is gone (tasks must be safe to run after deletion).
    """
    import functools

    from accounts.models import Workspace

    @functools.wraps(func)
    def wrapper(*args: Any, workspace_id: Any, **kwargs: Any) -> Any:
        workspace = Workspace.objects.filter(pk=workspace_id).first()
        if workspace is None:
            return None
        return func(*args, workspace=workspace, **kwargs)

    return wrapper

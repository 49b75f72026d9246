"""Tenant isolation machinery.

Layer 2 of four (see docs/architecture.md): the default manager of every tenant-owned model
fails closed. A queryset is only evaluated when its WHERE clause constrains `workspace_id`,
when it came through a related manager of an already-loaded row, or when the caller named
the bypass with `.unscoped()` (admin, periodic tasks that fan out per workspace).
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.where import AND, WhereNode
from django.dispatch import Signal
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.module_loading import import_string

from later.data_version import data_changed, quiet
from later.errors import NotFound
from later.roles import Role, role_at_least

if TYPE_CHECKING:
    # Types only: at run time `later/` does not import the apps (see docs/architecture.md).
    from accounts.models import Membership, User, Workspace

_M = TypeVar("_M", bound=models.Model)
_T = TypeVar("_T")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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


def _workspace_values(node: WhereNode) -> set[Any] | None:
    """The workspace ids an AND-ed `workspace_id = x` / `IN (…)` condition names (None when it
    names none, or through an expression)."""
    if node.connector != AND or node.negated:
        return None
    for child in node.children:
        if isinstance(child, WhereNode):
            found = _workspace_values(child)
            if found is not None:
                return found
        elif isinstance(child, Lookup) and child.lookup_name in ("exact", "in"):
            lhs = child.lhs
            if not (isinstance(lhs, Col) and lhs.target.column == "workspace_id"):
                continue
            values = child.rhs if child.lookup_name == "in" else [child.rhs]
            if not isinstance(values, list | tuple | set | frozenset):
                continue
            ids = {getattr(v, "pk", v) for v in values}
            if all(isinstance(v, str | int | uuid.UUID) for v in ids):
                return ids
    return None


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

    def _written_workspaces(self) -> set[Any]:
        """The workspaces an update or delete of this queryset touches: from its WHERE clause
        when it names them, else one query (before the write, while the rows still match)."""
        named = _workspace_values(self.query.where)
        if named is not None:
            return named
        return set(self.values_list("workspace_id", flat=True).order_by().distinct())

    def update(self, **kwargs: Any) -> int:
        self._assert_scoped()
        if quiet(self.model, kwargs):  # a lease or heartbeat: no page shows it
            return super().update(**kwargs)
        workspaces = self._written_workspaces()
        changed = super().update(**kwargs)
        if changed:
            data_changed(*workspaces, using=self.db)
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        self._assert_scoped()
        workspaces = self._written_workspaces()
        deleted = super().delete()
        if deleted[0]:
            data_changed(*workspaces, using=self.db)
        return deleted

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[_M]:
        objs = list(objs)
        created = super().bulk_create(objs, *args, **kwargs)
        data_changed(*{getattr(o, "workspace_id", None) for o in objs}, using=self.db)
        return created

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        changed = super().bulk_update(objs, fields, *args, **kwargs)
        if not quiet(self.model, fields):
            data_changed(*{getattr(o, "workspace_id", None) for o in objs}, using=self.db)
        return changed


class WorkspaceQuerySet(models.QuerySet[_M]):
    """The workspace model's queryset: a bulk `update()` or `delete()` of workspaces moves their
    data versions, as a save does (the membership and pages cached under them hold the row)."""

    def update(self, **kwargs: Any) -> int:
        workspaces = set(self.values_list("pk", flat=True))
        changed = super().update(**kwargs)
        if changed:
            data_changed(*workspaces, using=self.db)
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        workspaces = set(self.values_list("pk", flat=True))
        deleted = super().delete()
        if deleted[0]:
            data_changed(*workspaces, using=self.db)
        return deleted


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
#
# `later/` never imports the apps above it. The membership lookup lives in `accounts.access`
# and is reached through the TENANT_MEMBERSHIP_RESOLVER setting; the workspace model through
# TENANT_WORKSPACE_MODEL (the same string the tenant foreign key uses).


class WorkspaceRequest(HttpRequest):
    """The request a `@workspace_view` view receives: annotate views with it.

    Only a type: the decorator sets `workspace` and `membership` on Django's request.
    """

    user: User
    workspace: Workspace
    membership: Membership


#: Loads one object of the URL: called with `workspace=` and the URL kwargs named by its own
#: keyword parameters (`post_get(*, workspace, post_id)` consumes `post_id`). Raises NotFound.
Loader = Callable[..., Any]


def membership_resolve(*, user: Any, workspace_id: Any) -> Membership:
    """The caller's membership of `workspace_id`, or NotFound (outsiders never learn it exists)."""
    resolver: Callable[..., Membership] = import_string(settings.TENANT_MEMBERSHIP_RESOLVER)
    return resolver(user=user, workspace_id=workspace_id)


def required_role(min_role: str, method: str | None) -> str:
    """Unsafe methods always need at least `editor`, whatever the view's own minimum."""
    if method not in SAFE_METHODS and not role_at_least(min_role, Role.EDITOR):
        return Role.EDITOR
    return min_role


def loader_url_kwargs(loader: Loader, *, scope: str = "workspace") -> tuple[str, ...]:
    """The URL kwargs a loader consumes: its keyword-only parameters besides the scope it loads
    within (`workspace`, or `agency` for the agency pages)."""
    names = []
    for name, param in inspect.signature(loader).parameters.items():
        if name == scope:
            continue
        if param.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"{loader.__qualname__}: loaders take keyword-only arguments")
        names.append(name)
    if not names:
        raise TypeError(f"{loader.__qualname__} names no URL kwarg to load from")
    return tuple(names)


def load_url_objects(
    load: Mapping[str, tuple[Loader, tuple[str, ...]]],
    *,
    url_kwargs: dict[str, Any],
    **scope: Any,
) -> dict[str, Any]:
    """Runs each loader within the one scope given (`workspace=` or `agency=`) on the URL kwargs
    it names, and removes those kwargs from `url_kwargs`.

    NotFound propagates: the caller renders it as its interface's 404.
    """
    if len(scope) != 1:
        raise TypeError("load_url_objects takes exactly one scope (workspace= or agency=)")
    loaded = {
        name: loader(**scope, **{key: url_kwargs[key] for key in keys})
        for name, (loader, keys) in load.items()
    }
    for _loader, keys in load.values():
        for key in keys:
            url_kwargs.pop(key, None)
    return loaded


#: How many recently opened workspaces the switcher offers first.
RECENT_WORKSPACES = 5
# Sent when a person opens another workspace than the one before (not on every page view);
# accounts remembers it so the next sign-in lands there.
workspace_entered = Signal()


def remember_workspace(request: HttpRequest, workspace_id: Any) -> None:
    """The current workspace, and the few opened before it, for the switcher."""
    current = str(workspace_id)
    before = request.session.get("recent_workspace_ids", [])
    recent = [current, *(w for w in before if w != current)][:RECENT_WORKSPACES]
    # Written only when it changes: an unchanged session costs no UPDATE per page view.
    if request.session.get("current_workspace_id") != current:
        request.session["current_workspace_id"] = current
        workspace_entered.send(sender=remember_workspace, user=request.user, workspace_id=current)
    if before != recent:
        request.session["recent_workspace_ids"] = recent


def workspace_view(
    min_role: str = Role.VIEWER, *, load: Mapping[str, Loader] | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorator for HTML views under /w/<workspace_id>/: the one way they resolve the tenant.

    - Sets request.workspace and request.membership (annotate the view's request as
      `WorkspaceRequest`); non-members get 404.
    - `load={"post": selectors.post_get}` loads the URL's objects in that workspace and passes
      them to the view by name (`post=`) instead of their ids; NotFound becomes a 404, before the
      role and the method are checked, so another workspace's id is a 404 whatever the verb.
    - Members below `min_role` get a 403 page; unsafe methods need at least `editor`.
    Put `require_POST` / `require_safe` below this decorator.
    """
    loaders = {name: (loader, loader_url_kwargs(loader)) for name, loader in (load or {}).items()}

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        accepted = inspect.signature(view).parameters
        for name in loaders:
            if name not in accepted:
                raise TypeError(f"{view.__qualname__} does not take the loaded {name!r}")

        @functools.wraps(view)
        def wrapper(request: HttpRequest, workspace_id: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                # Imported here: auth's views load the user model, and models import this module.
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            try:
                membership = membership_resolve(user=request.user, workspace_id=workspace_id)
                objects = load_url_objects(
                    loaders, workspace=membership.workspace, url_kwargs=kwargs
                )
            except NotFound as exc:
                raise Http404(exc.message) from exc
            workspace_request = cast(WorkspaceRequest, request)
            workspace_request.workspace = membership.workspace
            workspace_request.membership = membership
            needed = required_role(min_role, request.method)
            if not membership.has_role(needed):
                return render(
                    request,
                    "errors/role_required.html",
                    {"needed_role": needed, "membership": membership},
                    status=403,
                )
            remember_workspace(request, membership.workspace_id)
            # Every date and time on a workspace page is shown in the workspace's zone.
            with timezone.override(membership.workspace.tz):
                return view(workspace_request, **kwargs, **objects)

        return wrapper

    return decorator


def workspace_task(func: Callable[..., _T]) -> Callable[..., _T | None]:
    """Decorator for Celery task bodies that take `workspace_id` and ids only.

    Resolves the workspace and passes it as `workspace=`; returns None early when the
    workspace is gone (tasks must be safe to run after deletion).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, workspace_id: Any, **kwargs: Any) -> _T | None:
        workspace_model = apps.get_model(settings.TENANT_WORKSPACE_MODEL)
        workspace = workspace_model._default_manager.filter(pk=workspace_id).first()
        if workspace is None:
            return None
        return func(*args, workspace=workspace, **kwargs)

    return wrapper

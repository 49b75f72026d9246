"""A per-workspace data version: a token that changes after every committed write to the
workspace's rows, so whole-page fragments can be keyed on it without reading the data.

The heavy pages (calendar, inbox, analytics, agency home) cache their rendered body under
`(page, data version, parameters, minute)`; a hit costs one cache GET instead of the queries
and the template work. The fragment key itself also carries the language, number locale, time
zone and code version (later/fragments.py).

Correct across processes and under concurrency:
- The token lives in the shared cache (Redis in production) and is replaced by a fresh random
  value **after** the writing transaction commits (`transaction.on_commit`; at once for a write
  in autocommit mode), and also before this connection next reads a token, since it already
  sees its own uncommitted writes.
- A reader reads the token *before* it reads the data. A page rendered between a commit and
  the bump holds data newer than its token says, which is harmless: the bump then moves every
  reader to a new key. A page can never hold data older than its token.
- A missing token (evicted, new workspace) is created with `add` (first writer wins), so two
  readers never disagree for long and never reuse an old token: tokens are random.

Who bumps (nothing has to remember to, for the ORM paths):
- `TenantQuerySet.update()`, `.delete()` and `.bulk_create()` / `.bulk_update()`
  (later/tenancy.py): the workspaces the statement touches, read from its WHERE clause, or
  with one extra query when the statement is unscoped; `WorkspaceQuerySet.update()` and
  `.delete()` the same for the workspace rows themselves;
- `post_save` / `post_delete` / `m2m_changed` of any model with a `workspace_id`, and of the
  workspace itself;
- hand-written SQL calls `data_changed(workspace_id)` itself (conversations/ingest.py).
- Django's own bulk UPDATEs (an `on_delete=SET_NULL`) send no signal: deleting an agency moves
  its clients' versions through a `pre_delete` receiver (accounts/receivers.py).

A write that sets only fields no page shows (a model lists them in `DATA_VERSION_QUIET_FIELDS`:
leases, heartbeats) moves nothing: the publishing pipeline renews its leases every few seconds.

Small per-request values live under the token too (`cached_for_version`): the viewer's
membership of the workspace (accounts/access.py), so a removed member or a changed role is
seen on the very next request, and the layout's unread notifications.

Pages whose figures move with the clock (relative times, "due in 7 days") also put the current
minute into their key, so nothing they show is more than a minute behind the clock.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

KEY = "data-version:{}"
#: Tokens outlive any fragment stored under them.
TIMEOUT_SECONDS = 7 * 24 * 3600
#: A value kept under a token (`cached_for_version`); a moved token orphans it until then.
VALUE_TIMEOUT_SECONDS = 600


def _key(workspace_id: Any) -> str:
    """One spelling per workspace whatever the caller holds (UUID, its string, a hex)."""
    try:
        return KEY.format(uuid.UUID(str(workspace_id)))
    except ValueError:
        return KEY.format(workspace_id)


def _cache() -> Any:
    return caches[settings.FRAGMENT_CACHE_ALIAS]


def data_version(workspace_id: Any) -> str | None:
    """The workspace's current token (None when the cache cannot be reached: serve uncached).
    Read it before the data it keys."""
    _bump_unread_writes()
    key = _key(workspace_id)
    cache = _cache()
    try:
        token = cache.get(key)
        if token is None:
            cache.add(key, uuid.uuid4().hex, TIMEOUT_SECONDS)
            token = cache.get(key)
    except Exception:
        logger.exception("data version read failed")
        return None
    return None if token is None else str(token)


def data_versions(workspace_ids: Iterable[Any]) -> dict[Any, str | None]:
    """`data_version` of several workspaces in one round trip."""
    _bump_unread_writes()
    ids = list(workspace_ids)
    keys = {_key(w): w for w in ids}
    try:
        found = _cache().get_many(list(keys))
    except Exception:
        logger.exception("data version read failed")
        return dict.fromkeys(ids)
    tokens: dict[Any, str | None] = {keys[k]: str(v) for k, v in found.items()}
    for w in ids:
        if w not in tokens:
            tokens[w] = data_version(w)
    return tokens


def page_token(*workspace_ids: Any, clock: bool = True) -> str:
    """What a cached page body names besides its parameters: the workspaces' tokens and, for
    pages that show the clock (relative times, "today", "due in 7 days"), the current minute.
    Without a cache, a fresh random value: the page is rendered every time."""
    tokens = (
        data_versions(workspace_ids)
        if len(workspace_ids) != 1
        else {workspace_ids[0]: data_version(workspace_ids[0])}
    )
    if any(t is None for t in tokens.values()):
        return uuid.uuid4().hex
    parts = [str(tokens[w]) for w in workspace_ids]
    if clock:
        parts.append(timezone.now().strftime("%Y%m%d%H%M"))
    return ":".join(parts)


_MISSING = object()


def cached_for_version(workspace_id: Any, name: str, build: Callable[[], _T]) -> _T:
    """`build()`'s result, kept under the workspace's data version: any write to the
    workspace's rows (and to the workspace) moves the version, so the next call rebuilds it.
    The token is read before `build()` reads the data. Without a cache, `build()` every time;
    a `build()` that raises caches nothing. The value must pickle (model instances do)."""
    token = data_version(workspace_id)
    if token is None:
        return build()
    key = f"{_key(workspace_id)}:{name}:{token}"
    cache = _cache()
    try:
        found = cache.get(key, _MISSING)
    except Exception:
        logger.exception("versioned read failed")
        return build()
    if found is not _MISSING:
        return cast(_T, found)
    value = build()
    try:
        cache.set(key, value, VALUE_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("versioned write failed")
    return value


def lazy_entries(data: Any, names: Iterable[str]) -> dict[str, Any]:
    """Context entries that read `data[name]` only when a template uses them: a page whose
    body is served from the fragment cache never builds `data` (a `SimpleLazyObject` over the
    page's queries)."""
    return {name: SimpleLazyObject(functools.partial(_entry, data, name)) for name in names}


def _entry(data: Any, name: str) -> Any:
    # Not a bound `data.__getitem__`: taking that would evaluate the lazy `data` at once.
    return data[name]


def connect_signals() -> None:
    """Bump on every ORM save or delete of a workspace's row (and of the workspace)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def changed(sender: Any, instance: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
        if quiet(sender, kwargs.get("update_fields")):
            return
        if sender._meta.label == settings.TENANT_WORKSPACE_MODEL:
            data_changed(instance.pk, using=using)
            return
        workspace_id = getattr(instance, "workspace_id", None)
        if workspace_id is not None:
            data_changed(workspace_id, using=using)

    def m2m(
        sender: Any, instance: Any, action: str, using: str = DEFAULT_DB_ALIAS, **kw: Any
    ) -> None:
        if action.startswith("post_"):
            changed(type(instance), instance, using)

    post_save.connect(changed, weak=False, dispatch_uid="data_version_save")
    post_delete.connect(changed, weak=False, dispatch_uid="data_version_delete")
    m2m_changed.connect(m2m, weak=False, dispatch_uid="data_version_m2m")


def quiet(model: Any, fields: Iterable[str] | None) -> bool:
    """Whether a write of only `fields` of `model` leaves every page as it was: the model
    lists the fields no page shows in `DATA_VERSION_QUIET_FIELDS` (None: all fields)."""
    if not fields:
        return False
    return set(fields) <= getattr(model, "DATA_VERSION_QUIET_FIELDS", frozenset())


def _bump(workspace_ids: Iterable[Any]) -> None:
    ids = list(workspace_ids)
    try:
        if len(ids) == 1:  # the usual case: one SET, no pipeline
            _cache().set(_key(ids[0]), uuid.uuid4().hex, TIMEOUT_SECONDS)
        else:
            _cache().set_many({_key(w): uuid.uuid4().hex for w in ids}, TIMEOUT_SECONDS)
    except Exception:  # a write must not fail because the cache is down
        logger.exception("data version bump failed for %s", ids)


class _Bump:
    """The on-commit callback of one transaction; later calls add their ids to it.
    `unread`: the ids written since this connection last read a token."""

    def __init__(self, ids: set[Any]) -> None:
        self.ids = ids
        self.unread = set(ids)

    def __call__(self) -> None:
        _bump(self.ids)


def _bump_unread_writes() -> None:
    """Before a token is read: a connection inside a transaction sees its own uncommitted
    writes, so a page it renders must not be keyed on a token from before them (a test's
    transaction, a view that writes then renders). Bumped here rather than at each write:
    a transaction of several writes and no read in between costs one bump, at commit."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            continue
        for _sids, func, *_ in connection.run_on_commit:
            if isinstance(func, _Bump) and func.unread:
                _bump(func.unread)
                func.unread = set()


def data_changed(*workspace_ids: Any, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record that these workspaces' rows changed: their tokens are replaced once the current
    transaction commits (at once outside a transaction), and before this connection next
    reads a token (`_bump_unread_writes`).

    A reader in another process may cache the old rows under the token a read on this
    connection moved to, which is why the commit bumps again. One commit callback per
    transaction: a later call adds its ids to one already queued. That is safe with
    savepoints: a queued callback is dropped only when a savepoint that was active when it
    was queued rolls back, and a write made while that savepoint is active rolls back with
    it; a released savepoint can no longer roll back."""
    ids = {w for w in workspace_ids if w is not None}
    if not ids:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _bump(ids)
        return
    for _sids, func, *_ in connection.run_on_commit:
        if isinstance(func, _Bump):
            func.ids |= ids
            func.unread |= ids
            return
    transaction.on_commit(_Bump(ids), using=using)

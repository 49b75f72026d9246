"""Fragment cache: rendered HTML stored under a key computed from the data it shows.

A fragment's key is a digest of every value it names (`{% fragment "name" v1 v2 … %}`) taken
deeply: a model instance contributes all its loaded field values and annotations, the related
rows loaded with it (`select_related`) and its prefetched rows, recursively. When any of that
data changes the key changes, so a stored fragment is never invalidated: it simply stops being
asked for and expires. Nothing has to remember to bump a version after a write, which matters
here because the publishing pipeline and the sync write with `QuerySet.update()` (no signals).

The key also carries the code version (a digest of the project's Python and template files'
sizes and modification times, computed once per process), the active language, the number
locale (later/numbers.py: 1,220 or 1.220) and the time zone.

Per-request values never enter the stored HTML. Inside a fragment, `{% csrf_token %}` and
`{% form_token %}` render placeholders ("holes") that are filled on every serve: the viewer's
own CSRF token, a fresh one-time form token per occurrence. The placeholder is derived from
SECRET_KEY so text a fan writes cannot name it.

Two levels: a small per-process LRU in front of the shared cache (Redis in production), so a
hit costs a dictionary lookup; entries are content-addressed, so a local copy cannot be stale.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import hmac
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.db.utils import DJANGO_VERSION_PICKLE_KEY
from django.utils import timezone, translation
from django.utils.functional import LazyObject, empty

from later.numbers import number_locale_name

FRAGMENT_TIMEOUT_SECONDS = 24 * 3600
LOCAL_ENTRIES = 4000
#: Characters the per-process copy holds at most (about 64 MB of text).
LOCAL_CHARS = 32_000_000
CODE_SUFFIXES = (".py", ".html", ".txt")
SKIPPED_DIRS = {".venv", "venv", "var", "node_modules", ".git", "tests", "bench", "static"}


@cache
def code_version() -> str:
    """Digest of the project's code and templates as deployed (stat only, once per process)."""
    digest = hashlib.blake2b(digest_size=8)
    root = Path(settings.BASE_DIR)
    for path in sorted(_code_files(root)):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    digest.update(str(getattr(settings, "FRAGMENT_CACHE_VERSION", "")).encode())
    return digest.hexdigest()


def _code_files(root: Path) -> Iterable[Path]:
    for entry in root.iterdir():
        if entry.is_dir():
            if entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
                yield from _code_files(entry)
        elif entry.suffix in CODE_SUFFIXES:
            yield entry


@cache
def hole(name: str) -> str:
    """The placeholder a per-request value takes inside a stored fragment."""
    tag = hmac.new(settings.SECRET_KEY.encode(), f"fragment-hole:{name}".encode(), "sha256")
    return f"fragmenthole{tag.hexdigest()[:20]}{name}"


# --------------------------------------------------------------------------- fingerprint


def fingerprint(*values: Any) -> str:
    """A digest of `values` taken deeply (see the module docstring); equal data, equal digest."""
    digest = hashlib.blake2b(digest_size=16)
    for value in values:
        _feed(value, digest.update, set())
        digest.update(b"|")
    return digest.hexdigest()


_SCALARS = (str, int, float, bool, bytes, type(None), dt.date, dt.time, dt.timedelta)
_SCALARS_REPR = (decimal.Decimal, uuid.UUID, enum.Enum)


def _feed(value: Any, out: Callable[[bytes], None], path: set[int]) -> None:
    if isinstance(value, _SCALARS + _SCALARS_REPR):
        # repr keeps types apart ("1" vs 1) and carries a datetime's offset.
        out(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, LazyObject):
        if value._wrapped is empty:
            value._setup()
        value = value._wrapped
    if isinstance(value, FieldFile):
        out(f"file:{value.name!r};".encode())
        return
    marker = id(value)
    if marker in path:  # a cycle through cached relations: the first visit covers it
        out(b"cycle;")
        return
    path.add(marker)
    try:
        if isinstance(value, Model):
            _feed_model(value, out, path)
        elif isinstance(value, QuerySet):
            if value._result_cache is None:
                raise TypeError("fingerprint() of an unevaluated queryset would run a query")
            _feed_items(value._result_cache, out, path, "qs")
        elif isinstance(value, dict):
            out(b"dict{")
            for key in sorted(value, key=repr):
                out(f"{key!r}=".encode())
                _feed(value[key], out, path)
            out(b"}")
        elif isinstance(value, list | tuple):
            _feed_items(value, out, path, type(value).__name__)
        elif isinstance(value, set | frozenset):
            _feed_items(sorted(value, key=repr), out, path, "set")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            out(f"{type(value).__qualname__}(".encode())
            for f in dataclasses.fields(value):
                out(f"{f.name}=".encode())
                _feed(getattr(value, f.name), out, path)
            out(b")")
        elif hasattr(value, "__dict__") and not callable(value):
            out(f"{type(value).__qualname__}(".encode())
            _feed(vars(value), out, path)
            out(b")")
        else:
            out(f"{type(value).__qualname__}:{value!r};".encode())
    finally:
        path.discard(marker)


def _feed_items(
    items: Iterable[Any], out: Callable[[bytes], None], path: set[int], kind: str
) -> None:
    out(f"{kind}[".encode())
    for item in items:
        _feed(item, out, path)
    out(b"]")


def _feed_model(value: Model, out: Callable[[bytes], None], path: set[int]) -> None:
    """Every loaded attribute (fields, annotations, prefetched rows), then the related rows
    cached by select_related or an earlier access."""
    out(f"<{value._meta.label}:{value.pk!r}".encode())
    state = value.__dict__
    for name in sorted(state):
        # An instance unpickled from a cache carries Django's version: the same row all the same.
        if name in ("_state", DJANGO_VERSION_PICKLE_KEY):
            continue
        out(f" {name}=".encode())
        _feed(state[name], out, path)
    related = value._state.fields_cache
    for name in sorted(related):
        out(f" @{name}=".encode())
        _feed(related[name], out, path)
    out(b">")


# --------------------------------------------------------------------------- storage


class _LocalLRU:
    """Bounded by entries and by characters held: a page body is a few hundred KB."""

    def __init__(self, size: int, max_chars: int = LOCAL_CHARS) -> None:
        self.size = size
        self.max_chars = max_chars
        self.chars = 0
        self.items: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self.lock:
            html = self.items.get(key)
            if html is not None:
                self.items.move_to_end(key)
            return html

    def set(self, key: str, html: str) -> None:
        if len(html) > self.max_chars // 4:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.chars -= len(old)
            self.items[key] = html
            self.chars += len(html)
            while len(self.items) > self.size or self.chars > self.max_chars:
                _key, evicted = self.items.popitem(last=False)
                self.chars -= len(evicted)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.chars = 0


local = _LocalLRU(LOCAL_ENTRIES)


def fragment_key(name: str, values: Iterable[Any]) -> str:
    context = (
        translation.get_language(),
        number_locale_name(),
        timezone.get_current_timezone_name(),
    )
    return f"fragment:{name}:{code_version()}:{fingerprint(context, *values)}"


def fragment_get(key: str) -> str | None:
    html = local.get(key)
    if html is None:
        html = caches[settings.FRAGMENT_CACHE_ALIAS].get(key)
        if html is not None:
            local.set(key, html)
    return html


def fragment_set(key: str, html: str, timeout: int = FRAGMENT_TIMEOUT_SECONDS) -> None:
    local.set(key, html)
    caches[settings.FRAGMENT_CACHE_ALIAS].set(key, html, timeout)


def fill_holes(html: str, *, csrf_token: str) -> str:
    """Put this request's values into a stored fragment's placeholders."""
    csrf_hole = hole("csrf")
    if csrf_hole in html:
        html = html.replace(csrf_hole, csrf_token)
    form_hole = hole("form_token")
    if form_hole in html:
        parts = html.split(form_hole)
        html = parts[0] + "".join(uuid.uuid4().hex + part for part in parts[1:])
    return html

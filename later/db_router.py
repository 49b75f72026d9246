"""Read replicas: read-only pages read from the `replica` database alias.

`DATABASE_REPLICA_URL` names a streaming replica of the primary; it defaults to the primary
itself, so a single-database install runs the same code with one connection. Reads go to the
replica only inside `replica_reads()` (the analytics pages wrap their work in it), never inside
a transaction on the primary (read-your-writes), and never for writes or migrations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Route this block's reads to the replica (when one is configured)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_enabled() -> bool:
    return bool(getattr(settings, "REPLICA_READS_ENABLED", False)) and REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not (_replica_reads.get() and replica_enabled()):
            return None
        if connections["default"].in_atomic_block:
            return None  # a write in progress must read what it wrote
        return REPLICA

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both aliases

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"

"""Whether the task queue (the Celery broker) answers: for `/healthz` and for the banner that
tells members their scheduled posts are waiting.

Each check opens a fresh connection, so recovery shows without a restart. Pages reuse the last
answer for `QUEUE_HEALTH_CHECK_SECONDS`, and only one request per process checks at a time:
an unreachable broker never slows every page down.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

_lock = threading.Lock()
_last_reachable = True
_last_checked = float("-inf")


def queue_reachable(timeout: int = 1) -> bool:
    """Ask the broker now."""
    from later.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception:
        return False
    return True


def queue_reachable_recently() -> bool:
    """The last answer, refreshed by this request when it is older than the check interval."""
    global _last_reachable, _last_checked
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True  # tasks run in the web process: there is no queue to lose
    if time.monotonic() - _last_checked < settings.QUEUE_HEALTH_CHECK_SECONDS:
        return _last_reachable
    if not _lock.acquire(blocking=False):
        return _last_reachable  # another request is asking right now
    try:
        _last_reachable = queue_reachable(timeout=1)
        _last_checked = time.monotonic()
    finally:
        _lock.release()
    return _last_reachable


def queue_health(request: object) -> dict[str, object]:
    """Context processor: `queue_unreachable` on the pages of a workspace."""
    if getattr(request, "membership", None) is None:
        return {}
    return {"queue_unreachable": not queue_reachable_recently()}

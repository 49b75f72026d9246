from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse


def queue_reachable(timeout: int = 1) -> bool:
    """Whether the Celery broker answers now (a fresh connection each time, so recovery
    shows without a restart)."""
    from later.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception:
        return False
    return True


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # The web keeps serving without the broker; publishing waits until it is back.
    if queue_reachable():
        return JsonResponse({"status": "ok", "queue": "ok"})
    return JsonResponse({"status": "degraded", "queue": "unreachable"})

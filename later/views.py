from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from later.queue_health import queue_reachable


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # The web keeps serving without the broker; publishing waits until it is back.
    if queue_reachable():
        return JsonResponse({"status": "ok", "queue": "ok"})
    return JsonResponse({"status": "degraded", "queue": "unreachable"})

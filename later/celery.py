"""The Celery app. Periodic work is declared once, in settings.CELERY_BEAT_SCHEDULE."""

from __future__ import annotations

import os

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "later.settings")

app = Celery("later")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_recycle(task: Task | None = None, **_: object) -> None:
    """Django's rule for database connections at a task's edges, as at a request's: keep the
    connection while CONN_MAX_AGE allows and its health check passes, else open a new one.

    Celery's own Django fixup closes every connection before and after every task; with two
    tasks per post that was two new PostgreSQL backends per post (each a fork and a cold
    catalog cache), about a third of a 2-core machine during a burst of posts.
    `CELERY_DB_REUSE_MAX` (settings) turns the fixup's closing down to once in many tasks.
    An eager task runs inside its caller's transaction: its connection is left alone."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()

"""The priority order of one member's comments ("mine" or a person, issue 16) reads its own
index: (workspace, assignee, priority, created DESC, id DESC) over assigned, visible fans'
comments. Built CONCURRENTLY on PostgreSQL like 0004's."""

from importlib import import_module

from django.conf import settings
from django.db import migrations, models

AddIndexOnline = import_module(
    "conversations.migrations.0004_comment_triage_pending"
).AddIndexOnline

INDEX = models.Index(
    models.F("workspace"),
    models.F("assignee"),
    models.F("priority"),
    models.OrderBy(models.F("created_at_tiktok"), descending=True),
    models.OrderBy(models.F("id"), descending=True),
    condition=models.Q(
        ("assignee__isnull", False), ("deleted_at__isnull", True), ("is_own", False)
    ),
    name="comment_assignee_priority",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("conversations", "0006_comment_partition_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(model_name="comment", index=INDEX),
    ]

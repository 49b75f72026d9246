"""The Questions filter lists unanswered questions first: its index is keyed on that rank
(`QUESTION_RANK`), built CONCURRENTLY on PostgreSQL like 0004's, then the newest-first index it
replaces is dropped."""

from importlib import import_module

from django.db import migrations, models

AddIndexOnline = import_module(
    "conversations.migrations.0004_comment_triage_pending"
).AddIndexOnline

INDEX = models.Index(
    models.F("workspace"),
    models.Case(
        models.When(handled_at__isnull=True, then=models.Value(0)),
        default=models.Value(1),
        output_field=models.SmallIntegerField(),
    ),
    models.OrderBy(models.F("created_at_tiktok"), descending=True),
    models.OrderBy(models.F("id"), descending=True),
    condition=models.Q(("deleted_at__isnull", True), ("is_own", False), ("is_question", True)),
    name="comment_question_rank",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("conversations", "0004_comment_triage_pending"),
    ]

    operations = [
        AddIndexOnline(model_name="comment", index=INDEX),
        migrations.RemoveIndex(model_name="comment", name="comment_question_keyset"),
    ]

"""Triage after the write: `triage_pending` (instant on PostgreSQL 11+: a constant default is
metadata only) and the sweep's partial index, built CONCURRENTLY on PostgreSQL so a large
comment table keeps taking writes while it is built."""

from django.db import migrations, models

INDEX = models.Index(
    models.F("created_at"),
    condition=models.Q(("triage_pending", True)),
    name="comment_triage_pending",
)


class AddIndexOnline(migrations.AddIndex):
    """AddIndex, CONCURRENTLY where the database can (the migration is not atomic)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("conversations", "0003_teamwork"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="triage_pending",
            field=models.BooleanField(default=False),
        ),
        AddIndexOnline(model_name="comment", index=INDEX),
    ]

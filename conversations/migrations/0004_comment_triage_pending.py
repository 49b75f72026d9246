"""Triage after the write: `triage_pending` (instant on PostgreSQL 11+: a constant default is
metadata only) and the sweep's partial index, built CONCURRENTLY on PostgreSQL so a large
comment table keeps taking writes while it is built."""

from django.db import migrations, models

INDEX = models.Index(
    models.F("created_at"),
    condition=models.Q(("triage_pending", True)),
    name="comment_triage_pending",
)


def _partitions(schema_editor, table):  # type: ignore[no-untyped-def]
    """The partitions of `table` once it is partitioned (later/partitions.py), else None."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
        if not row or row[0] != "p":
            return None
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def _add_partitioned_index(schema_editor, model, index, partitions):  # type: ignore[no-untyped-def]
    """PostgreSQL builds no index CONCURRENTLY on a partitioned table. So: the index is
    declared on the parent alone (ON ONLY: nothing is built, it stays invalid), built
    CONCURRENTLY on each partition, and each is attached; the parent's turns valid with the
    last. Every step can run again after a failure (IF NOT EXISTS; attaching twice is a no-op)."""
    table, quote = model._meta.db_table, schema_editor.quote_name
    parent = str(index.create_sql(model, schema_editor))
    parent = parent.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
    schema_editor.execute(parent.replace(f" ON {quote(table)} ", f" ON ONLY {quote(table)} ", 1))
    for partition in partitions:
        name = f"{partition}_{index.name}"[:63]
        statement = index.create_sql(model, schema_editor, concurrently=True)
        statement.rename_table_references(table, partition)
        statement.parts["name"] = quote(name)
        sql = str(statement).replace(" CONCURRENTLY ", " CONCURRENTLY IF NOT EXISTS ", 1)
        schema_editor.execute(sql)
        schema_editor.execute(f"ALTER INDEX {quote(index.name)} ATTACH PARTITION {quote(name)}")


class AddIndexOnline(migrations.AddIndex):
    """AddIndex, CONCURRENTLY where the database can (the migration is not atomic), also once
    the comment table is partitioned."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.add_index(model, self.index)
            return
        partitions = _partitions(schema_editor, model._meta.db_table)
        if partitions is None:
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            _add_partitioned_index(schema_editor, model, self.index, partitions)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_index(model, self.index)
            return
        # A partitioned index is dropped whole, and not CONCURRENTLY (PostgreSQL refuses).
        concurrently = _partitions(schema_editor, model._meta.db_table) is None
        schema_editor.remove_index(model, self.index, concurrently=concurrently)


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

"""Comments become partition-ready (docs/scaling.md, "Monthly partitioning"): the natural key
holds `created_at_tiktok`, and every row that references a comment (a reply's parent, labels,
notes, rule runs) carries that comment's `created_at_tiktok` beside its id, so that PostgreSQL
enforces each reference with a composite FOREIGN KEY on (id, created_at_tiktok) — the only
kind a partitioned table can be referenced by. Django has no composite foreign keys: its own
single-column constraints are dropped (`db_constraint=False`) and the composite ones are added
here, on PostgreSQL only. Existing rows get their key column filled before it turns NOT NULL.

On a populated table this takes locks while the unique indexes build and the foreign keys
validate (seconds per million comments); run it in a maintenance window at that size."""

from django.db import migrations, models
from django.db.models import deletion

COMMENT = "conversations_comment"
# (table, foreign key name, its columns). MATCH FULL: a reply's parent columns are both set or
# both empty; a half-set key would escape the check under the default MATCH SIMPLE.
REFERENCES = (
    (COMMENT, "comment_parent_key_fk", "parent_id, parent_created_at_tiktok"),
    ("conversations_commentlabel", "comment_label_comment_key_fk", "comment_id, comment_created_at_tiktok"),
    ("conversations_threadnote", "thread_note_comment_key_fk", "comment_id, comment_created_at_tiktok"),
    ("conversations_rulerun", "rule_run_comment_key_fk", "comment_id, comment_created_at_tiktok"),
)  # fmt: skip


def fill_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Copy each referenced comment's created_at_tiktok into the new key columns."""
    for table, _, columns in REFERENCES:
        ref, key = (column.strip() for column in columns.split(","))
        schema_editor.execute(
            f"UPDATE {table} SET {key} = (SELECT c.created_at_tiktok FROM {COMMENT} c "
            f"WHERE c.id = {table}.{ref}) WHERE {ref} IS NOT NULL"
        )


def add_foreign_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (quick start): the ORM keeps the references
    for table, name, columns in REFERENCES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
            f"REFERENCES {COMMENT} (id, created_at_tiktok) MATCH FULL "
            "DEFERRABLE INITIALLY DEFERRED"
        )


def drop_foreign_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _ in REFERENCES:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


def _key_field(null: bool) -> models.DateTimeField:
    return models.DateTimeField(null=null, blank=null, editable=False)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0005_question_rank_index"),
    ]

    operations = [
        migrations.AddField("comment", "parent_created_at_tiktok", _key_field(True)),
        migrations.AddField("commentlabel", "comment_created_at_tiktok", _key_field(True)),
        migrations.AddField("threadnote", "comment_created_at_tiktok", _key_field(True)),
        migrations.AddField("rulerun", "comment_created_at_tiktok", _key_field(True)),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField("commentlabel", "comment_created_at_tiktok", _key_field(False)),
        migrations.AlterField("threadnote", "comment_created_at_tiktok", _key_field(False)),
        migrations.AlterField("rulerun", "comment_created_at_tiktok", _key_field(False)),
        migrations.AlterField(
            model_name="comment",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=deletion.CASCADE,
                related_name="replies",
                to="conversations.comment",
            ),
        ),
        migrations.AlterField(
            model_name="commentlabel",
            name="comment",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=deletion.CASCADE,
                related_name="label_links",
                to="conversations.comment",
            ),
        ),
        migrations.AlterField(
            model_name="threadnote",
            name="comment",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=deletion.CASCADE,
                related_name="notes",
                to="conversations.comment",
            ),
        ),
        migrations.AlterField(
            model_name="rulerun",
            name="comment",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=deletion.CASCADE,
                related_name="rule_runs",
                to="conversations.comment",
            ),
        ),
        migrations.RemoveConstraint(model_name="comment", name="comment_unique_id"),
        migrations.AddConstraint(
            model_name="comment",
            constraint=models.UniqueConstraint(
                fields=("workspace", "comment_id", "created_at_tiktok"), name="comment_unique_id"
            ),
        ),
        migrations.AddConstraint(
            model_name="comment",
            constraint=models.UniqueConstraint(
                fields=("id", "created_at_tiktok"),
                name="conversations_comment_id_created_at_tiktok_uniq",
            ),
        ),
        migrations.RunPython(add_foreign_keys, drop_foreign_keys),
    ]

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The expression must stay identical to conversations.models.SEARCH_DOCUMENT as Django
# compiles it, or PostgreSQL will not use the index for Inbox search.
SEARCH_INDEX = """
CREATE INDEX IF NOT EXISTS comment_search_trgm ON conversations_comment USING gin ((
    UPPER((COALESCE("text", '') || COALESCE((COALESCE(' ', '') || COALESCE((COALESCE(
    "author_username", '') || COALESCE((COALESCE(' ', '') || COALESCE("author_display_name",
    '')), '')), '')), '')))
) gin_trgm_ops)
"""


def create_search_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The embedded SQLite quick start searches without an index.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEARCH_INDEX)


def drop_search_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS comment_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0001_initial"),
    ]

    operations = [
        # pg_trgm is a trusted extension: the database owner may create it.
        TrigramExtension(),
        migrations.RunPython(create_search_index, drop_search_index),
    ]

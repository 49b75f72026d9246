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


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0001_initial"),
    ]

    operations = [
        # pg_trgm is a trusted extension: the database owner may create it.
        TrigramExtension(),
        migrations.RunSQL(SEARCH_INDEX, "DROP INDEX IF EXISTS comment_search_trgm"),
    ]

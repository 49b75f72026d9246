"""The snapshot and comment tables stay ready for monthly range partitioning (docs/scaling.md):
switching it on is then a table swap with no change to the code. What would block it fails
here first."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models

from analytics.models import AccountDailySnapshot, VideoSnapshot
from conversations.models import Comment

# Table -> the column it is partitioned on (by month).
PARTITION_KEYS: dict[type[models.Model], str] = {
    AccountDailySnapshot: "date",
    VideoSnapshot: "bucket_at",
    Comment: "created_at_tiktok",
}


def _references() -> list[tuple[Any, Any, Any]]:
    """(referencing model, its foreign key, the partitioned model it points at)."""
    return [
        (other, field, field.related_model)
        for other in apps.get_models()
        for field in other._meta.concrete_fields
        if field.is_relation and field.related_model in PARTITION_KEYS
    ]


def test_the_setting_names_the_same_tables_and_keys() -> None:
    """`manage.py partitions` switches what the setting names; this file checks the same."""
    assert {m._meta.label: key for m, key in PARTITION_KEYS.items()} == settings.PARTITIONED_TABLES


@pytest.mark.parametrize("model", list(PARTITION_KEYS), ids=lambda m: m.__name__)
def test_every_unique_constraint_holds_the_partition_key(model: type[models.Model]) -> None:
    """PostgreSQL enforces uniqueness per partition only when the key is part of it."""
    key = PARTITION_KEYS[model]
    uniques = [c for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    assert uniques, "the upsert relies on a natural key"
    for constraint in uniques:
        assert key in constraint.fields, (model.__name__, constraint.name)
    for field in model._meta.concrete_fields:
        if field.unique and not field.primary_key:
            pytest.fail(f"{model.__name__}.{field.name} is unique on its own")


def test_snapshot_rows_are_leaves() -> None:
    """Nothing points at a snapshot row (so nothing has to carry its key)."""
    for other, field, target in _references():
        assert target is Comment, f"{other.__name__}.{field.name} references {target.__name__}"


def test_the_comment_table_is_referenced_by_replies_labels_notes_and_rule_runs() -> None:
    found = {(other.__name__, field.name) for other, field, _ in _references()}
    assert found == {
        ("Comment", "parent"),
        ("CommentLabel", "comment"),
        ("ThreadNote", "comment"),
        ("RuleRun", "comment"),
    }


@pytest.mark.parametrize("reference", _references(), ids=lambda r: f"{r[0].__name__}.{r[1].name}")
def test_every_reference_carries_the_partition_key(
    reference: tuple[Any, Any, Any],
) -> None:
    """A foreign key into a partitioned table must name its whole key: Django's own
    (id only) is off, the referencing row keeps the key in a column of its own, and that
    column is never null while the reference is set."""
    other, field, _ = reference
    assert not field.db_constraint, f"{other.__name__}.{field.name} has a single-column FK"
    key_field = other._meta.get_field(other.comment_keys[field.name])
    assert isinstance(key_field, models.DateTimeField)
    assert key_field.null == field.null
    assert not key_field.editable


@pytest.mark.django_db
@pytest.mark.parametrize("reference", _references(), ids=lambda r: f"{r[0].__name__}.{r[1].name}")
def test_postgresql_enforces_every_reference_on_the_whole_key(
    reference: tuple[Any, Any, Any],
) -> None:
    other, field, target = reference
    key = other._meta.get_field(other.comment_keys[field.name]).column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = to_regclass(%s) AND confrelid = to_regclass(%s)",
            [other._meta.db_table, target._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert definitions == [
        f"FOREIGN KEY ({field.column}, {key}) REFERENCES {target._meta.db_table}"
        f"(id, {PARTITION_KEYS[target]}) MATCH FULL DEFERRABLE INITIALLY DEFERRED"
    ]


@pytest.mark.parametrize("model", list(PARTITION_KEYS), ids=lambda m: m.__name__)
def test_the_partition_key_is_never_null_and_never_moves(model: type[models.Model]) -> None:
    """Never moves: no automatic value rewrites it (a pending reply that TikTok confirms
    with its own time is re-inserted, see tests/conversations/test_partitions.py)."""
    field: Any = model._meta.get_field(PARTITION_KEYS[model])
    assert not field.null
    assert not getattr(field, "auto_now", False)
    assert not field.has_default()

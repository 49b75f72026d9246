"""The snapshot tables stay ready for monthly range partitioning (docs/scaling.md): switching it
on is then a table swap with no change to the code. What would block it fails here first."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from analytics.models import AccountDailySnapshot, VideoSnapshot

# Table -> the column it is partitioned on (by month).
PARTITION_KEYS: dict[type[models.Model], str] = {
    AccountDailySnapshot: "date",
    VideoSnapshot: "bucket_at",
}


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


@pytest.mark.parametrize("model", list(PARTITION_KEYS), ids=lambda m: m.__name__)
def test_nothing_references_a_snapshot_row(model: type[models.Model]) -> None:
    """A foreign key into a partitioned table needs the partition key in the referenced key;
    snapshot rows are leaves: nothing points at them."""
    for other in apps.get_models():
        for field in other._meta.concrete_fields:
            if field.is_relation and field.related_model is model:
                pytest.fail(f"{other.__name__}.{field.name} references {model.__name__}")


@pytest.mark.parametrize("model", list(PARTITION_KEYS), ids=lambda m: m.__name__)
def test_the_partition_key_is_never_null_and_never_moves(model: type[models.Model]) -> None:
    field = model._meta.get_field(PARTITION_KEYS[model])
    assert not field.null
    assert not getattr(field, "auto_now", False)

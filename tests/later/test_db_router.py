"""The replica router (later/db_router.py) with a second database alias: read-only work inside
`replica_reads()` reads from `replica`; writes, migrations and reads inside a transaction on
the primary stay on `default`; with no replica configured nothing moves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections, router, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import TikTokAccount, User, Workspace
from analytics.models import AccountDailySnapshot
from later.db_router import REPLICA, replica_reads

pytestmark = pytest.mark.django_db(databases=["default", REPLICA])


@pytest.fixture
def with_replica(settings: Any) -> None:
    settings.REPLICA_READS_ENABLED = True


def test_the_replica_alias_defaults_to_the_primary_and_is_a_test_mirror() -> None:
    from django.conf import settings

    replica = settings.DATABASES[REPLICA]
    assert replica["TEST"]["MIRROR"] == "default"
    assert router.allow_migrate(REPLICA, "analytics") is False
    assert router.allow_migrate("default", "analytics") is True


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_reads_go_to_the_replica_only_inside_replica_reads(with_replica: None) -> None:
    assert router.db_for_read(AccountDailySnapshot) == "default"
    with replica_reads():
        assert router.db_for_read(AccountDailySnapshot) == REPLICA
        assert router.db_for_read(TikTokAccount) == REPLICA
        assert router.db_for_write(AccountDailySnapshot) == "default"
    assert router.db_for_read(AccountDailySnapshot) == "default"


def test_reads_inside_a_primary_transaction_stay_on_the_primary(with_replica: None) -> None:
    # pytest-django's own test transaction is on "default": every read here is inside one.
    with replica_reads(), transaction.atomic():
        assert router.db_for_read(AccountDailySnapshot) == "default"


def test_nothing_moves_without_a_replica(settings: Any) -> None:
    settings.REPLICA_READS_ENABLED = False
    with replica_reads():
        assert router.db_for_read(AccountDailySnapshot) == "default"


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_analytics_overview_reads_through_the_replica_alias(
    with_replica: None,
    workspace: Workspace,
    owner: User,
    client_for: Callable[[User], Client],
) -> None:
    TikTokAccount.objects.create(workspace=workspace, open_id="o1", username="shop")
    client = client_for(owner)
    url = reverse("analytics:overview", args=[workspace.pk])
    replica = connections[REPLICA]
    with CaptureQueriesContext(replica) as on_replica:
        response = client.get(url)
    assert response.status_code == 200
    assert any("accounts_tiktokaccount" in q["sql"] for q in on_replica.captured_queries)

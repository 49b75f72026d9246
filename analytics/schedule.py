"""Which connected accounts the analytics fan-out (beat, every minute) sends a backfill or a
capture to.

Each minute may spend the API for Business calls of a minute's background share
(`background_calls_per_minute()`: 480 at the defaults), so the captures of an hour are spread
over its minutes instead of meeting a spent budget in one burst. Backfills go first, one call
each, to the accounts that connected longest ago; captures take what is left, at
`CAPTURE_BUSINESS_CALLS` each, for the accounts whose last capture is oldest (never captured
first) and not yet captured in the current clock hour (a young video's snapshots are hourly
buckets). An account left out this minute is among the longest waiting the
next, so past the budget every account is served in turn rather than the table's order serving
the same ones. One query each, whatever the number of accounts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db.models import DateTimeField, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import AccountStatus, AccountType, BusinessStatus, TikTokAccount
from analytics.models import AccountDailySnapshot
from analytics.services import BACKFILL_BUSINESS_CALLS, CAPTURE_BUSINESS_CALLS

_NEVER_CAPTURED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

AccountIds = list[tuple[uuid.UUID, uuid.UUID]]


def accounts_due(
    *,
    now: dt.datetime,
    calls: int,
    backfilling: Iterable[uuid.UUID] = (),
    capturing: Iterable[uuid.UUID] = (),
) -> tuple[AccountIds, AccountIds]:
    """(backfills, captures) that `calls` API for Business calls pay for: backfills
    first, captures with what is left; accounts in `backfilling` / `capturing` (a retry of
    that task is parked) are left out. Two queries."""
    backfills = accounts_due_for_backfill(
        limit=calls // BACKFILL_BUSINESS_CALLS, exclude=backfilling
    )
    left = calls - len(backfills) * BACKFILL_BUSINESS_CALLS
    captures = accounts_due_for_capture(
        now=now, limit=left // CAPTURE_BUSINESS_CALLS, exclude=capturing
    )
    return backfills, captures


def accounts_due_for_backfill(*, limit: int, exclude: Iterable[uuid.UUID] = ()) -> AccountIds:
    """The (workspace_id, account_id) of at most `limit` Business accounts with no snapshot
    at all (nothing backfilled or captured yet), those connected longest ago first. Personal
    accounts have no Business daily metrics to backfill."""
    if limit <= 0:
        return []
    has_history = AccountDailySnapshot.objects.unscoped().filter(account=OuterRef("pk"))
    rows = (
        TikTokAccount.objects.unscoped()
        .filter(
            status=AccountStatus.CONNECTED,
            account_type=AccountType.BUSINESS,
            business_status=BusinessStatus.CONNECTED,
        )
        .exclude(business_id="")
        .exclude(pk__in=list(exclude))
        .exclude(Exists(has_history))
        .order_by("created_at", "pk")
        .values_list("workspace_id", "pk")
    )
    return list(rows[:limit])


def accounts_due_for_capture(
    *, now: dt.datetime, limit: int, exclude: Iterable[uuid.UUID] = ()
) -> AccountIds:
    """The (workspace_id, account_id) of at most `limit` connected accounts not captured yet in
    the current clock hour (one capture per hourly bucket, early in the hour when the budget
    allows, later in it when not): never captured first (those connected longest ago first),
    then the longest since their last capture."""
    if limit <= 0:
        return []
    # The latest captured row by date: the (account, date) index answers it for each account
    # without reading the account's whole history.
    last_captured_at = Subquery(
        AccountDailySnapshot.objects.unscoped()
        .filter(account=OuterRef("pk"), captured_at__isnull=False)
        .order_by("-date")
        .values("captured_at")[:1],
        output_field=DateTimeField(),
    )
    rows = (
        TikTokAccount.objects.unscoped()
        .filter(status=AccountStatus.CONNECTED)
        .exclude(pk__in=list(exclude))
        .annotate(last_captured_at=Coalesce(last_captured_at, Value(_NEVER_CAPTURED)))
        .filter(last_captured_at__lt=now.replace(minute=0, second=0, microsecond=0))
        .order_by("last_captured_at", "created_at", "pk")
        .values_list("workspace_id", "pk")
    )
    return list(rows[:limit])

"""Posting slots and the queue: each account posts at fixed weekly times (wall-clock, in the
workspace's zone), and "Add to queue" puts a post into the account's next free slot.

Nothing here ever moves another post: a slot is free when no live post of the account is
scheduled at that instant, so deleting or rescheduling a post frees its slot and leaves every
other post where it was.

Clock changes: a slot time skipped by a DST jump does not happen that day (we never shift it
silently); a slot time repeated when clocks go back happens once, at its first occurrence.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import TikTokAccount, User, Workspace
from calendar_app import services
from calendar_app.models import Post, PostingSlot
from calendar_app.occupancy import FREE_STATUSES
from calendar_app.preflight import DAILY_DIRECT_POST_CAP
from calendar_app.timezones import (
    NonexistentLocalTime,
    ResolvedTime,
    get_zone,
    resolve_local_time,
)
from later.errors import Conflict, ValidationFailed
from tiktok_client.schemas import CreatorInfo

#: How far ahead the queue looks for a free slot.
QUEUE_HORIZON_DAYS = 92
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class QueueFull(Conflict):
    code = "queue_full"


class NoPostingSlots(ValidationFailed):
    code = "no_posting_slots"


@dataclass(frozen=True, order=True)
class SlotTime:
    weekday: int  # 0 = Monday
    time: time

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.time:%H:%M}"


def slot_list(*, workspace: Workspace, account: TikTokAccount) -> list[SlotTime]:
    rows = PostingSlot.objects.for_workspace(workspace).filter(account=account)
    return sorted(SlotTime(weekday=r.weekday, time=r.time) for r in rows)


def slots_by_account(*, workspace: Workspace) -> dict[str, list[SlotTime]]:
    by_account: dict[str, list[SlotTime]] = defaultdict(list)
    for row in PostingSlot.objects.for_workspace(workspace):
        by_account[str(row.account_id)].append(SlotTime(weekday=row.weekday, time=row.time))
    return {k: sorted(v) for k, v in by_account.items()}


def slots_clean(slots: Iterable[SlotTime]) -> list[SlotTime]:
    """Whole minutes, each weekday at most TikTok's daily cap, no duplicates."""
    cleaned: set[SlotTime] = set()
    for slot in slots:
        if not 0 <= slot.weekday <= 6:
            raise ValidationFailed(
                "A weekday is a number from 0 (Monday) to 6 (Sunday).",
                code="invalid_weekday",
                details={"weekday": slot.weekday},
            )
        cleaned.add(SlotTime(weekday=slot.weekday, time=slot.time.replace(second=0, microsecond=0)))
    per_day: dict[int, int] = defaultdict(int)
    for slot in cleaned:
        per_day[slot.weekday] += 1
    for weekday, count in per_day.items():
        if count > DAILY_DIRECT_POST_CAP:
            raise ValidationFailed(
                f"{WEEKDAYS[weekday]} has {count} slots; TikTok takes at most "
                f"{DAILY_DIRECT_POST_CAP} posts a day from one account.",
                code="too_many_slots",
                details={"weekday": weekday},
            )
    return sorted(cleaned)


@transaction.atomic
def slots_replace(
    *, workspace: Workspace, account: TikTokAccount, slots: Iterable[SlotTime]
) -> list[SlotTime]:
    """Set an account's weekly posting slots. Posts already scheduled keep their times."""
    cleaned = slots_clean(slots)
    PostingSlot.objects.for_workspace(workspace).filter(account=account).delete()
    PostingSlot.objects.bulk_create(
        [
            PostingSlot(workspace=workspace, account=account, weekday=s.weekday, time=s.time)
            for s in cleaned
        ]
    )
    return cleaned


def slot_times(
    *, tz_name: str, slots: Sequence[SlotTime], after: datetime, until: datetime
) -> Iterator[ResolvedTime]:
    """The slots' instants in (after, until], in order, read in the zone `tz_name`."""
    if not slots:
        return
    by_weekday: dict[int, list[time]] = defaultdict(list)
    for slot in slots:
        by_weekday[slot.weekday].append(slot.time)
    zone_day = timezone.localtime(after, get_zone(tz_name)).date()
    last_day = timezone.localtime(until, get_zone(tz_name)).date()
    day = zone_day
    while day <= last_day:
        for at in sorted(by_weekday.get(day.weekday(), [])):
            try:
                # fold=0: a repeated time (clocks going back) is taken at its first occurrence.
                resolved = resolve_local_time(datetime.combine(day, at), tz_name, fold=0)
            except NonexistentLocalTime:
                continue  # skipped by the clocks: this slot does not happen that day
            if after < resolved.utc <= until:
                yield resolved
        day += timedelta(days=1)


def _taken(
    *, workspace: Workspace, account_id: Any, start: datetime, end: datetime, exclude: Any
) -> set[datetime]:
    posts = Post.objects.for_workspace(workspace).filter(
        account_id=account_id, scheduled_at__gt=start, scheduled_at__lte=end
    )
    if exclude is not None:
        posts = posts.exclude(pk=exclude)
    times = posts.exclude(status__in=FREE_STATUSES).values_list("scheduled_at", flat=True)
    return {at.astimezone(UTC) for at in times if at is not None}


def free_slots(
    *,
    workspace: Workspace,
    account: TikTokAccount,
    after: datetime,
    until: datetime,
    slots: Sequence[SlotTime] | None = None,
    exclude_post_id: Any = None,
) -> list[ResolvedTime]:
    """The account's slots in (after, until] that no live post holds."""
    slots = slot_list(workspace=workspace, account=account) if slots is None else slots
    taken = _taken(
        workspace=workspace, account_id=account.pk, start=after, end=until, exclude=exclude_post_id
    )
    return [
        r
        for r in slot_times(tz_name=workspace.time_zone, slots=slots, after=after, until=until)
        if r.utc not in taken
    ]


def queue_next_free(
    *,
    workspace: Workspace,
    account: TikTokAccount,
    now: datetime | None = None,
    exclude_post_id: Any = None,
) -> ResolvedTime:
    """The account's next free posting slot after `now`."""
    now = now or timezone.now()
    slots = slot_list(workspace=workspace, account=account)
    if not slots:
        raise NoPostingSlots(
            f"{account} has no posting slots yet: set its weekly times first.",
            details={"account_id": str(account.pk)},
        )
    found = free_slots(
        workspace=workspace,
        account=account,
        after=now,
        until=now + timedelta(days=QUEUE_HORIZON_DAYS),
        slots=slots,
        exclude_post_id=exclude_post_id,
    )
    if not found:
        raise QueueFull(
            f"Every posting slot of {account} in the next {QUEUE_HORIZON_DAYS} days is taken.",
            details={"account_id": str(account.pk)},
        )
    return found[0]


def _lock_accounts(workspace: Workspace, account_ids: Iterable[Any]) -> None:
    """Serialise queue additions per account, so two at once never take the same slot."""
    list(
        TikTokAccount.objects.for_workspace(workspace)
        .select_for_update()
        .filter(pk__in=list(account_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _at_slot(content: services.PostContent, slot: ResolvedTime) -> services.PostContent:
    return dataclasses.replace(
        content, scheduled_local=slot.local, scheduled_tz=slot.tz_name, fold=0
    )


def post_create_queued(
    *,
    workspace: Workspace,
    user: User | None,
    content: services.PostContent,
    targets: Sequence[services.PostTarget],
    acknowledge_warnings: bool = False,
    creator_infos: Mapping[str, CreatorInfo] | None = None,
    now: datetime | None = None,
) -> list[Post]:
    """The composer's "Add to queue": each account's post goes into that account's next free
    slot, with every rule of scheduling. All accounts or none."""
    accounts = services._accounts_for(workspace, [t.account_id for t in targets])
    infos = services._creator_infos(
        accounts=list(accounts.values()),
        content=content,
        schedule=True,
        given=creator_infos,
    )  # TikTok is asked before any transaction opens
    posts: list[Post] = []
    with transaction.atomic():
        _lock_accounts(workspace, accounts)
        for target in targets:
            account = accounts[str(target.account_id)]
            slot = queue_next_free(workspace=workspace, account=account, now=now)
            posts += services.post_create(
                workspace=workspace,
                user=user,
                content=_at_slot(content, slot),
                targets=[target],
                schedule=True,
                acknowledge_warnings=acknowledge_warnings,
                creator_infos=infos,
                now=now,
            )
    return posts


def post_update_queued(
    *,
    workspace: Workspace,
    post: Post,
    content: services.PostContent,
    target: services.PostTarget,
    acknowledge_warnings: bool = False,
    creator_infos: Mapping[str, CreatorInfo] | None = None,
    now: datetime | None = None,
    actor: User | None = None,
) -> Post:
    """Save a post with `content` and schedule it into its account's next free slot (its own
    slot counts as free). Other posts keep their times. The approval gate applies as for any
    scheduling: an editor's post waits in review at that slot."""
    infos = services._creator_infos(
        accounts=[post.account], content=content, schedule=True, given=creator_infos
    )  # TikTok is asked before any transaction opens
    with transaction.atomic():
        _lock_accounts(workspace, [post.account_id])
        slot = queue_next_free(
            workspace=workspace, account=post.account, now=now, exclude_post_id=post.pk
        )
        return services.post_update(
            workspace=workspace,
            post=post,
            content=_at_slot(content, slot),
            target=target,
            schedule=True,
            acknowledge_warnings=acknowledge_warnings,
            creator_infos=infos,
            now=now,
            actor=actor,
        )


def post_add_to_queue(
    *,
    workspace: Workspace,
    post: Post,
    acknowledge_warnings: bool = False,
    creator_infos: Mapping[str, CreatorInfo] | None = None,
    now: datetime | None = None,
    actor: User | None = None,
) -> Post:
    """Schedule an existing draft (or move a scheduled or failed post) into its account's next
    free slot, with its stored settings."""
    content, target = services.post_content_of(post)
    return post_update_queued(
        workspace=workspace,
        post=post,
        content=content,
        target=target,
        acknowledge_warnings=acknowledge_warnings,
        creator_infos=creator_infos,
        now=now,
        actor=actor,
    )


def week_free_slots(
    *,
    workspace: Workspace,
    accounts: Sequence[TikTokAccount],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[tuple[date, int], list[tuple[ResolvedTime, TikTokAccount]]]:
    """Free future slots of `accounts` in [start, end), by (local day, hour), for the week view.
    Two queries whatever the number of accounts."""
    all_slots = slots_by_account(workspace=workspace)
    after = max(start, now)
    taken: dict[str, set[datetime]] = defaultdict(set)
    for account_id, at in (
        Post.objects.for_workspace(workspace)
        .filter(account__in=[a.pk for a in accounts], scheduled_at__gte=start, scheduled_at__lt=end)
        .exclude(status__in=FREE_STATUSES)
        .values_list("account_id", "scheduled_at")
    ):
        if at is not None:
            taken[str(account_id)].add(at.astimezone(UTC))
    cells: dict[tuple[date, int], list[tuple[ResolvedTime, TikTokAccount]]] = defaultdict(list)
    for account in accounts:
        slots = all_slots.get(str(account.pk), [])
        for resolved in slot_times(
            tz_name=workspace.time_zone, slots=slots, after=after, until=end
        ):
            if resolved.utc in taken[str(account.pk)] or resolved.utc >= end:
                continue
            cells[(resolved.local.date(), resolved.local.hour)].append((resolved, account))
    return cells

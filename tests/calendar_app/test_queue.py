"""Posting slots and the queue (services): the next free slot, DST changes, nothing reshuffled."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from calendar_app import queue, services
from calendar_app.models import PostStatus
from calendar_app.queue import SlotTime
from calendar_app.services import PostContent, PostTarget
from later.errors import AppError
from tests.calendar_app.conftest import creator_info
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(workspace):
    assert workspace.time_zone == "Europe/Paris"
    return TikTokAccountFactory.create(workspace=workspace, username="ava.creates")


@pytest.fixture
def video(workspace):
    return MediaAssetFactory.create(workspace=workspace, duration_seconds=30.0)


def every_day(*times: str) -> list[SlotTime]:
    return [SlotTime(d, time.fromisoformat(t)) for d in range(7) for t in times]


def queue_one(workspace, account, video, now, caption="q"):
    (post,) = queue.post_create_queued(
        workspace=workspace,
        user=None,
        content=PostContent(caption=caption, media_id=video.id),
        targets=[PostTarget(account_id=account.id, privacy_level="PUBLIC_TO_EVERYONE")],
        creator_infos={str(account.id): creator_info()},
        now=now,
    )
    return post


def test_queue_fills_over_the_spring_dst_change(workspace, account, video):
    # Europe/Paris springs forward on Sunday 28 March 2027 at 02:00 -> 03:00.
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("02:30", "09:00"))
    now = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)  # Friday afternoon
    posts = [queue_one(workspace, account, video, now, caption=f"q{i}") for i in range(5)]
    assert [(p.scheduled_local, p.scheduled_at) for p in posts] == [
        ("2027-03-27T02:30", datetime(2027, 3, 27, 1, 30, tzinfo=UTC)),  # UTC+1
        ("2027-03-27T09:00", datetime(2027, 3, 27, 8, 0, tzinfo=UTC)),
        # 02:30 does not exist on the 28th: that slot is skipped, never shifted to 03:30.
        ("2027-03-28T09:00", datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),  # UTC+2
        ("2027-03-29T02:30", datetime(2027, 3, 29, 0, 30, tzinfo=UTC)),
        ("2027-03-29T09:00", datetime(2027, 3, 29, 7, 0, tzinfo=UTC)),
    ]
    assert all(p.status == PostStatus.SCHEDULED and p.scheduled_tz == "Europe/Paris" for p in posts)


def test_queue_takes_a_repeated_time_once_when_clocks_go_back(workspace, account, video):
    # Europe/Paris falls back on Sunday 31 October 2027: 02:30 happens twice.
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("02:30"))
    now = datetime(2027, 10, 30, 12, 0, tzinfo=UTC)
    posts = [queue_one(workspace, account, video, now) for _ in range(2)]
    assert [p.scheduled_at for p in posts] == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # the first 02:30 (UTC+2)
        datetime(2027, 11, 1, 1, 30, tzinfo=UTC),  # next day, UTC+1; not the second 02:30
    ]


def test_deleting_or_moving_a_post_frees_its_slot_and_moves_nothing_else(workspace, account, video):
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("09:00"))
    now = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)  # Monday
    first, second, third = (queue_one(workspace, account, video, now) for _ in range(3))
    before = {p.pk: p.scheduled_at for p in (second, third)}
    services.post_delete(workspace=workspace, post=first)
    for post in (second, third):
        post.refresh_from_db()
        assert post.scheduled_at == before[post.pk]
    # The freed slot is the next one again.
    refill = queue_one(workspace, account, video, now)
    assert refill.scheduled_local == "2027-05-04T09:00"
    # A post moved off its slot frees it too; the others stay.
    services.post_reschedule(
        workspace=workspace,
        post=second,
        scheduled_local=datetime(2027, 6, 1, 15, 0),
        scheduled_tz="Europe/Paris",
        now=now,
    )
    third.refresh_from_db()
    assert third.scheduled_at == before[third.pk]
    assert queue.queue_next_free(workspace=workspace, account=account, now=now).local_iso == (
        "2027-05-05T09:00"
    )


def test_failed_and_cancelled_posts_do_not_hold_a_slot(workspace, account, video):
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("09:00"))
    now = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
    PostFactory.create(
        workspace=workspace,
        account=account,
        status=PostStatus.FAILED,
        scheduled_at=datetime(2027, 5, 4, 7, 0, tzinfo=UTC),
    )
    other_account = TikTokAccountFactory.create(workspace=workspace)
    PostFactory.create(
        workspace=workspace,
        account=other_account,
        scheduled_at=datetime(2027, 5, 4, 7, 0, tzinfo=UTC),
    )
    assert queue.queue_next_free(workspace=workspace, account=account, now=now).utc == datetime(
        2027, 5, 4, 7, 0, tzinfo=UTC
    )


def test_add_an_existing_draft_to_the_queue(workspace, account, video):
    queue.slots_replace(
        workspace=workspace, account=account, slots=[SlotTime(2, time(18, 0))]
    )  # Wednesdays 18:00
    draft = PostFactory.create(
        workspace=workspace,
        account=account,
        media=video,
        status=PostStatus.DRAFT,
        scheduled_at=None,
        scheduled_local="",
    )
    now = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
    post = queue.post_add_to_queue(
        workspace=workspace,
        post=draft,
        creator_infos={str(account.id): creator_info()},
        now=now,
    )
    assert (post.pk, post.status, post.scheduled_local) == (
        draft.pk,
        PostStatus.SCHEDULED,
        "2027-05-05T18:00",
    )
    # Queuing it again keeps it in its own slot rather than jumping a week.
    again = queue.post_add_to_queue(
        workspace=workspace, post=post, creator_infos={str(account.id): creator_info()}, now=now
    )
    assert again.scheduled_local == "2027-05-05T18:00"


def test_queue_follows_the_composer_rules(workspace, account, video):
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("09:00"))
    now = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
    with pytest.raises(AppError) as exc:
        queue.post_create_queued(
            workspace=workspace,
            user=None,
            content=PostContent(media_id=video.id),
            targets=[PostTarget(account_id=account.id)],  # no privacy chosen
            creator_infos={str(account.id): creator_info()},
            now=now,
        )
    assert exc.value.code == "privacy_required"


def test_queue_needs_slots_and_says_when_full(workspace, account, video):
    now = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
    with pytest.raises(AppError) as exc:
        queue.queue_next_free(workspace=workspace, account=account, now=now)
    assert exc.value.code == "no_posting_slots"
    queue.slots_replace(workspace=workspace, account=account, slots=[SlotTime(0, time(9, 0))])
    for _ in range(queue.QUEUE_HORIZON_DAYS // 7):
        queue_one(workspace, account, video, now)
    with pytest.raises(AppError) as exc:
        queue_one(workspace, account, video, now)
    assert exc.value.code == "queue_full"


def test_slots_are_validated(workspace, account):
    with pytest.raises(AppError) as exc:
        queue.slots_replace(workspace=workspace, account=account, slots=[SlotTime(7, time(9))])
    assert exc.value.code == "invalid_weekday"
    too_many = [SlotTime(0, time(h, 0)) for h in range(16)]
    with pytest.raises(AppError) as exc:
        queue.slots_replace(workspace=workspace, account=account, slots=too_many)
    assert exc.value.code == "too_many_slots"
    kept = queue.slots_replace(
        workspace=workspace,
        account=account,
        slots=[SlotTime(1, time(9, 0, 30)), SlotTime(1, time(9, 0))],
    )
    assert kept == [SlotTime(1, time(9, 0))]

"""Comment sync against the simulator: complete, incremental, idempotent, budgeted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import TikTokAccount, TikTokVideo
from conversations import sync
from conversations.models import Comment, CommentSyncState
from conversations.sync import (
    CallBudgetSpent,
    comment_sync_account,
    comments_next_due,
    comments_upsert,
    videos_due,
)
from tests.conftest import rate_holds_elapse
from tests.conversations.conftest import (
    LIST_PATH,
    REPLIES_PATH,
    CommentSim,
    roomy_budget,
    seed_videos,
)
from tiktok_client.errors import TikTokRateLimited, TikTokUnavailable

pytestmark = pytest.mark.django_db


def _sync(account: TikTokAccount, now: dt.datetime | None = None, max_calls: int = 500):
    return comment_sync_account(account=account, budget=roomy_budget(account, max_calls), now=now)


def test_first_sync_mirrors_every_comment_and_reply(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    stats = _sync(business_account)

    expected = sum(csim.visible_comments(v.video_id) for v in videos)
    assert expected > 0
    assert stats.created == expected
    assert Comment.objects.for_workspace(business_account.workspace).count() == expected
    replies = Comment.objects.for_workspace(business_account.workspace).filter(parent__isnull=False)
    assert replies.exists()
    for reply in replies:
        assert reply.parent is not None and reply.parent.parent_id is None
        assert reply.video_id == reply.parent.video_id
    top = Comment.objects.for_workspace(business_account.workspace).filter(parent__isnull=True)
    assert all(c.author_key and c.text for c in top)
    for video in videos:
        video.refresh_from_db()
        assert video.comments_synced_at is not None


def test_second_run_writes_nothing(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    _sync(business_account)
    rows = Comment.objects.for_workspace(business_account.workspace)
    before = {c.comment_id: c.updated_at for c in rows}

    # A day later every video is due again and a full pass runs: still nothing to write.
    stats = _sync(business_account, now=timezone.now() + dt.timedelta(days=2))

    assert stats.videos == len(videos)
    assert stats.created == 0
    assert stats.updated == 0
    after = {c.comment_id: c.updated_at for c in rows.all()}
    assert after == before


def test_incremental_run_fetches_only_news(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    _sync(business_account)
    video = videos[0]
    thread = (
        Comment.objects.for_workspace(business_account.workspace)
        .filter(video=video, parent__isnull=True)
        .order_by("created_at_tiktok")
        .first()
    )
    assert thread is not None
    new_top = csim.fan_comment(video.video_id, "Brand new question?")
    new_reply = csim.fan_comment(video.video_id, "Late answer in an old thread", thread.comment_id)
    list_calls, reply_calls = csim.calls(LIST_PATH), csim.calls(REPLIES_PATH)

    stats = _sync(business_account, now=timezone.now() + dt.timedelta(days=2))

    assert stats.created == 2
    # One page per due video, and replies only for the one thread whose count changed.
    assert csim.calls(LIST_PATH) - list_calls == len(videos)
    assert csim.calls(REPLIES_PATH) - reply_calls == 1
    scoped = Comment.objects.for_workspace(business_account.workspace)
    assert scoped.get(comment_id=new_top).parent_id is None
    assert scoped.get(comment_id=new_reply).parent_id == thread.pk


def poll_interval(*, video: TikTokVideo, now: dt.datetime) -> dt.timedelta:
    """The poll tiers read directly: the interval for the video's age at `now` (the oracle the
    stored due times are checked against)."""
    age = now - video.posted_at
    for max_age, interval in sync.POLL_TIERS:
        if age < max_age:
            return interval
    return sync.OLD_VIDEO_POLL


def test_videos_are_polled_by_age(business_account: TikTokAccount) -> None:
    now = timezone.now()
    fresh = TikTokVideo(posted_at=now - dt.timedelta(hours=5))
    week = TikTokVideo(posted_at=now - dt.timedelta(days=7))
    old = TikTokVideo(posted_at=now - dt.timedelta(days=40))
    assert poll_interval(video=fresh, now=now) < dt.timedelta(minutes=1, seconds=1)
    assert poll_interval(video=week, now=now) == dt.timedelta(hours=1)
    assert poll_interval(video=old, now=now) == dt.timedelta(days=1)

    for video, synced_ago in ((fresh, 120), (week, 600), (old, 7200)):
        video.workspace = business_account.workspace
        video.account = business_account
        video.video_id = f"v-{synced_ago}"
        video.comments_synced_at = now - dt.timedelta(seconds=synced_ago)
        video.comments_due_at = comments_next_due(
            posted_at=video.posted_at, synced_at=video.comments_synced_at
        )
        video.save()
    assert [v.video_id for v in videos_due(account=business_account, now=now)] == ["v-120"]


def test_a_videos_next_due_time_follows_the_poll_interval_across_its_age_steps() -> None:
    """Stored at the sync, the due time is when `poll_interval` of the video's age *then* has
    passed: intervals grow with age, so a video near a step is due at the longer interval's
    end, never sooner, and nothing needs to revisit it as it ages."""
    posted = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    day, hour, second = dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(seconds=1)
    cases = [
        (posted + hour, posted + hour + 55 * second),  # young: 55 s
        (posted + 2 * day - 56 * second, posted + 2 * day - second),  # still young when due
        # 55 s later it is two days old: hourly from then, so due an hour after the sync.
        (posted + 2 * day - 30 * second, posted + 2 * day - 30 * second + hour),
        (posted + 7 * day, posted + 7 * day + hour),
        (posted + 14 * day - 30 * second, posted + 15 * day - 30 * second),  # daily from 14 d
        (posted + 40 * day, posted + 41 * day),
    ]
    for synced_at, due_at in cases:
        assert comments_next_due(posted_at=posted, synced_at=synced_at) == due_at
        # The old fan-out's test, at that moment and a second before it.
        video = TikTokVideo(posted_at=posted)
        assert synced_at <= due_at - poll_interval(video=video, now=due_at)
        before = due_at - second
        assert synced_at > before - poll_interval(video=video, now=before)


def test_a_sync_and_a_webhook_move_the_videos_and_the_accounts_due_times(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    from conversations.receivers import sync_video_comments_now

    now = timezone.now()
    _sync(business_account, now=now)
    for video in videos:
        video.refresh_from_db()
        assert video.comments_due_at == comments_next_due(posted_at=video.posted_at, synced_at=now)
        assert video.comments_due_at > now
    business_account.refresh_from_db()
    # Never listed here: its video list is what is due first.
    assert business_account.comments_due_at == now
    TikTokAccount.objects.for_workspace(business_account.workspace).filter(
        pk=business_account.pk
    ).update(videos_listed_at=now)
    sync.account_comments_due_refresh(account=business_account, now=now)
    business_account.refresh_from_db()
    assert business_account.comments_due_at == min(
        now + sync.VIDEO_LIST_EVERY, *(v.comments_due_at for v in videos)
    )
    assert not videos_due(account=business_account, now=now)

    sync_video_comments_now(account=business_account, video_id=videos[1].video_id)
    business_account.refresh_from_db()
    marked = TikTokVideo.objects.for_workspace(business_account.workspace).get(pk=videos[1].pk)
    assert marked.comments_due_at <= timezone.now()
    assert business_account.comments_due_at == marked.comments_due_at
    assert videos_due(account=business_account, now=timezone.now()) == [marked]


def test_videos_not_due_cost_no_calls(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    _sync(business_account)
    calls = csim.calls(LIST_PATH)
    stats = _sync(business_account, now=timezone.now() + dt.timedelta(seconds=5))
    assert stats.videos == 0
    assert csim.calls(LIST_PATH) == calls


def test_tiktok_rate_limit_propagates_and_keeps_nothing_half_done(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    csim.fault(LIST_PATH, "http_429")
    with pytest.raises(TikTokRateLimited):
        _sync(business_account)
    first = videos_due(account=business_account, now=timezone.now())
    assert len(first) == len(videos)  # nothing was marked synced

    rate_holds_elapse()
    stats = _sync(business_account)
    assert stats.created == sum(csim.visible_comments(v.video_id) for v in videos)


def test_call_budget_stops_the_run_and_later_runs_resume(
    csim: CommentSim,
    workspace,
    business_account: TikTokAccount,
) -> None:
    from tests.conversations.conftest import connect_business_account

    # The cafe account's videos carry 36 comments (two list pages) and many reply threads.
    cafe = connect_business_account(csim, workspace, open_id="sim-cafe-business", username="cafe")
    video = seed_videos(cafe, limit=1, skip=5)[0]
    expected = csim.visible_comments(video.video_id)
    stored = Comment.objects.for_workspace(workspace).filter(video=video)

    with pytest.raises(CallBudgetSpent) as raised:
        _sync(cafe, max_calls=3)
    assert raised.value.local
    assert 0 < stored.count() < expected  # finished threads were kept

    runs, cursors = 1, set()
    while True:
        runs += 1
        assert runs < 40, "sync made no progress"
        try:
            _sync(cafe, max_calls=3)
            break
        except CallBudgetSpent:
            state = CommentSyncState.objects.for_workspace(workspace).get(video=video)
            cursors.add(state.pass_cursor)
    assert stored.count() == expected
    assert 30 in cursors  # a later run resumed at the second page instead of the top
    state = CommentSyncState.objects.for_workspace(workspace).get(video=video)
    assert state.pass_cursor is None and state.full_pass_at is not None


def test_fan_reply_in_handled_thread_reopens_it(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    _sync(business_account)
    scoped = Comment.objects.for_workspace(business_account.workspace)
    thread = scoped.filter(video=videos[0], parent__isnull=True).first()
    assert thread is not None
    scoped.filter(pk=thread.pk).update(handled_at=timezone.now(), read_at=timezone.now())

    csim.fan_comment(videos[0].video_id, "Still waiting for an answer!", thread.comment_id)
    _sync(business_account, now=timezone.now() + dt.timedelta(days=2))

    thread.refresh_from_db()
    assert thread.handled_at is None
    assert thread.read_at is None


def test_sync_skips_accounts_without_comment_scope(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    business_account.business_scopes = ["user.info.username"]
    business_account.save()
    stats = _sync(business_account)
    assert stats.videos == 0
    assert csim.calls(LIST_PATH) == 0


def test_a_video_tiktok_refuses_does_not_stall_the_others(
    csim: CommentSim, business_account: TikTokAccount, videos: list[TikTokVideo]
) -> None:
    gone = TikTokVideo.objects.create(
        workspace=business_account.workspace,
        account=business_account,
        video_id="7399999999999999999",
        posted_at=timezone.now(),  # newest: synced first
    )
    stats = _sync(business_account)
    assert stats.created == sum(csim.visible_comments(v.video_id) for v in videos)
    state = CommentSyncState.objects.for_workspace(business_account.workspace).get(video=gone)
    assert "does not belong" in state.last_error
    gone.refresh_from_db()
    assert gone.comments_synced_at is not None


def test_run_budget_also_bounds_wall_clock_time(business_account: TikTokAccount) -> None:
    from conversations.sync import CallBudget

    budget = CallBudget(account=business_account, max_seconds=0)
    with pytest.raises(CallBudgetSpent) as raised:
        budget.call(lambda token: pytest.fail("TikTok must not be called"))
    assert raised.value.local and budget.calls == 0


def test_a_pass_writes_its_first_page_at_once_and_the_rest_together(
    csim: CommentSim, workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conversations import sync
    from tests.conversations.conftest import connect_business_account

    cafe = connect_business_account(csim, workspace, open_id="sim-cafe-business", username="cafe")
    video = seed_videos(cafe, limit=1, skip=5)[0]
    for n in range(40):  # 76 top comments: three list pages
        csim.fan_comment(video.video_id, f"Fan comment {n}")
    writes: list[int] = []

    def recorded(**kwargs):
        writes.append(len(kwargs["items"]))
        return comments_upsert(**kwargs)

    monkeypatch.setattr(sync, "comments_upsert", recorded)
    _sync(cafe)
    assert csim.calls(LIST_PATH) == 3
    assert len(writes) == 2  # the newest page, then the two older ones in one transaction
    assert writes[0] >= 30
    stored = Comment.objects.for_workspace(workspace).filter(video=video)
    assert stored.count() == sum(writes) == csim.visible_comments(video.video_id)

    # Smaller groups: one write a page once the group is full.
    writes.clear()
    monkeypatch.setattr(sync, "PASS_WRITE_ROWS", 1)
    csim.fan_comment(video.video_id, "One more")
    _sync(cafe, now=timezone.now() + dt.timedelta(days=2))  # due again, and a full pass
    assert len(writes) == 3


def test_a_tiktok_failure_mid_pass_keeps_what_was_read(
    csim: CommentSim, workspace, business_account: TikTokAccount
) -> None:
    from tests.conversations.conftest import connect_business_account

    cafe = connect_business_account(csim, workspace, open_id="sim-cafe-business", username="cafe")
    video = seed_videos(cafe, limit=1, skip=5)[0]
    expected = csim.visible_comments(video.video_id)
    stored = Comment.objects.for_workspace(workspace).filter(video=video)
    # The first page's threads are read; a reply list fails part-way through the page.
    csim.fault(REPLIES_PATH, "http_500")
    with pytest.raises(TikTokUnavailable):
        _sync(cafe)
    kept = stored.count()
    assert 0 < kept < expected
    # Each kept thread came with its replies (a thread's reply count says they are stored).
    for thread in stored.filter(parent__isnull=True):
        assert stored.filter(parent=thread).count() == thread.reply_count
    state = CommentSyncState.objects.for_workspace(workspace).get(video=video)
    assert state.pass_cursor is not None or state.pass_is_full

    _sync(cafe)
    assert stored.count() == expected

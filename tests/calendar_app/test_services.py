"""Composer and calendar services: every validation TikTok's UX rules and API impose."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import AccountStatus, BusinessStatus
from calendar_app import services
from calendar_app.models import Post, PostStatus
from calendar_app.services import PostContent, PostTarget
from later.errors import AppError
from tests.calendar_app.conftest import creator_info
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def account(workspace):
    return TikTokAccountFactory.create(workspace=workspace, username="ava.creates")


@pytest.fixture
def video(workspace):
    return MediaAssetFactory.create(workspace=workspace, duration_seconds=30.0)


def create(workspace, account, video, *, info=None, schedule=True, ack=False, **kw):
    target_kw = {
        k: kw.pop(k)
        for k in list(kw)
        if k in ("privacy_level", "allow_comment", "allow_duet", "allow_stitch")
    }
    target_kw.setdefault("privacy_level", "PUBLIC_TO_EVERYONE")
    content = PostContent(
        media_id=video.id if video else None,
        scheduled_local=datetime.fromisoformat(kw.pop("scheduled_local", "2026-03-25T14:30")),
        scheduled_tz=kw.pop("scheduled_tz", "Europe/Paris"),
        **kw,
    )
    return services.post_create(
        workspace=workspace,
        user=None,
        content=content,
        targets=[PostTarget(account_id=account.id, **target_kw)],
        schedule=schedule,
        acknowledge_warnings=ack,
        creator_infos={str(account.id): info or creator_info()},
        now=NOW,
    )


def error_code(fn, *args, **kwargs) -> str:
    with pytest.raises(AppError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def test_schedule_stores_utc_wall_clock_and_zone(workspace, account, video):
    (post,) = create(workspace, account, video, caption="Hello #tiktok @friend")
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == datetime(2026, 3, 25, 13, 30, tzinfo=UTC)
    assert (post.scheduled_local, post.scheduled_tz) == ("2026-03-25T14:30", "Europe/Paris")
    assert post.caption == "Hello #tiktok @friend"
    assert not (post.allow_comment or post.allow_duet or post.allow_stitch)


def test_privacy_has_no_default(workspace, account, video):
    assert error_code(create, workspace, account, video, privacy_level="") == "privacy_required"


def test_privacy_must_be_offered_by_the_creator(workspace, account, video):
    info = creator_info(privacy_level_options=("FOLLOWER_OF_CREATOR", "SELF_ONLY"))
    code = error_code(create, workspace, account, video, info=info)
    assert code == "privacy_not_offered"


@pytest.mark.parametrize(
    "flag,info_flag",
    [
        ("allow_comment", "comment_disabled"),
        ("allow_duet", "duet_disabled"),
        ("allow_stitch", "stitch_disabled"),
    ],
)
def test_interactions_the_creator_disabled_are_refused(workspace, account, video, flag, info_flag):
    info = creator_info(**{info_flag: True})
    assert error_code(create, workspace, account, video, info=info, **{flag: True}) == (
        "interaction_disabled"
    )
    (post,) = create(workspace, account, video, info=info)
    assert getattr(post, flag) is False


def test_video_longer_than_creator_max_is_blocked(workspace, account, video):
    info = creator_info(max_video_post_duration_sec=10)
    with pytest.raises(AppError) as exc:
        create(workspace, account, video, info=info)
    assert exc.value.code == "preflight_failed"
    assert "at most 10 s" in exc.value.message


def test_branded_content_cannot_be_private(workspace, account, video):
    code = error_code(
        create,
        workspace,
        account,
        video,
        privacy_level="SELF_ONLY",
        commercial_content=True,
        brand_content=True,
    )
    assert code == "branded_private"
    (post,) = create(
        workspace,
        account,
        video,
        privacy_level="SELF_ONLY",
        commercial_content=True,
        brand_organic=True,
    )
    assert post.brand_organic and not post.brand_content


def test_commercial_disclosure_needs_a_choice(workspace, account, video):
    code = error_code(create, workspace, account, video, commercial_content=True)
    assert code == "commercial_content_incomplete"


def test_caption_is_counted_in_utf16_units(workspace, account, video):
    assert create(workspace, account, video, caption="a" * 2200)
    # 1,101 emoji are 1,101 code points but 2,202 UTF-16 code units.
    with pytest.raises(AppError) as exc:
        create(workspace, account, video, caption="😀" * 1101)
    assert exc.value.code == "caption_invalid"
    assert "2,202" in exc.value.message


def test_scripts_in_captions_are_refused(workspace, account, video):
    for bad in ("<script>alert(1)</script>", "click javascript:alert(1)", "<img src=x onerror=1>"):
        assert error_code(create, workspace, account, video, caption=bad) == "caption_invalid"
    assert create(workspace, account, video, caption="I <3 tacos & 2 > 1")


def test_scheduling_in_the_past_is_refused(workspace, account, video):
    code = error_code(create, workspace, account, video, scheduled_local="2026-03-19T10:00")
    assert code == "time_in_past"


def test_scheduling_needs_media_and_time(workspace, account):
    assert error_code(create, workspace, account, None) == "media_required"


def test_invalid_time_zone(workspace, account, video):
    code = error_code(create, workspace, account, video, scheduled_tz="Mars/Olympus")
    assert code == "invalid_time_zone"


def test_draft_may_lack_privacy_and_time(workspace, account):
    (post,) = services.post_create(
        workspace=workspace,
        user=None,
        content=PostContent(caption="idea"),
        targets=[PostTarget(account_id=account.id)],
        schedule=False,
    )
    assert (
        post.status == PostStatus.DRAFT and post.privacy_level == "" and post.scheduled_at is None
    )


def test_several_accounts_get_one_post_each_with_their_own_settings(workspace, account, video):
    other = TikTokAccountFactory.create(workspace=workspace)
    posts = services.post_create(
        workspace=workspace,
        user=None,
        content=PostContent(
            media_id=video.id,
            scheduled_local=datetime(2026, 3, 25, 14, 30),
            scheduled_tz="Europe/Paris",
        ),
        targets=[
            PostTarget(
                account_id=account.id, privacy_level="PUBLIC_TO_EVERYONE", allow_comment=True
            ),
            PostTarget(account_id=other.id, privacy_level="SELF_ONLY"),
        ],
        schedule=True,
        creator_infos={str(account.id): creator_info(), str(other.id): creator_info()},
        now=NOW,
    )
    assert len({p.group_id for p in posts}) == 1
    by_account = {p.account_id: p for p in posts}
    assert by_account[account.id].privacy_level == "PUBLIC_TO_EVERYONE"
    assert by_account[account.id].allow_comment is True
    assert by_account[other.id].privacy_level == "SELF_ONLY"


def test_accounts_of_other_workspaces_are_refused(workspace, other_workspace, video):
    foreign = TikTokAccountFactory.create(workspace=other_workspace)
    assert error_code(create, workspace, foreign, video) == "account_not_found"


def test_inbox_mode_ignores_post_info(workspace, account, video):
    (post,) = create(
        workspace,
        account,
        video,
        post_mode="inbox",
        privacy_level="",
        commercial_content=True,
        is_aigc=True,
    )
    assert post.post_mode == "inbox" and post.privacy_level == "" and not post.is_aigc


@pytest.mark.parametrize("schedule", [True, False])
def test_inbox_draft_refuses_a_first_comment_that_would_never_be_sent(
    workspace, account, video, schedule
):
    # The first comment waits for the post's public link, which an inbox draft never gets from
    # us: keeping it would lose the text without a word.
    account.business_status, account.business_id = BusinessStatus.CONNECTED, "biz-ava"
    account.business_scopes = ["comment.list.manage"]
    account.save()
    assert account.has_business_scope("comment.list.manage")
    with pytest.raises(AppError) as exc:
        create(
            workspace,
            account,
            video,
            schedule=schedule,
            post_mode="inbox",
            privacy_level="",
            first_comment="Recipe in bio!",
        )
    assert exc.value.code == "first_comment_inbox"
    assert exc.value.as_dict()["error"]["fields"]["first_comment"][0]["code"] == (
        "first_comment_inbox"
    )
    assert not Post.objects.for_workspace(workspace).exists()


def test_daily_direct_post_cap_needs_confirmation(workspace, account, video):
    for i in range(15):
        PostFactory.create(
            workspace=workspace,
            account=account,
            media=video,
            scheduled_at=datetime(2026, 3, 25, 1, i, tzinfo=UTC),
        )
    with pytest.raises(services.ConfirmationRequired) as exc:
        create(workspace, account, video)
    assert "15 direct posts" in exc.value.details["warnings"][0]
    assert Post.objects.for_workspace(workspace).count() == 15
    assert create(workspace, account, video, ack=True)


def test_pending_inbox_drafts_cap_needs_confirmation(workspace, account, video):
    for i in range(5):
        PostFactory.create(
            workspace=workspace,
            account=account,
            media=video,
            post_mode="inbox",
            status=PostStatus.SENT_TO_INBOX,
            scheduled_at=datetime(2026, 3, 25, 8, i, tzinfo=UTC),
        )
    code = error_code(create, workspace, account, video, post_mode="inbox")
    assert code == "confirmation_required"


def test_account_needing_reconnect_is_refused(workspace, account, video):
    account.status = AccountStatus.NEEDS_RECONNECT
    account.save()
    with pytest.raises(AppError) as exc:
        create(workspace, account, video)
    assert "reconnect" in exc.value.message


@pytest.fixture
def scheduled(workspace, account, video):
    (post,) = create(workspace, account, video)
    return post


@pytest.mark.parametrize("status", [PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.QUEUED])
def test_posts_in_flight_cannot_be_changed(workspace, scheduled, status):
    Post.objects.for_workspace(workspace).filter(pk=scheduled.pk).update(status=status)
    content, target = services.post_content_of(scheduled)
    assert (
        error_code(
            services.post_update,
            workspace=workspace,
            post=scheduled,
            content=content,
            target=target,
            schedule=False,
        )
        == "post_not_editable"
    )
    assert (
        error_code(
            services.post_reschedule,
            workspace=workspace,
            post=scheduled,
            scheduled_local=datetime(2026, 3, 28, 10, 0),
            scheduled_tz="Europe/Paris",
            now=NOW,
        )
        == "post_not_editable"
    )
    assert error_code(services.post_delete, workspace=workspace, post=scheduled) == (
        "post_not_editable"
    )


def test_month_move_keeps_time_of_day(workspace, scheduled):
    moved = services.post_move(
        workspace=workspace, post=scheduled, target_date=date(2026, 3, 31), now=NOW
    )
    # 14:30 Paris stays 14:30 across the DST change on 29 March (UTC shifts by an hour).
    assert moved.scheduled_local == "2026-03-31T14:30"
    assert moved.scheduled_at == datetime(2026, 3, 31, 12, 30, tzinfo=UTC)


def test_week_move_uses_the_slot_time(workspace, scheduled):
    moved = services.post_move(
        workspace=workspace,
        post=scheduled,
        target_date=date(2026, 3, 26),
        target_time=time(9, 30),
        now=NOW,
    )
    assert moved.scheduled_local == "2026-03-26T09:30"
    assert moved.scheduled_at == datetime(2026, 3, 26, 8, 30, tzinfo=UTC)


def test_move_into_the_past_is_refused(workspace, scheduled):
    code = error_code(
        services.post_move,
        workspace=workspace,
        post=scheduled,
        target_date=date(2026, 3, 1),
        now=NOW,
    )
    assert code == "time_in_past"
    scheduled.refresh_from_db()
    assert scheduled.scheduled_local == "2026-03-25T14:30"


def test_edit_revalidates_and_keeps_the_row(workspace, scheduled):
    content, target = services.post_content_of(scheduled)
    from dataclasses import replace

    updated = services.post_update(
        workspace=workspace,
        post=scheduled,
        content=replace(content, caption="new caption"),
        target=replace(target, privacy_level="MUTUAL_FOLLOW_FRIENDS"),
        schedule=True,
        creator_infos={str(scheduled.account_id): creator_info()},
        now=NOW,
    )
    assert updated.pk == scheduled.pk and updated.caption == "new caption"
    assert updated.privacy_level == "MUTUAL_FOLLOW_FRIENDS"


def test_creator_info_comes_live_from_tiktok(workspace, tiktok_sim, video):
    account = tiktok_sim.connect(workspace, "sim-dance-business")
    from calendar_app.creators import creator_info_fetch

    info = creator_info_fetch(account=account)
    assert info.nickname == "Move Dance Studio" and info.duet_disabled and info.stitch_disabled
    content = PostContent(
        media_id=video.id, scheduled_local=datetime(2030, 1, 10, 10, 0), scheduled_tz="Europe/Paris"
    )
    with pytest.raises(AppError) as exc:
        services.post_create(
            workspace=workspace,
            user=None,
            content=content,
            schedule=True,
            targets=[
                PostTarget(
                    account_id=account.id, privacy_level="PUBLIC_TO_EVERYONE", allow_duet=True
                )
            ],
        )
    assert exc.value.code == "interaction_disabled"


def test_creator_who_cannot_post_stops_the_composer(workspace, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-paused-poster")
    from calendar_app.creators import CreatorCannotPost, creator_info_fetch

    with pytest.raises(CreatorCannotPost) as exc:
        creator_info_fetch(account=account)
    assert "try again later" in exc.value.message.lower()


def test_now_default_uses_the_clock(workspace, account, video):
    future = (timezone.now() + timedelta(days=2)).astimezone(workspace.tz)
    (post,) = services.post_create(
        workspace=workspace,
        user=None,
        content=PostContent(
            media_id=video.id,
            scheduled_local=future.replace(tzinfo=None, second=0, microsecond=0),
            scheduled_tz=workspace.time_zone,
        ),
        targets=[PostTarget(account_id=account.id, privacy_level="SELF_ONLY")],
        schedule=True,
        creator_infos={str(account.id): creator_info()},
    )
    assert post.status == PostStatus.SCHEDULED


def test_rescheduling_a_failed_post_clears_its_pipeline_state(workspace, scheduled):
    Post.objects.for_workspace(workspace).filter(pk=scheduled.pk).update(
        status=PostStatus.FAILED, attempts=3, fail_code="internal", fail_message="boom"
    )
    scheduled.refresh_from_db()
    moved = services.post_move(
        workspace=workspace, post=scheduled, target_date=date(2026, 3, 27), now=NOW
    )
    moved.refresh_from_db()
    assert moved.status == PostStatus.SCHEDULED and moved.attempts == 0 and moved.fail_code == ""


def test_failed_post_tiktok_may_have_cannot_be_rescheduled(workspace, scheduled):
    Post.objects.for_workspace(workspace).filter(pk=scheduled.pk).update(
        status=PostStatus.FAILED, init_started_at=NOW, publish_id="v_pub_file~v2-1.1"
    )
    scheduled.refresh_from_db()
    code = error_code(
        services.post_move,
        workspace=workspace,
        post=scheduled,
        target_date=date(2026, 3, 27),
        now=NOW,
    )
    assert code == "post_not_editable"

"""Journey 1, a marketer from sign-up to analytics, in Chromium against the live server:
sign up, create a workspace, connect two TikTok accounts through TikTok's consent page, upload
a video, schedule it for both accounts, watch a real Celery worker publish it, moderate the
comments it gets in the Inbox / Post / User views, and read the analytics."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AccountType, Membership, Role, TikTokAccount, User, Workspace
from analytics.models import AccountDailySnapshot
from analytics.tasks import backfill_account, capture_account_snapshot
from calendar_app.models import MediaAsset, Post, PostStatus
from calendar_app.tasks import dispatch_due_posts
from conversations.models import Comment
from conversations.sync import comment_sync_account
from tests.e2e.conftest import E2ESim
from tests.e2e.helpers import running_worker, wait_until
from tiktok_client.simulator import DEFAULT_BUSINESS_APP_ID

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INIT = "/v2/post/publish/video/init/"
EMAIL = "marketer@cornercafe.test"
PASSWORD = "flat white at 7am, every day"
CAPTION = "New oat flat white ☕ on the menu #coffee #smallbusiness"
CAFE, AVA = "sim-cafe-business", "sim-ava-public"


def _connect(page: Any, open_id: str, handle: str) -> None:
    page.get_by_test_id("connect-tiktok").click()
    page.wait_for_url(re.compile(r"/v2/auth/authorize/"))
    page.locator(f'button[data-open-id="{open_id}"]').click()
    # The same button chains on to the Business app's consent (docs/tiktok-connect.md).
    page.wait_for_url(re.compile(r"/v2/auth/authorize/.*client_key=" + DEFAULT_BUSINESS_APP_ID))
    page.locator(f'button[data-open-id="{open_id}"]').click()
    page.wait_for_url(re.compile(r"/w/[0-9a-f-]+/accounts/"))
    page.locator(f'[data-testid="tiktok-account"][data-open-id="{open_id}"]').wait_for()
    assert handle in page.locator(f'[data-open-id="{open_id}"]').inner_text()


def _publish_time(tz: Any) -> dt.datetime:
    """The first whole minute at least 20 s away (the composer schedules to the minute)."""
    soon = timezone.now().astimezone(tz) + dt.timedelta(seconds=20)
    return (soon + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


def test_marketer_signs_up_connects_publishes_moderates_and_reads_analytics(
    e2e_sim: E2ESim,
    live_server: Any,
    open_page: Any,
    media_root: str,
    make_video_file: Path,
    tmp_path: Path,
) -> None:
    base = live_server.url
    with running_worker(
        sim_base_url=e2e_sim.base_url, media_root=media_root, log_dir=tmp_path
    ) as worker:
        page = open_page()

        # --- Sign up (allauth) and create a workspace in Europe/Paris.
        page.goto(base + reverse("account_signup"))
        page.locator("#id_email").fill(EMAIL)
        page.locator("#id_password1").fill(PASSWORD)
        page.locator("#id_password2").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/workspaces/new/"))
        page.locator("#id_name").fill("Corner Cafe")
        page.locator("#id_time_zone").select_option("Europe/Paris")
        page.get_by_role("button", name="Create workspace").click()
        page.wait_for_url(re.compile(r"/w/[0-9a-f-]+/calendar/"))
        user = User.objects.get(email=EMAIL)
        assert user.check_password(PASSWORD)
        workspace = Workspace.objects.get(name="Corner Cafe")
        assert workspace.time_zone == "Europe/Paris"
        assert Membership.objects.for_workspace(workspace).get(user=user).role == Role.OWNER
        assert "Corner Cafe" in page.get_by_test_id("workspace-switcher").inner_text()
        assert "Europe/Paris" in page.get_by_test_id("tz-note").inner_text()

        # --- Connect two TikTok accounts through the simulator's consent page.
        page.get_by_role("link", name="TikTok accounts").click()
        page.get_by_test_id("no-accounts").wait_for()
        _connect(page, CAFE, "@corner.cafe")
        _connect(page, AVA, "@ava.creates")
        cards = page.get_by_test_id("tiktok-account")
        assert cards.count() == 2
        assert "Business" in page.locator(f'[data-open-id="{CAFE}"]').inner_text()
        accounts = {a.open_id: a for a in TikTokAccount.objects.for_workspace(workspace)}
        assert set(accounts) == {CAFE, AVA}
        cafe, ava = accounts[CAFE], accounts[AVA]
        assert cafe.account_type == AccountType.BUSINESS
        assert ava.account_type != AccountType.BUSINESS
        assert e2e_sim.requests_to("/v2/oauth/token/") == 2
        assert e2e_sim.requests_to("/open_api/v1.3/tt_user/oauth2/token/") == 2
        assert cafe.business_id and cafe.business_id != cafe.open_id
        assert b"act." not in bytes(cafe.access_token_encrypted)  # stored encrypted

        # --- Upload a real H.264 MP4 in the media library.
        page.get_by_role("link", name="Media library").click()
        page.get_by_test_id("file-input").set_input_files(str(make_video_file))
        page.get_by_test_id("upload").click()
        media = wait_for_media(workspace)
        page.get_by_test_id(f"media-card-{media.id}").wait_for()
        assert (media.kind, media.width, media.height) == ("video", 720, 1280)

        # --- Compose one post for both accounts from the calendar's New post button.
        page.get_by_role("link", name="Calendar").click()
        page.get_by_test_id("new-post").click()
        for account in (cafe, ava):
            page.get_by_test_id(f"account-{account.id}").check()
            page.get_by_test_id(f"privacy-{account.id}").wait_for()
        assert page.get_by_test_id("creator-nickname").count() == 2
        page.locator(f'label:has([data-testid="pick-{media.id}"])').click()
        page.get_by_test_id("caption").fill(CAPTION)
        for account in (cafe, ava):
            privacy = page.get_by_test_id(f"privacy-{account.id}")
            assert privacy.input_value() == ""  # TikTok requires an explicit choice
            privacy.select_option("PUBLIC_TO_EVERYONE")
            page.get_by_test_id(f"allow-comment-{account.id}").check()
        declaration = page.get_by_test_id("declaration")
        assert declaration.is_visible()
        assert "Music Usage Confirmation" in declaration.inner_text()
        when = _publish_time(workspace.tz)
        page.get_by_test_id("date").fill(when.date().isoformat())
        page.get_by_test_id("time").fill(when.strftime("%H:%M"))
        page.get_by_test_id("schedule").click()
        page.wait_for_url(re.compile(r"/calendar/"))

        posts = {p.account.open_id: p for p in Post.objects.for_workspace(workspace)}
        assert set(posts) == {CAFE, AVA}
        assert posts[CAFE].group_id == posts[AVA].group_id
        for post in posts.values():
            assert post.status == PostStatus.SCHEDULED
            assert post.scheduled_at == when.astimezone(dt.UTC)
            assert post.scheduled_local == when.strftime("%Y-%m-%dT%H:%M")
            assert post.privacy_level == "PUBLIC_TO_EVERYONE"
            assert post.allow_comment and post.media_id == media.id and post.caption == CAPTION
            card = page.get_by_test_id(f"post-{post.id}")
            assert when.strftime("%H:%M") in card.inner_text()
            assert "status-scheduled" in (card.get_attribute("class") or "")
            assert "Scheduled" in (card.get_attribute("title") or "")

        # --- Watch it publish: the worker does the work, the dispatcher runs every second.
        page.get_by_test_id(f"post-{posts[CAFE].id}").click()
        page.get_by_test_id("publishing-timeline").wait_for()
        worker.wait_ready()
        assert e2e_sim.requests_to(INIT) == 0

        def published() -> bool:
            statuses = set(Post.objects.for_workspace(workspace).values_list("status", flat=True))
            failed = statuses - {PostStatus.SCHEDULED, PostStatus.QUEUED}
            failed -= {PostStatus.PUBLISHING, PostStatus.PUBLISHED}
            assert not failed, (statuses, worker.log_text()[-3000:])
            return statuses == {PostStatus.PUBLISHED}

        seconds_left = (when - timezone.now()).total_seconds()
        wait_until(published, timeout=seconds_left + 60, interval=1.0, tick=dispatch_due_posts)
        # The open post page updates itself (htmx polling) to the outcome with the link.
        expect(page.get_by_test_id("publishing-status")).to_have_text("Published")
        expect(page.get_by_test_id("status")).to_have_text("Published")  # header badge too
        for post in posts.values():
            post.refresh_from_db()
            assert post.tiktok_post_id and post.video is not None
            assert e2e_sim.requests_to(INIT, post.account.open_id) == 1
            sim_video = e2e_sim.state.videos[post.tiktok_post_id]
            assert sim_video.privacy_level == "PUBLIC_TO_EVERYONE" and sim_video.title == CAPTION
        assert e2e_sim.requests_to(INIT) == 2
        link = page.get_by_test_id("video-link")
        assert link.get_attribute("href") == posts[CAFE].tiktok_share_url
        assert posts[CAFE].tiktok_post_id in posts[CAFE].tiktok_share_url
        page.goto(base + reverse("calendar_app:post_detail", args=[workspace.id, posts[AVA].id]))
        assert page.get_by_test_id("publishing-status").inner_text() == "Published"
        assert "ava.creates" in (page.get_by_test_id("video-link").get_attribute("href") or "")
        page.goto(base + reverse("calendar_app:calendar", args=[workspace.id]))
        for post in posts.values():
            card = page.get_by_test_id(f"post-{post.id}")
            assert "status-published" in (card.get_attribute("class") or "")
            assert "Published" in (card.get_attribute("title") or "")
    # The worker is gone; nothing below may depend on it.

    # --- Fans comment on the new business video; the comment sync brings them in.
    video_id = posts[CAFE].tiktok_post_id
    question = _fan_comment(e2e_sim, video_id, "Is the oat flat white vegan? 🌱")
    spam = _fan_comment(e2e_sim, video_id, "FREE FOLLOWERS click my bio!!!")
    # The sync service as the per-minute task runs it, limited to the videos we know (the
    # task would first list all 30 of the account's videos, more than one run's call budget).
    stats = comment_sync_account(
        account=TikTokAccount.objects.for_workspace(workspace).get(pk=cafe.pk)
    )
    assert stats.created >= 2
    ours = Comment.objects.for_workspace(workspace).filter(video=posts[CAFE].video)
    by_id = {c.comment_id: c for c in ours}
    assert {question, spam} <= set(by_id)
    question_row, spam_row = by_id[question], by_id[spam]

    # Inbox: reply to the question, hide the spam.
    page.get_by_role("link", name="Conversations").click()
    item = page.locator(f"#c-{question_row.pk}")
    assert "Is the oat flat white vegan? 🌱" in item.inner_text()
    item.locator("button[data-action=reply]").click()
    item.locator("textarea[name=text]").fill("Yes, 100% plant-based! 💚")
    item.locator("[data-reply-submit]").click()
    sent = page.locator(f"#c-{question_row.pk} [data-testid=sent-reply]")
    sent.wait_for()
    assert "Sent" in sent.inner_text()
    reply = [
        c for c in e2e_sim.state.comments.values() if c.owner and c.parent_comment_id == question
    ]
    assert [c.text for c in reply] == ["Yes, 100% plant-based! 💚"]
    assert (
        Comment.objects.for_workspace(workspace)
        .filter(
            parent=question_row, is_own=True, text="Yes, 100% plant-based! 💚", is_pending=False
        )
        .exists()
    )
    page.locator(f"#c-{spam_row.pk} .cv-actions button[data-key=h]").click()
    page.locator(f"#c-{spam_row.pk} [data-testid=hidden-badge]").wait_for()
    assert e2e_sim.state.comments[spam].status == "HIDDEN"
    spam_row.refresh_from_db()
    assert spam_row.is_hidden

    # Post view: the whole thread of the new video, our reply under the question.
    page.locator(f"#c-{question_row.pk} a.cv-post").click()
    page.get_by_test_id("caption").wait_for()
    assert CAPTION in page.get_by_test_id("caption").inner_text()
    thread = page.locator(f"#c-{question_row.pk}").locator("xpath=..")
    assert "Yes, 100% plant-based! 💚" in thread.inner_text()
    assert page.locator(f"#c-{spam_row.pk} [data-testid=hidden-badge]").is_visible()

    # User view: everything this commenter wrote, and nobody else's comments.
    page.locator(f"#c-{question_row.pk} [data-testid=author]").click()
    page.get_by_test_id("person-name").wait_for()
    assert page.get_by_test_id("person-name").inner_text() == question_row.author_label
    texts = page.locator("[data-testid=comment-text]").all_inner_texts()
    assert "Is the oat flat white vegan? 🌱" in texts
    theirs = Comment.objects.for_workspace(workspace).filter(author_key=question_row.author_key)
    assert sorted(texts) == sorted(c.text for c in theirs)

    # --- Analytics: snapshots for both accounts, then the overview and the post's page.
    for account in (cafe, ava):
        kwargs = {"workspace_id": str(workspace.id), "account_id": str(account.id)}
        backfill_account.apply(kwargs=kwargs).get()
        capture_account_snapshot.apply(kwargs=kwargs).get()
    assert AccountDailySnapshot.objects.for_workspace(workspace).filter(account=cafe).count() > 7
    page.get_by_role("link", name="Analytics").click()
    headline = (page.get_by_test_id("card-video_views").text_content() or "").lower()
    assert "video views" in headline and "headline" in headline
    assert re.search(r"[1-9][\d,]*", headline), headline
    assert page.locator('[data-testid="chart-views"] svg').is_visible()
    assert page.locator('[data-testid="chart-views"] [data-point]').count() > 0
    assert page.locator('[data-testid="chart-followers"] [data-point]').count() > 0
    table = page.get_by_test_id("posts-table")
    table.get_by_role("link", name=re.compile("New oat flat white")).first.click()
    page.wait_for_url(re.compile(r"/analytics/videos/"))
    assert CAPTION in page.locator(".an-caption").inner_text()
    assert page.get_by_test_id("card-video_views").is_visible()
    assert page.url.endswith(
        reverse("analytics:video", args=[workspace.id, posts[CAFE].video_id])
    ) or page.url.endswith(reverse("analytics:video", args=[workspace.id, posts[AVA].video_id]))


def wait_for_media(workspace: Workspace) -> MediaAsset:
    found: list[MediaAsset] = []

    def uploaded() -> bool:
        found[:] = list(MediaAsset.objects.for_workspace(workspace))
        return bool(found)

    wait_until(uploaded, timeout=30, interval=0.3, what="the upload")
    return found[0]


def _fan_comment(sim: E2ESim, video_id: str, text: str) -> str:
    response = httpx.post(
        sim.base_url + "/_sim/comments/fan", json={"video_id": video_id, "text": text}, timeout=5
    )
    response.raise_for_status()
    return str(response.json()["comment_id"])


@pytest.fixture
def make_video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 720x1280 H.264 MP4 made by the ffmpeg binary that imageio-ffmpeg ships."""
    import subprocess

    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("e2e-media") / "oat-flat-white.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=720x1280:rate=30",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out

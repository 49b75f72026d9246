"""Approvals in Chromium against the live server: an editor submits, the client approves
through the review link and a real worker publishes once; "request changes", an edit, then
approval; a post nobody approves is not published and the approvers are warned; an invitee
without an account signs up into the invited workspace."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.files import File
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Membership, Notification, Role, User, Workspace
from calendar_app.approvals import reminders
from calendar_app.models import ActivityEntry, MediaAsset, Post, PostStatus
from calendar_app.publishing.dispatch import posts_dispatch_due
from calendar_app.services import media_upload
from calendar_app.tasks import dispatch_due_posts
from tests.e2e.conftest import E2ESim
from tests.e2e.helpers import running_worker, sim_account, wait_until
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INIT = "/v2/post/publish/video/init/"
AVA = "sim-ava-public"


@pytest.fixture
def video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("approvals-media") / "pumpkin.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            *("-y", "-hide_banner", "-loglevel", "error", "-f", "lavfi"),
            *("-i", "testsrc=size=720x1280:rate=30", "-t", "2", "-c:v", "libx264"),
            *("-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)),
        ],
        check=True,
        timeout=120,
    )
    return out


def _team(approvals: bool = True) -> tuple[Workspace, User, User]:
    workspace = WorkspaceFactory.create(
        name="Corner Café", time_zone="Europe/Paris", approval_required=approvals
    )
    owner = UserFactory.create(email="owner@cornercafe.test", first_name="Olivia")
    editor = UserFactory.create(email="editor@cornercafe.test", first_name="Eddie")
    MembershipFactory.create(workspace=workspace, user=owner, role=Role.OWNER)
    MembershipFactory.create(workspace=workspace, user=editor, role=Role.EDITOR)
    return workspace, owner, editor


def _media(workspace: Workspace, user: User, path: Path) -> MediaAsset:
    with path.open("rb") as fh:
        return media_upload(
            workspace=workspace, user=user, upload=File(fh), original_name=path.name
        )


def _submit(
    page: Any,
    base: str,
    workspace: Workspace,
    account: Any,
    media: MediaAsset,
    caption: str,
    when: dt.datetime,
) -> None:
    """The editor composes a post and submits it for review (their only choice)."""
    page.goto(base + reverse("calendar_app:post_create", args=[workspace.id]))
    assert page.get_by_test_id("schedule").count() == 0
    page.get_by_test_id(f"account-{account.id}").check()
    page.get_by_test_id(f"privacy-{account.id}").wait_for()
    page.locator(f'label:has([data-testid="pick-{media.id}"])').click()
    page.get_by_test_id("caption").fill(caption)
    page.get_by_test_id(f"privacy-{account.id}").select_option("PUBLIC_TO_EVERYONE")
    page.get_by_test_id("date").fill(when.date().isoformat())
    page.get_by_test_id("time").fill(when.strftime("%H:%M"))
    page.get_by_test_id("submit-review").click()
    page.wait_for_url(re.compile(r"/calendar/"))


def _minute_ahead(tz: Any, seconds: int) -> dt.datetime:
    soon = timezone.now().astimezone(tz) + dt.timedelta(seconds=seconds)
    return (soon + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


def test_editor_submits_client_approves_worker_publishes_once(
    settings: Any,
    e2e_sim: E2ESim,
    live_server: Any,
    open_page: Any,
    media_root: str,
    video_file: Path,
    tmp_path: Path,
) -> None:
    base = live_server.url
    workspace, owner, editor = _team()
    account = sim_account(e2e_sim.app, workspace, AVA)
    media = _media(workspace, editor, video_file)
    with running_worker(
        sim_base_url=e2e_sim.base_url, media_root=media_root, log_dir=tmp_path
    ) as worker:
        when = _minute_ahead(workspace.tz, 75)
        _submit(
            open_page(editor), base, workspace, account, media, "Pumpkin spice is back 🎃", when
        )
        post = Post.objects.for_workspace(workspace).get()
        assert post.status == PostStatus.IN_REVIEW

        # The owner shares a review link with the client from the Approvals page.
        owner_page = open_page(owner)
        owner_page.goto(base + reverse("approvals:queue", args=[workspace.id]))
        expect(owner_page.get_by_test_id("queue-count")).to_have_text("1")
        owner_page.get_by_test_id("link-name").fill("Maria at Corner Café")
        owner_page.get_by_test_id("link-create").click()
        link = owner_page.get_by_test_id("link-url").first.input_value()
        assert link.startswith(settings.SITE_URL.rstrip("/") + "/review/")

        # The client, signed out, sees the post with its phone preview and approves it.
        client_page = open_page(None)
        client_page.goto(base + urlsplit(link).path)  # SITE_URL is the live server here
        item = client_page.get_by_test_id("review-item")
        expect(item).to_have_count(1)
        assert "Pumpkin spice is back" in item.get_by_test_id("review-caption").inner_text()
        assert client_page.locator("video").get_attribute("src", timeout=5000)
        assert "Calendar" not in client_page.content()  # no way into the workspace
        client_page.get_by_test_id("review-comment").fill("Perfect, go!")
        client_page.get_by_test_id("review-approve").click()
        client_page.get_by_test_id("review-empty").wait_for()
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
        assert post.approved_by_name == "Maria at Corner Café (review link)"

        # The worker publishes it, once.
        worker.wait_ready()

        def published() -> bool:
            post.refresh_from_db()
            assert post.status not in (PostStatus.FAILED, PostStatus.UNCONFIRMED), (
                worker.log_text()[-2000:]
            )
            return post.status == PostStatus.PUBLISHED

        left = (when - timezone.now()).total_seconds()
        wait_until(published, timeout=left + 60, interval=1.0, tick=dispatch_due_posts)
        assert e2e_sim.requests_to(INIT, AVA) == 1
        verbs = list(
            ActivityEntry.objects.for_workspace(workspace)
            .order_by("created_at")
            .values_list("verb", flat=True)
        )
        assert verbs[:3] == ["created", "submitted", "settings"]
        assert verbs[-2:] == ["approved", "published"]
        # The owner's activity page tells the story.
        owner_page.goto(base + reverse("approvals:activity", args=[workspace.id]))
        text = owner_page.get_by_test_id("activity").inner_text()
        assert "Maria at Corner Café (review link) approved" in text
        assert "published" in text


def test_request_changes_then_edit_then_approval(
    e2e_sim: E2ESim, live_server: Any, open_page: Any, media_root: str, video_file: Path
) -> None:
    base = live_server.url
    workspace, owner, editor = _team()
    account = sim_account(e2e_sim.app, workspace, AVA)
    media = _media(workspace, editor, video_file)
    editor_page = open_page(editor)
    _submit(
        editor_page,
        base,
        workspace,
        account,
        media,
        "Try our milk latte",
        _minute_ahead(workspace.tz, 3600),
    )
    post = Post.objects.for_workspace(workspace).get()
    detail = base + reverse("calendar_app:post_detail", args=[workspace.id, post.id])

    owner_page = open_page(owner)
    owner_page.goto(detail)
    owner_page.get_by_test_id("review-body").fill("Say oat milk, please")
    owner_page.get_by_test_id("request-changes").click()
    expect(owner_page.get_by_test_id("comments")).to_contain_text("Say oat milk, please")
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT

    editor_page.goto(detail)
    expect(editor_page.get_by_test_id("status")).to_have_text("Needs attention")
    editor_page.get_by_test_id("edit").click()
    editor_page.get_by_test_id("caption").fill("Try our oat milk latte")
    editor_page.get_by_test_id("submit-review").click()
    editor_page.wait_for_url(re.compile(r"/posts/[0-9a-f-]+/$"))
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.needs_attention == ""

    owner_page.goto(detail)
    owner_page.get_by_test_id("approve").click()
    expect(owner_page.get_by_test_id("approved-by")).to_contain_text("Olivia")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    # The versions page shows what changed between the two captions.
    owner_page.goto(base + reverse("approvals:post_versions", args=[workspace.id, post.id]))
    diff = owner_page.get_by_test_id("caption-diff").first
    assert diff.locator("ins").inner_text().strip() == "oat"


def test_never_approved_post_is_not_published_and_owners_are_warned(
    e2e_sim: E2ESim,
    live_server: Any,
    open_page: Any,
    media_root: str,
    video_file: Path,
    settings: Any,
) -> None:
    settings.APPROVAL_WARNING_MINUTES = 120
    base = live_server.url
    workspace, owner, editor = _team()
    account = sim_account(e2e_sim.app, workspace, AVA)
    media = _media(workspace, editor, video_file)
    when = _minute_ahead(workspace.tz, 3600)
    _submit(open_page(editor), base, workspace, account, media, "Nobody looked at me", when)
    post = Post.objects.for_workspace(workspace).get()
    mail.outbox.clear()

    # Beat's minute ticks, seen from an hour before, then after, the post's time.
    assert reminders.review_deadlines_check(now=timezone.now())["warned"] == 1
    assert reminders.review_deadlines_check(now=timezone.now())["warned"] == 0
    after = when.astimezone(dt.UTC) + dt.timedelta(minutes=2)
    assert posts_dispatch_due(now=after) == []
    assert reminders.review_deadlines_check(now=after)["missed"] == 1
    assert posts_dispatch_due(now=after + dt.timedelta(minutes=1)) == []
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.published_at is None
    assert e2e_sim.requests_to(INIT) == 0
    subjects = [m.subject for m in mail.outbox]
    assert sum("Waiting for approval" in s for s in subjects) == 2  # owner, then the author
    assert sum("Not published" in s for s in subjects) == 2
    assert (
        Notification.objects.for_workspace(workspace)
        .filter(user=owner, kind="review_deadline")
        .count()
        == 2
    )

    # The owner heard of the submission at once, then twice of the deadline.
    assert (
        Notification.objects.for_workspace(workspace).filter(user=owner, kind="post_review").count()
        == 1
    )
    owner_page = open_page(owner)
    owner_page.goto(base + reverse("calendar_app:post_detail", args=[workspace.id, post.id]))
    expect(owner_page.locator(".notifications summary")).to_contain_text("3")
    expect(owner_page.locator(".notice-warn").first).to_contain_text("Not approved before its time")


def test_invitee_without_an_account_signs_up_into_the_workspace(
    live_server: Any, open_page: Any
) -> None:
    base = live_server.url
    workspace, owner, _editor = _team(approvals=False)
    owner_page = open_page(owner)
    owner_page.goto(base + reverse("accounts:members", args=[workspace.id]))
    owner_page.locator("#id_email").fill("newcomer@cornercafe.test")
    owner_page.locator("#id_role").select_option("viewer")
    owner_page.get_by_role("button", name="Send invitation").click()
    wait_until(lambda: len(mail.outbox) == 1, timeout=10, what="the invitation e-mail")
    link = re.search(r"https?://\S+/invitations/\S+/", str(mail.outbox[0].body))
    assert link is not None
    path = "/invitations/" + link.group(0).split("/invitations/")[1]

    page = open_page(None)
    page.goto(base + path)
    expect(page.get_by_test_id("invited-email")).to_have_text("newcomer@cornercafe.test")
    page.get_by_test_id("invite-sign-up").click()
    page.locator("#id_email").fill("newcomer@cornercafe.test")
    page.locator("#id_password1").fill("a long and memorable phrase")
    page.locator("#id_password2").fill("a long and memorable phrase")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(rf"/w/{workspace.id}/"))
    assert "Corner Café" in page.get_by_test_id("workspace-switcher").inner_text()
    user = User.objects.get(email="newcomer@cornercafe.test")
    assert Membership.objects.for_workspace(workspace).get(user=user).role == Role.VIEWER
    expect(page.get_by_test_id("viewer-banner")).to_be_visible()

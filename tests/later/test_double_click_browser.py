"""Double-clicking any create button makes one object, and no page breaks the CSP.

Two layers are under test together: static/js/forms.js disables the button while the request
is in flight, and the form's one-time token makes a repeat that still arrives a replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Agency, AgencyMember, ApiToken, Invitation, Membership, User, Workspace
from analytics.models import ReportSchedule
from calendar_app import queue
from calendar_app.models import (
    ActivityEntry,
    CalendarNote,
    CaptionTemplate,
    HashtagGroup,
    MediaAsset,
    Post,
    PostComment,
    PostImport,
    PostingSlot,
    PostStatus,
    ReviewLink,
)
from conversations.models import Comment, Label, ModerationRule, SavedReply, ThreadNote
from conversations.sync import comment_sync_account
from tests.browser import signed_in_page
from tests.calendar_app.conftest import TikTokSim, make_media, tiktok_sim  # noqa: F401
from tests.calendar_app.factories import MediaAssetFactory
from tests.calendar_app.publishing_factories import make_post
from tests.conversations.conftest import (  # noqa: F401
    HIDE_PATH,
    CommentSim,
    connect_business_account,
    csim,
    roomy_budget,
    seed_videos,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Watch:
    """Console CSP reports and page errors of one page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(text)


@pytest.fixture
def owner_page(live_server: Any, owner: User) -> Iterator[Any]:
    with signed_in_page(
        user=owner, base_url=live_server.url, viewport={"width": 1400, "height": 900}
    ) as page:
        yield page


def _settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")


def test_double_clicks_create_one_of_everything(
    owner_page: Any,
    live_server: Any,
    owner: User,
    workspace: Workspace,
    tiktok_sim: TikTokSim,  # noqa: F811
    make_media: Any,  # noqa: F811
) -> None:
    page = owner_page
    watch = Watch(page)
    base = live_server.url

    page.goto(base + reverse("accounts:workspace_create"))
    page.fill("#id_name", "Double Click Co")
    page.get_by_role("button", name="Create workspace").dblclick()
    page.wait_for_url("**/w/**")
    _settle(page)
    assert Membership.objects.unscoped().filter(workspace__name="Double Click Co").count() == 1

    page.goto(base + reverse("accounts:members", args=[workspace.id]))
    page.fill("#id_email", "twice@example.com")
    page.get_by_role("button", name="Send invitation").dblclick()
    _settle(page)
    assert (
        Invitation.objects.for_workspace(workspace).filter(email="twice@example.com").count() == 1
    )

    page.goto(base + reverse("calendar_app:media", args=[workspace.id]))
    page.get_by_test_id("file-input").set_input_files(str(make_media(size="720x1280")))
    page.get_by_test_id("upload").dblclick()
    page.get_by_test_id("media-grid").wait_for()
    _settle(page)
    assert MediaAsset.objects.for_workspace(workspace).count() == 1
    media = MediaAsset.objects.for_workspace(workspace).get()

    account = tiktok_sim.connect(workspace, "sim-ava-public")
    page.goto(base + reverse("calendar_app:post_create", args=[workspace.id]))
    page.get_by_test_id(f"account-{account.id}").check()
    page.get_by_test_id("creator-nickname").wait_for()
    page.locator(f'label:has([data-testid="pick-{media.id}"])').click()
    page.get_by_test_id("caption").fill("Once only")
    page.get_by_test_id(f"privacy-{account.id}").select_option("SELF_ONLY")
    day = (timezone.now() + timedelta(days=5)).astimezone(workspace.tz).date()
    page.get_by_test_id("date").fill(day.isoformat())
    page.get_by_test_id("time").fill("10:30")
    page.get_by_test_id("schedule").dblclick()
    page.wait_for_url("**/calendar/**")
    _settle(page)
    assert Post.objects.for_workspace(workspace).filter(caption="Once only").count() == 1

    page.goto(base + reverse("accounts:api_tokens"))
    page.fill("#id_token_name", "CI")
    page.locator(f'input[name=workspaces][value="{workspace.id}"]').check()
    page.get_by_test_id("create-token").dblclick()
    page.get_by_test_id("token-secret").wait_for()
    _settle(page)
    assert ApiToken.objects.filter(user=owner, name="CI").count() == 1

    # Narrow screens: the token page and the composer stay usable at phone width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + reverse("accounts:api_tokens"))
    shots = Path(__file__).resolve().parents[2] / "var"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "api-tokens-390.png"), full_page=True)
    assert not watch.problems, watch.problems


def test_double_clicked_reply_and_bulk_action_reach_tiktok_once(
    owner_page: Any,
    live_server: Any,
    workspace: Workspace,
    csim: CommentSim,  # noqa: F811
) -> None:
    account = connect_business_account(csim, workspace)
    seed_videos(account, limit=1, skip=3)
    comment_sync_account(account=account, budget=roomy_budget(account))
    fans = Comment.objects.for_workspace(workspace).filter(is_own=False)
    newest = fans.order_by("-created_at_tiktok", "-id").first()
    assert newest is not None
    page = owner_page
    watch = Watch(page)

    page.goto(live_server.url + reverse("conversations:inbox", args=[workspace.pk]))
    item = page.locator(f"#c-{newest.pk}")
    item.locator("button[data-action=reply]").click()
    textarea = item.locator("textarea[name=text]")
    textarea.wait_for(state="visible")
    textarea.fill("Only once, thanks!")
    item.locator("[data-reply-submit]").dblclick()
    page.locator(f"#c-{newest.pk} [data-testid=sent-reply]").wait_for()
    _settle(page)
    sent = [c for c in csim.state.comments.values() if c.owner and c.text == "Only once, thanks!"]
    assert len(sent) == 1
    assert Comment.objects.for_workspace(workspace).filter(text="Only once, thanks!").count() == 1

    # An internal note, sent by htmx: the item comes back with its note count.
    item = page.locator(f"#c-{newest.pk}")
    item.locator("summary", has_text="More").click()
    item.locator("[data-note-input]").fill("Noted once")
    item.locator(".cv-note-form button[type=submit]").dblclick()
    page.locator(f"#c-{newest.pk} [data-testid=note-count]").wait_for()
    _settle(page)
    assert ThreadNote.objects.for_workspace(workspace).filter(text="Noted once").count() == 1

    other = fans.exclude(pk=newest.pk).order_by("-created_at_tiktok").first()
    assert other is not None
    page.locator(f"#c-{other.pk} input[data-select]").check()
    hides = csim.calls(HIDE_PATH)
    with page.expect_navigation():
        page.locator("#bulk-form button[value=hide]").dblclick()
    _settle(page)
    other.refresh_from_db()
    assert other.is_hidden
    assert csim.calls(HIDE_PATH) == hides + 1
    assert not watch.problems, watch.problems


def _twice(page: Any, button: Any) -> None:
    """Double-click a submit button of a form that answers with a new page, and wait for it
    (the page is still idle for a moment after the click, before the POST is sent)."""
    with page.expect_navigation():
        button.dblclick()
    _settle(page)


def test_double_clicks_on_every_other_create_form_make_one_object(
    owner_page: Any,
    live_server: Any,
    owner: User,
    editor: User,
    workspace: Workspace,
    tiktok_sim: TikTokSim,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The create forms added after the first sweep (tests/later/test_form_tokens.py lists
    every one): agencies, approvals and the client's review page, reports, team settings,
    moderation rules, posting slots and the queue, the caption library, calendar notes and
    the CSV import."""
    page = owner_page
    watch = Watch(page)
    base = live_server.url
    ws = workspace.id
    account = tiktok_sim.connect(workspace, "sim-ava-public")

    # Agencies: the agency, a new client, an existing workspace made a client, a member.
    page.goto(base + reverse("accounts:agency_create"))
    page.fill("#id_name", "Twice Agency")
    _twice(page, page.get_by_role("button", name="Create agency"))
    assert Agency.objects.filter(name="Twice Agency").count() == 1
    agency = Agency.objects.get(name="Twice Agency")
    manage = base + reverse("accounts:agency_manage", args=[agency.id])
    page.goto(manage)
    page.fill("#client-name", "Twice Client")
    _twice(page, page.get_by_role("button", name="Add client"))
    assert Workspace.objects.filter(name="Twice Client", agency=agency).count() == 1
    page.goto(manage)
    page.fill("#member-email", editor.email)
    _twice(page, page.get_by_role("button", name="Add to the agency"))
    assert AgencyMember.objects.filter(agency=agency, user=editor).count() == 1

    # Approvals: a review link, a team comment on a post in review, the client's comment.
    in_review = make_post(
        account,
        caption="Waiting for the client",
        status=PostStatus.IN_REVIEW,
        scheduled_at=timezone.now() + timedelta(days=3),
    )
    page.goto(base + reverse("approvals:queue", args=[ws]))
    page.get_by_test_id("link-name").fill("Twice Reviewer")
    _twice(page, page.get_by_test_id("link-create"))
    assert ReviewLink.objects.for_workspace(workspace).filter(name="Twice Reviewer").count() == 1
    # The link names SITE_URL; the live server listens elsewhere.
    review_path = urlsplit(page.get_by_test_id("link-url").first.input_value()).path
    page.goto(base + reverse("calendar_app:post_detail", args=[ws, in_review.id]))
    page.get_by_test_id("comment-body").fill("Team says once")
    _twice(page, page.get_by_test_id("comment-send"))
    assert PostComment.objects.for_workspace(workspace).filter(body="Team says once").count() == 1
    with _anonymous_page(page) as client_page:
        client_page.goto(base + review_path)
        client_page.get_by_test_id("review-comment").fill("Client says once")
        _twice(client_page, client_page.get_by_test_id("review-comment-send"))
        client_page.get_by_text("Client says once").first.wait_for()
    assert PostComment.objects.for_workspace(workspace).filter(body="Client says once").count() == 1

    # Reports: a schedule.
    page.goto(base + reverse("analytics:report_settings", args=[ws]))
    page.fill("input[name=recipients]", "client@example.com")
    _twice(page, page.get_by_role("button", name="Schedule"))
    assert ReportSchedule.objects.for_workspace(workspace).count() == 1

    # Team settings: a label and a saved reply; a moderation rule.
    page.goto(base + reverse("conversations:team", args=[ws]))
    page.fill("input[name=name][aria-label='Label name']", "twice")
    _twice(page, page.get_by_role("button", name="Add label"))
    assert Label.objects.for_workspace(workspace).filter(name="twice").count() == 1
    page.fill("#sr-title", "Thanks once")
    page.fill("#sr-text", "Thank you, once.")
    _twice(page, page.locator("[data-reply-submit]"))
    assert SavedReply.objects.for_workspace(workspace).filter(title="Thanks once").count() == 1
    page.goto(base + reverse("conversations:rule_new", args=[ws]))
    page.fill("#r-name", "No spam, once")
    page.fill("#r-words", "spam")
    _twice(page, page.get_by_role("button", name="Save rule"))
    assert ModerationRule.objects.for_workspace(workspace).filter(name="No spam, once").count() == 1

    # Planner: posting slots, a draft added to the queue, a template, a hashtag group, a note.
    page.goto(base + reverse("calendar_app:posting_slots", args=[ws]))
    page.get_by_test_id(f"slots-{account.id}-0").fill("09:00 18:00")
    _twice(page, page.get_by_test_id(f"slots-save-{account.id}"))
    assert PostingSlot.objects.for_workspace(workspace).filter(account=account).count() == 2
    draft = make_post(account, caption="Draft for the queue", status=PostStatus.DRAFT)
    page.goto(base + reverse("calendar_app:post_detail", args=[ws, draft.id]))
    _twice(page, page.get_by_test_id("add-to-queue"))
    draft.refresh_from_db()
    assert draft.status == PostStatus.SCHEDULED and draft.scheduled_at is not None
    # Scheduled once: one activity entry, at the first slot (a repeat would move it on).
    assert ActivityEntry.objects.for_workspace(workspace).filter(post=draft).count() == 1
    first = queue.queue_next_free(workspace=workspace, account=account, exclude_post_id=draft.id)
    assert draft.scheduled_at == first.utc
    page.goto(base + reverse("calendar_app:caption_library", args=[ws]))
    page.get_by_test_id("template-name").fill("Once")
    page.get_by_test_id("template-body").fill("Posted once.")
    _twice(page, page.get_by_test_id("template-add"))
    assert CaptionTemplate.objects.for_workspace(workspace).filter(name="Once").count() == 1
    page.get_by_test_id("group-name").fill("Once tags")
    page.get_by_test_id("group-tags").fill("#once #only")
    _twice(page, page.get_by_test_id("group-add"))
    assert HashtagGroup.objects.for_workspace(workspace).filter(name="Once tags").count() == 1
    page.goto(base + reverse("calendar_app:calendar", args=[ws]))
    page.get_by_test_id("notes-panel").locator("summary").click()
    page.get_by_test_id("note-text").fill("Launch, once")
    _twice(page, page.get_by_test_id("note-add"))
    assert CalendarNote.objects.for_workspace(workspace).filter(text="Launch, once").count() == 1

    # The CSV import: the preview, then the import itself.
    MediaAssetFactory.create(workspace=workspace, original_name="launch.mp4", duration_seconds=9.0)
    day = (timezone.now() + timedelta(days=9)).astimezone(workspace.tz).date()
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "account,date,time,caption,privacy,toggles,media file name\n"
        f"{account.username},{day},10:15,Imported once,everyone,comment,launch.mp4\n",
        encoding="utf-8",
    )
    page.goto(base + reverse("calendar_app:import_start", args=[ws]))
    page.get_by_test_id("import-file").set_input_files(str(plan))
    _twice(page, page.get_by_test_id("import-preview"))
    page.get_by_test_id("import-rows").wait_for()
    assert PostImport.objects.for_workspace(workspace).count() == 1
    _twice(page, page.get_by_test_id("import-confirm"))
    page.get_by_test_id("import-counts").filter(has_text="imported").wait_for()
    assert Post.objects.for_workspace(workspace).filter(caption="Imported once").count() == 1

    # Last, as it moves this workspace into the agency: an existing workspace made a client.
    page.goto(manage)
    page.locator("#client-existing").select_option(str(workspace.id))
    _twice(page, page.get_by_role("button", name="Make it a client"))
    workspace.refresh_from_db()
    assert workspace.agency_id == agency.id
    assert not watch.problems, watch.problems


@contextmanager
def _anonymous_page(page: Any) -> Iterator[Any]:
    """A page in a second context of the same browser: no session, as the client has."""
    context = page.context.browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()

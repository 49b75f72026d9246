"""Browser journeys of the planner against the simulator: 20 files dropped at once, a CSV with
good and bad rows, posting slots and a drop on a free slot, templates and best times in the
composer."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app import library, queue
from calendar_app.models import Post, PostStatus
from tests.browser import signed_in_page
from tests.calendar_app.factories import MediaAssetFactory, PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_twenty_files_dropped_at_once_become_twenty_drafts(
    live_server, workspace, editor, tiktok_sim, make_media, tmp_path
):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    source = make_media(size="360x640")
    files = []
    for i in range(20):
        copy = tmp_path / f"clip-{i:02d}.mp4"
        shutil.copy(source, copy)
        files.append(str(copy))
    with signed_in_page(user=editor, base_url=live_server.url) as page:
        page.goto(live_server.url + reverse("calendar_app:media", args=[workspace.id]))
        page.get_by_test_id("bulk-drafts").check()
        page.get_by_test_id("bulk-account").select_option(str(account.id))
        page.get_by_test_id("file-input").set_input_files(files)
        page.get_by_test_id("upload").click()
        page.get_by_test_id("upload-status").filter(has_text="Created 20 drafts").wait_for(
            timeout=120_000
        )
    drafts = list(Post.objects.for_workspace(workspace).select_related("media"))
    assert len(drafts) == 20
    assert {d.status for d in drafts} == {PostStatus.DRAFT}
    assert sorted(d.media.original_name for d in drafts if d.media) == [
        f"clip-{i:02d}.mp4" for i in range(20)
    ]


def test_csv_with_good_and_bad_rows(live_server, workspace, editor, tiktok_sim, tmp_path):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    MediaAssetFactory.create(workspace=workspace, original_name="launch.mp4", duration_seconds=9.0)
    day = (timezone.now() + timedelta(days=9)).astimezone(workspace.tz).date()
    csv_file = tmp_path / "plan.csv"
    csv_file.write_text(
        "account,date,time,caption,privacy,toggles,media file name\n"
        f"{account.username},{day},10:15,Good row,everyone,comment,launch.mp4\n"
        f"{account.username},{day},10:45,No such file,everyone,,missing.mp4\n"
        f"{account.username},,,Draft row,,,launch.mp4\n",
        encoding="utf-8",
    )
    with signed_in_page(user=editor, base_url=live_server.url) as page:
        page.goto(live_server.url + reverse("calendar_app:import_start", args=[workspace.id]))
        page.get_by_test_id("import-file").set_input_files(str(csv_file))
        page.get_by_test_id("import-preview").click()
        page.get_by_test_id("import-rows").wait_for()
        assert (
            "2 of 3 rows ready · 1 with a problem"
            in page.get_by_test_id("import-counts").inner_text()
        )
        assert "No file named “missing.mp4”" in page.get_by_test_id("import-line-3").inner_text()
        assert not Post.objects.for_workspace(workspace).exists()
        page.get_by_test_id("import-confirm").click()
        page.get_by_test_id("import-counts").filter(has_text="imported").wait_for()
    captions = sorted(Post.objects.for_workspace(workspace).values_list("caption", flat=True))
    assert captions == ["Draft row", "Good row"]


def test_slots_page_and_drop_on_a_free_slot(live_server, workspace, editor, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    with signed_in_page(user=editor, base_url=live_server.url) as page:
        page.goto(live_server.url + reverse("calendar_app:posting_slots", args=[workspace.id]))
        for weekday in range(7):
            page.get_by_test_id(f"slots-{account.id}-{weekday}").fill("09:30")
        page.get_by_test_id(f"slots-save-{account.id}").click()
        page.get_by_text("7 weekly slots saved").wait_for()
        # Best times need history: with none the page says so instead of guessing.
        page.get_by_test_id(f"slots-seed-{account.id}").click()
        page.get_by_text("Not enough data yet").wait_for()

        start = (timezone.now() + timedelta(days=8)).astimezone(workspace.tz).date()
        monday = start - timedelta(days=start.weekday())
        post = PostFactory.create(
            workspace=workspace,
            account=account,
            scheduled_at=datetime.combine(monday, time(15, 0), workspace.tz).astimezone(UTC),
            scheduled_local=f"{monday}T15:00",
        )
        url = reverse("calendar_app:calendar", args=[workspace.id])
        page.goto(live_server.url + url + f"?view=week&date={monday}")
        target = page.get_by_test_id(f"free-{monday + timedelta(days=2)}-09:30")
        page.get_by_test_id(f"post-{post.id}").drag_to(target)
        page.get_by_test_id("toast").filter(has_text="Moved to").wait_for()
    post.refresh_from_db()
    assert post.scheduled_local == f"{monday + timedelta(days=2)}T09:30"
    assert queue.queue_next_free(workspace=workspace, account=account).local.date() != (
        monday + timedelta(days=2)
    )


def test_composer_inserts_templates_and_explains_a_long_caption(
    live_server, workspace, editor, tiktok_sim
):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    library.caption_template_create(workspace=workspace, name="Friday", body="New drop Friday!")
    library.hashtag_group_create(workspace=workspace, name="Bread", hashtags="#bread #sourdough")
    with signed_in_page(user=editor, base_url=live_server.url) as page:
        page.goto(
            live_server.url
            + reverse("calendar_app:post_create", args=[workspace.id])
            + f"?account={account.id}"
        )
        note = page.locator("[data-role=best-times-note]")
        note.filter(has_text="Not enough data yet").wait_for()
        # The account's name, not its chip's text (which began with the avatar's initial).
        assert f"a time for {account}: best times" in note.inner_text()
        page.get_by_test_id("caption").fill("Hello")
        page.get_by_test_id("insert-template").select_option(label="Friday")
        page.get_by_test_id("insert-hashtags").select_option(label="Bread")
        assert page.get_by_test_id("caption").input_value() == (
            "Hello New drop Friday! #bread #sourdough"
        )
        page.get_by_test_id("caption").fill("x" * 2210)
        over = page.get_by_test_id("caption-over")
        over.wait_for()
        assert "10 characters over TikTok's 2,200 limit" in over.inner_text()
        assert page.get_by_test_id("schedule").is_disabled()


# Words of the table's cells that the layout split over two lines ("Schedul" / "ed").
SPLIT_WORDS = """(table) => {
    const split = [];
    const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.textContent.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top)));
            if (tops.size > 1) split.push(match[0]);
        }
    }
    return split;
}"""


def test_csv_preview_scrolls_sideways_on_a_phone_instead_of_splitting_words(
    live_server, workspace, editor, tiktok_sim, tmp_path
):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    MediaAssetFactory.create(workspace=workspace, original_name="launch.mp4", duration_seconds=9.0)
    day = (timezone.now() + timedelta(days=9)).astimezone(workspace.tz).date()
    csv_file = tmp_path / "plan.csv"
    csv_file.write_text(
        "account,date,time,caption,privacy,toggles,media file name\n"
        f"{account.username},{day},10:15,Autumn launch teaser for everyone,everyone,,launch.mp4\n"
        f"{account.username},{day},10:45,No such file,everyone,,missing.mp4\n",
        encoding="utf-8",
    )
    with signed_in_page(
        user=editor, base_url=live_server.url, viewport={"width": 390, "height": 844}
    ) as page:
        page.goto(live_server.url + reverse("calendar_app:import_start", args=[workspace.id]))
        page.get_by_test_id("import-file").set_input_files(str(csv_file))
        page.get_by_test_id("import-preview").click()
        table = page.get_by_test_id("import-rows")
        table.wait_for()
        assert table.evaluate(SPLIT_WORDS) == []
        # The table scrolls inside its own keyboard-reachable region; the page stays as wide
        # as the phone.
        region = table.locator("xpath=..")
        assert region.get_attribute("role") == "region"
        assert region.get_attribute("tabindex") == "0"
        assert region.evaluate("e => e.scrollWidth > e.clientWidth")
        assert region.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

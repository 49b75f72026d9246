"""Bulk scheduling (services and API): one draft per dropped file, CSV imports previewed row by
row and imported exactly once, through the composer's rules, against the simulator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app import bulk
from calendar_app.models import Post, PostImport, PostStatus
from later.errors import AppError
from tests.calendar_app.factories import MediaAssetFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db


def test_twenty_files_become_twenty_drafts(workspace, editor):
    account = TikTokAccountFactory.create(workspace=workspace)
    files = [
        MediaAssetFactory.create(workspace=workspace, original_name=f"clip{i}.mp4")
        for i in range(20)
    ]
    day = date(2031, 6, 3)
    posts = bulk.drafts_from_media(
        workspace=workspace,
        user=editor,
        media_ids=[m.id for m in files],
        account_id=account.id,
        day=day,
    )
    assert [p.media_id for p in posts] == [m.id for m in files]
    assert {p.status for p in posts} == {PostStatus.DRAFT}
    assert {p.scheduled_local for p in posts} == {"2031-06-03T12:00"}
    assert len({p.group_id for p in posts}) == 20  # each draft is its own post


def test_a_bad_file_in_a_drop_creates_nothing(workspace, other_workspace, editor):
    account = TikTokAccountFactory.create(workspace=workspace)
    mine = MediaAssetFactory.create(workspace=workspace)
    foreign = MediaAssetFactory.create(workspace=other_workspace)
    with pytest.raises(AppError) as exc:
        bulk.drafts_from_media(
            workspace=workspace, user=editor, media_ids=[mine.id, foreign.id], account_id=account.id
        )
    assert exc.value.code == "media_not_found"
    assert not Post.objects.for_workspace(workspace).exists()


def test_bulk_drafts_api_is_idempotent(workspace, editor, viewer, api_client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    files = [MediaAssetFactory.create(workspace=workspace) for _ in range(3)]
    url = reverse("calendar_app:api_bulk_drafts", args=[workspace.id])
    body = {"account_id": str(account.id), "media_ids": [str(m.id) for m in files]}
    api = api_client_for(editor)
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="drop-1")
    assert first.status_code == 201, first.content
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="drop-1")
    assert again.json() == first.json()
    assert Post.objects.for_workspace(workspace).count() == 3
    assert api_client_for(viewer).post(url, body, format="json").status_code == 403
    assert (
        api.post(url, {"account_id": str(account.id), "media_ids": []}, format="json").status_code
        == 400
    )


def csv_text(rows: list[str]) -> bytes:
    header = "account,date,time,caption,privacy,toggles,media file name,dst"
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.fixture
def library(workspace):
    return {
        name: MediaAssetFactory.create(
            workspace=workspace, original_name=name, duration_seconds=10.0
        )
        for name in ("launch.mp4", "teaser.mp4")
    }


def test_csv_preview_then_import_good_and_bad_rows(workspace, editor, tiktok_sim, library):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    day = (timezone.now() + timedelta(days=10)).astimezone(workspace.tz).date()
    content = csv_text(
        [
            f"@{account.username},{day},14:30,Launch day #new,everyone,comment;stitch,launch.mp4,",
            f"{account.username},{day},15:00,No privacy,,,teaser.mp4,",
            f"nobody,{day},15:00,Who?,everyone,,teaser.mp4,",
            f"{account.username},{day},16:00,Missing file,everyone,,gone.mp4,",
            f"{account.username},,,Just a draft,,,teaser.mp4,",
            f"{account.username},2020-01-01,10:00,Past,everyone,,teaser.mp4,",
            f"{account.username},{day},25:99,Bad time,everyone,,teaser.mp4,",
            f"{account.username},2031-10-26,02:30,Twice,everyone,,teaser.mp4,",
            f"{account.username},2031-10-26,02:30,Second,everyone,,teaser.mp4,second",
        ]
    )
    preview = bulk.import_preview(
        workspace=workspace, user=editor, file_name="plan.csv", content=content
    )
    assert not Post.objects.for_workspace(workspace).exists()  # a preview creates nothing
    by_line = {r["line"]: r for r in preview.result}
    assert [by_line[n]["status"] for n in range(2, 11)] == [
        "ok",
        "error",
        "error",
        "error",
        "ok",
        "error",
        "error",
        "error",
        "ok",
    ]
    assert by_line[3]["code"] == "privacy_required"
    assert by_line[4]["code"] == "account_not_found"
    assert by_line[5]["code"] == "media_not_found"
    assert by_line[7]["code"] == "time_in_past"
    assert by_line[8]["code"] == "invalid_datetime"
    assert by_line[9]["code"] == "ambiguous_local_time"
    done = bulk.import_confirm(workspace=workspace, user=editor, post_import=preview)
    assert done.state == PostImport.State.IMPORTED
    posts = Post.objects.for_workspace(workspace).order_by("created_at")
    assert [p.caption for p in posts] == ["Launch day #new", "Just a draft", "Second"]
    launch = posts[0]
    assert (launch.status, launch.scheduled_local, launch.privacy_level) == (
        PostStatus.SCHEDULED,
        f"{day}T14:30",
        "PUBLIC_TO_EVERYONE",
    )
    assert (launch.allow_comment, launch.allow_duet, launch.allow_stitch) == (True, False, True)
    assert posts[1].status == PostStatus.DRAFT and posts[1].scheduled_at is None
    assert [r["post_id"] != "" for r in done.result] == [r["status"] == "ok" for r in done.result]
    # Confirming again creates nothing more.
    bulk.import_confirm(workspace=workspace, user=editor, post_import=done)
    assert Post.objects.for_workspace(workspace).count() == 3


def test_csv_rows_see_each_other_for_the_inbox_draft_limit(workspace, editor, tiktok_sim, library):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    day = (timezone.now() + timedelta(days=3)).astimezone(workspace.tz).date()
    rows = [f"{account.username},{day},1{i}:00,Inbox {i},,,teaser.mp4," for i in range(6)]
    header = "account,date,time,caption,privacy,toggles,media,dst,mode"
    content = ("\n".join([header, *[r + ",inbox" for r in rows]]) + "\n").encode()
    preview = bulk.import_preview(
        workspace=workspace, user=editor, file_name="x.csv", content=content
    )
    statuses = [r["status"] for r in preview.result]
    assert statuses == ["ok"] * 5 + ["error"]  # TikTok keeps at most 5 pending inbox drafts
    assert preview.result[5]["code"] == "confirmation_required"


@pytest.mark.parametrize(
    "content,code",
    [
        (b"", "csv_empty"),
        (b"\xff\xfe\x00", "csv_not_utf8"),
        (b"date,time\n2031-01-01,10:00\n", "csv_columns"),
        (b"account\n", "csv_empty"),
    ],
)
def test_unreadable_csv_is_refused_clearly(workspace, editor, content, code):
    with pytest.raises(AppError) as exc:
        bulk.import_preview(workspace=workspace, user=editor, file_name="x.csv", content=content)
    assert exc.value.code == code


def test_csv_takes_times_as_spreadsheets_write_them(workspace, editor, tiktok_sim, library):
    # Excel and Google Sheets export "9:00" and, in US locales, "2:30 PM"; both are unambiguous.
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    day = (timezone.now() + timedelta(days=10)).astimezone(workspace.tz).date()
    times = ["9:00", "2:30 PM", "12:15 am", "7:05:00", "13:00 PM", "9:60"]
    content = csv_text(
        [f"{account.username},{day},{t},At {t},everyone,,launch.mp4," for t in times]
    )
    preview = bulk.import_preview(
        workspace=workspace, user=editor, file_name="sheet.csv", content=content
    )
    assert [(r["status"], r.get("code", "")) for r in preview.result] == [
        ("ok", ""),
        ("ok", ""),
        ("ok", ""),
        ("ok", ""),
        ("error", "invalid_datetime"),
        ("error", "invalid_datetime"),
    ]
    bulk.import_confirm(workspace=workspace, user=editor, post_import=preview)
    posts = Post.objects.for_workspace(workspace).order_by("scheduled_at")
    assert [p.scheduled_local for p in posts] == [
        f"{day}T00:15",
        f"{day}T07:05",
        f"{day}T09:00",
        f"{day}T14:30",
    ]

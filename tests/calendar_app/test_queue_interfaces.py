"""Posting slots and the queue through the API and the HTML pages, against the simulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import TikTokAccount
from calendar_app import queue
from calendar_app.models import Post, PostStatus
from calendar_app.queue import SlotTime
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db


def every_day(at: str) -> list[SlotTime]:
    return [SlotTime(d, time.fromisoformat(at)) for d in range(7)]


def test_slots_api_replaces_and_validates(workspace, editor, viewer, api_client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    url = reverse("calendar_app:api_posting_slots", args=[workspace.id, account.id])
    api = api_client_for(editor)
    body = {"slots": [{"weekday": 0, "time": "09:00"}, {"weekday": 4, "time": "18:30"}]}
    response = api.put(url, body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["slots"] == body["slots"] and data["time_zone"] == "Europe/Paris"
    assert data["next_free"] is not None
    assert api_client_for(viewer).get(url).json()["slots"] == body["slots"]
    assert api_client_for(viewer).put(url, body, format="json").status_code == 403
    bad = {"slots": [{"weekday": 7, "time": "09:00"}]}
    assert api.put(url, bad, format="json").status_code == 400
    assert api.put(url, {"slots": [{"weekday": 1, "time": "9h"}]}, format="json").status_code == 400
    assert len(queue.slot_list(workspace=workspace, account=account)) == 2


def test_queue_api_creates_into_next_free_slots(workspace, editor, api_client_for, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    media = MediaAssetFactory.create(workspace=workspace, duration_seconds=10.0)
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("09:00"))
    api = api_client_for(editor)
    url = reverse("calendar_app:api_posts_queue", args=[workspace.id])
    body = {
        "caption": "queued",
        "media_id": str(media.id),
        "targets": [{"account_id": str(account.id), "privacy_level": "PUBLIC_TO_EVERYONE"}],
    }
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert first.status_code == 201, first.content
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert again.json() == first.json()  # replayed, not queued twice
    second = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="q-2").json()
    times = [first.json()[0]["scheduled_local"], second[0]["scheduled_local"]]
    assert times[0].endswith("T09:00") and times[1].endswith("T09:00") and times[0] < times[1]
    assert Post.objects.for_workspace(workspace).count() == 2
    # An existing draft goes into the next slot after those.
    draft = PostFactory.create(
        workspace=workspace,
        account=account,
        media=media,
        status=PostStatus.DRAFT,
        scheduled_at=None,
        scheduled_local="",
    )
    queued = api.post(
        reverse("calendar_app:api_post_queue", args=[workspace.id, draft.id]), {}, format="json"
    )
    assert queued.status_code == 200, queued.content
    assert queued.json()["status"] == "scheduled"
    assert queued.json()["scheduled_local"] > times[1]
    # Without slots: a clear 400, nothing created.
    other = tiktok_sim.connect(workspace, "sim-dance-business")
    body["targets"] = [{"account_id": str(other.id), "privacy_level": "PUBLIC_TO_EVERYONE"}]
    refused = api.post(url, body, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "no_posting_slots"
    assert Post.objects.for_workspace(workspace).count() == 3


def test_slots_page_saves_and_keeps_bad_input(workspace, editor, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    url = reverse("calendar_app:posting_slots", args=[workspace.id])
    client = client_for(editor)
    assert client.get(url).status_code == 200
    form = {"account": str(account.id), "day0": "09:00 18:30", "day2": "12:00", "day6": ""}
    response = client.post(url, form, follow=True)
    assert "3 weekly slots saved" in response.content.decode()
    assert queue.slot_list(workspace=workspace, account=account) == [
        SlotTime(0, time(9)),
        SlotTime(0, time(18, 30)),
        SlotTime(2, time(12)),
    ]
    bad = client.post(url, {**form, "day3": "25:00 lunch"})
    page = bad.content.decode()
    assert bad.status_code == 400
    assert "“25:00” on Thursday is not a time like 09:00." in page
    assert 'value="25:00 lunch"' in page  # the input is kept
    assert len(queue.slot_list(workspace=workspace, account=account)) == 3
    assert client_for(viewer).post(url, form).status_code == 403


def test_slots_page_takes_times_as_people_type_them(workspace, editor, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    url = reverse("calendar_app:posting_slots", args=[workspace.id])
    form = {"account": str(account.id), "day0": "9:00, 12:30", "day1": "9am 2:30 PM", "day4": "7"}
    response = client_for(editor).post(url, form, follow=True)
    assert "5 weekly slots saved" in response.content.decode()
    assert queue.slot_list(workspace=workspace, account=account) == [
        SlotTime(0, time(9)),
        SlotTime(0, time(12, 30)),
        SlotTime(1, time(9)),
        SlotTime(1, time(14, 30)),
        SlotTime(4, time(7)),
    ]
    bad = client_for(editor).post(url, {**form, "day2": "13 PM"})
    assert "“13PM” on Wednesday is not a time like 09:00." in bad.content.decode()


def test_week_view_shows_free_slots_as_drop_targets(workspace, editor, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace, username="bakery")
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("09:00"))
    start = (timezone.now() + timedelta(days=8)).astimezone(workspace.tz).date()
    monday = start - timedelta(days=start.weekday())
    taken_day = monday + timedelta(days=2)
    PostFactory.create(
        workspace=workspace,
        account=account,
        scheduled_at=datetime.combine(taken_day, time(9), workspace.tz).astimezone(UTC),
    )
    url = reverse("calendar_app:calendar", args=[workspace.id])
    page = client_for(editor).get(url, {"view": "week", "date": monday.isoformat()})
    html = page.content.decode()
    free = re.findall(r'data-testid="free-(\d{4}-\d\d-\d\d)-09:00"', html)
    expected = [(monday + timedelta(days=i)).isoformat() for i in range(7) if i != 2]
    assert free == expected
    assert 'data-exact-time="1"' in html and "09:00 free · bakery" in html
    # Viewers can't drop anything, so they see no slots.
    viewer_html = client_for(viewer).get(url, {"view": "week", "date": monday.isoformat()})
    assert "data-exact-time" not in viewer_html.content.decode()


def test_composer_add_to_queue_and_post_page_button(workspace, editor, client_for, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    media = MediaAssetFactory.create(workspace=workspace, duration_seconds=10.0)
    queue.slots_replace(workspace=workspace, account=account, slots=every_day("07:15"))
    client = client_for(editor)
    response = client.post(
        reverse("calendar_app:post_create", args=[workspace.id]),
        {
            "accounts": [str(account.id)],
            f"privacy_level__{account.id}": "PUBLIC_TO_EVERYONE",
            "media_id": str(media.id),
            "caption": "from the composer",
            "post_mode": "direct",
            "action": "queue",
        },
        follow=True,
    )
    assert "its next free slot" in response.content.decode()
    post = Post.objects.for_workspace(workspace).get()
    assert post.status == PostStatus.SCHEDULED and post.scheduled_local.endswith("T07:15")
    draft = PostFactory.create(
        workspace=workspace,
        account=account,
        media=media,
        status=PostStatus.DRAFT,
        scheduled_at=None,
        scheduled_local="",
    )
    detail = client.get(reverse("calendar_app:post_detail", args=[workspace.id, draft.id]))
    assert 'data-testid="add-to-queue"' in detail.content.decode()
    client.post(reverse("calendar_app:post_queue", args=[workspace.id, draft.id]))
    draft.refresh_from_db()
    assert draft.status == PostStatus.SCHEDULED
    assert draft.scheduled_at is not None and post.scheduled_at is not None
    assert draft.scheduled_at - post.scheduled_at == timedelta(days=1)


def test_composer_queue_without_slots_links_to_the_posting_slots_page(
    workspace, editor, client_for, tiktok_sim
):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    TikTokAccount.objects.for_workspace(workspace).filter(pk=account.pk).update(
        username='ava"><img src=x onerror=alert(1)>'
    )
    media = MediaAssetFactory.create(workspace=workspace, duration_seconds=10.0)
    refused = client_for(editor).post(
        reverse("calendar_app:post_create", args=[workspace.id]),
        {
            "accounts": [str(account.id)],
            f"privacy_level__{account.id}": "PUBLIC_TO_EVERYONE",
            "media_id": str(media.id),
            "caption": "no slots yet",
            "post_mode": "direct",
            "action": "queue",
        },
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    slots_url = reverse("calendar_app:posting_slots", args=[workspace.id])
    fix = re.search(r'<a href="([^"]+)" data-testid="summary-fix">Set posting slots</a>', html)
    assert fix is not None, html
    assert fix.group(1) == f"{slots_url}#slots-{account.id}"
    # The handle is text in the sentence, never markup.
    assert "has no posting slots yet" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not Post.objects.for_workspace(workspace).exists()
    slots_page = client_for(editor).get(slots_url).content.decode()
    assert f'id="slots-{account.id}"' in slots_page

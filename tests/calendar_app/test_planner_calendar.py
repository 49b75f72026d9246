"""The planner's calendar: cards that show what matters, the week view's caps, the list view
across month ends, and calendar notes (HTML and API)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from calendar_app.models import CalendarNote, Post, PostStatus
from calendar_app.selectors import MAX_POSTS_SHOWN_PER_HOUR, status_label
from later.idempotency import FORM_FIELD
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db


def cal_url(workspace, **params) -> str:
    return reverse("calendar_app:calendar", args=[workspace.id]) + "?" + urlencode(params)


def card(html: str, post: Post) -> str:
    match = re.search(rf'<a class="cal-post[^"]*"[^>]*data-post-id="{post.id}".*?</a>', html, re.S)
    assert match is not None, "no card for the post"
    return match.group(0)


def accessible_text(card_html: str) -> str:
    """What a screen reader reads of a card: its text without the parts hidden from it."""
    heard = re.sub(r'<span aria-hidden="true">.*?</span>', " ", card_html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", heard).split())


def test_cards_show_thumbnail_badge_handle_and_explain_the_interactions(
    workspace, viewer, client_for
):
    account = TikTokAccountFactory.create(
        workspace=workspace, username="bakery", display_name="Bakery Co"
    )
    nameless = TikTokAccountFactory.create(workspace=workspace, username="plain", display_name="")
    media = MediaAssetFactory.create(workspace=workspace)
    media.thumbnail.save("t.jpg", ContentFile(b"\xff\xd8\xff"), save=True)
    when = datetime(2031, 3, 12, 9, 30, tzinfo=UTC)
    post = PostFactory.create(
        workspace=workspace,
        account=account,
        media=media,
        scheduled_at=when,
        allow_comment=True,
        allow_duet=False,
        allow_stitch=True,
        caption="Fresh bread every morning",
    )
    unconfirmed = PostFactory.create(
        workspace=workspace, account=nameless, scheduled_at=when, status=PostStatus.UNCONFIRMED
    )
    client = client_for(viewer)
    for view in ("month", "week", "list"):
        html = client.get(cal_url(workspace, view=view, date="2031-03-12")).content.decode()
        shown = card(html, post)
        thumb = reverse("calendar_app:media_thumbnail", args=[workspace.id, media.id])
        assert f'<img class="cal-post-thumb" src="{thumb}"' in shown
        assert 'data-peek="Fresh bread every morning"' in shown
        assert '<span class="badge badge-scheduled">Scheduled</span>' in shown
        # The chip shows the @handle (CSS ends it with an ellipsis when the day is narrow).
        assert '<span class="cal-post-acct"><span aria-hidden="true">@bakery</span>' in shown
        # No unexplained C/D/S marks: the tooltip and screen readers say it in words.
        assert "</i>" not in shown
        assert 'title="Bakery Co (@bakery) · Scheduled · Comments on, Duet off, Stitch on"' in shown
        heard = accessible_text(shown)
        assert heard.endswith(
            "Fresh bread every morning Scheduled Bakery Co (@bakery) "
            "Comments on, Duet off, Stitch on"
        ), heard
        other = card(html, unconfirmed)
        assert '<span class="badge badge-unconfirmed">Unconfirmed</span>' in other
        assert '<span class="cal-post-acct">@plain</span>' in other
        assert "Unconfirmed @plain Comments" in accessible_text(other)


def test_badges_render_any_status_generically():
    assert status_label("published") == "Published"
    assert status_label("needs_attention") == "Needs attention"
    # A status another feature adds later (approvals' in_review) needs no template change.
    assert status_label("in_review") == "In review"


def test_week_view_caps_each_hour_and_counts_the_rest(workspace, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    media = MediaAssetFactory.create(workspace=workspace)
    # 10:00-10:59 Paris on 12 March 2031 (UTC+1).
    base = datetime(2031, 3, 12, 9, 0, tzinfo=UTC)
    Post.objects.bulk_create(
        [
            Post(
                workspace=workspace,
                account=account,
                media=media,
                caption=f"busy {i}",
                status=PostStatus.SCHEDULED,
                scheduled_at=base + timedelta(minutes=i * 5),
            )
            for i in range(10)
        ]
        + [
            Post(
                workspace=workspace,
                account=account,
                media=media,
                caption="quiet",
                status=PostStatus.SCHEDULED,
                scheduled_at=base + timedelta(hours=5),
            )
        ]
    )
    html = client_for(viewer).get(cal_url(workspace, view="week", date="2031-03-12")).content
    page = html.decode()
    cell = re.search(r'data-testid="slot-2031-03-12-10">(.*?)</div>\s*<div', page, re.S)
    assert cell is not None
    assert cell.group(1).count('class="cal-post ') == MAX_POSTS_SHOWN_PER_HOUR
    assert f"+{10 - MAX_POSTS_SHOWN_PER_HOUR} more" in cell.group(1)
    # The first posts of the hour are the ones shown.
    assert "busy 0" in cell.group(1) and "busy 9" not in cell.group(1)
    quiet = re.search(r'data-testid="slot-2031-03-12-15">(.*?)</div>\s*<div', page, re.S)
    assert quiet is not None and "quiet" in quiet.group(1) and "more" not in quiet.group(1)
    # Opens at the working day, with a header that stays in view (sticky, in CSS).
    assert 'data-scroll-hour="8"' in page and "cal-week-head" in page


def test_week_view_query_count_does_not_grow_with_posts(
    workspace, owner, client_for, django_assert_max_num_queries
):
    account = TikTokAccountFactory.create(workspace=workspace)
    media = MediaAssetFactory.create(workspace=workspace)
    client = client_for(owner)
    url = cal_url(workspace, view="week", date="2031-03-12")
    client.get(url)
    base = datetime(2031, 3, 10, 0, 0, tzinfo=UTC)
    Post.objects.bulk_create(
        [
            Post(
                workspace=workspace,
                account=account,
                media=media,
                status=PostStatus.SCHEDULED,
                scheduled_at=base + timedelta(minutes=7 * i),
            )
            for i in range(600)
        ]
    )
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()
    assert page.count('class="cal-post ') <= 7 * 24 * MAX_POSTS_SHOWN_PER_HOUR


def test_list_view_shows_upcoming_posts_across_the_month_end(workspace, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    november = PostFactory.create(
        workspace=workspace, account=account, scheduled_at=datetime(2026, 11, 30, 10, tzinfo=UTC)
    )
    december = [
        PostFactory.create(
            workspace=workspace,
            account=account,
            scheduled_at=datetime(2026, 12, day, 10, tzinfo=UTC),
        )
        for day in range(1, 6)
    ]
    earlier = PostFactory.create(
        workspace=workspace, account=account, scheduled_at=datetime(2026, 11, 20, 10, tzinfo=UTC)
    )
    html = client_for(viewer).get(cal_url(workspace, view="list", date="2026-11-29")).content
    page = html.decode()
    for post in [november, *december]:
        assert f'data-post-id="{post.id}"' in page
    assert f'data-post-id="{earlier.id}"' not in page
    assert "From 29 November 2026" in page


def test_notes_are_added_by_editors_and_seen_by_everyone(workspace, editor, viewer, client_for):
    client = client_for(editor)
    page = client.get(cal_url(workspace, view="month", date="2031-03-01")).content.decode()
    token = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', page)
    assert token is not None
    url = reverse("calendar_app:note_create", args=[workspace.id])
    data = {"day": "2031-03-17", "text": "  St Patrick's   campaign ", "view": "week"}
    response = client.post(url, {**data, FORM_FIELD: token.group(1)})
    assert response.status_code == 302
    assert response["Location"].endswith("?view=week&date=2031-03-17")
    # The same form sent twice adds one note.
    client.post(url, {**data, FORM_FIELD: token.group(1)})
    notes = list(CalendarNote.objects.for_workspace(workspace))
    assert [n.text for n in notes] == ["St Patrick's campaign"]
    for view in ("month", "week"):
        html = client_for(viewer).get(cal_url(workspace, view=view, date="2031-03-17")).content
        assert f'data-testid="note-{notes[0].id}">St Patrick&#x27;s campaign<' in html.decode()
    # Viewers read notes but cannot add or delete them.
    assert client_for(viewer).post(url, data).status_code == 403
    delete = reverse("calendar_app:note_delete", args=[workspace.id, notes[0].id])
    assert client_for(viewer).post(delete).status_code == 403
    assert client.post(delete).status_code == 302
    assert not CalendarNote.objects.for_workspace(workspace).exists()


def test_note_form_refuses_bad_input_without_a_500(workspace, editor, client_for):
    client = client_for(editor)
    url = reverse("calendar_app:note_create", args=[workspace.id])
    for data in (
        {"day": "", "text": "x"},
        {"day": "2031-03-01", "text": "  "},
        {"day": "0001-01-01", "text": "x"},
        {"day": "2031-03-01", "text": "x" * 201},
    ):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain
    assert not CalendarNote.objects.for_workspace(workspace).exists()


def test_notes_api(workspace, other_workspace, editor, viewer, api_client_for):
    api = api_client_for(editor)
    url = reverse("calendar_app:api_notes", args=[workspace.id])
    created = api.post(url, {"day": "2031-12-24", "text": "Holiday sale"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["text"] == "Holiday sale"
    listed = api.get(url, {"start": "2031-12-01", "end": "2032-01-01"})
    assert [n["text"] for n in listed.json()] == ["Holiday sale"]
    assert api.get(url, {"start": "2032-01-01", "end": "2032-02-01"}).json() == []
    assert api.get(url, {"start": "nope"}).status_code == 400
    assert api.post(url, {"day": "2031-12-24", "text": ""}, format="json").status_code == 400
    assert api_client_for(viewer).post(url, {"day": "2031-12-24", "text": "x"}).status_code == 403
    note_url = reverse("calendar_app:api_note", args=[workspace.id, created.json()["id"]])
    foreign = CalendarNote.objects.create(workspace=other_workspace, day=date(2031, 1, 1), text="x")
    assert (
        api.delete(reverse("calendar_app:api_note", args=[workspace.id, foreign.id])).status_code
        == 404
    )
    assert api.delete(note_url).status_code == 204
    assert not CalendarNote.objects.for_workspace(workspace).exists()


def test_the_in_review_filter_lists_posts_waiting_for_approval(workspace, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace, username="bakery")
    when = datetime(2031, 3, 12, 9, 30, tzinfo=UTC)
    waiting = PostFactory.create(
        workspace=workspace, account=account, scheduled_at=when, status=PostStatus.IN_REVIEW
    )
    scheduled = PostFactory.create(workspace=workspace, account=account, scheduled_at=when)
    client = client_for(viewer)
    html = client.get(
        cal_url(workspace, view="list", date="2031-03-12", status="in_review")
    ).content.decode()
    assert card(html, waiting)
    assert f'data-post-id="{scheduled.id}"' not in html
    assert '<option value="in_review" selected>In review</option>' in html

    # A filter that matches nothing says so (not "plan your first post") and offers the way back.
    waiting.delete()
    empty = client.get(
        cal_url(workspace, view="list", date="2031-03-12", status="in_review")
    ).content.decode()
    assert 'data-testid="list-empty-filtered"' in empty
    assert "Plan your first post" not in empty


def test_an_inbox_draft_is_not_shown_as_published(workspace, viewer, client_for):
    """Sent to the creator's TikTok inbox, a video is not on TikTok until they post it: its card
    must not say "Published"; the Published filter still lists it with the published posts."""
    account = TikTokAccountFactory.create(workspace=workspace, username="bakery")
    when = datetime(2031, 3, 12, 9, 30, tzinfo=UTC)
    inbox = PostFactory.create(
        workspace=workspace,
        account=account,
        scheduled_at=when,
        post_mode="inbox",
        status=PostStatus.SENT_TO_INBOX,
    )
    live = PostFactory.create(
        workspace=workspace, account=account, scheduled_at=when, status=PostStatus.PUBLISHED
    )
    client = client_for(viewer)
    for view in ("month", "week", "list"):
        html = client.get(cal_url(workspace, view=view, date="2031-03-12")).content.decode()
        shown = card(html, inbox)
        assert '<span class="badge badge-sent_to_inbox">Sent to inbox</span>' in shown, view
        assert "Published" not in shown
        assert '<span class="badge badge-published">Published</span>' in card(html, live)
    published = client.get(
        cal_url(workspace, view="list", date="2031-03-12", status="published")
    ).content.decode()
    assert card(published, inbox) and card(published, live)

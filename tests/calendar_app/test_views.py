"""HTML pages: calendar views and filters, composer round trips, roles, isolation, query counts."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Post, PostStatus
from tests.calendar_app.factories import MediaAssetFactory, PostFactory
from tests.calendar_app.isolation import FOREIGN_OBJECTS
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db


def future_day(days: int = 10) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


def make_post(workspace, account, when: datetime, **kw) -> Post:
    local = when.astimezone(workspace.tz)
    return PostFactory.create(
        workspace=workspace,
        account=account,
        scheduled_at=when,
        scheduled_local=local.strftime("%Y-%m-%dT%H:%M"),
        scheduled_tz=workspace.time_zone,
        **kw,
    )


def first_tag(pattern: str, page: str) -> str:
    """The first tag matching ``pattern``; fails the test when the page has none."""
    match = re.search(pattern, page)
    assert match is not None, f"no tag matches {pattern!r}"
    return match.group(0)


def cal_url(workspace, **params) -> str:
    from urllib.parse import urlencode

    return reverse("calendar_app:calendar", args=[workspace.id]) + "?" + urlencode(params)


def test_month_week_and_list_show_posts_with_status_and_account_colour(
    workspace, viewer, client_for
):
    account = TikTokAccountFactory.create(workspace=workspace, color="#12b76a")
    when = future_day()
    post = make_post(
        workspace,
        account,
        when,
        caption="Launch <b>day</b>",
        needs_attention="TikTok did not confirm",
    )
    day = when.astimezone(workspace.tz).date().isoformat()
    client = client_for(viewer)
    for view in ("month", "week", "list"):
        html = client.get(cal_url(workspace, view=view, date=day)).content.decode()
        assert f'data-post-id="{post.id}"' in html
        assert "--acct: #12b76a" in html
        assert "Needs attention" in html
        # Shown in the workspace's zone (Europe/Paris), not UTC.
        local_time = when.astimezone(workspace.tz).strftime("%H:%M")
        assert f'data-role="time">{local_time}<' in html
        assert "Launch &lt;b&gt;day&lt;/b&gt;" in html and "<b>day</b>" not in html
        # Viewers see everything but get no drag handles and no buttons.
        assert 'draggable="true"' not in html and "+ New post" not in html


def test_filters_by_account_and_status(workspace, owner, client_for):
    a, b = (
        TikTokAccountFactory.create(workspace=workspace),
        TikTokAccountFactory.create(workspace=workspace),
    )
    when = future_day()
    pa = make_post(workspace, a, when)
    pb = make_post(workspace, b, when, status=PostStatus.FAILED)
    day = when.astimezone(workspace.tz).date().isoformat()
    client = client_for(owner)
    html = client.get(cal_url(workspace, date=day, account=str(a.id))).content.decode()
    assert str(pa.id) in html and str(pb.id) not in html
    html = client.get(cal_url(workspace, date=day, status="failed")).content.decode()
    assert str(pb.id) in html and str(pa.id) not in html


def test_editor_gets_drag_handles(workspace, editor, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    when = future_day()
    make_post(workspace, account, when)
    MediaAssetFactory.create(workspace=workspace)
    html = client_for(editor).get(cal_url(workspace, date=when.date().isoformat())).content.decode()
    assert 'draggable="true" data-reschedule-url' in html and "data-media-id" in html


def test_reschedule_endpoint_persists_and_refuses(workspace, editor, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    when = future_day(5)
    post = make_post(workspace, account, when)
    url = reverse("calendar_app:post_reschedule", args=[workspace.id, post.id])
    target = (when.astimezone(workspace.tz) + timedelta(days=2)).date()
    response = client_for(editor).post(url, {"date": target.isoformat()})
    assert response.status_code == 200, response.content
    post.refresh_from_db()
    expected = when.astimezone(workspace.tz) + timedelta(days=2)
    assert post.scheduled_local == expected.strftime("%Y-%m-%dT%H:%M")
    assert response.json()["post"]["display_date"] == target.isoformat()
    past = client_for(editor).post(url, {"date": "2020-01-01"})
    assert past.status_code == 400 and past.json()["error"]["code"] == "time_in_past"
    assert client_for(viewer).post(url, {"date": target.isoformat()}).status_code == 403


def test_composer_renders_and_keeps_input_on_error(
    workspace, editor, client_for, tiktok_sim, make_media
):
    account = tiktok_sim.connect(workspace, "sim-dance-business")
    media = MediaAssetFactory.create(workspace=workspace)
    client = client_for(editor)
    url = reverse("calendar_app:post_create", args=[workspace.id])
    page = client.get(url + f"?media={media.id}&account={account.id}").content.decode()
    assert "Move Dance Studio" in page and "Videos up to" in page
    assert "Choose who can view" in page
    duet = first_tag(rf'<input[^>]*name="allow_duet__{account.id}"[^>]*>', page)
    comment = first_tag(rf'<input[^>]*name="allow_comment__{account.id}"[^>]*>', page)
    assert "disabled" in duet and "checked" not in duet
    assert "disabled" not in comment and "checked" not in comment
    assert "turned off in the creator's TikTok settings" in page
    caption = "Ünïcode caption #keep @me"
    response = client.post(
        url,
        {
            "accounts": [str(account.id)],
            "media_id": str(media.id),
            "caption": caption,
            "post_mode": "direct",
            "scheduled_date": "2026-03-29",
            "scheduled_time": "02:30",
            "scheduled_tz": "Europe/Paris",
            "action": "schedule",
            f"privacy_level__{account.id}": "PUBLIC_TO_EVERYONE",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "02:30 is skipped on 2026-03-29 in Europe/Paris" in html and "Use 03:30" in html
    assert caption in html and 'value="PUBLIC_TO_EVERYONE" selected' in html
    assert Post.objects.for_workspace(workspace).count() == 0


def test_composer_creates_posts_for_two_accounts(workspace, editor, client_for, tiktok_sim):
    ava = tiktok_sim.connect(workspace, "sim-ava-public")
    cafe = tiktok_sim.connect(workspace, "sim-cafe-business")
    media = MediaAssetFactory.create(workspace=workspace, duration_seconds=20)
    day = future_day(3).astimezone(workspace.tz).date().isoformat()
    response = client_for(editor).post(
        reverse("calendar_app:post_create", args=[workspace.id]),
        {
            "accounts": [str(ava.id), str(cafe.id)],
            "media_id": str(media.id),
            "caption": "Two at once",
            "post_mode": "direct",
            "scheduled_date": day,
            "scheduled_time": "18:00",
            "scheduled_tz": "",
            "action": "schedule",
            f"privacy_level__{ava.id}": "PUBLIC_TO_EVERYONE",
            f"allow_comment__{ava.id}": "on",
            f"privacy_level__{cafe.id}": "MUTUAL_FOLLOW_FRIENDS",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    posts = list(Post.objects.for_workspace(workspace))
    assert len(posts) == 2 and len({p.group_id for p in posts}) == 1
    assert {p.scheduled_tz for p in posts} == {"Europe/Paris"}
    assert {(p.account_id, p.privacy_level, p.allow_comment) for p in posts} == {
        (ava.id, "PUBLIC_TO_EVERYONE", True),
        (cafe.id, "MUTUAL_FOLLOW_FRIENDS", False),
    }


def test_composer_stops_when_creator_cannot_post(workspace, editor, client_for, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-paused-poster")
    url = reverse("calendar_app:creator_panel", args=[workspace.id, account.id])
    html = client_for(editor).get(url).content.decode()
    assert 'data-blocked="1"' in html and "try again later" in html.lower()


def test_post_detail_and_edit(workspace, owner, viewer, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    post = make_post(workspace, account, future_day(), caption="<script>x</script>")
    url = reverse("calendar_app:post_detail", args=[workspace.id, post.id])
    html = client_for(viewer).get(url).content.decode()
    assert "&lt;script&gt;" in html and "<script>x" not in html and 'data-testid="edit"' not in html
    assert 'data-testid="edit"' in client_for(owner).get(url).content.decode()
    Post.objects.for_workspace(workspace).filter(pk=post.pk).update(status=PostStatus.PUBLISHING)
    edit = client_for(owner).get(reverse("calendar_app:post_edit", args=[workspace.id, post.id]))
    assert edit.status_code == 302


def test_post_delete(workspace, editor, client_for):
    post = make_post(workspace, TikTokAccountFactory.create(workspace=workspace), future_day())
    client_for(editor).post(reverse("calendar_app:post_delete", args=[workspace.id, post.id]))
    assert not Post.objects.for_workspace(workspace).filter(pk=post.pk).exists()


ROUTES = [
    ("calendar_app:post_detail", "get", ("post_id",)),
    ("calendar_app:post_edit", "get", ("post_id",)),
    ("calendar_app:post_delete", "post", ("post_id",)),
    ("calendar_app:post_reschedule", "post", ("post_id",)),
    ("calendar_app:media_delete", "post", ("media_id",)),
    ("calendar_app:media_file", "get", ("media_id",)),
    ("calendar_app:media_thumbnail", "get", ("media_id",)),
    ("calendar_app:creator_panel", "get", ("account_id",)),
    ("calendar_app:api_post", "get", ("post_id",)),
    ("calendar_app:api_post_reschedule", "post", ("post_id",)),
    ("calendar_app:api_media_detail", "delete", ("media_id",)),
    ("calendar_app:api_creator_info", "get", ("account_id",)),
]


@pytest.mark.parametrize("name,method,kwargs", ROUTES)
def test_foreign_ids_are_404(workspace, other_workspace, owner, client_for, name, method, kwargs):
    ids = {k: FOREIGN_OBJECTS[k](other_workspace) for k in kwargs}
    url = reverse(name, kwargs={"workspace_id": workspace.id, **ids})
    client = client_for(owner)
    # Whatever the method, a foreign id is 404 (never 405 or 403, which would confirm it).
    for verb in {method, "get", "post"}:
        response = getattr(client, verb)(url)
        assert response.status_code == 404, (verb, url, response.status_code)


def test_outsider_gets_404(workspace, outsider, client_for):
    for name in ("calendar_app:calendar", "calendar_app:media", "calendar_app:post_create"):
        assert client_for(outsider).get(reverse(name, args=[workspace.id])).status_code == 404


def _fill_month(workspace, accounts, count: int, month_start: datetime) -> None:
    rng = random.Random(count)
    media = MediaAssetFactory.create(workspace=workspace)
    Post.objects.bulk_create(
        Post(
            workspace=workspace,
            account=rng.choice(accounts),
            media=media,
            caption=f"p{i}",
            status=rng.choice(["scheduled", "draft", "published", "failed"]),
            scheduled_at=month_start + timedelta(minutes=rng.randrange(0, 27 * 24 * 60)),
            scheduled_tz="Europe/Paris",
        )
        for i in range(count)
    )


def test_month_view_query_count_is_constant(
    workspace, owner, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    accounts = [TikTokAccountFactory.create(workspace=workspace) for _ in range(3)]
    start = datetime(2027, 2, 1, 0, 0, tzinfo=UTC)
    # The first-run checklist (one query while shown) is over in a workspace this busy.
    workspace.checklist_done_at = start
    workspace.save()
    client = client_for(owner)
    client.get(cal_url(workspace, date="2027-02-10"))  # warm the session
    counts = []
    for size in (20, 4980):  # 20, then 5,000 posts in the month
        _fill_month(workspace, accounts, size, start)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(cal_url(workspace, view="month", date="2027-02-10"))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert response.context["page"].total == 5000
    assert counts[0] == counts[1] <= 14, counts  # 14th: the calendar notes
    assert "more</a>" in response.content.decode()  # busy days collapse into "+N more"


def test_creator_panel_warns_before_scheduling(workspace, editor, client_for, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-quiet-chef")  # 60 s max
    long_video = MediaAssetFactory.create(workspace=workspace, duration_seconds=95)
    day = future_day(4)
    for i in range(15):
        make_post(workspace, account, day + timedelta(minutes=i))
    local = day.astimezone(workspace.tz)
    url = reverse("calendar_app:creator_panel", args=[workspace.id, account.id])
    html = (
        client_for(editor)
        .get(
            url,
            {
                "media_id": str(long_video.id),
                "scheduled_date": local.date().isoformat(),
                "scheduled_time": local.strftime("%H:%M"),
                "post_mode": "direct",
                f"privacy_level__{account.id}": "SELF_ONLY",
            },
        )
        .content.decode()
    )
    assert "can post videos of at most 60 s" in html
    assert "15 direct posts within 24 hours" in html
    assert 'value="SELF_ONLY" selected' in html  # the user's choice survives the reload


def test_busy_day_shows_six_and_a_count(workspace, owner, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    when = future_day(6)
    posts = [make_post(workspace, account, when + timedelta(minutes=i)) for i in range(8)]
    day = when.astimezone(workspace.tz).date().isoformat()
    html = client_for(owner).get(cal_url(workspace, view="month", date=day)).content.decode()
    shown = [p for p in posts if f'data-post-id="{p.id}"' in html]
    assert shown == posts[:6] and "+2 more" in html


def test_media_dropped_on_a_day_prefills_the_composer(workspace, editor, client_for):
    media = MediaAssetFactory.create(workspace=workspace)
    url = reverse("calendar_app:post_create", args=[workspace.id])
    html = client_for(editor).get(url, {"media": str(media.id), "date": "2030-05-01"}).content
    page = html.decode()
    radio = first_tag(rf'<input[^>]*value="{media.id}"[^>]*>', page)
    assert "checked" in radio
    assert 'value="2030-05-01"' in page and 'value="12:00"' in page


def _compose(client, workspace, account, media, **extra):
    data = {
        "accounts": [str(account.id)],
        "media_id": str(media.id),
        "caption": "c",
        "post_mode": "direct",
        "scheduled_tz": "America/New_York",
        "action": "schedule",
        f"privacy_level__{account.id}": "PUBLIC_TO_EVERYONE",
    }
    data.update(extra)
    return client.post(reverse("calendar_app:post_create", args=[workspace.id]), data)


def test_composer_asks_which_occurrence_of_a_repeated_time(
    workspace, editor, client_for, tiktok_sim
):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    media = MediaAssetFactory.create(workspace=workspace)
    client = client_for(editor)
    first = _compose(
        client, workspace, account, media, scheduled_date="2030-11-03", scheduled_time="01:30"
    )
    html = first.content.decode()
    assert first.status_code == 400 and "happens twice on 2030-11-03" in html
    assert 'data-testid="fold-0"' in html and 'data-testid="fold-1"' in html
    second = _compose(
        client,
        workspace,
        account,
        media,
        scheduled_date="2030-11-03",
        scheduled_time="01:30",
        fold="1",
    )
    assert second.status_code == 302
    post = Post.objects.for_workspace(workspace).get()
    assert post.scheduled_at == datetime(2030, 11, 3, 6, 30, tzinfo=UTC)  # EST, second pass
    assert post.scheduled_local == "2030-11-03T01:30"


def test_composer_confirms_cap_warnings(workspace, editor, client_for, tiktok_sim):
    account = tiktok_sim.connect(workspace, "sim-ava-public")
    media = MediaAssetFactory.create(workspace=workspace)
    when = datetime(2030, 6, 1, 14, 0, tzinfo=UTC)
    for i in range(15):
        make_post(workspace, account, when - timedelta(hours=i))
    client = client_for(editor)
    kwargs = {"scheduled_date": "2030-06-01", "scheduled_time": "10:30"}
    first = _compose(client, workspace, account, media, **kwargs)
    assert first.status_code == 400 and 'data-testid="acknowledge"' in first.content.decode()
    assert Post.objects.for_workspace(workspace).count() == 15
    second = _compose(client, workspace, account, media, acknowledge_warnings="on", **kwargs)
    assert second.status_code == 302
    assert Post.objects.for_workspace(workspace).count() == 16


def test_unscheduled_draft_can_be_dropped_on_a_day(workspace, editor, client_for):
    account = TikTokAccountFactory.create(workspace=workspace)
    draft = PostFactory.create(
        workspace=workspace,
        account=account,
        status=PostStatus.DRAFT,
        scheduled_at=None,
        privacy_level="",
    )
    client = client_for(editor)
    assert f'data-post-id="{draft.id}"' in client.get(cal_url(workspace)).content.decode()
    day = future_day(2).astimezone(workspace.tz).date()
    url = reverse("calendar_app:post_reschedule", args=[workspace.id, draft.id])
    assert client.post(url, {"date": day.isoformat()}).status_code == 200
    draft.refresh_from_db()
    assert draft.status == PostStatus.DRAFT and draft.scheduled_local == f"{day}T12:00"


def test_list_view_pages_a_busy_month_without_gaps_or_repeats(workspace, owner, client_for):
    from calendar_app.selectors import LIST_PAGE_SIZE

    account = TikTokAccountFactory.create(workspace=workspace)
    media = MediaAssetFactory.create(workspace=workspace)
    base = datetime(2031, 5, 1, 8, 0, tzinfo=UTC)
    # Several posts share a minute so the page boundary falls inside a tie.
    Post.objects.bulk_create(
        [
            Post(
                workspace=workspace,
                account=account,
                media=media,
                caption=f"busy {i}",
                status=PostStatus.SCHEDULED,
                scheduled_at=base + timedelta(minutes=(i // 3) * 10),
            )
            for i in range(LIST_PAGE_SIZE + 40)
        ]
    )
    client = client_for(owner)
    url = reverse("calendar_app:calendar", args=[workspace.id])
    seen: list[str] = []
    per_page: list[int] = []
    query = {"view": "list", "date": "2031-05-01"}
    for _ in range(3):
        page = client.get(url, query).content.decode()
        ids = re.findall(r'data-testid="post-([0-9a-f-]{36})"', page)
        per_page.append(len(ids))
        seen += ids
        more = re.search(r'data-testid="list-more" href="\?([^"]+)"', page)
        if not more:
            break
        query = dict(pair.split("=", 1) for pair in more.group(1).replace("&amp;", "&").split("&"))
        from urllib.parse import unquote

        query = {k: unquote(v) for k, v in query.items()}
    assert per_page == [LIST_PAGE_SIZE, 40]
    assert len(set(seen)) == len(seen) == LIST_PAGE_SIZE + 40

"""Best time to post: a fixture with known posting times and views yields a known best slot."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AccountType, TikTokAccount, TikTokVideo, Workspace
from accounts.video_sync import FetchedVideo
from analytics.best_times import activity_hours, best_times_build, best_times_suggest
from analytics.models import AccountDailySnapshot, VideoSnapshot
from analytics.services import video_snapshots_record
from calendar_app.models import Post, PostStatus
from tests.analytics.seed import business_account, video

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A Monday in winter (Berlin = UTC+1), so local 18:00 is 17:00 UTC.
NOW = dt.datetime(2026, 2, 2, 9, 0, tzinfo=BERLIN)


def _posted(weeks_ago: int, weekday: int, hour: int) -> dt.datetime:
    monday = (NOW - dt.timedelta(weeks=weeks_ago)).date() - dt.timedelta(days=NOW.weekday())
    day = monday + dt.timedelta(days=weekday)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def _record_snapshot(item: TikTokVideo, captured: dt.datetime, views: int) -> None:
    """Through the snapshot writer, which also stores the views at 24 h it settles."""
    video_snapshots_record(
        account=item.account,
        videos=[item],
        fetched=[FetchedVideo(video_id=item.video_id, posted_at=item.posted_at, views=views)],
        captured_at=captured,
    )


def _post_with_24h_views(account: TikTokAccount, key: str, at: dt.datetime, views: int) -> None:
    item = video(account, key, at.astimezone(dt.UTC))
    _record_snapshot(item, item.posted_at + dt.timedelta(hours=24, minutes=20), views)


def _seed_posts(account: TikTokAccount, *, weeks: int = 12, growth: float = 1.0) -> None:
    """Three posts a week: Tuesday 18:00 triples the usual views; the account grows."""
    for week in range(1, weeks + 1):
        size = growth ** (weeks - week)  # recent weeks are bigger when growth > 1
        for weekday, hour, factor in ((1, 18, 3.0), (3, 9, 1.0), (5, 12, 1.0)):
            _post_with_24h_views(
                account,
                f"{account.username}-{week}-{weekday}",
                _posted(week, weekday, hour),
                int(1000 * size * factor),
            )


@pytest.fixture
def berlin(workspace: Workspace) -> Workspace:
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    return workspace


def test_known_posts_give_tuesday_18_in_the_workspace_time_zone(berlin: Workspace) -> None:
    account = business_account(berlin)
    _seed_posts(account, growth=1.15)

    data = best_times_build(workspace=berlin, account=account, now=NOW)

    posts = data.sources[0]
    assert posts.key == "posts"
    assert posts.samples == 36
    assert posts.confidence == "medium"
    best = posts.best(1)[0]
    assert (best.weekday, best.hour) == (1, 18)
    assert best.samples == 12
    # Normalised for growth: every Tuesday post is ~2x its weeks' typical views at any size.
    assert best.index > 1.6
    assert all(cell.index < 1.0 for cell in posts.cells.values() if cell.hour != 18)
    assert (data.slots[0].weekday, data.slots[0].hour) == (1, 18)
    # Business account, but no audience_activity stored: labelled, not guessed.
    assert data.sources[1].confidence == "insufficient"
    assert data.confidence == "medium"


def test_growth_does_not_decide_the_best_slot(berlin: Workspace) -> None:
    """Thursday posts only in the recent, much bigger weeks would win on raw views."""
    account = business_account(berlin)
    _seed_posts(account, growth=1.0)
    for week in range(1, 4):
        _post_with_24h_views(account, f"late-{week}", _posted(week, 3, 20), 2500)
    # Recent weeks: the account is 3x bigger, so everything then gets 3x the views (the
    # writer re-records the same hourly bucket and settles the new figure).
    for item in VideoSnapshot.objects.for_workspace(berlin).filter(
        video__posted_at__gte=_posted(3, 0, 0)
    ):
        _record_snapshot(item.video, item.captured_at, item.views * 3)

    data = best_times_build(workspace=berlin, account=account, now=NOW)

    best = data.sources[0].best(1)[0]
    assert (best.weekday, best.hour) == (1, 18)


def test_too_little_data_says_so(berlin: Workspace, client_for, owner) -> None:
    account = business_account(berlin)
    for week in range(1, 4):
        _post_with_24h_views(account, f"v{week}", _posted(week, 1, 18), 500)

    data = best_times_build(workspace=berlin, account=account, now=NOW)

    assert data.sources[0].samples == 3
    assert data.sources[0].confidence == "insufficient"
    assert not data.enough_data
    assert data.slots == []
    assert best_times_suggest(workspace=berlin, account=account, now=NOW) == []

    page = client_for(owner).get(
        reverse("analytics:best_times", args=[berlin.pk]), {"account": str(account.pk)}
    )
    assert page.status_code == 200
    assert b"Not enough data yet" in page.content
    assert b"3 posts" in page.content


def test_audience_activity_is_shifted_into_local_time(berlin: Workspace) -> None:
    account = business_account(berlin)
    rows = []
    start = dt.date(2026, 1, 1)
    for offset in range(28):
        day = start + dt.timedelta(days=offset)
        pairs = [(hour, 500 if hour == 19 else 50) for hour in range(24)]
        activity = activity_hours(pairs)  # 19:00 UTC = 20:00 in Berlin in winter
        rows.append(
            AccountDailySnapshot(
                workspace=berlin, account=account, date=day, audience_activity=activity
            )
        )
    AccountDailySnapshot.objects.bulk_create(rows)

    data = best_times_build(workspace=berlin, account=account, now=NOW)

    source = data.sources[1]
    assert source.samples == 28
    assert source.confidence == "high"
    assert {(cell.weekday, cell.hour) for cell in source.best(7)} == {
        (weekday, 20) for weekday in range(7)
    }
    assert source.best(1)[0].index == pytest.approx(500 / (23 * 50 + 500) * 24)
    assert data.slots[0].hour == 20


def test_personal_accounts_have_no_audience_activity(berlin: Workspace) -> None:
    account = TikTokAccount.objects.create(
        workspace=berlin, open_id="p1", username="p1", account_type=AccountType.PERSONAL
    )
    data = best_times_build(workspace=berlin, account=account, now=NOW)
    assert data.sources[1].confidence == "unavailable"


def test_queries_are_fixed_and_suggestions_skip_taken_hours(berlin: Workspace) -> None:
    account = business_account(berlin)
    other = business_account(berlin, "second.shop")
    _seed_posts(account, weeks=12)
    _seed_posts(other, weeks=6)

    with CaptureQueriesContext(connection) as queries:
        suggestions = best_times_suggest(workspace=berlin, account=account, now=NOW)
    assert len(queries) == 3
    assert suggestions[0].at == dt.datetime(2026, 2, 3, 18, tzinfo=BERLIN)
    assert suggestions[0].confidence == "medium"
    # At most one per day, all in the future, best first.
    assert len({s.at.date() for s in suggestions}) == len(suggestions)
    assert all(s.at > NOW for s in suggestions)

    Post.objects.create(
        workspace=berlin,
        account=account,
        scheduled_at=dt.datetime(2026, 2, 3, 18, 30, tzinfo=BERLIN),
        status=PostStatus.SCHEDULED,
    )
    taken = best_times_suggest(workspace=berlin, account=account, now=NOW)
    assert dt.datetime(2026, 2, 3, 18, tzinfo=BERLIN) not in [s.at for s in taken]

    with CaptureQueriesContext(connection) as queries:
        workspace_wide = best_times_build(workspace=berlin, now=NOW)
    assert len(queries) == 3  # accounts, posts, audience activity
    assert workspace_wide.sources[0].samples == 54
    assert (workspace_wide.slots[0].weekday, workspace_wide.slots[0].hour) == (1, 18)


def test_other_workspaces_posts_never_count(berlin: Workspace, other_workspace: Workspace) -> None:
    _seed_posts(business_account(other_workspace, "rival"), weeks=12)
    data = best_times_build(workspace=berlin, now=NOW)
    assert data.sources[0].samples == 0


def test_page_and_api_show_the_same_best_slot(
    berlin: Workspace, client_for, owner, api_client_for
) -> None:
    account = business_account(berlin)
    _seed_posts(account, weeks=12)

    page = client_for(owner).get(reverse("analytics:best_times", args=[berlin.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Medium confidence · 36 posts" in body
    assert "Best slots: <strong>Tuesday 18:00</strong>" in body
    assert "weekdays and hours in Europe/Berlin" in body

    api = api_client_for(owner).get(
        reverse("analytics:api_best_times", args=[berlin.pk]), {"account": str(account.pk)}
    )
    assert api.status_code == 200
    posts = api.json()["sources"][0]
    best = max(posts["cells"], key=lambda cell: cell["index"])
    assert (best["weekday"], best["hour"]) == (1, 18)
    assert api.json()["time_zone"] == "Europe/Berlin"

    bad = client_for(owner).get(
        reverse("analytics:best_times", args=[berlin.pk]), {"account": "not-an-id"}
    )
    assert bad.status_code == 400


def test_accounts_side_by_side_on_the_overview(workspace: Workspace, client_for, owner) -> None:
    from tests.analytics.seed import day_row

    first = business_account(workspace, "first.shop")
    second = business_account(workspace, "second.shop")
    today = dt.datetime.now(workspace.tz).date()
    AccountDailySnapshot.objects.bulk_create(
        [
            day_row(first, today, video_views=1500, likes=10, followers=2000),
            day_row(second, today, video_views=250, likes=5, followers=300),
        ]
    )
    html = (
        client_for(owner)
        .get(reverse("analytics:overview", args=[workspace.pk]), {"range": "7"})
        .content.decode()
    )
    table = html.split('data-testid="account-comparison"')[1].split("</table>")[0]
    assert "@first.shop" in table and "@second.shop" in table
    assert "1,500" in table and "250" in table and "2,000" in table


def test_the_quick_starts_python_reading_agrees_with_the_sql(berlin: Workspace) -> None:
    """SQLite (the quick start) reads the heatmap in Python; on the same rows it must give
    what PostgreSQL's SQL gives, cell by cell."""
    from analytics import best_times

    account = business_account(berlin)
    _seed_posts(account, growth=1.15)
    AccountDailySnapshot.objects.bulk_create(
        AccountDailySnapshot(
            workspace=berlin,
            account=account,
            date=dt.date(2026, 1, 1) + dt.timedelta(days=offset),
            audience_activity=activity_hours((h, 40 + (h * 7 + offset) % 90) for h in range(24)),
        )
        for offset in range(30)
    )
    for account_filter in (account, None):
        params = best_times._params(workspace=berlin, account=account_filter, now=NOW)
        for sql, python in (
            (best_times._posts_rows(params), best_times._posts_rows_python(params)),
            (best_times._activity_rows(params), best_times._activity_rows_python(params)),
        ):
            assert len(sql) == len(python) > 0
            for ours, theirs in zip(sorted(python), sorted(sql), strict=True):
                assert ours[:2] == theirs[:2]
                assert [float(x) for x in ours[2:-2]] == pytest.approx(
                    [float(x) for x in theirs[2:-2]]
                )
                assert ours[-2:] == theirs[-2:]

"""Response times checked against figures computed by hand, and how first responses are
recorded (our replies, replies written in TikTok's app)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.models import TikTokAccount, TikTokVideo, User, Workspace
from conversations import response_times as rt
from conversations import services
from conversations.models import Comment
from conversations.sync import comment_sync_account
from later.errors import ValidationFailed
from tests.conversations.conftest import CommentSim, roomy_budget
from tests.conversations.factories import make_account, make_comment, make_video

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def fixture_threads(workspace: Workspace, owner: User, editor: User) -> dict[str, TikTokAccount]:
    """Account A: threads answered after 10, 20, 30 and 40 minutes (owner, owner, editor, app);
    one question unanswered for 30 h, one unanswered question of 2 h.
    Account B: one thread answered after 60 min (editor), one question answered after 5 min
    (editor). Outside the period: an answered thread 8 days old."""
    a, b = make_account(workspace, username="brand.a"), make_account(workspace, username="brand.b")
    va, vb = make_video(a), make_video(b)

    def thread(
        video: TikTokVideo,
        *,
        age: dt.timedelta,
        wait: dt.timedelta | None,
        by: User | None,
        question: bool = False,
    ) -> Comment:
        created = NOW - age
        return make_comment(
            video,
            created_at_tiktok=created,
            is_question=question,
            first_response_at=created + wait if wait is not None else None,
            first_response_by=by,
        )

    thread(va, age=50 * MIN, wait=10 * MIN, by=owner)
    thread(va, age=60 * MIN, wait=20 * MIN, by=owner, question=True)
    thread(va, age=70 * MIN, wait=30 * MIN, by=editor)
    thread(va, age=80 * MIN, wait=40 * MIN, by=None)
    thread(va, age=dt.timedelta(hours=30), wait=None, by=None, question=True)
    thread(va, age=dt.timedelta(hours=2), wait=None, by=None, question=True)
    thread(vb, age=90 * MIN, wait=60 * MIN, by=editor)
    thread(vb, age=100 * MIN, wait=5 * MIN, by=editor, question=True)
    thread(va, age=dt.timedelta(days=8), wait=MIN, by=owner)
    # Replies inside threads and our own comments are not threads of their own.
    root = thread(va, age=20 * MIN, wait=None, by=None)
    make_comment(va, parent=root, created_at_tiktok=NOW - 10 * MIN)
    make_comment(va, is_own=True, created_at_tiktok=NOW - 10 * MIN)
    return {"a": a, "b": b}


class _QuickStartDatabase:
    """What `response_times` asks of the connection, answering as the SQLite quick start."""

    vendor = "sqlite"


@pytest.mark.parametrize("path", ["postgresql", "quick start (percentiles in Python)"])
def test_figures_match_the_hand_computed_fixture(
    workspace: Workspace,
    owner: User,
    editor: User,
    fixture_threads: dict[str, TikTokAccount],
    path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if path != "postgresql":
        # The grouped figures once failed there ("Cannot select the 'wait' alias").
        monkeypatch.setattr(rt, "connection", _QuickStartDatabase())
    report = rt.response_times(workspace=workspace, days=7, now=NOW)

    overall = report.overall
    # Waits in minutes: 5, 10, 20, 30, 40, 60 -> median 25, p90 = 40 + 0.5 * 20 = 50.
    assert (overall.threads, overall.answered) == (9, 6)
    assert overall.median_seconds == pytest.approx(25 * 60)
    assert overall.p90_seconds == pytest.approx(50 * 60)
    assert (overall.questions, overall.questions_answered) == (4, 2)
    assert overall.questions_answered_share == pytest.approx(0.5)
    assert overall.unanswered_questions_over_24h == 1

    by_account = {row.name: row.figures for row in report.by_account}
    a, b = by_account["@brand.a"], by_account["@brand.b"]
    # A: 10, 20, 30, 40 -> median 25, p90 = 30 + 0.7 * 10 = 37.
    assert (a.threads, a.answered) == (7, 4)
    assert a.median_seconds == pytest.approx(25 * 60)
    assert a.p90_seconds == pytest.approx(37 * 60)
    # B: 5, 60 -> median 32.5, p90 = 5 + 0.9 * 55 = 54.5.
    assert b.median_seconds == pytest.approx(32.5 * 60)
    assert b.p90_seconds == pytest.approx(54.5 * 60)
    assert b.questions_answered_share == pytest.approx(1.0)

    by_member = {row.name: row.figures for row in report.by_member}
    assert set(by_member) == {owner.email, editor.email, "TikTok app"}
    # Owner: 10, 20; editor: 5, 30, 60.
    assert by_member[owner.email].median_seconds == pytest.approx(15 * 60)
    assert by_member[editor.email].median_seconds == pytest.approx(30 * 60)
    assert by_member[editor.email].answered == 3

    only_b = rt.response_times(
        workspace=workspace, days=7, now=NOW, account_id=fixture_threads["b"].pk
    )
    assert only_b.overall.threads == 2
    assert rt.response_time_summary(workspace=workspace, days=7, now=NOW) == overall


def test_python_percentile_agrees_with_postgres() -> None:
    values = [5.0, 10.0, 20.0, 30.0, 40.0, 60.0]
    assert rt._percentile(values, 0.5) == pytest.approx(25.0)
    assert rt._percentile(values, 0.9) == pytest.approx(50.0)
    assert rt._percentile([], 0.5) is None


def test_page_csv_and_api(
    workspace: Workspace,
    owner: User,
    fixture_threads: dict[str, TikTokAccount],
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
    time_machine,
) -> None:
    time_machine.move_to(NOW)
    from django.core.cache import cache

    cache.clear()
    client = client_for(owner)
    page = client.get(reverse("conversations:response_times", args=[workspace.pk]))
    assert page.status_code == 200
    assert "25 min" in page.content.decode()
    bad = client.get(reverse("conversations:response_times", args=[workspace.pk]), {"days": "x"})
    assert bad.status_code == 400
    assert "Choose a period of 7, 30, 90 days." in bad.content.decode()

    export = client.get(reverse("conversations:response_times_csv", args=[workspace.pk]))
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:4] == ["scope", "name", "threads", "answered"]
    assert rows[1][:6] == ["workspace", "All accounts", "9", "6", "1500", "3000"]
    assert {r[1] for r in rows if r[0] == "account"} == {"brand.a", "brand.b"}

    api = api_client_for(owner)
    body = api.get(f"/api/v1/w/{workspace.pk}/conversations/response-times/", {"days": 7}).json()
    assert body["overall"]["median_seconds"] == pytest.approx(1500)
    assert body["overall"]["questions_answered_share"] == pytest.approx(0.5)
    refused = api.get(f"/api/v1/w/{workspace.pk}/conversations/response-times/", {"days": 3})
    assert refused.status_code == 400

    inbox = client.get(reverse("conversations:inbox", args=[workspace.pk])).content.decode()
    assert "median <strong>25 min</strong>" in inbox


def test_first_response_is_recorded_by_our_reply_and_by_the_app(
    csim: CommentSim,
    business_account: TikTokAccount,
    videos: list[TikTokVideo],
    workspace: Workspace,
    editor: User,
) -> None:
    comment_sync_account(account=business_account, budget=roomy_budget(business_account))
    fans = list(
        Comment.objects.for_workspace(workspace)
        .filter(parent__isnull=True, is_own=False, video=videos[0])
        .select_related("video", "account")
        .order_by("-created_at_tiktok")[:2]
    )
    ours, from_app = fans
    reply = services.comment_reply(comment=ours, text="Thank you!", user=editor)
    ours.refresh_from_db()
    assert ours.first_response_at == reply.created_at_tiktok
    assert ours.first_response_by == editor

    # A reply written in TikTok's own app arrives by sync: it answers the thread, no member.
    with csim.state.lock:
        video = csim.state.videos[videos[0].video_id]
        csim.state.add_comment(
            video=video, text="from the app", parent_id=from_app.comment_id, by_owner=True
        )
    comment_sync_account(
        account=business_account,
        budget=roomy_budget(business_account),
        now=timezone.now() + dt.timedelta(days=3),
    )
    from_app.refresh_from_db()
    assert from_app.first_response_at is not None and from_app.first_response_by is None


def test_client_reports_read_the_figures_through_the_settings_hook(
    workspace: Workspace, fixture_threads: dict[str, TikTokAccount]
) -> None:
    from django.conf import settings
    from django.utils.module_loading import import_string

    figures_of = import_string(settings.REPORT_RESPONSE_TIMES)
    figures = figures_of(
        workspace=workspace, since=NOW - dt.timedelta(days=7), until=NOW, account_id=None
    )
    assert (figures.threads, figures.answered) == (9, 6)
    assert figures.median_seconds == pytest.approx(25 * 60)
    only_a = figures_of(
        workspace=workspace,
        since=NOW - dt.timedelta(days=7),
        until=NOW,
        account_id=fixture_threads["a"].pk,
    )
    assert only_a.p90_seconds == pytest.approx(37 * 60)


# --------------------------------------------------------------------------- a chosen period

# UTC+14: at NOW (20 Nov 12:00 UTC) it is already 21 Nov 02:00 there, and 21 Nov began at
# 20 Nov 10:00 UTC, so the day boundaries fall between the fixture's threads.
KIRITIMATI = "Pacific/Kiritimati"


def _chosen(workspace: Workspace, start: str, end: str) -> rt.ResponseTimes:
    period = rt.period_parse(workspace=workspace, days=None, start=start, end=end, now=NOW)
    return rt.response_times(workspace=workspace, period=period, now=NOW)


def test_a_chosen_period_is_whole_days_in_the_workspace_time_zone(
    workspace: Workspace, owner: User, editor: User, fixture_threads: dict[str, TikTokAccount]
) -> None:
    workspace.time_zone = KIRITIMATI
    workspace.save(update_fields=["time_zone"])

    # 21 Nov there = [20 Nov 10:00, 21 Nov 10:00) UTC: every thread of the last 100 minutes,
    # the question of 2 h ago (10:00 UTC, the first instant of the day, included); not the
    # question of 30 h ago nor the thread of 8 days ago.
    today = _chosen(workspace, "2026-11-21", "2026-11-21")
    assert today.since == dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    assert today.until == dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
    f = today.overall
    assert (f.threads, f.answered) == (8, 6)
    assert f.median_seconds == pytest.approx(25 * 60)
    assert f.p90_seconds == pytest.approx(50 * 60)
    assert (f.questions, f.questions_answered, f.unanswered_questions_over_24h) == (3, 2, 0)
    assert {r.name for r in today.by_member} == {owner.email, editor.email, "TikTok app"}

    # 19 and 20 Nov there = [18 Nov 10:00, 20 Nov 10:00) UTC: only the question of 30 h ago, still
    # unanswered 28 h later at the end of the period.
    before = _chosen(workspace, "2026-11-19", "2026-11-20").overall
    assert (before.threads, before.answered, before.median_seconds) == (1, 0, None)
    assert (before.questions, before.unanswered_questions_over_24h) == (1, 1)

    # 13 Nov there holds the thread of 8 days ago (12 Nov 12:00 UTC), answered after 1 minute.
    old = _chosen(workspace, "2026-11-13", "2026-11-13").overall
    assert (old.threads, old.answered, old.median_seconds) == (1, 1, pytest.approx(60))

    # The same day in UTC has not started yet.
    workspace.time_zone = "UTC"
    with pytest.raises(ValidationFailed, match=r"cannot end after today \(2026-11-20\)"):
        _chosen(workspace, "2026-11-21", "2026-11-21")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-10", "2026-11-01", "start date must be on or before the end date"),
        ("2025-11-01", "2026-11-20", "at most 366 days"),
        ("yesterday", "2026-11-20", "start and an end date"),
        ("2026-11-01", "", "start and an end date"),
        ("", "2026-11-01", "start and an end date"),
        ("2026-02-30", "2026-03-01", "start and an end date"),
        ("2026-11-01", "9999-12-31", "cannot end after today"),
        ("0001-01-01", "0001-01-02", None),  # long ago is only empty
    ],
)
def test_a_chosen_period_is_checked(
    workspace: Workspace, start: str, end: str, message: str | None
) -> None:
    if message is None:
        assert _chosen(workspace, start, end).overall.threads == 0
        return
    with pytest.raises(ValidationFailed, match=message) as refused:
        rt.period_parse(workspace=workspace, days="7", start=start, end=end, now=NOW)
    assert refused.value.code == "invalid_period"


def test_a_chosen_period_on_the_page_the_csv_and_the_api(
    workspace: Workspace,
    owner: User,
    fixture_threads: dict[str, TikTokAccount],
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
    time_machine,
) -> None:
    time_machine.move_to(NOW, tick=False)
    workspace.time_zone = KIRITIMATI
    workspace.save(update_fields=["time_zone"])
    client = client_for(owner)
    url = reverse("conversations:response_times", args=[workspace.pk])
    chosen = {"start": "2026-11-19", "end": "2026-11-20"}

    page = client.get(url, chosen)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Threads started from 19 Nov 2026 to 20 Nov 2026 (Pacific/Kiritimati)" in html
    assert 'name="start" value="2026-11-19"' in html and 'name="end" value="2026-11-20"' in html
    assert 'data-testid="overdue">1<' in html
    # The CSV link exports the same period; the presets stay one click away.
    csv_url = reverse("conversations:response_times_csv", args=[workspace.pk])
    assert f'href="{csv_url}?start=2026-11-19&amp;end=2026-11-20"' in html
    assert 'href="?days=30"' in html
    assert "Threads started in the last 30 days" in client.get(url, {"days": 30}).content.decode()

    export = client.get(csv_url, chosen)
    assert export["Content-Disposition"].endswith('"response-times-2026-11-19-to-2026-11-20.csv"')
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[1][:4] == ["workspace", "All accounts", "1", "0"]
    assert rows[1][-1] == "1"

    api_url = f"/api/v1/w/{workspace.pk}/conversations/response-times/"
    api = api_client_for(owner)
    body = api.get(api_url, {"start": "2026-11-21", "end": "2026-11-21"}).json()
    assert (body["days"], body["start"], body["end"]) == (None, "2026-11-21", "2026-11-21")
    assert body["since"] == "2026-11-20T10:00:00Z"  # 21 Nov 00:00 in Kiritimati
    assert body["overall"]["threads"] == 8
    assert body["overall"]["median_seconds"] == pytest.approx(1500)
    preset = api.get(api_url, {"days": 7}).json()
    assert (preset["days"], preset["end"]) == (7, "2026-11-21")
    assert preset["overall"]["threads"] == 9


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-11-20", "end": "2026-11-01"},
        {"start": "2024-01-01", "end": "2026-11-20"},
        {"start": "nope", "end": "<script>"},
        {"start": "2026-11-01"},
        {"start": "2026-11-01", "end": "99999-01-01"},
        {"start": "2026-11-01", "end": "9999-12-31"},
        {"days": "30", "start": "2026-13-01", "end": "2026-11-01"},
    ],
)
def test_a_bad_period_is_a_clear_400_never_a_500(
    workspace: Workspace,
    owner: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
    time_machine,
    params: dict[str, str],
) -> None:
    time_machine.move_to(NOW, tick=False)
    api_url = f"/api/v1/w/{workspace.pk}/conversations/response-times/"
    api = api_client_for(owner).get(api_url, params)
    assert api.status_code == 400
    error = api.json()["error"]
    assert error["code"] == "invalid_period"
    message = error["message"]
    assert "period" in message or "date" in message

    client = client_for(owner)
    page = client.get(reverse("conversations:response_times", args=[workspace.pk]), params)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'role="alert" data-testid="period-error">{escape(message)}<' in html
    # The page still shows the last 7 days, and what was typed is shown escaped.
    assert "Threads started in the last 7 days" in html
    assert "<script>" not in html.split('data-testid="period-form"')[1].split("</form>")[0]

    export = client.get(reverse("conversations:response_times_csv", args=[workspace.pk]), params)
    assert (export.status_code, export.content.decode()) == (400, message)

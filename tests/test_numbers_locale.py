"""Counts outside analytics follow the reader's number locale too (later/numbers.py): the agency
home, the TikTok accounts page, the response-times page and the Post view (the last in
tests/analytics/test_numbers_agree.py). The inbox's counts need no separator: they stop at
"999+" (conversations.selectors.COUNT_CAP). Each page is asked for in English
and then in German with the same data, so a cached fragment keyed without the locale would show
the English figure the second time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts import agency_services
from accounts.models import AgencyMember, Role, User, Workspace
from analytics.models import AccountDailySnapshot
from conversations.models import Comment
from tests.conversations.factories import make_account, make_video
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def _seed_questions(workspace: Workspace, count: int) -> None:
    """`count` unanswered questions from fans, two days old."""
    account = make_account(workspace)
    clip = make_video(account)
    asked = NOW - dt.timedelta(days=2)
    Comment.objects.bulk_create(
        Comment(
            workspace=workspace,
            video=clip,
            account=account,
            comment_id=f"75{n:017d}",
            author_key=f"asker-{n}",
            author_username=f"asker{n}",
            text=f"Where is this, number {n}?",
            is_question=True,
            created_at_tiktok=asked - dt.timedelta(seconds=n),
        )
        for n in range(count)
    )


def _both(client: Client, url: str, **params: str) -> tuple[str, str]:
    english = client.get(url, params, headers=ENGLISH)
    german = client.get(url, params, headers=GERMAN)
    assert english.status_code == german.status_code == 200
    return english.content.decode(), german.content.decode()


def test_response_times_write_counts_in_the_readers_locale(
    workspace: Workspace, client_for: Callable[[User], Client], owner: User
) -> None:
    _seed_questions(workspace, 1234)
    c = client_for(owner)
    with time_machine.travel(NOW, tick=False):
        english, german = _both(c, reverse("conversations:response_times", args=[workspace.pk]))
    assert '<strong data-testid="overdue">1,234</strong>' in english
    assert '<strong data-testid="overdue">1.234</strong>' in german
    assert "<td>1.234</td>" in german  # the per-account table's threads
    assert "0 of 1.234" in german  # questions answered of those asked
    assert "1,234" not in german


def test_agency_home_and_accounts_page_write_counts_in_the_readers_locale(
    client_for: Callable[[User], Client],
) -> None:
    boss = UserFactory.create(email="boss@agency.test")
    agency = agency_services.agency_create(owner=boss, name="Northwind Social")
    actor = AgencyMember.objects.select_related("agency").get(agency=agency, role=Role.OWNER)
    client_ws = agency_services.agency_client_create(actor=actor, name="Acme", time_zone="UTC")
    account = make_account(client_ws, follower_count=12345)
    AccountDailySnapshot.objects.create(
        workspace=client_ws, account=account, date=NOW.date(), video_views=12345
    )
    c = client_for(boss)
    with time_machine.travel(NOW, tick=False):
        home_en, home_de = _both(c, reverse("accounts:agency_home", args=[agency.pk]))
        accounts_en, accounts_de = _both(
            c, reverse("accounts:tiktok_accounts", args=[client_ws.pk])
        )
    assert ">12,345<" in home_en and ">12.345<" in home_de
    assert "12,345" not in home_de
    assert "12,345 followers" in accounts_en
    assert "12.345 followers" in accounts_de

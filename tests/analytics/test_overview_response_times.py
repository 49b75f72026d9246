"""Response times in Analytics' overview, from Conversations through the settings-named hook,
checked against the hand-computed fixture of tests/conversations/test_response_times.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import TikTokAccount, User, Workspace
from tests.conversations.test_response_times import NOW, fixture_threads  # noqa: F401

pytestmark = pytest.mark.django_db


def _cells(html: str, testid: str) -> list[str]:
    import re

    return re.findall(rf'data-testid="{testid}">(.*?)</td>', html, flags=re.S)


def test_overview_shows_response_times_per_account_with_links(
    workspace: Workspace,
    owner: User,
    fixture_threads: dict[str, TikTokAccount],  # noqa: F811
    client_for: Callable[[User], Client],
    time_machine,
    settings,
) -> None:
    time_machine.move_to(NOW, tick=False)
    cache.clear()
    client = client_for(owner)
    url = reverse("analytics:overview", args=[workspace.pk])
    html = client.get(url, {"range": "7"}).content.decode()

    assert 'data-testid="response-times"' in html
    # Rows: @brand.a, @brand.b, then the total. A: 10, 20, 30, 40 min -> median 25, p90 37;
    # all: 5, 10, 20, 30, 40, 60 -> median 25, p90 50; 2 of 4 questions answered; one question
    # unanswered for 30 h. The thread 8 days old is outside the range.
    assert _cells(html, "rt-median") == ["25 min", "32 min", "25 min"]
    assert _cells(html, "rt-p90") == ["37 min", "54 min", "50 min"]
    assert [c.split("%")[0] for c in _cells(html, "rt-questions")] == ["33", "100", "50"]
    assert _cells(html, "rt-overdue") == ["1", "0", "1"]
    # The links open the Conversations page and the CSV on the same days (14 to 20 Nov).
    page_url = reverse("conversations:response_times", args=[workspace.pk])
    period = "?start=2026-11-14&amp;end=2026-11-20"
    assert f'href="{page_url}{period}" data-testid="response-times-link"' in html
    csv_url = reverse("conversations:response_times_csv", args=[workspace.pk])
    assert f'href="{csv_url}{period}"' in html
    conversations = client.get(page_url, {"start": "2026-11-14", "end": "2026-11-20"})
    assert 'data-testid="median">25 min<' in conversations.content.decode()

    # One account: its row only, and the links keep the account.
    b = fixture_threads["b"]
    html = client.get(url, {"range": "7", "account": str(b.pk)}).content.decode()
    assert _cells(html, "rt-median") == ["32 min"]
    assert f"{page_url}{period}&amp;account={b.pk}" in html

    # Without the hook (Conversations not installed), the section is left out.
    settings.ANALYTICS_RESPONSE_TIMES = ""
    cache.clear()
    assert 'data-testid="response-times"' not in client.get(url, {"range": "7"}).content.decode()


def test_overview_leaves_response_times_out_without_comment_threads(
    workspace: Workspace, owner: User, client_for: Callable[[User], Client]
) -> None:
    html = client_for(owner).get(reverse("analytics:overview", args=[workspace.pk])).content
    assert b'data-testid="response-times"' not in html

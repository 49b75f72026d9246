"""All accounts: one with months of history, one connected today (hand-computed values).

Range Mar 14-20, previous Mar 7-13. @corner.cafe has a row every day Mar 7-20 except Mar 17,
followers 20,000 + 100 per day since Mar 7 (Mar 13: 20,600; Mar 20: 21,300), 100 views a day.
@new.shop was connected on Mar 20: one row, 60,000 followers, 40 views.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import TikTokAccount, User, Workspace
from analytics import selectors
from analytics.models import AccountDailySnapshot
from tests.analytics.seed import NOW, business_account, day_row

pytestmark = pytest.mark.django_db

MAR = [dt.date(2026, 3, day) for day in range(14, 21)]
HISTORY_LINE = [20_700, 20_800, 20_900, None, 21_100, 21_200, 21_300]
NEW_LINE = [None, None, None, None, None, None, 60_000]


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def seed_two_accounts(workspace: Workspace) -> tuple[TikTokAccount, TikTokAccount]:
    old = business_account(workspace, username="corner.cafe")
    new = business_account(workspace, username="new.shop")
    for account, color in ((old, "#e11d48"), (new, "#0ea5e9")):
        account.color = color
        account.save(update_fields=["color"])
    rows = [
        day_row(
            old,
            dt.date(2026, 3, 7) + dt.timedelta(days=offset),
            followers=20_000 + offset * 100,
            video_views=100,
        )
        for offset in range(14)
        if offset != 10  # Mar 17
    ]
    rows.append(day_row(new, dt.date(2026, 3, 20), followers=60_000, video_views=40))
    AccountDailySnapshot.objects.bulk_create(rows)
    return old, new


def _build(workspace: Workspace, account: TikTokAccount | None = None) -> selectors.Overview:
    period = selectors.date_range_parse(workspace=workspace, range_key="7", start=None, end=None)
    accounts = list(selectors.accounts_for_analytics(workspace=workspace))
    return selectors.overview_build(
        workspace=workspace, period=period, accounts=accounts, account=account
    )


def _card(overview: selectors.Overview, key: str) -> selectors.Card:
    return next(card for card in overview.cards if card.key == key)


def test_follower_change_compares_only_accounts_measured_at_both_ends(
    workspace: Workspace,
) -> None:
    seed_two_accounts(workspace)
    followers = _card(_build(workspace), "followers")
    assert followers.value == 81_300  # today's total: 21,300 + 60,000
    assert followers.previous == 20_600  # @corner.cafe on Mar 13; @new.shop has nothing then
    assert followers.compared_value == 21_300
    assert followers.change == 700
    assert followers.change_percent == pytest.approx(700 / 20_600 * 100)  # +3.4%, not +294.7%
    assert followers.excluded == (
        "@new.shop is excluded from the change: no history before Mar 20, 2026",
    )


def test_followers_are_one_line_per_account_and_views_sum_per_day(
    workspace: Workspace,
) -> None:
    old, new = seed_two_accounts(workspace)
    overview = _build(workspace)
    lines = {line.account.pk: line.points for line in overview.followers_by_account}
    assert lines[old.pk] == list(zip(MAR, HISTORY_LINE, strict=True))
    assert lines[new.pk] == list(zip(MAR, NEW_LINE, strict=True))
    # The single summed series only has a value on days every account was measured.
    assert overview.followers_series == list(
        zip(MAR, [None, None, None, None, None, None, 81_300], strict=True)
    )
    assert overview.views_series == list(
        zip(MAR, [100, 100, 100, None, 100, 100, 140], strict=True)
    )
    views = _card(overview, "video_views")
    assert (views.value, views.previous, views.days_with_data) == (640, 700, 6)


def test_one_account_selected_keeps_its_own_comparison(workspace: Workspace) -> None:
    old, new = seed_two_accounts(workspace)
    mature = _card(_build(workspace, old), "followers")
    assert (mature.value, mature.previous, mature.change, mature.excluded) == (
        21_300,
        20_600,
        700,
        (),
    )
    fresh = _card(_build(workspace, new), "followers")
    assert (fresh.value, fresh.previous, fresh.change, fresh.excluded) == (60_000, None, None, ())


def test_account_without_a_current_measurement_is_left_out_of_the_change(
    workspace: Workspace,
) -> None:
    seed_two_accounts(workspace)
    gone = business_account(workspace, username="gone.away")
    AccountDailySnapshot.objects.bulk_create([day_row(gone, dt.date(2026, 3, 12), followers=5_000)])
    followers = _card(_build(workspace), "followers")
    assert (followers.value, followers.previous, followers.change) == (81_300, 20_600, 700)
    assert "@gone.away is excluded from the change: no measurement this period" in (
        followers.excluded
    )


def test_overview_page_draws_a_line_per_account_and_explains_the_change(
    workspace: Workspace, viewer: User, client_for: Callable[[User], Client]
) -> None:
    seed_two_accounts(workspace)
    html = (
        client_for(viewer)
        .get(reverse("analytics:overview", args=[workspace.id]), {"range": "7"})
        .content.decode()
    )
    card = html[html.index('data-testid="card-followers"') :]
    card = card[: card.index('data-testid="card-profile_views"')]
    assert "81,300" in card and "+3.4%" in card and "%" in card
    assert "294" not in card and "344" not in card
    assert "@new.shop is excluded from the change: no history before Mar 20, 2026" in card

    chart = html[html.index('data-testid="chart-followers"') :]
    chart = chart[: chart.index("</figure>")]
    old_group = re.search(
        r'data-series="@corner.cafe" style="--series: #e11d48">(.*?)</g>', chart, re.S
    )
    new_group = re.search(
        r'data-series="@new.shop" style="--series: #0ea5e9">(.*?)</g>', chart, re.S
    )
    assert old_group and new_group
    assert old_group.group(1).count("data-point") == 6  # Mar 17 is a gap
    assert old_group.group(1).count("<polyline") == 2  # broken at the gap, not bridged
    assert new_group.group(1).count("data-point") == 1
    legend = chart[chart.index('data-testid="chart-followers-legend"') :]
    assert "@corner.cafe" in legend and "@new.shop" in legend
    assert "@corner.cafe 1 day, @new.shop 6 days." in " ".join(legend.split())
    # The views chart sums per day and still says how many days have no data.
    views = html[html.index('data-testid="chart-views"') :]
    assert "1 day without a measurement is left blank." in views[: views.index("</figure>")]


def test_api_gives_comparable_change_and_per_account_followers(
    workspace: Workspace, viewer: User, api_client_for: Callable[[User], APIClient]
) -> None:
    seed_two_accounts(workspace)
    body = (
        api_client_for(viewer)
        .get(reverse("analytics:api_overview", args=[workspace.id]), {"range": "7"})
        .json()
    )
    followers = next(card for card in body["cards"] if card["key"] == "followers")
    assert (followers["value"], followers["previous"], followers["compared_value"]) == (
        81_300,
        20_600,
        21_300,
    )
    assert followers["change_percent"] == 3.4
    assert len(followers["excluded"]) == 1
    assert [row["followers"] for row in body["daily"]] == [None] * 6 + [81_300]
    by_handle = {line["handle"]: line for line in body["followers_by_account"]}
    assert [p["followers"] for p in by_handle["@new.shop"]["followers"]] == NEW_LINE
    assert [p["followers"] for p in by_handle["@corner.cafe"]["followers"]] == HISTORY_LINE


def test_audience_breakdowns_are_separate_tables(
    workspace: Workspace, viewer: User, client_for: Callable[[User], Client]
) -> None:
    account = business_account(workspace)
    AccountDailySnapshot.objects.create(
        workspace=workspace,
        account=account,
        date=dt.date(2026, 3, 20),
        followers=5_000,
        audience={
            "ages": [["18-24", 0.41], ["25-34", 0.33]],
            "genders": [["Female", 0.33], ["Male", 0.61]],
            "countries": [["US", 0.5]],
        },
    )
    html = (
        client_for(viewer)
        .get(reverse("analytics:overview", args=[workspace.id]), {"range": "7"})
        .content.decode()
    )
    audience = html[html.index('data-testid="audience"') :]
    for group in ("ages", "genders", "countries"):
        assert f'data-testid="audience-{group}"' in audience
    genders = audience[audience.index('data-testid="audience-genders"') :]
    genders = genders[: genders.index("</table>")]
    # The label and its percentage are separate cells, so they cannot render as "33%Female".
    assert re.search(r'<td class="num">33%</td>', genders)
    assert genders.index(">Female<") < genders.index(">33%<")

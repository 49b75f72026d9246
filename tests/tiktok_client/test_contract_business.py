"""Contract: TikTok API for Business accounts, analytics, video insights and comments."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import httpx
import pytest

from tests.tiktok_client.conftest import AVA, CAFE, DANCE
from tests.tiktok_client.contract import BIZ, BIZ_SCOPES, business_tokens
from tiktok_client.simulator import SimulatorApp

TINY = "sim-tiny-bakery"  # a Business account with 40 followers


class Biz:
    def __init__(self, http: httpx.Client, creator: str, scopes: tuple[str, ...] = BIZ_SCOPES):
        tokens = business_tokens(http, creator, scopes)
        self.http = http
        self.token = str(tokens["access_token"])
        self.business_id = str(tokens["open_id"])

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        query = {
            key: json.dumps(value) if isinstance(value, list | dict) else value
            for key, value in {"business_id": self.business_id, **params}.items()
        }
        answer = self.http.get(f"{BIZ}{path}", params=query, headers={"Access-Token": self.token})
        assert answer.status_code == 200  # §0: HTTP 200 even for errors
        return dict(answer.json())

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        answer = self.http.post(
            f"{BIZ}{path}",
            json={"business_id": self.business_id, **body},
            headers={"Access-Token": self.token},
        )
        assert answer.status_code == 200
        return dict(answer.json())


def _today(sim: SimulatorApp) -> dt.date:
    return dt.datetime.fromtimestamp(sim.clock.now(), dt.UTC).date()


def test_there_is_no_metrics_field(http: httpx.Client) -> None:
    # Corrections: "There is no `metrics` request field"; unknown field -> 40002 parameter.
    assert Biz(http, CAFE).get("/business/get/", fields=["metrics"])["code"] == 40002


def test_default_fields(http: httpx.Client) -> None:
    # §4.2: default fields are display_name and profile_image.
    body = Biz(http, CAFE).get("/business/get/")
    assert body["code"] == 0
    assert set(body["data"]) == {"display_name", "profile_image"}


def test_daily_metrics_by_name_with_followers_per_row(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # Corrections: metrics by name in fields -> data.metrics[] rows with date; followers_count
    # per row is the day's total; daily_total_followers is the day's net change.
    sim.settings.business_data_lag_hours = 24.0  # every finished day is ready
    body = Biz(http, CAFE).get(
        "/business/get/",
        fields=["followers_count", "daily_total_followers", "daily_new_followers",
                "daily_lost_followers", "video_views"],
    )  # fmt: skip
    assert body["code"] == 0, body
    rows = body["data"]["metrics"]
    today = _today(sim)
    # Default window today-7 ... today-1.
    assert [row["date"] for row in rows] == [
        str(today - dt.timedelta(days=n)) for n in range(7, 0, -1)
    ]
    for before, after in itertools.pairwise(rows):
        assert after["daily_total_followers"] == (
            after["daily_new_followers"] - after["daily_lost_followers"]
        )
        assert (
            after["followers_count"] - before["followers_count"] == after["daily_total_followers"]
        )
    assert set(rows[0]) == {
        "date", "followers_count", "daily_total_followers", "daily_new_followers",
        "daily_lost_followers", "video_views",
    }  # fmt: skip
    assert isinstance(body["data"]["followers_count"], int)


def test_window_rules(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: look-back <= 60 days; end date no later than yesterday (§4.2).
    biz = Biz(http, CAFE)
    today = _today(sim)

    def code(start: dt.date, end: dt.date) -> int:
        return int(
            biz.get(
                "/business/get/", fields=["video_views"], start_date=str(start), end_date=str(end)
            )["code"]
        )

    yesterday = today - dt.timedelta(days=1)
    assert code(today - dt.timedelta(days=60), yesterday) == 0
    assert code(today - dt.timedelta(days=61), yesterday) == 40002
    assert code(today - dt.timedelta(days=3), today) == 40002
    assert code(yesterday, today - dt.timedelta(days=3)) == 40002
    bad = biz.get("/business/get/", fields=["video_views"], start_date="2026/01/01")
    assert bad["code"] == 40002


@pytest.mark.parametrize("shape", ["%Y%m%d", "%G-W%V-%u", "%Y-%m-%dT00:00:00", "%d-%m-%Y"])
def test_window_dates_are_yyyy_mm_dd_only(
    http: httpx.Client, sim: SimulatorApp, shape: str
) -> None:
    # §4.2: start_date and end_date are YYYY-MM-DD (UTC); another spelling of the same day is
    # a parameter error (40002), not the day it names.
    biz = Biz(http, CAFE)
    day = _today(sim) - dt.timedelta(days=5)
    ok = biz.get("/business/get/", fields=["video_views"], start_date=day.strftime("%Y-%m-%d"))
    assert ok["code"] == 0
    for name in ("start_date", "end_date"):
        body = biz.get("/business/get/", fields=["video_views"], **{name: day.strftime(shape)})
        assert body["code"] == 40002, (name, body)


def test_data_lags_one_to_two_days(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: data lags 24-48 h, so the newest days of the window may be missing.
    sim.settings.business_data_lag_hours = 48.0
    rows = Biz(http, CAFE).get("/business/get/", fields=["video_views"])["data"]["metrics"]
    assert rows[-1]["date"] == str(_today(sim) - dt.timedelta(days=2))
    sim.settings.business_data_lag_hours = None  # deterministic 24-48 h per day
    rows = Biz(http, CAFE).get("/business/get/", fields=["video_views"])["data"]["metrics"]
    assert rows[-1]["date"] in {str(_today(sim) - dt.timedelta(days=n)) for n in (1, 2)}


def test_audience_needs_100_followers(http: httpx.Client) -> None:
    # Corrections: audience breakdowns need >= 100 followers.
    fields = ["audience_ages", "audience_genders", "audience_countries", "audience_cities"]
    big = Biz(http, CAFE).get("/business/get/", fields=fields)["data"]
    tiny = Biz(http, TINY).get("/business/get/", fields=fields)["data"]
    assert all(big[f] for f in fields)
    assert sum(row["percentage"] for row in big["audience_genders"]) == pytest.approx(1, abs=0.01)
    assert tiny == dict.fromkeys(fields)


def test_business_scopes_are_per_field(http: httpx.Client) -> None:
    # Corrections: user.account.type for is_business_account, user.info.username for username,
    # user.insights for metrics; 40130 scope not authorized.
    narrow = Biz(http, CAFE, scopes=("user.info.profile", "video.list"))
    assert narrow.get("/business/get/", fields=["display_name"])["code"] == 0
    for field in ("is_business_account", "username", "followers_count", "video_views"):
        body = narrow.get("/business/get/", fields=[field])
        assert body["code"] == 40130, field
    assert narrow.get("/business/video/list/", fields=["item_id"])["code"] == 0
    assert narrow.get("/business/video/list/", fields=["item_id", "likes"])["code"] == 40130
    assert narrow.get("/business/comment/list/", video_id="1")["code"] == 40130


def test_personal_account_gets_profile_not_insights(http: httpx.Client) -> None:
    # Corrections "Account types" [U]: the simulator's choice, documented in guards.py —
    # profile fields answer, insights/video insights/comments answer 40001 permission.
    ava = Biz(http, AVA)
    assert ava.get("/business/get/", fields=["is_business_account"])["data"] == {
        "is_business_account": False
    }
    assert ava.get("/business/get/", fields=["video_views"])["code"] == 40001
    assert ava.get("/business/video/list/", fields=["item_id", "video_views"])["code"] == 40001
    assert ava.get("/business/comment/list/", video_id="1")["code"] == 40001


def test_video_insight_fields(http: httpx.Client) -> None:
    # §4.3: field names for per-video insights.
    fields = [
        "item_id", "average_time_watched", "full_video_watched_rate", "video_view_retention",
        "impression_sources", "audience_types", "new_followers", "total_time_watched",
        "engagement_likes",
    ]  # fmt: skip
    body = Biz(http, CAFE).get("/business/video/list/", fields=fields, max_count=2)
    assert body["code"] == 0
    video = body["data"]["videos"][0]
    assert set(video) == set(fields)
    assert {row["type"] for row in video["audience_types"]} == {
        "NEW_VIEWER", "RETURN_VIEWER", "FOLLOWER_PERCENT", "NON_FOLLOWER_PERCENT",
    }  # fmt: skip
    assert set(video["impression_sources"][0]) == {"impression_source", "percentage"}
    assert set(video["video_view_retention"][0]) == {"second", "percentage"}
    unknown = Biz(http, CAFE).get("/business/video/list/", fields=["item_id", "views"])
    assert unknown["code"] == 40002


def test_business_rate_limit_is_40100(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: about 40 requests/min per account per endpoint; 40100 too frequent.
    sim.settings.business_rate_limit = 3
    biz = Biz(http, DANCE)
    codes = [biz.get("/business/get/")["code"] for _ in range(4)]
    assert codes == [0, 0, 0, 40100]
    sim.clock.advance(61)
    assert biz.get("/business/get/")["code"] == 0


@pytest.mark.parametrize("code", [40100, 40132, 61000, 40102, 40105, 40001, 40002, 50002])
def test_business_error_codes_can_be_injected(
    http: httpx.Client, sim: SimulatorApp, code: int
) -> None:
    # Corrections error table: every code is producible (here by fault injection).
    biz = Biz(http, CAFE)
    sim.faults.add(f"{BIZ}/business/get/", "error_code", code=code)
    body = biz.get("/business/get/")
    assert body["code"] == code and body["message"] and body["data"] == {}
    assert biz.get("/business/get/")["code"] == 0


def test_system_error_50000(http: httpx.Client, sim: SimulatorApp) -> None:
    # Corrections: 50000 system error (fault http_500 on a Business path).
    biz = Biz(http, CAFE)
    sim.faults.add(f"{BIZ}/business/get/", "http_500")
    answer = http.get(
        f"{BIZ}/business/get/",
        params={"business_id": biz.business_id},
        headers={"Access-Token": biz.token},
    )
    assert answer.json()["code"] == 50000


def test_comment_moderation_sends_comment_update(http: httpx.Client, sim: SimulatorApp) -> None:
    # §4.5 + §4.6: hide flips the status and a comment.update event reaches the Business app.
    biz = Biz(http, CAFE)
    video = biz.get("/business/video/list/", fields=["item_id"], max_count=5)["data"]["videos"][4]
    comments = biz.get("/business/comment/list/", video_id=video["item_id"])["data"]["comments"]
    target = comments[0]
    hidden = biz.post(
        "/business/comment/hide/",
        video_id=video["item_id"],
        comment_id=target["comment_id"],
        action="HIDE",
    )
    assert hidden["code"] == 0
    events = sim.state.webhooks.log(event="comment.update")
    content = json.loads(events[-1]["body"]["content"])
    assert events[-1]["client_key"] == "sim-business-app-id"
    assert events[-1]["body"]["user_openid"] == biz.business_id
    assert content["comment_action"] == "set_to_hidden"
    assert content["comment_id"] == target["comment_id"]
    assert content["comment_type"] == "comment"


def test_create_pin_and_owner_only_delete(http: httpx.Client) -> None:
    # §4.5: create (<= 150 chars), pin one top-level comment, delete own comments only.
    biz = Biz(http, CAFE)
    video = biz.get("/business/video/list/", fields=["item_id"], max_count=6)["data"]["videos"][5]
    video_id = video["item_id"]
    assert biz.post("/business/comment/create/", video_id=video_id, text="x" * 151)["code"] == 40002
    mine = biz.post("/business/comment/create/", video_id=video_id, text="Open late!")
    assert mine["code"] == 0 and mine["data"]["owner"] is True
    pinned = biz.post(
        "/business/comment/pin/", video_id=video_id, comment_id=mine["data"]["comment_id"],
        action="PIN",
    )  # fmt: skip
    assert pinned["code"] == 0
    listed = biz.get("/business/comment/list/", video_id=video_id, max_count=30)["data"]
    assert [c["comment_id"] for c in listed["comments"] if c["pinned"]] == [
        mine["data"]["comment_id"]
    ]
    fan = next(c for c in listed["comments"] if not c["owner"])
    refused = biz.post("/business/comment/delete/", comment_id=fan["comment_id"])
    assert refused["code"] == 40002
    deleted = biz.post("/business/comment/delete/", comment_id=mine["data"]["comment_id"])
    assert deleted["code"] == 0


def test_business_app_rate_limit_is_40100_across_accounts(
    http: httpx.Client, sim: SimulatorApp
) -> None:
    # Corrections "Business limits": ~600 requests/min per app at the default level, on top of
    # the ~40/min per account and endpoint; too frequent is 40100 (HTTP 200).
    assert sim.settings.business_app_rate_limit == 600
    sim.settings.business_app_rate_limit = 4
    cafe, dance = Biz(http, CAFE), Biz(http, DANCE)
    codes = [
        cafe.get("/business/get/")["code"],
        dance.get("/business/get/")["code"],
        cafe.get("/business/video/list/")["code"],
        dance.get("/business/video/list/")["code"],
        dance.get("/business/get/")["code"],
    ]
    assert codes == [0, 0, 0, 0, 40100]
    sim.clock.advance(61)
    assert cafe.get("/business/get/")["code"] == 0


def test_comment_list_takes_at_most_30_comment_ids(http: httpx.Client) -> None:
    # §4.5: comment_ids (JSON, <= 30); a longer list is a parameter error (40002).
    biz = Biz(http, CAFE)
    video_id = biz.get("/business/video/list/", fields=["item_id"])["data"]["videos"][4]["item_id"]
    ids = [str(n) for n in range(31)]
    assert biz.get("/business/comment/list/", video_id=video_id, comment_ids=ids[:30])["code"] == 0
    refused = biz.get("/business/comment/list/", video_id=video_id, comment_ids=ids)
    assert refused["code"] == 40002


def test_smart_sort_order_is_for_replies_only(http: httpx.Client) -> None:
    # §4.5: sort_order asc/desc on the comment list; the reply list also takes smart.
    biz = Biz(http, CAFE)
    video_id = biz.get("/business/video/list/", fields=["item_id"])["data"]["videos"][4]["item_id"]
    comments = biz.get("/business/comment/list/", video_id=video_id, max_count=30)["data"]
    assert biz.get("/business/comment/list/", video_id=video_id, sort_order="smart")["code"] == (
        40002
    )
    parent = next(c for c in comments["comments"] if c["replies"])
    replies = biz.get(
        "/business/comment/reply/list/", video_id=video_id, comment_id=parent["comment_id"],
        sort_order="smart",
    )  # fmt: skip
    assert replies["code"] == 0 and replies["data"]["comments"]

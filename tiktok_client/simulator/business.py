"""TikTok API for Business, accounts and videos: ``/business/get/`` (§4.2) and
``/business/video/list/`` (§4.3), with the Corrections' per-field scopes, metric names, 60-day
look-back, 24-48 h lag and the 100-follower floor for audience data."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.business_oauth import BUSINESS_PREFIX
from tiktok_client.simulator.display import cover_url
from tiktok_client.simulator.envelopes import business_error, business_ok
from tiktok_client.simulator.guards import RouteTable, business_auth, personal_account_refused
from tiktok_client.simulator.models import Creator, SimVideo
from tiktok_client.simulator.posting import avatar_url
from tiktok_client.simulator.rules import (
    AUDIENCE_MIN_FOLLOWERS,
    BUSINESS_AUDIENCE_FIELDS,
    BUSINESS_DAILY_METRICS,
    BUSINESS_PROFILE_FIELD_SCOPES,
    BUSINESS_VIDEO_BASIC_FIELDS,
    BUSINESS_VIDEO_INSIGHT_FIELDS,
    DEFAULT_BUSINESS_GET_FIELDS,
    METRICS_DEFAULT_DAYS,
    METRICS_LOOKBACK_DAYS,
)
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

DAY = dt.timedelta(days=1)
# §4.2: dates are YYYY-MM-DD; Python's fromisoformat also reads 20261101 and 2026-W44-7.
DATE_PARAM = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
AUDIENCE_LABELS = {
    "audience_ages": ("age", ["18-24", "25-34", "35-44", "45-54", "55+"]),
    "audience_genders": ("gender", ["Female", "Male", "Other"]),
    "audience_countries": ("country", ["US", "GB", "DE", "FR", "BR"]),
    "audience_cities": ("city_name", ["New York", "London", "Berlin", "Paris", "São Paulo"]),
}


class Invalid(Exception):
    """A request parameter TikTok would refuse with 40002."""


def json_param(request: Request, name: str, default: Any) -> Any:
    """§4: list parameters travel as JSON-encoded query strings."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Invalid(f"{name} must be JSON.") from exc


def breakdown(creator: Creator, field: str) -> list[dict[str, Any]] | None:
    """Audience shares, or None below 100 followers (Corrections)."""
    if creator.base_followers < AUDIENCE_MIN_FOLLOWERS:
        return None
    key, labels = AUDIENCE_LABELS[field]
    rng = random.Random(f"{creator.open_id}:{field}")
    weights = [rng.uniform(1, 10) for _ in labels]
    total = sum(weights)
    return [
        {key: label, "percentage": round(w / total, 4)}
        for label, w in zip(labels, weights, strict=True)
    ]


class BusinessAccounts:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        b = f"{BUSINESS_PREFIX}/business"
        return {
            ("GET", f"{b}/get/"): self.get,
            ("GET", f"{b}/video/list/"): self.video_list,
        }

    # ------------------------------------------------------------------ /business/get/

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.state.now(), dt.UTC).date()

    def _data_ready(self, creator: Creator, day: dt.date) -> bool:
        """Corrections: data lags 24-48 h after the day began."""
        lag = self.state.settings.business_data_lag_hours
        if lag is None:
            rng = random.Random(f"{self.state.seed}:{creator.open_id}:{day.isoformat()}:lag")
            lag = rng.uniform(24.0, 48.0)
        began = dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()
        return self.state.now() >= began + lag * 3600

    @staticmethod
    def _date_param(request: Request, name: str, default: dt.date) -> dt.date:
        raw = request.query.get(name) or default.isoformat()
        try:
            if not DATE_PARAM.fullmatch(raw):
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise Invalid("start_date and end_date must be YYYY-MM-DD.") from exc

    def _window(self, request: Request) -> tuple[dt.date, dt.date]:
        today = self._today()
        end = self._date_param(request, "end_date", today - DAY)
        start = self._date_param(request, "start_date", today - METRICS_DEFAULT_DAYS * DAY)
        if end > today - DAY:
            raise Invalid("end_date must be no later than yesterday (UTC).")
        if start > end:
            raise Invalid("start_date must not be after end_date.")
        if start < today - METRICS_LOOKBACK_DAYS * DAY:
            raise Invalid(f"start_date may be at most {METRICS_LOOKBACK_DAYS} days ago.")
        return start, end

    def _requested(self, request: Request) -> list[str]:
        fields = json_param(request, "fields", list(DEFAULT_BUSINESS_GET_FIELDS))
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise Invalid("fields must be a JSON array of strings.")
        known = BUSINESS_PROFILE_FIELD_SCOPES.keys() | BUSINESS_DAILY_METRICS
        unknown = [f for f in fields if f not in known and f not in BUSINESS_AUDIENCE_FIELDS]
        if unknown:
            # Corrections: there is no ``metrics`` field; metrics are asked for by name.
            raise Invalid(f"Unknown fields: {','.join(unknown)}.")
        return fields

    def get(self, request: Request) -> Response:
        try:
            fields = self._requested(request)
        except Invalid as exc:
            return business_error(40002, str(exc))
        metrics = [f for f in fields if f in BUSINESS_DAILY_METRICS]
        insights = metrics + [f for f in fields if f in BUSINESS_AUDIENCE_FIELDS]
        scopes = {BUSINESS_PROFILE_FIELD_SCOPES[f] for f in fields if f not in insights}
        if insights:
            scopes.add("user.insights")
        auth = business_auth(self.state, request, request.query.get("business_id"), scopes)
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        if insights:
            refused = personal_account_refused(creator)
            if refused is not None:
                return refused
        try:
            window = self._window(request) if metrics else None
        except Invalid as exc:
            return business_error(40002, str(exc))
        data = self._profile(request, creator, fields)
        if window is not None:
            data["metrics"] = self._rows(creator, window, metrics, "followers_count" in fields)
        return business_ok(data)

    def _profile(self, request: Request, creator: Creator, fields: list[str]) -> dict[str, Any]:
        state = self.state
        now = state.now()
        wanted = set(fields)
        videos = state.listed_videos(creator.open_id, public_only=False)
        values: dict[str, Any] = {
            "is_business_account": creator.is_business,
            "username": creator.username,
            "display_name": creator.nickname,
            "profile_image": avatar_url(state, request, creator),
            "profile_deep_link": f"https://www.tiktok.com/@{creator.username}",
            "bio_description": creator.bio,
            "is_verified": creator.is_verified,
            "following_count": creator.following_count,
            "followers_count": state.followers_on(creator, self._today()),
            "total_likes": sum(state.video_stats(v, now)["like_count"] for v in videos),
            "videos_count": len(videos),
        }
        data = {f: values[f] for f in fields if f in values}
        for field in BUSINESS_AUDIENCE_FIELDS & wanted:
            data[field] = breakdown(creator, field)
        return data

    def _rows(
        self,
        creator: Creator,
        window: tuple[dt.date, dt.date],
        metrics: list[str],
        with_followers: bool,
    ) -> list[dict[str, Any]]:
        """One row per day whose data is ready: ``date``, the requested metrics and, when
        ``followers_count`` was asked for, the day's total (Corrections)."""
        rows = []
        day, end = window
        while day <= end:
            if self._data_ready(creator, day):
                metric = self.state.daily_metric(creator, day)
                row = {"date": metric["date"], **{m: metric[m] for m in metrics}}
                if with_followers:
                    row["followers_count"] = metric["followers_count"]
                rows.append(row)
            day += DAY
        return rows

    # ------------------------------------------------------------------ /business/video/list/

    def video_list(self, request: Request) -> Response:
        try:
            fields = json_param(request, "fields", ["item_id"])
            filters = json_param(request, "filters", {})
            max_count = int(request.query.get("max_count", "20"))
            cursor = int(request.query.get("cursor") or 0)
        except (Invalid, ValueError) as exc:
            return business_error(40002, str(exc) or "Invalid parameter.")
        known = BUSINESS_VIDEO_BASIC_FIELDS | BUSINESS_VIDEO_INSIGHT_FIELDS
        if not isinstance(fields, list) or not isinstance(filters, dict):
            return business_error(40002, "fields must be a JSON array, filters a JSON object.")
        unknown = [f for f in fields if f not in known]
        if unknown:
            return business_error(40002, f"Unknown fields: {','.join(map(str, unknown))}.")
        if not 1 <= max_count <= 20:
            return business_error(40002, "max_count must be between 1 and 20.")
        insights = [f for f in fields if f in BUSINESS_VIDEO_INSIGHT_FIELDS]
        scopes = {"video.list", *(["video.insights"] if insights else [])}
        auth = business_auth(self.state, request, request.query.get("business_id"), scopes)
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        if insights:
            refused = personal_account_refused(creator)
            if refused is not None:
                return refused
        videos = self.state.listed_videos(creator.open_id, public_only=False)
        ids = filters.get("video_ids")
        if isinstance(ids, list):
            wanted = {str(i) for i in ids}
            videos = [v for v in videos if v.id in wanted]
        if cursor:
            videos = [v for v in videos if int(v.create_time * 1000) < cursor]
        page = videos[:max_count]
        return business_ok(
            {
                "videos": [self._video(request, v, fields) for v in page],
                "cursor": int(page[-1].create_time * 1000) if page else cursor,
                "has_more": len(videos) > max_count,
            }
        )

    def _video(self, request: Request, video: SimVideo, fields: list[str]) -> dict[str, Any]:
        """§4.3 field names."""
        state = self.state
        creator = state.creators[video.open_id]
        stats = state.video_stats(video, state.now())
        views = stats["view_count"]
        watched = round(video.duration * (0.35 + video.like_rate * 2), 2)
        rng = random.Random(f"{state.seed}:{video.id}:insights")
        values: dict[str, Any] = {
            "item_id": video.id,
            "media_type": video.media_type,
            "is_ad": False,
            "create_time": str(int(video.create_time)),  # Business sends epochs as strings
            "thumbnail_url": cover_url(state, request, video),
            "share_url": f"https://www.tiktok.com/@{creator.username}/video/{video.id}",
            "embed_url": f"https://www.tiktok.com/player/v1/{video.id}",
            "caption": video.title,
            "video_duration": float(video.duration),
            "likes": stats["like_count"],
            "comments": stats["comment_count"],
            "shares": stats["share_count"],
            "favorites": int(stats["like_count"] * 0.2),
            "reach": int(views * 0.82),
            "video_views": views,
            "total_time_watched": round(views * watched, 1),
            "average_time_watched": watched,
            "full_video_watched_rate": round(min(0.95, 0.12 + video.like_rate * 3), 3),
            "new_followers": int(views * 0.002),
            "profile_views": int(views * 0.03),
            "website_clicks": int(views * 0.001),
            "phone_number_clicks": int(views * 0.0002),
            "lead_submissions": int(views * 0.00005),
            "app_download_clicks": 0,
            "email_clicks": int(views * 0.0001),
            "address_clicks": int(views * 0.0003),
            "video_view_retention": [
                {"second": str(s), "percentage": round(max(0.05, 1 - s / (video.duration + 4)), 3)}
                for s in range(0, video.duration + 1, max(1, video.duration // 10))
            ],
            "impression_sources": [
                {"impression_source": "For You", "percentage": 0.71},
                {"impression_source": "Follow", "percentage": 0.14},
                {"impression_source": "Personal Profile", "percentage": 0.09},
                {"impression_source": "Search", "percentage": 0.06},
            ],
            "audience_types": [
                {"type": "NEW_VIEWER", "percentage": round(rng.uniform(0.5, 0.8), 3)},
                {"type": "RETURN_VIEWER", "percentage": round(rng.uniform(0.2, 0.5), 3)},
                {"type": "FOLLOWER_PERCENT", "percentage": round(rng.uniform(0.1, 0.4), 3)},
                {"type": "NON_FOLLOWER_PERCENT", "percentage": round(rng.uniform(0.6, 0.9), 3)},
            ],
            "engagement_likes": [
                {"second": str(s), "percentage": round(rng.uniform(0.0, 0.2), 3)}
                for s in range(0, video.duration + 1, max(1, video.duration // 5))
            ],
        }
        for field in ("audience_genders", "audience_countries", "audience_cities"):
            values[field] = breakdown(creator, field)
        return {f: values[f] for f in fields}

"""Business video insights for one post's page: watch time, retention, sources, audience types.

TikTok's `/business/video/list/` reports these for Business accounts only, 24-48 hours behind
(the fact sheet's corrected lag); we keep the latest snapshot that carried them and say when
it was measured. Personal accounts get the list of what a Business account would add.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from accounts.models import TikTokVideo
from analytics import charts
from analytics.models import VideoSnapshot

#: TikTok's video insights lag up to 48 hours behind the video.
INSIGHTS_LAG = dt.timedelta(hours=48)

SOURCE_LABELS = {
    "For You": "For You",
    "FOR_YOU": "For You",
    "Follow": "Following",
    "FOLLOW": "Following",
    "Following": "Following",
    "Personal Profile": "Profile",
    "PERSONAL_PROFILE": "Profile",
    "Search": "Search",
    "SEARCH": "Search",
    "Sound": "Sound",
    "SOUND": "Sound",
}
AUDIENCE_TYPE_LABELS = {
    "NEW_VIEWER": "New viewers",
    "RETURN_VIEWER": "Returning viewers",
    "FOLLOWER_PERCENT": "Followers",
    "NON_FOLLOWER_PERCENT": "Non-followers",
}
BUSINESS_ONLY = (
    "Average watch time",
    "Full-video watched rate",
    "Retention curve",
    "Impression sources (For You, Following, profile, search, sound)",
    "Audience types (new, returning, followers, non-followers)",
    "New followers gained",
)


@dataclass
class VideoInsights:
    business: bool
    #: TikTok reported the account's type (only the Business app can).
    type_reported: bool = True
    measured_at: dt.datetime | None = None
    average_time_watched: float | None = None
    full_video_watched_rate: float | None = None  # percent
    new_followers: int | None = None
    sources: list[tuple[str, float]] = field(default_factory=list)
    audience_types: list[tuple[str, float]] = field(default_factory=list)
    retention: list[tuple[float, float]] = field(default_factory=list)
    retention_chart: charts.Chart | None = None
    #: True while the video is younger than TikTok's insights lag.
    within_lag: bool = False
    business_only: tuple[str, ...] = BUSINESS_ONLY

    @property
    def has_any(self) -> bool:
        return self.measured_at is not None


def _percentages(pairs: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """TikTok sends shares as 0-1 fractions or as 0-100 percents: show percents, largest first."""
    items = [(name, float(value)) for name, value in pairs]
    if items and all(value <= 1.0 for _, value in items):
        items = [(name, value * 100) for name, value in items]
    return sorted(items, key=lambda pair: pair[1], reverse=True)


def _has_insights(snapshot: VideoSnapshot) -> bool:
    return any(
        (
            snapshot.average_time_watched is not None,
            snapshot.full_video_watched_rate is not None,
            snapshot.new_followers is not None,
            bool(snapshot.retention),
            bool(snapshot.impression_sources),
            bool(snapshot.audience_types),
        )
    )


def _second_ticks(last: float, *, x_of: Callable[[float], float], span: float) -> list[charts.Tick]:
    """Ticks at a nice step of seconds (0 s, 5 s, 10 s ...), the finest whose labels fit."""
    if not math.isfinite(last) or last <= 0:
        return []
    # No step can be finer than the narrowest label ("0 s") and its gap allow.
    least = last * (charts.label_width("0 s") + charts.X_LABEL_GAP) / span
    for step in charts.nice_steps(least, whole=last >= 1):
        count = math.floor(last / step + 1e-9)
        ticks = [
            charts.Tick(position=x_of(step * index), label=f"{step * index:g} s")
            for index in range(count + 1)
        ]
        if charts.x_labels_fit(ticks):
            return ticks
    return []


def retention_chart(points: Sequence[tuple[float, float]]) -> charts.Chart:
    """Share of viewers still watching at each second, as one line on a 0-100 % scale."""
    chart = charts.Chart(kind="line", label="Retention")
    if not points:
        return chart
    last = max(second for second, _ in points) or 1.0
    plot_height = chart.baseline - charts.PAD_TOP
    span = chart.right - chart.left

    def x_of(second: float) -> float:
        return chart.left + second / last * span

    def y_of(percent: float) -> float:
        return chart.baseline - min(max(percent, 0.0), 100.0) / 100 * plot_height

    chart.y_ticks = [charts.Tick(position=y_of(v), label=f"{v}%") for v in (0, 25, 50, 75, 100)]
    chart.x_ticks = _second_ticks(last, x_of=x_of, span=span)
    line = charts.Line(label="Still watching")
    coords = []
    for second, percent in points:
        x, y = x_of(second), y_of(percent)
        coords.append(f"{x:.1f},{y:.1f}")
        line.points.append(
            charts.Point(x=x, y=y, title=f"{second:g} s: {percent:.1f}% of viewers still watching")
        )
    line.segments = [" ".join(coords)]
    chart.lines = [line]
    return chart


def video_insights(
    *, video: TikTokVideo, snapshots: Sequence[VideoSnapshot], now: dt.datetime
) -> VideoInsights:
    """From the latest snapshot that carried Business insights (snapshots oldest first)."""
    insights = VideoInsights(
        business=video.account.is_business,
        type_reported=video.account.account_type_reported,
        within_lag=now - video.posted_at < INSIGHTS_LAG,
    )
    latest = next((s for s in reversed(snapshots) if _has_insights(s)), None)
    if latest is None:
        return insights
    insights.measured_at = latest.captured_at
    insights.average_time_watched = latest.average_time_watched
    rate = latest.full_video_watched_rate
    insights.full_video_watched_rate = None if rate is None else (rate * 100 if rate <= 1 else rate)
    insights.new_followers = latest.new_followers
    insights.sources = _percentages(
        (SOURCE_LABELS.get(name, name), share)
        for name, share in (latest.impression_sources or {}).items()
    )
    insights.audience_types = _percentages(
        (AUDIENCE_TYPE_LABELS.get(name, name), share)
        for name, share in (latest.audience_types or {}).items()
    )
    raw = [(float(second), float(share)) for second, share in latest.retention or []]
    if raw and all(share <= 1.0 for _, share in raw):
        raw = [(second, share * 100) for second, share in raw]
    insights.retention = sorted(raw)
    insights.retention_chart = retention_chart(insights.retention) if raw else None
    return insights

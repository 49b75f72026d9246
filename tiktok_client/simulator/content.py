"""What the simulated creators have: deterministic videos, fan comments and daily metrics.

Everything is derived from the seed, the creator and the date, so two simulators with the same
seed agree and tests can compute expected figures.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.models import (
    FOLLOWERS,
    PUBLIC,
    SELF_ONLY,
    Creator,
    SimComment,
    SimVideo,
)
from tiktok_client.simulator.settings import SimSettings

DAY = 86400.0


def seeded_creators() -> list[Creator]:
    return [
        Creator(
            open_id="sim-ava-public",
            username="ava.creates",
            nickname="Ava Creates",
            bio="Weekly recipes and studio vlogs",
            is_business=False,
            is_private=False,
            is_verified=True,
            base_followers=48200,
            following_count=310,
            seeded_videos=24,
        ),
        Creator(
            open_id="sim-ben-private",
            username="ben.private",
            nickname="Ben (private)",
            bio="Friends and family only",
            is_business=False,
            is_private=True,
            base_followers=212,
            following_count=180,
            seeded_videos=6,
        ),
        Creator(
            open_id="sim-cafe-business",
            username="corner.cafe",
            nickname="Corner Cafe",
            bio="Coffee, pastries and latte art. Open 7-19.",
            is_business=True,
            is_private=False,
            is_verified=True,
            base_followers=15300,
            following_count=95,
            seeded_videos=30,
            fan_comments_per_video=36,
            max_video_post_duration_sec=300,
        ),
        Creator(
            open_id="sim-dance-business",
            username="dance.studio",
            nickname="Move Dance Studio",
            bio="Classes for all levels. No duets, please!",
            is_business=True,
            is_private=False,
            duet_disabled=True,
            stitch_disabled=True,
            base_followers=8700,
            following_count=40,
            seeded_videos=22,
            fan_comments_per_video=12,
        ),
        Creator(
            open_id="sim-quiet-chef",
            username="quiet.chef",
            nickname="Quiet Chef",
            bio="One-minute recipes. Comments off.",
            is_business=False,
            is_private=False,
            comment_disabled=True,
            max_video_post_duration_sec=60,
            base_followers=3900,
            following_count=12,
            seeded_videos=12,
        ),
        Creator(
            open_id="sim-tiny-bakery",
            username="tiny.bakery",
            nickname="Tiny Bakery",
            bio="Just opened! Sourdough on Saturdays.",
            is_business=True,
            is_private=False,
            base_followers=40,
            following_count=25,
            seeded_videos=4,
            fan_comments_per_video=2,
        ),
        Creator(
            open_id="sim-paused-poster",
            username="paused.poster",
            nickname="Paused Poster",
            bio="Taking a break",
            is_business=False,
            is_private=False,
            banned_from_posting=True,
            base_followers=760,
            following_count=201,
            seeded_videos=5,
        ),
    ]


FAN_NAMES = [
    "mila",
    "noah",
    "zoe",
    "leo",
    "ivy",
    "omar",
    "lena",
    "kai",
    "nora",
    "eli",
    "sara",
    "theo",
]
FAN_COMMENTS = [
    "This is amazing!",
    "Where is this?",
    "Need the recipe 😍",
    "Saw this on my FYP",
    "How long did this take?",
    "Came back to watch again",
    "Price?",
    "Love the vibe here",
    "Do you ship to Canada?",
    "Tutorial please!",
    "The music choice 🔥",
    "Can't stop watching",
    "Is this open on Sundays?",
    "Tagging my bestie",
    "First!",
    "What camera do you use?",
]
FAN_REPLIES = ["Same question!", "Agreed 💯", "Right??", "Following for the answer", "lol yes"]
TITLES = [
    "Morning routine",
    "Behind the scenes",
    "Trying the viral trend",
    "Q&A time",
    "Our new menu",
    "Day in the life",
    "Quick tutorial",
    "Before and after",
    "Weekend recap",
    "You asked, we answered",
    "Tips nobody tells you",
    "New drop!",
]
HASHTAGS = ["#fyp", "#foryou", "#smallbusiness", "#tutorial", "#behindthescenes", "#viral"]


class SimContent:
    """Mixin of ``SimState``: videos, comments and metrics. Call with ``SimState.lock`` held."""

    seed: int
    epoch: float
    creators: dict[str, Creator]
    videos: dict[str, SimVideo]
    comments: dict[str, SimComment]
    video_comments: dict[str, list[str]]
    _flow_cache: dict[tuple[str, dt.date], tuple[int, int]]
    _followers_cache: dict[tuple[str, dt.date], int]
    settings: SimSettings

    if TYPE_CHECKING:

        def now(self) -> float: ...

        def tick(self) -> None: ...

        def next_sequence(self) -> int: ...

        def comment_changed(self, comment: SimComment, action: str) -> None: ...

    def _video_id(self, rng: random.Random) -> str:
        return str(7_300_000_000_000_000_000 + rng.randrange(10**17))

    def _seed_videos(self, creator: Creator) -> None:
        rng = random.Random(f"{self.seed}:{creator.open_id}:videos")
        privacy = FOLLOWERS if creator.is_private else PUBLIC
        ages = sorted((rng.uniform(0.2, 88.0) for _ in range(creator.seeded_videos)), reverse=True)
        for age_days in ages:
            title = f"{rng.choice(TITLES)} {rng.choice(HASHTAGS)} {rng.choice(HASHTAGS)}"
            created = self.epoch - age_days * DAY
            video = SimVideo(
                id=self._video_id(rng),
                open_id=creator.open_id,
                create_time=created,
                title=title,
                description=title,
                duration=rng.randint(8, min(creator.max_video_post_duration_sec, 180)),
                privacy_level=privacy,
                popularity=rng.lognormvariate(math.log(creator.base_followers / 3 + 200), 0.8),
                like_rate=rng.uniform(0.04, 0.12),
                visible_from=created,
                fan_comments=creator.fan_comments_per_video,
            )
            self.videos[video.id] = video

    def video_stats(self, video: SimVideo, now: float) -> dict[str, int]:
        hours = max(0.0, now - video.create_time) / 3600
        growth = (1 - math.exp(-hours / 30)) + 0.12 * math.log1p(hours / 24)
        views = int(video.popularity * growth)
        likes = int(views * video.like_rate)
        return {
            "view_count": views,
            "like_count": likes,
            "comment_count": int(likes * 0.05) + self.visible_comment_count(video.id),
            "share_count": int(views * 0.007),
        }

    def followers_on(self, creator: Creator, day: dt.date) -> int:
        key = (creator.open_id, day)
        if key not in self._followers_cache:
            start = dt.date.fromtimestamp(self.epoch - 120 * DAY)
            total = creator.base_followers
            current = start
            while current <= day:
                new, lost = self._follower_flow(creator, current)
                total += new - lost
                current += dt.timedelta(days=1)
            self._followers_cache[key] = max(total, 0)
        return self._followers_cache[key]

    def _follower_flow(self, creator: Creator, day: dt.date) -> tuple[int, int]:
        key = (creator.open_id, day)
        if key not in self._flow_cache:
            rng = random.Random(f"{self.seed}:{creator.open_id}:{day.isoformat()}:followers")
            scale = max(creator.base_followers / 400, 1)
            self._flow_cache[key] = (
                int(rng.uniform(0.5, 2.5) * scale),
                int(rng.uniform(0.1, 1.0) * scale),
            )
        return self._flow_cache[key]

    def daily_metric(self, creator: Creator, day: dt.date) -> dict[str, Any]:
        """Every daily metric the Business API knows for ``day`` (§4.2, Corrections):
        ``daily_total_followers`` is the day's *net change*, ``followers_count`` the total."""
        rng = random.Random(f"{self.seed}:{creator.open_id}:{day.isoformat()}:metrics")
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        views = int(creator.base_followers * rng.uniform(0.2, 0.9) * weekend)
        likes = int(views * rng.uniform(0.05, 0.1))
        new, lost = self._follower_flow(creator, day)
        reach = int(views * rng.uniform(0.6, 0.85))
        engaged = int(reach * rng.uniform(0.05, 0.12))
        business_only = creator.is_business
        return {
            "date": day.isoformat(),
            "video_views": views,
            "unique_video_views": int(views * 0.8),
            "profile_views": int(views * rng.uniform(0.02, 0.06)),
            "likes": likes,
            "comments": int(likes * rng.uniform(0.03, 0.08)),
            "shares": int(views * rng.uniform(0.004, 0.01)),
            "followers_count": self.followers_on(creator, day),
            "daily_total_followers": new - lost,
            "daily_new_followers": new,
            "daily_lost_followers": lost,
            "engaged_audience": engaged,
            "engagement_rate": round(engaged / reach, 4) if reach else 0.0,
            "audience_activity": [
                {"hour": str(hour), "count": int(engaged * (0.5 + 0.5 * math.sin(hour / 3.8)))}
                for hour in range(24)
            ],
            "bio_link_clicks": int(views * 0.001) if business_only else None,
            "phone_number_clicks": int(views * 0.0002) if business_only else None,
            "email_clicks": int(views * 0.0001) if business_only else None,
            "address_clicks": int(views * 0.0003) if business_only else None,
            "lead_submissions": int(views * 0.00005) if business_only else None,
            "app_download_clicks": 0 if business_only else None,
        }

    def listed_videos(self, open_id: str, *, public_only: bool) -> list[SimVideo]:
        self.tick()
        now = self.now()
        videos = [v for v in self.videos.values() if v.open_id == open_id]
        if public_only:
            videos = [v for v in videos if v.privacy_level != SELF_ONLY and v.visible_from <= now]
        else:
            videos = [v for v in videos if v.create_time <= now]
        return sorted(videos, key=lambda v: (v.create_time, v.id), reverse=True)

    def materialize_comments(self, video: SimVideo) -> None:
        """Fans comment on a deterministic schedule: gaps grow as the video ages."""
        now = self.now()
        ids = self.video_comments.setdefault(video.id, [])
        while video.fan_comments_materialized < video.fan_comments:
            k = video.fan_comments_materialized
            appear_at = video.create_time + 90 * (k + 1) ** 1.6
            if appear_at > now:
                break
            rng = random.Random(f"{self.seed}:{video.id}:comment:{k}")
            comment = self._fan_comment(rng, video, None, int(appear_at), rng.choice(FAN_COMMENTS))
            ids.append(comment.comment_id)
            if k % 4 == 1:
                for j in range(k % 3 + 1):
                    reply_at = int(appear_at + 300 * (j + 1))
                    if reply_at <= now:
                        reply = self._fan_comment(
                            rng, video, comment.comment_id, reply_at, rng.choice(FAN_REPLIES)
                        )
                        comment.reply_ids.append(reply.comment_id)
            video.fan_comments_materialized += 1

    def _fan_comment(
        self,
        rng: random.Random,
        video: SimVideo,
        parent_id: str | None,
        created: int,
        text: str,
    ) -> SimComment:
        name = rng.choice(FAN_NAMES)
        number = rng.randrange(100, 999)
        comment = SimComment(
            comment_id=str(7_400_000_000_000_000_000 + rng.randrange(10**17)),
            video_id=video.id,
            parent_comment_id=parent_id,
            unique_identifier=f"fan-{name}-{number}",
            username=f"{name}{number}",
            display_name=name.title(),
            text=text,
            create_time=created,
            likes=rng.randrange(0, 40),
        )
        self.comments[comment.comment_id] = comment
        return comment

    def add_comment(
        self, *, video: SimVideo, text: str, parent_id: str | None, by_owner: bool
    ) -> SimComment:
        creator = self.creators[video.open_id]
        rng = random.Random(f"{self.seed}:{video.id}:added:{self.next_sequence()}")
        if by_owner:
            comment = SimComment(
                comment_id=str(7_500_000_000_000_000_000 + rng.randrange(10**17)),
                video_id=video.id,
                parent_comment_id=parent_id,
                unique_identifier=creator.open_id,
                username=creator.username,
                display_name=creator.nickname,
                text=text,
                create_time=int(self.now()),
                owner=True,
            )
            self.comments[comment.comment_id] = comment
        else:
            comment = self._fan_comment(rng, video, parent_id, int(self.now()), text)
        if parent_id is None:
            self.video_comments.setdefault(video.id, []).append(comment.comment_id)
        else:
            self.comments[parent_id].reply_ids.append(comment.comment_id)
        self.comment_changed(comment, "insert")
        return comment

    def visible_comment_count(self, video_id: str) -> int:
        count = 0
        for comment_id in self.video_comments.get(video_id, []):
            comment = self.comments[comment_id]
            if comment.deleted:
                continue
            count += 1 + sum(1 for r in comment.reply_ids if not self.comments[r].deleted)
        return count

"""All simulator state behind one lock, plus the deterministic data generators."""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from tiktok_client.config import DEFAULT_SCOPES
from tiktok_client.simulator.clock import SimClock
from tiktok_client.simulator.faults import SimCounters, SimFaults
from tiktok_client.simulator.models import (
    FOLLOWERS,
    PUBLIC,
    SELF_ONLY,
    AccessToken,
    AuthCode,
    Creator,
    Publish,
    RefreshToken,
    SimApp,
    SimComment,
    SimVideo,
)

DAY = 86400.0
MB = 1024 * 1024
TOKEN_PROFILES: dict[str, tuple[int, int]] = {
    "A": (86400, 31536000),  # older docs and every integration
    "B": (7200, 15552000),  # pages stamped Nov 2026
}
DEFAULT_CLIENT_KEY = "sim-client-key"
DEFAULT_CLIENT_SECRET = "sim-client-secret"
DEFAULT_REDIRECT_URIS = [
    "http://localhost:8000/connect/tiktok/callback/",
    "http://127.0.0.1:8000/connect/tiktok/callback/",
    "http://testserver/connect/tiktok/callback/",
]
APPROVED_SCOPES = frozenset(
    {*DEFAULT_SCOPES, "user.info.username", "user.account.type", "video.insights"}
)
ENDPOINT_LIMITS: dict[str, int] = {
    "/v2/post/publish/creator_info/query/": 20,
    "/v2/post/publish/video/init/": 6,
    "/v2/post/publish/inbox/video/init/": 6,
    "/v2/post/publish/content/init/": 6,
    "/v2/post/publish/status/fetch/": 30,
    "/v2/user/info/": 600,
    "/v2/video/list/": 600,
    "/v2/video/query/": 600,
}


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


@dataclass
class SimSettings:
    token_profile: Literal["A", "B"] = "A"
    strict_rotation: bool = True
    moderation_delay: float = 10.0
    auth_code_ttl: float = 600.0
    upload_url_ttl: float = 3600.0
    min_processing_seconds: float = 2.0
    download_seconds: float = 3.0
    pull_download_size: int = 8 * MB
    daily_post_cap: int = 15
    pending_share_cap: int = 5
    unaudited_user_cap: int = 5
    timeout_stall_seconds: float = 15.0
    public_base_url: str | None = None
    loopback_redirect_any_port: bool = True

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


@dataclass
class SimState:
    seed: int = 1234
    clock: SimClock = field(default_factory=SimClock)
    settings: SimSettings = field(default_factory=SimSettings)
    faults: SimFaults = field(default_factory=SimFaults)
    counters: SimCounters = field(default_factory=SimCounters)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._reset_data()

    # ------------------------------------------------------------------ lifecycle

    def _reset_data(self) -> None:
        self.creators: dict[str, Creator] = {c.open_id: c for c in seeded_creators()}
        self.apps: dict[str, SimApp] = {
            DEFAULT_CLIENT_KEY: SimApp(
                client_key=DEFAULT_CLIENT_KEY,
                client_secret=DEFAULT_CLIENT_SECRET,
                redirect_uris=list(DEFAULT_REDIRECT_URIS),
                approved_scopes=APPROVED_SCOPES,
            )
        }
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.publishes: dict[str, Publish] = {}
        self.uploads: dict[str, str] = {}
        self.videos: dict[str, SimVideo] = {}
        self.comments: dict[str, SimComment] = {}
        self.video_comments: dict[str, list[str]] = {}
        self.rate_windows: dict[tuple[str, str], deque[float]] = {}
        self.direct_posts: list[tuple[float, str, str]] = []  # (time, open_id, client_key)
        self._sequence = 0
        self._flow_cache: dict[tuple[str, dt.date], tuple[int, int]] = {}
        self._followers_cache: dict[tuple[str, dt.date], int] = {}
        self._rng = random.Random(f"{self.seed}:runtime")
        self.epoch = self.clock.now()
        for creator in self.creators.values():
            self._seed_videos(creator)

    def reset(self) -> None:
        with self.lock:
            self.clock = SimClock(speed=self.clock.speed)
            self.settings = SimSettings(public_base_url=self.settings.public_base_url)
            self.faults.clear()
            self.counters.reset()
            self._reset_data()

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def now(self) -> float:
        return self.clock.now()

    # ------------------------------------------------------------------ deterministic content

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
        rng = random.Random(f"{self.seed}:{creator.open_id}:{day.isoformat()}:metrics")
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        views = int(creator.base_followers * rng.uniform(0.2, 0.9) * weekend)
        likes = int(views * rng.uniform(0.05, 0.1))
        new, lost = self._follower_flow(creator, day)
        reach = int(views * rng.uniform(0.6, 0.85))
        return {
            "date": day.isoformat(),
            "video_views": views,
            "unique_video_views": int(views * 0.8),
            "profile_views": int(views * rng.uniform(0.02, 0.06)),
            "likes": likes,
            "comments": int(likes * rng.uniform(0.03, 0.08)),
            "shares": int(views * rng.uniform(0.004, 0.01)),
            "daily_total_followers": self.followers_on(creator, day),
            "daily_new_followers": new,
            "daily_lost_followers": lost,
            "reach": reach,
            "engaged_audience": int(reach * rng.uniform(0.05, 0.12)),
            "bio_link_clicks": int(views * 0.001),
        }

    # ------------------------------------------------------------------ tokens

    def issue_tokens(
        self,
        *,
        open_id: str,
        scopes: tuple[str, ...],
        client_key: str = DEFAULT_CLIENT_KEY,
        refresh_expires_at: float | None = None,
    ) -> dict[str, Any]:
        access_ttl, refresh_ttl = TOKEN_PROFILES[self.settings.token_profile]
        now = self.now()
        access = AccessToken(
            token=f"act.{secrets.token_urlsafe(30)}",
            client_key=client_key,
            open_id=open_id,
            scopes=scopes,
            expires_at=now + access_ttl,
        )
        refresh = RefreshToken(
            token=f"rft.{secrets.token_urlsafe(30)}",
            client_key=client_key,
            open_id=open_id,
            scopes=scopes,
            expires_at=refresh_expires_at if refresh_expires_at is not None else now + refresh_ttl,
        )
        self.access_tokens[access.token] = access
        self.refresh_tokens[refresh.token] = refresh
        return {
            "access_token": access.token,
            "expires_in": access_ttl,
            "open_id": open_id,
            "refresh_expires_in": max(int(refresh.expires_at - now), 0),
            "refresh_token": refresh.token,
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }

    def revoke_grant(self, *, open_id: str, client_key: str | None = None) -> int:
        revoked = 0
        tokens: list[AccessToken | RefreshToken] = [
            *self.access_tokens.values(),
            *self.refresh_tokens.values(),
        ]
        for token in tokens:
            if token.open_id == open_id and client_key in (None, token.client_key):
                if not token.revoked:
                    revoked += 1
                token.revoked = True
        return revoked

    def expire_tokens(self, *, open_id: str) -> None:
        now = self.now()
        for token in self.access_tokens.values():
            if token.open_id == open_id:
                token.expires_at = min(token.expires_at, now - 1)

    def token_open_id(self, token: str) -> str | None:
        record = self.access_tokens.get(token)
        return record.open_id if record else None

    def live_access_token(self, token: str) -> AccessToken | None:
        record = self.access_tokens.get(token)
        if record is None or record.revoked or record.expires_at <= self.now():
            return None
        return record

    def rate_limited(self, token: str, endpoint: str, limit: int) -> float:
        """Record one call; return seconds until retry when over the 60 s sliding window."""
        now = self.now()
        window = self.rate_windows.setdefault((token, endpoint), deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            return max(window[0] + 60 - now, 1.0)
        window.append(now)
        return 0.0

    # ------------------------------------------------------------------ publishing

    def direct_posts_last_day(self, open_id: str) -> int:
        cutoff = self.now() - DAY
        return sum(1 for at, oid, _ in self.direct_posts if at > cutoff and oid == open_id)

    def posting_users_last_day(self, client_key: str) -> set[str]:
        cutoff = self.now() - DAY
        return {oid for at, oid, key in self.direct_posts if at > cutoff and key == client_key}

    def pending_shares(self, open_id: str) -> int:
        cutoff = self.now() - DAY
        self.tick()
        return sum(
            1
            for p in self.publishes.values()
            if p.open_id == open_id
            and not p.direct
            and p.created_at > cutoff
            and p.inbox_resolution is None
            and p.status != "FAILED"
        )

    def new_publish(self, *, prefix: str, **fields: Any) -> Publish:
        publish_id = f"{prefix}{self.next_sequence()}{self._rng.randrange(10**9):09d}"
        publish = Publish(publish_id=publish_id, created_at=self.now(), **fields)
        if publish.source == "FILE_UPLOAD":
            publish.upload_id = f"{self._rng.randrange(10**18):018d}"
            publish.upload_token = secrets.token_hex(16)
            publish.upload_expires_at = publish.created_at + self.settings.upload_url_ttl
            self.uploads[publish.upload_id] = publish_id
        else:
            publish.status = "PROCESSING_DOWNLOAD"
        if publish.direct:
            self.direct_posts.append((publish.created_at, publish.open_id, publish.client_key))
        self.publishes[publish_id] = publish
        return publish

    def _processing_seconds(self, size: int) -> float:
        return max(self.settings.min_processing_seconds, size / (512 * MB) * 30)

    def tick(self) -> None:
        now = self.now()
        for publish in self.publishes.values():
            self._advance(publish, now)

    def _advance(self, p: Publish, now: float) -> None:
        if p.status in ("FAILED", "PUBLISH_COMPLETE"):
            return
        if p.cancelled:
            p.status, p.fail_reason = "FAILED", "publish_cancelled"
            return
        if p.source == "FILE_UPLOAD":
            if p.upload_done_at is None:
                return
            ready_at = p.upload_done_at + self._processing_seconds(p.video_size)
        else:
            ready_at = (
                p.created_at
                + self.settings.download_seconds
                + self._processing_seconds(p.download_size)
            )
        if p.stuck or now < ready_at:
            return
        if p.injected_fail_reason:
            p.status, p.fail_reason = "FAILED", p.injected_fail_reason
            return
        if not p.direct:
            if p.inbox_resolution == "discarded":
                return
            if p.inbox_resolution != "posted":
                p.status = "SEND_TO_USER_INBOX"
                return
        p.status = "PUBLISH_COMPLETE"
        p.completed_at = max(ready_at, p.completed_at or 0.0)
        self._create_video_for(p)

    def _create_video_for(self, p: Publish) -> None:
        rng = random.Random(f"{self.seed}:{p.publish_id}")
        creator = self.creators[p.open_id]
        completed_at = p.completed_at or self.now()
        privacy = p.privacy_level if p.direct else creator.privacy_level_options[0]
        title = str(p.post_info.get("title") or "")
        video = SimVideo(
            id=self._video_id(rng),
            open_id=p.open_id,
            create_time=completed_at,
            title=title[:150],
            description=str(p.post_info.get("description") or title)[:150],
            duration=rng.randint(8, max(8, min(creator.max_video_post_duration_sec, 120))),
            privacy_level=privacy,
            popularity=rng.lognormvariate(math.log(creator.base_followers / 3 + 200), 0.6),
            like_rate=rng.uniform(0.04, 0.12),
            media_type="PHOTO" if p.kind == "photo" else "VIDEO",
            publish_id=p.publish_id,
            visible_from=completed_at + self.settings.moderation_delay,
            fan_comments=0
            if p.post_info.get("disable_comment")
            else creator.fan_comments_per_video,
        )
        self.videos[video.id] = video
        p.video_id = video.id

    def public_post_ids(self, p: Publish) -> list[str]:
        if p.status != "PUBLISH_COMPLETE" or p.video_id is None:
            return []
        video = self.videos[p.video_id]
        if video.privacy_level != PUBLIC or self.now() < video.visible_from:
            return []
        return [video.id]

    def downloaded_bytes(self, p: Publish) -> int:
        if p.source != "PULL_FROM_URL":
            return 0
        elapsed = self.now() - p.created_at
        fraction = min(1.0, elapsed / max(self.settings.download_seconds, 0.001))
        if p.status == "FAILED" and p.fail_reason in ("video_pull_failed", "photo_pull_failed"):
            fraction = min(fraction, 0.5)
        return int(p.download_size * fraction)

    def resolve_inbox(self, publish_id: str, action: str) -> Publish:
        self.tick()
        p = self.publishes[publish_id]
        if p.direct:
            raise ValueError("only inbox drafts can be resolved")
        if action not in ("post", "discard"):
            raise ValueError("action must be 'post' or 'discard'")
        p.inbox_resolution = "posted" if action == "post" else "discarded"
        if action == "post" and p.status == "SEND_TO_USER_INBOX":
            p.completed_at = self.now()
            p.status = "PUBLISH_COMPLETE"
            self._create_video_for(p)
        return p

    # ------------------------------------------------------------------ videos & comments

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
        return comment

    def visible_comment_count(self, video_id: str) -> int:
        count = 0
        for comment_id in self.video_comments.get(video_id, []):
            comment = self.comments[comment_id]
            if comment.deleted:
                continue
            count += 1 + sum(1 for r in comment.reply_ids if not self.comments[r].deleted)
        return count

    def snapshot(self) -> dict[str, Any]:
        return {
            "now": self.now(),
            "speed": self.clock.speed,
            "settings": self.settings.to_json(),
            "creators": [c.to_json() for c in self.creators.values()],
            "apps": [
                {
                    "client_key": a.client_key,
                    "redirect_uris": a.redirect_uris,
                    "audited": a.audited,
                    "approved_scopes": sorted(a.approved_scopes),
                    "verified_url_prefixes": list(a.verified_url_prefixes),
                }
                for a in self.apps.values()
            ],
            "faults": [f.to_json() for f in self.faults.active()],
            "publishes": {
                pid: {
                    "open_id": p.open_id,
                    "kind": p.kind,
                    "status": p.status,
                    "fail_reason": p.fail_reason,
                    "video_id": p.video_id,
                    "uploaded_bytes": p.uploaded_bytes,
                }
                for pid, p in self.publishes.items()
            },
        }


def log_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now if now is not None else time.time()))
    return stamp + secrets.token_hex(10).upper()

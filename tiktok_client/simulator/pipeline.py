"""The Content Posting status machine (fact sheet §2.7, §5.16) and the webhooks it sends."""

from __future__ import annotations

import math
import random
import secrets
from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.media_checks import video_fail_reason
from tiktok_client.simulator.models import PUBLIC, SELF_ONLY, Creator, Publish, SimVideo
from tiktok_client.simulator.rules import API_MAX_VIDEO_SECONDS
from tiktok_client.simulator.settings import SimSettings

DAY = 86400.0
MB = 1024 * 1024
# §2.8 spells this one "publicaly" in the Content Posting docs; the sheet's name is used.
PUBLIC_GONE_EVENT = "post.publish.no_longer_publicaly_available"


class PublishPipeline:
    """Mixin of ``SimState``: publishes, their progress and caps. Call with the lock held."""

    seed: int
    creators: dict[str, Creator]
    videos: dict[str, SimVideo]
    publishes: dict[str, Publish]
    uploads: dict[str, str]
    direct_posts: list[tuple[float, str, str]]
    _rng: random.Random
    settings: SimSettings

    if TYPE_CHECKING:

        def now(self) -> float: ...

        def next_sequence(self) -> int: ...

        def _video_id(self, rng: random.Random) -> str: ...

        def publish_event(self, p: Publish, event: str, content: dict[str, Any]) -> None: ...

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
        if publish.direct and publish.refused_reason is None:
            self.direct_posts.append((publish.created_at, publish.open_id, publish.client_key))
        self.publishes[publish_id] = publish
        return publish

    def _processing_seconds(self, size: int) -> float:
        return max(self.settings.min_processing_seconds, size / (512 * MB) * 30)

    def tick(self) -> None:
        now = self.now()
        for publish in self.publishes.values():
            before = publish.status
            self._advance(publish, now)
            if publish.status != before:
                self._announce_status(publish)
            if publish.status == "PUBLISH_COMPLETE" and self.public_post_ids(publish):
                self._announce(publish, "post.publish.publicly_available")

    def _announce_status(self, p: Publish) -> None:
        event = {
            "SEND_TO_USER_INBOX": "post.publish.inbox_delivered",
            "PUBLISH_COMPLETE": "post.publish.complete",
            "FAILED": "post.publish.failed",
        }.get(p.status)
        if event is not None:
            self._announce(p, event)

    def _announce(self, p: Publish, event: str) -> None:
        """Send each §2.8 publish event once per publish (the sender may still duplicate it)."""
        if event in p.announced:
            return
        p.announced.append(event)
        content: dict[str, Any] = {
            "publish_id": p.publish_id,
            "publish_type": "DIRECT_PUBLISH" if p.direct else "INBOX_SHARE",
        }
        if event == "post.publish.failed":
            content["reason"] = p.fail_reason
        if event in ("post.publish.publicly_available", PUBLIC_GONE_EVENT) and p.video_id:
            content["post_id"] = p.video_id
        self.publish_event(p, event, content)

    def fail_unfinished_publishes(self, *, creator_id: str, client_key: str) -> None:
        """§2.7 ``auth_removed``: a post still processing when the user's authorization of the
        app ends is not published. Drafts already in the inbox are the user's."""
        self.tick()
        for p in self.publishes.values():
            if (p.open_id, p.client_key) != (creator_id, client_key):
                continue
            if p.status in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
                p.status, p.fail_reason = "FAILED", "auth_removed"
                self._announce_status(p)

    def withdraw_public_post(self, video_id: str) -> Publish | None:
        """The post stopped being public (made private or removed in the app)."""
        video = self.videos[video_id]
        video.privacy_level = SELF_ONLY
        publish = self.publishes.get(video.publish_id or "")
        if publish is not None and "post.publish.publicly_available" in publish.announced:
            self._announce(publish, PUBLIC_GONE_EVENT)
        return publish

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
            # §2.6: TikTok downloads the media itself; nothing moves until the real pull ended
            # and the download phase is over, and a pull that failed fails the publish.
            if p.pull_done_at is None:
                return
            downloaded_at = max(p.created_at + self.settings.download_seconds, p.pull_done_at)
            if p.pull_fail_reason and not p.stuck and now >= downloaded_at:
                p.status, p.fail_reason = "FAILED", p.pull_fail_reason
                return
            ready_at = downloaded_at + self._processing_seconds(p.pulled_bytes)
        if p.stuck or now < ready_at:
            return
        if p.refused_reason or p.injected_fail_reason:
            p.status, p.fail_reason = "FAILED", p.refused_reason or p.injected_fail_reason
            return
        media_problem = self._media_problem(p)
        if media_problem:
            p.status, p.fail_reason = "FAILED", media_problem
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

    def _media_problem(self, p: Publish) -> str | None:
        """§2.7 checks on the video received (uploaded, or pulled: puller.py has already failed
        a pull that was not a video container) against §2.6's specs (media_checks.py); the
        duration against the API's 10 min and a direct post's against the creator's cap (§2.2)."""
        if p.kind == "photo":
            return None
        cap = API_MAX_VIDEO_SECONDS
        if p.direct:
            cap = min(self.creators[p.open_id].max_video_post_duration_sec, cap)
        return video_fail_reason(p.received_video, max_seconds=cap)

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

    def public_post_ids(self, p: Publish) -> list[int]:
        """``publicaly_available_post_id``: a list of int64 (Corrections), empty until the
        moderation delay has passed and for non-public posts (§2.7)."""
        if p.status != "PUBLISH_COMPLETE" or p.video_id is None:
            return []
        video = self.videos[p.video_id]
        if video.privacy_level != PUBLIC or self.now() < video.visible_from:
            return []
        return [int(video.id)]

    def downloaded_bytes(self, p: Publish) -> int:
        """What the real pull fetched so far (puller.py): nothing until it is over."""
        if p.source != "PULL_FROM_URL" or p.pull_done_at is None:
            return 0
        return p.pulled_bytes

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
            self._announce_status(p)
        return p

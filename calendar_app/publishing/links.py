"""After publishing: find the public video id TikTok gives once moderation is done."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction

from accounts.models import TikTokVideo
from calendar_app.models import Post, PostStatus
from calendar_app.publishing import first_comment
from calendar_app.publishing.client import fetch_publish_status
from calendar_app.publishing.state import now, pipeline_posts, post_event_add
from tiktok_client.errors import TikTokRateLimited
from tiktok_client.schemas import PublishStatus

logger = logging.getLogger("calendar_app.publishing")

PUBLIC_ID_WAIT = timedelta(minutes=15)
FIRST_LINK_LOOKUP = timedelta(seconds=5)


def link_video(post: Post, video_id: str) -> None:
    share_url = f"https://www.tiktok.com/@{post.account.username}/video/{video_id}"
    video, _ = TikTokVideo.objects.for_workspace(post.workspace_id).get_or_create(
        workspace_id=post.workspace_id,
        account=post.account,
        video_id=video_id,
        defaults={
            "caption": post.caption,
            "share_url": share_url,
            "posted_at": post.published_at or now(),
        },
    )
    pipeline_posts().filter(pk=post.pk).update(
        tiktok_post_id=video_id, tiktok_share_url=video.share_url or share_url, video=video
    )
    post.tiktok_post_id, post.tiktok_share_url, post.video = video_id, share_url, video
    post_event_add(
        post=post,
        kind="public",
        message="The post is live on TikTok.",
        video_id=video_id,
        share_url=video.share_url or share_url,
    )
    first_comment.first_comment_queue(post)


def post_resolve_public_id(*, post_id: Any) -> float | None:
    """Look for the public post id of a published post and record when to ask again.

    Returns the seconds until the next lookup, or None when there is nothing more to ask.
    """
    wait = _public_id_lookup(post_id)
    next_at = now() + timedelta(seconds=wait) if wait is not None else None
    pipeline_posts().filter(pk=post_id, status=PostStatus.PUBLISHED).update(next_attempt_at=next_at)
    return wait


def _public_id_lookup(post_id: Any) -> float | None:
    post = (
        pipeline_posts()
        .select_related("workspace", "account")
        .filter(pk=post_id, status=PostStatus.PUBLISHED, tiktok_post_id="")
        .exclude(publish_id="")
        .first()
    )
    if post is None or post.published_at is None:
        return None
    status: PublishStatus | None
    try:
        status = fetch_publish_status(post)
    except TikTokRateLimited as exc:
        return exc.retry_after
    except Exception:  # any failure here only delays the link, never loses the post
        logger.warning("post %s: public id lookup failed", post_id, exc_info=True)
        status = None
    if status and status.publicly_available_post_ids:
        with transaction.atomic():
            link_video(post, status.publicly_available_post_ids[0])
        return None
    if now() - post.published_at > PUBLIC_ID_WAIT:
        post_event_add(
            post=post,
            kind="public_pending",
            message=(
                "TikTok has not given a public link yet (private posts never get one). "
                "The video will appear under the account's videos after the next sync."
            ),
        )
        first_comment.first_comment_skip_not_public(post)
        return None
    # Moderation usually takes under a minute, sometimes hours: ask less and less often.
    age = (now() - post.published_at).total_seconds()
    return min(120.0, max(5.0, age / 4))

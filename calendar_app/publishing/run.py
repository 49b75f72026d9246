"""One run of the pipeline for one post: check, commit the intent, init, upload, poll, settle.

Every write goes through `state.guarded_update`, so a run whose claim was taken over stops
at its next step (LostClaim). Init is called at most once per post unless TikTok refused it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as db_connection
from django.db import connections as db_connections

from accounts.tiktok import AccountNeedsReconnect
from calendar_app.models import MediaKind, Post, PostMode, PostStatus, PrivacyLevel, PublishApi
from calendar_app.publishing import first_comment, pull
from calendar_app.publishing.client import account_call, fetch_publish_status, tiktok
from calendar_app.publishing.links import FIRST_LINK_LOOKUP, link_video
from calendar_app.publishing.state import (
    ACTIVE_STATUSES,
    CHECKING,
    LostClaim,
    PublishResult,
    backoff_seconds,
    claim_for_run,
    finish_failed,
    finish_unconfirmed,
    guarded_update,
    guarded_write,
    line,
    model_field,
    now,
    pipeline_posts,
    reschedule,
    select_one,
    starts_afresh,
)
from calendar_app.video_location import location_offsets, without_location
from tiktok_client.chunks import plan_chunks
from tiktok_client.errors import (
    TikTokError,
    TikTokRateLimited,
    TikTokRequestNotSent,
    TikTokResponseUnreadable,
    TikTokUnavailable,
    TikTokUploadError,
)
from tiktok_client.schemas import ChunkPlan, PostInfo, PublishInit, PublishStatus

logger = logging.getLogger("calendar_app.publishing")

POLL_GIVE_UP_AFTER = timedelta(hours=2)
MAX_UPLOAD_RESYNCS = 3

# TikTok's status-fetch fail_reason values in plain words, with what to do next.
FAIL_REASONS: dict[str, str] = {
    "file_format_check_failed": "TikTok could not read the video format. Export it as MP4 "
    "(H.264) and post again.",
    "duration_check_failed": "The video is longer than this account may post. Trim it and "
    "post again.",
    "frame_rate_check_failed": "TikTok needs 23 to 60 frames per second. Re-export the video "
    "and post again.",
    "picture_size_check_failed": "TikTok refused the picture size: videos need 360 to 4096 "
    "pixels per side, photos at most 1080x1920. Re-export and post again.",
    "internal": "TikTok had an internal problem processing the video. Retry the post.",
    "video_pull_failed": "TikTok could not download the video from this site's public link. "
    "Check that MEDIA_PUBLIC_BASE_URL reaches this site and is verified with TikTok, then retry.",
    "photo_pull_failed": "TikTok could not download the photos from this site's public links. "
    "Check that MEDIA_PUBLIC_BASE_URL reaches this site and is verified with TikTok, then retry.",
    "publish_cancelled": "The publication was cancelled on TikTok's side. Retry the post.",
    "auth_removed": "The account removed this app's access on TikTok. Reconnect the account, "
    "then retry.",
    "spam_risk_too_many_posts": "TikTok's daily post limit for this account was reached. "
    "Retry tomorrow.",
    "spam_risk_user_banned_from_posting": "TikTok has blocked this account from posting for "
    "now. Check the TikTok app.",
    "spam_risk_text": "TikTok flagged the caption as spam. Edit the caption and retry.",
    "spam_risk": "TikTok flagged this post as spam risk. Edit it and retry later.",
}
INBOX_INSTRUCTIONS = (
    "The video is waiting in the creator's TikTok inbox. Open the TikTok app, tap the "
    "notification, then add the caption, choose who can watch and post it."
)


def post_publish(*, post_id: Any, claim_token: Any) -> PublishResult | None:
    """One run of the pipeline for one post. Safe to run twice with the same claim."""
    token = uuid.UUID(str(claim_token))
    post = take_ownership(post_id, token)
    if post is None:
        return None
    with ClaimRenewer(post.pk, token):
        try:
            result = _run(post, token)
            if result.poll_again_in is not None:
                _park_for_poll(post, token, result.poll_again_in, **result.pending)
            return result
        except LostClaim:
            logger.info("post %s: claim taken over, stopping", post_id)
            return None


class ClaimRenewer:
    """Renews this run's claim lease (the post's heartbeat) every third of the lease while
    the run lives, including during one long upload or TikTok call; a killed worker stops
    renewing and the sweeper re-offers the post once the lease expires.

    A thread with its own database connection; it only ever touches a row that still
    carries this run's claim. A dropped connection costs one renewal, not the lease: the
    next one runs on a fresh connection."""

    def __init__(self, post_id: Any, token: uuid.UUID) -> None:
        self.post_id = post_id
        self.token = token
        self.interval = float(settings.PUBLISHING_CLAIM_LEASE_SECONDS) / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, name=f"claim-renewer-{post_id}", daemon=True
        )

    def __enter__(self) -> ClaimRenewer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _renew(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    renewed = (
                        pipeline_posts()
                        .filter(pk=self.post_id, claim_token=self.token, status__in=ACTIVE_STATUSES)
                        .update(heartbeat_at=now())
                    )
                except (OperationalError, InterfaceError) as exc:
                    logger.warning("post %s: claim not renewed (%s)", self.post_id, exc)
                    db_connection.close()
                    continue
                if not renewed:
                    return
        except Exception:  # a renewal that fails only shortens the lease
            logger.exception("post %s: could not renew the claim", self.post_id)
        finally:
            db_connections.close_all()


def take_ownership(post_id: Any, token: uuid.UUID) -> Post | None:
    if db_connection.vendor == "postgresql":
        return claim_for_run(post_id, token)  # the read and the update below in one statement
    # Read first: the guarded update then names the row's workspace, so the data version
    # needs no lookup of whose row it is (later/data_version.py).
    post = _owned_post(post_id, token)
    if post is None:
        return None
    try:
        if starts_afresh(post):  # as claim_for_run: the checks come next
            guarded_write(post, token, [CHECKING], status=PostStatus.PUBLISHING)
        elif post.status == PostStatus.PUBLISHING:
            guarded_update(post, token)  # a resumed poll: only the lease, which no page shows
        else:
            guarded_update(post, token, status=PostStatus.PUBLISHING)
    except LostClaim:
        return None
    return post


def _owned_post(post_id: Any, token: uuid.UUID) -> Post | None:
    """The post this claim names, with its account (every run needs its tokens), or None.

    One read whose SQL is built once per process (`state.select_one`): compiling the ORM's
    select of the wide post row with its account cost more CPU than a resumed poll's own
    work (bench/publish_throughput.py). The media (first run only) and the workspace (a
    notification) load when used."""
    statuses = ", ".join("%s" for _ in ACTIVE_STATUSES)
    return select_one(
        Post,
        f"{{id}} = %s AND {{claim_token}} = %s AND {{status}} IN ({statuses})",
        [
            model_field(Post, "id").get_db_prep_value(post_id, db_connection),
            model_field(Post, "claim_token").get_db_prep_value(token, db_connection),
            *ACTIVE_STATUSES,
        ],
        join="account",
    )


def _park_for_poll(post: Post, token: uuid.UUID, wait: float, **fields: Any) -> None:
    """Free this worker slot until the next status poll is due: release the claim and let
    the database hold when; the dispatcher resumes the post at its first tick after that.
    Never a delayed broker message: Redis' visibility timeout would deliver it twice, and a
    Redis restarted empty would lose it."""
    due = now() + timedelta(seconds=wait)
    guarded_update(post, token, claim_token=None, next_attempt_at=due, **fields)


def _run(post: Post, token: uuid.UUID) -> PublishResult:
    try:
        if starts_afresh(post):
            result = start(post, token)  # its "checking" line came with the claim
            if result is not None:
                return result
        elif not post.publish_id:
            # A previous run committed init_started_at and never stored a publish_id.
            return finish_unconfirmed(post, token)
        if post.chunks_uploaded < post.chunks_total:
            result = _upload(post, token)
            if result is not None:
                return result
        return _poll(post, token)
    except AccountNeedsReconnect as exc:
        if post.publish_id or post.init_started_at:
            # TikTok may already be processing it; we just cannot look any more.
            return finish_unconfirmed(
                post,
                token,
                message=(
                    f"{exc.message} TikTok had already received this post, so we could "
                    "not confirm whether it was published. Check on TikTok and tell us."
                ),
            )
        return finish_failed(post=post, token=token, code=exc.code, message=exc.message)


# ------------------------------------------------------------------ check, intent, init


def start(post: Post, token: uuid.UUID) -> PublishResult | None:
    """Check the post and account, commit the intent, then call init once.

    Returns the run's outcome when it ends here, None once TikTok holds the post.
    """
    # Outside any transaction: a photo's missing rendition is stored before the checks read it.
    pull.photos_prepare(post)
    refusal = _media_refusal(post)
    if refusal is not None:
        code, message = refusal
        return finish_failed(post=post, token=token, code=code, message=message)
    try:
        problem = _check_account(post)
    except (TikTokError, AccountNeedsReconnect) as exc:
        return _outcome_of_tiktok_error(post, token, exc, init_sent=False)
    if problem:
        code, message = problem
        return finish_failed(post=post, token=token, code=code, message=message)
    plan = _commit_intent(post, token)
    try:
        init = _init(post, plan)
    except (TikTokError, AccountNeedsReconnect) as exc:
        return _outcome_of_tiktok_error(post, token, exc, init_sent=True)
    if not init.publish_id:
        # TikTok said "ok" without a publish_id: it may have the post and we hold no handle.
        return finish_unconfirmed(post, token)
    _store_publish_id(post, token, init)
    return None


def _media_refusal(post: Post) -> tuple[str, str] | None:
    if post.media is None or not post.media.file:
        return (
            "no_media",
            "This post has no video attached. Edit the post, add a video and retry.",
        )
    if pull.uses_pull(post):
        # TikTok downloads photos (and pulled videos) from our public links (§2.6).
        return pull.pull_refusal(post)
    if post.media.kind != MediaKind.VIDEO:
        return ("no_media", "This post has no video attached. Edit the post and retry.")
    return None


def _check_account(post: Post) -> tuple[str, str] | None:
    """What TikTok would refuse in this post for its account today, as (code, sentence)."""
    from accounts.tiktok import tiktok_account_access_token
    from calendar_app.preflight import (
        business_only_refusals,
        post_content_refusal,
        post_creator_refusal,
    )

    # The composer's rules again: the row may have been changed behind its back.
    refused = post_content_refusal(post) or next(
        iter(
            business_only_refusals(
                account=post.account,
                post_mode=post.post_mode,
                media=post.media,
                privacy_level=post.privacy_level,
            )
        ),
        None,
    )
    if refused is not None:
        return refused.code, f"{refused.sentence} Edit the post and retry."
    if pull.publish_api_for(post) == PublishApi.BUSINESS:
        # The Business app publishes with its own token; creator_info is Content Posting's.
        return None
    # Refresh first (exactly once across workers) so init itself never races expiry.
    tiktok_account_access_token(account=post.account)
    if post.post_mode != PostMode.DIRECT:
        return None
    client = tiktok()
    info = account_call(post.account, lambda t: client.query_creator_info(access_token=t))
    refusal = post_creator_refusal(post, info)
    if refusal is None:
        return None
    # The creator changed a setting in TikTok since the post was planned.
    return "creator_settings_changed", f"{refusal.sentence} Edit the post and retry."


def _commit_intent(post: Post, token: uuid.UUID) -> ChunkPlan | None:
    """Commit init_started_at before calling init: from here on init is never called again
    for this post unless TikTok explicitly refuses it. No chunk plan when TikTok pulls."""
    assert post.media is not None
    publish_api = pull.publish_api_for(post)
    plan = None if pull.uses_pull(post) else chunk_plan_for(post.media.size_bytes)
    size = plan.video_size if plan else pull.total_bytes(post)
    chunks = plan.total_chunk_count if plan else 0
    at = now()
    updated = (
        pipeline_posts()
        .filter(
            pk=post.pk,
            workspace_id=post.workspace_id,
            claim_token=token,
            status=PostStatus.PUBLISHING,
            init_started_at__isnull=True,
        )
        .update(
            init_started_at=at,
            heartbeat_at=at,
            bytes_total=size,
            chunks_total=chunks,
            bytes_uploaded=0,
            chunks_uploaded=0,
            publish_api=publish_api,
            updated_at=at,
        )
    )
    if not updated:
        raise LostClaim(str(post.pk))
    post.init_started_at = at
    post.bytes_total, post.chunks_total, post.publish_api = size, chunks, publish_api
    post.bytes_uploaded = post.chunks_uploaded = 0
    return plan


def _init(post: Post, plan: ChunkPlan | None) -> PublishInit:
    if plan is None:
        return pull.init_by_pull(post, publish_api=post.publish_api, video_info=_post_info(post))
    client = tiktok()
    if post.post_mode == PostMode.INBOX:
        return account_call(
            post.account,
            lambda t: client.init_inbox_video(access_token=t, chunk_plan=plan),
        )
    return account_call(
        post.account,
        lambda t: client.init_video_post(
            access_token=t, post_info=_post_info(post), chunk_plan=plan
        ),
    )


STORE_PUBLISH_ID_ATTEMPTS = 5


def _store_publish_id(post: Post, token: uuid.UUID, init: PublishInit) -> None:
    """Store publish_id before anything else: it is the only handle on the TikTok post.

    A dropped database connection must not lose it: retry a bounded number of times, each
    on a fresh connection. A claim taken over meanwhile still gets the publish_id written
    (only into a row that has none and carries this run's intent), then the run stops.
    """
    for attempt in range(1, STORE_PUBLISH_ID_ATTEMPTS + 1):
        try:
            _write_publish_id(post, token, init)
            return
        except LostClaim:
            _save_orphan_publish_id(post, init)
            raise
        except (OperationalError, InterfaceError) as exc:
            if attempt == STORE_PUBLISH_ID_ATTEMPTS:
                logger.error(
                    "post %s: could not store publish_id %s: %s", post.pk, init.publish_id, exc
                )
                raise
            logger.warning(
                "post %s: storing publish_id failed (%s); retrying on a fresh connection",
                post.pk,
                exc,
            )
            db_connection.close()
            time.sleep(min(0.2 * 2**attempt, 3.0))


def _write_publish_id(post: Post, token: uuid.UUID, init: PublishInit) -> None:
    pulled = post.chunks_total == 0
    what = "the photos" if pull.is_photo_post(post) else "the video"
    via = " (TikTok API for Business)" if post.publish_api == PublishApi.BUSINESS else ""
    initiated = line(
        "initiated",
        f"TikTok accepted the post{via}; TikTok is downloading {what} from this site."
        if pulled
        else "TikTok accepted the post; uploading the video.",
        publish_id=init.publish_id,
    )
    guarded_write(
        post,
        token,
        [initiated, PROCESSING] if pulled else [initiated],
        publish_id=init.publish_id,
        upload_url=init.upload_url or "",
        tiktok_status="PROCESSING_DOWNLOAD" if pulled else "PROCESSING_UPLOAD",
    )


# The timeline's "processing" line, written once: with the publish_id when TikTok pulls the
# media, with the last chunk when we upload it.
PROCESSING = line("processing", "TikTok is processing the video.")


def _save_orphan_publish_id(post: Post, init: PublishInit) -> None:
    saved = (
        pipeline_posts()
        .filter(
            pk=post.pk,
            workspace_id=post.workspace_id,
            publish_id="",
            init_started_at=post.init_started_at,
        )
        .update(publish_id=init.publish_id, updated_at=now())
    )
    if saved:
        logger.warning(
            "post %s: claim lost after init; kept publish_id %s", post.pk, init.publish_id
        )


def _outcome_of_tiktok_error(
    post: Post,
    token: uuid.UUID,
    exc: TikTokError | AccountNeedsReconnect,
    *,
    init_sent: bool,
) -> PublishResult:
    """The one mapping from a TikTok error before or at init to what happens to the post.

    `init_sent`: init_started_at is committed and the init request may have left.
    """
    if isinstance(exc, AccountNeedsReconnect):
        # Refused (401 even after a refresh): TikTok created nothing.
        return finish_failed(post=post, token=token, code=exc.code, message=exc.message)
    if isinstance(exc, TikTokRateLimited):
        return reschedule(
            post=post,
            token=token,
            delay=exc.retry_after + random.uniform(0, 2),
            reason="TikTok asked us to slow down.",
            code=exc.code,
        )
    if isinstance(exc, TikTokUnavailable):
        if init_sent and _init_may_have_acted(exc):
            # The init request reached TikTok (or may have) and we could not read what it
            # did: TikTok may have the post, so init is never called again for it.
            return finish_unconfirmed(post, token)
        # TikTok answered with an error (or the request never left): nothing was accepted.
        return reschedule(
            post=post,
            token=token,
            delay=backoff_seconds(post.attempts + 1),
            reason="TikTok was unavailable." if init_sent else "TikTok did not respond.",
            code=exc.code,
        )
    return finish_failed(post=post, token=token, code=exc.code, message=_tiktok_sentence(exc))


def _init_may_have_acted(exc: TikTokUnavailable) -> bool:
    """Whether TikTok may have acted on an init request that ended in `exc`.

    Any answer received after the request was sent counts (an unreadable 200 OK above all);
    only an error TikTok itself stated in a readable answer, or a request that never left
    this host, proves that nothing was created.
    """
    if isinstance(exc, TikTokResponseUnreadable):
        return True
    if _request_never_sent(exc):
        return False
    return exc.http_status is None


def _request_never_sent(exc: TikTokUnavailable) -> bool:
    """True when nothing of the request left this host: the rate budget could not be asked,
    or the connection failed before any byte was written."""
    if isinstance(exc, TikTokRequestNotSent):
        return True
    if isinstance(exc, TikTokResponseUnreadable):
        return False
    cause = exc.__cause__
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _tiktok_sentence(exc: TikTokError) -> str:
    return (
        f"{exc.user_message} (TikTok said: {exc.code}{': ' + exc.message if exc.message else ''})"
    )


def chunk_plan_for(video_size: int) -> ChunkPlan:
    """One chunk whenever the file allows (up to 64,000,000 bytes): TikTok has refused
    multi-chunk plans since about 2026-08 (fact sheet, Corrections)."""
    return plan_chunks(video_size)


def _post_info(post: Post) -> PostInfo:
    return PostInfo(
        title=post.caption,
        privacy_level=post.privacy_level or "SELF_ONLY",
        disable_comment=not post.allow_comment,
        disable_duet=not post.allow_duet,
        disable_stitch=not post.allow_stitch,
        video_cover_timestamp_ms=post.cover_timestamp_ms,
        brand_content_toggle=post.commercial_content and post.brand_content,
        brand_organic_toggle=post.commercial_content and post.brand_organic,
        is_aigc=post.is_aigc,
    )


# ------------------------------------------------------------------ upload


def _read_range(post: Post, start: int, end_inclusive: int) -> bytes:
    """The chunk's bytes as TikTok gets them: without the place the video was filmed."""
    assert post.media is not None and post.media.file.name
    with post.media.file.storage.open(post.media.file.name, "rb") as fh:
        offsets = location_offsets(fh)
        fh.seek(start)
        data: bytes = fh.read(end_inclusive - start + 1)
    return without_location(data, start, offsets)


def _upload(post: Post, token: uuid.UUID) -> PublishResult | None:
    if not post.upload_url:
        # Only an init whose answer was lost, adopted later from TikTok's webhook, has no
        # upload address: TikTok waits for bytes nobody can send, so it never publishes.
        return _upload_lost(post, token)
    client = tiktok()
    plan = chunk_plan_for(post.bytes_total)
    ranges = list(plan.ranges())
    resyncs = 0
    # After an interrupted run a chunk may have landed unrecorded; TikTok then answers 416
    # and the resync below moves on from TikTok's own byte counter.
    index = post.chunks_uploaded
    while index < len(ranges):
        start, end = ranges[index]
        try:
            client.upload_chunk(
                upload_url=post.upload_url,
                data=_read_range(post, start, end),
                start=start,
                end_inclusive=end,
                total=plan.video_size,
                content_type=(post.media.content_type if post.media else "") or "video/mp4",
            )
        except (TikTokUnavailable, TikTokUploadError, TikTokRateLimited) as exc:
            if isinstance(exc, TikTokUploadError) and exc.code == "upload_url_expired":
                return _upload_lost(post, token)
            resyncs += 1
            if resyncs > MAX_UPLOAD_RESYNCS:
                return _upload_lost(post, token)
            if isinstance(exc, TikTokRateLimited):
                time.sleep(min(exc.retry_after, 5.0))
            try:
                resumed = _resync_upload(post, token, plan)
            except _StatusUnknown:
                # Maybe the last chunk landed and TikTok is publishing: never call it failed.
                guarded_update(post, token)
                return PublishResult(status=PostStatus.PUBLISHING, poll_again_in=backoff_seconds(2))
            if resumed is None:
                return _upload_lost(post, token)
            index = resumed
            continue
        index += 1
        uploading = line(
            "uploading",
            f"Uploading {index}/{len(ranges)}",
            chunks_uploaded=index,
            chunks_total=len(ranges),
            bytes_uploaded=end + 1,
        )
        guarded_write(
            post,
            token,
            [uploading, PROCESSING] if index == len(ranges) else [uploading],
            chunks_uploaded=index,
            bytes_uploaded=end + 1,
        )
    return None


class _StatusUnknown(Exception):
    """TikTok's status could not be read right now; try this step again later."""


def _resync_upload(post: Post, token: uuid.UUID, plan: ChunkPlan) -> int | None:
    """The chunk index to continue from according to TikTok, or None when resume is unsafe."""
    for attempt in range(3):
        try:
            status = fetch_publish_status(post)
            break
        except TikTokRateLimited as exc:
            if exc.retry_after > 5 or attempt == 2:
                raise _StatusUnknown from exc
            time.sleep(exc.retry_after)
        except TikTokUnavailable as exc:
            if attempt == 2:
                raise _StatusUnknown from exc
            time.sleep(0.5 * 2**attempt)
    if status.status != "PROCESSING_UPLOAD" or status.uploaded_bytes >= plan.video_size:
        guarded_write(
            post,
            token,
            [PROCESSING],
            chunks_uploaded=plan.total_chunk_count,
            bytes_uploaded=plan.video_size,
        )
        return plan.total_chunk_count
    if status.uploaded_bytes % plan.chunk_size:
        return None
    index = status.uploaded_bytes // plan.chunk_size
    guarded_update(post, token, chunks_uploaded=index, bytes_uploaded=status.uploaded_bytes)
    return index


def _upload_lost(post: Post, token: uuid.UUID) -> PublishResult:
    # TikTok only publishes a video whose upload completed; an abandoned upload never posts.
    return finish_failed(
        post=post,
        token=token,
        code="upload_incomplete",
        message=(
            "The video upload to TikTok was interrupted and could not be resumed, so TikTok "
            "did not publish it. Retry to upload it again."
        ),
    )


# ------------------------------------------------------------------ poll and settle


def _poll(post: Post, token: uuid.UUID) -> PublishResult:
    ceiling = float(settings.PUBLISHING_POLL_MAX_INTERVAL)
    # Back off across runs too: TikTok allows 30 status fetches a minute per account.
    age = (now() - post.init_started_at).total_seconds() if post.init_started_at else 0.0
    interval = min(ceiling, max(float(settings.PUBLISHING_POLL_FIRST_INTERVAL), age / 4))
    deadline = time.monotonic() + float(settings.PUBLISHING_POLL_IN_TASK_SECONDS)
    while True:
        wait = interval
        changes: dict[str, Any] = {}
        try:
            status = fetch_publish_status(post)
        except TikTokRateLimited as exc:
            wait = max(exc.retry_after, interval)
        except TikTokUnavailable:
            pass
        except TikTokError as exc:
            logger.warning("post %s: status fetch refused: %s", post.pk, exc)
        else:
            if status.is_terminal:
                return _settle(post, token, status)
            if status.status != post.tiktok_status:
                changes["tiktok_status"] = status.status[:32]
        if post.init_started_at and now() - post.init_started_at > POLL_GIVE_UP_AFTER:
            return finish_unconfirmed(
                post,
                token,
                message=(
                    "TikTok has been processing this post for over two hours without a "
                    "result. Check the account on TikTok and tell us whether it was published."
                ),
            )
        if time.monotonic() + wait > deadline:
            # Parking writes the changes and the heartbeat in one statement.
            return PublishResult(status=PostStatus.PUBLISHING, poll_again_in=wait, pending=changes)
        guarded_update(post, token, **changes)  # and the heartbeat
        time.sleep(wait)
        interval = min(interval * 2, ceiling)


def _settle(post: Post, token: uuid.UUID, status: PublishStatus) -> PublishResult:
    if status.status == "FAILED":
        reason = status.fail_reason or "unknown"
        words = FAIL_REASONS.get(reason, "TikTok could not publish the video. Retry the post.")
        with transaction.atomic():
            guarded_update(post, token, tiktok_status="FAILED")
        # TikTok reported FAILED for this publish_id: it will never go live, so retry is safe.
        return finish_failed(
            post=post, token=token, code=reason, message=f"{words} (TikTok said: {reason})"
        )
    at = now()
    done = {
        "tiktok_status": status.status,
        "claim_token": None,
        "published_at": at,
        "upload_url": "",  # it carries TikTok's upload token; nothing needs it any more
    }
    # In a transaction: the activity log's entry (a receiver of the line) commits with it.
    if status.status == "SEND_TO_USER_INBOX":
        with transaction.atomic():
            sent = line("sent_to_inbox", INBOX_INSTRUCTIONS)
            guarded_write(post, token, [sent], status=PostStatus.SENT_TO_INBOX, **done)
        return PublishResult(status=PostStatus.SENT_TO_INBOX)
    post_id_on_tiktok = (
        status.publicly_available_post_ids[0] if status.publicly_available_post_ids else ""
    )
    lines = [line("published", "Published on TikTok.")]
    # TikTok only gives public ids to public posts: looking one up would be wasted.
    no_public_link = not post_id_on_tiktok and (
        post.privacy_level != PrivacyLevel.PUBLIC_TO_EVERYONE
        and post.publish_api != PublishApi.BUSINESS
    )
    if no_public_link:
        lines.append(
            line(
                "no_public_link",
                f"Visible to “{post.get_privacy_level_display() or 'Only me'}”, so TikTok "
                "gives no public link. The video appears under the account's videos after "
                "the next sync.",
            )
        )
    elif not post_id_on_tiktok:
        done["next_attempt_at"] = at + FIRST_LINK_LOOKUP
    with transaction.atomic():
        guarded_write(post, token, lines, status=PostStatus.PUBLISHED, **done)
        if post_id_on_tiktok:
            link_video(post, post_id_on_tiktok)
        elif no_public_link:
            first_comment.first_comment_skip_not_public(post)
    return PublishResult(status=PostStatus.PUBLISHED)

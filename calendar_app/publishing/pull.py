"""Posts TikTok downloads itself (PULL_FROM_URL): photo posts always, videos when
`TIKTOK_VIDEO_SOURCE` says so, and every post that goes through the TikTok API for Business.

TikTok fetches each file from a signed, expiring link under `MEDIA_PUBLIC_BASE_URL`, which must
be an https prefix or domain verified with TikTok (fact sheet §2.5, §2.6, §4.4). There is no
upload step: init, then the status goes PROCESSING_DOWNLOAD → PUBLISH_COMPLETE | FAILED.
"""

from __future__ import annotations

from django.conf import settings

from accounts.tiktok.url_properties import url_property
from calendar_app.models import MediaAsset, MediaKind, Post, PostMode, PrivacyLevel, PublishApi
from calendar_app.public_media import public_media_url
from calendar_app.publishing.client import account_call, business_call, tiktok
from calendar_app.renditions import (
    media_rendition_ensure,
    photo_not_ready_refusal,
    served_size,
    tiktok_ready,
)
from tiktok_client.schemas import PhotoPostInfo, PostInfo, PublishInit

MAX_PHOTOS = 35


def is_photo_post(post: Post) -> bool:
    return post.media is not None and post.media.kind == MediaKind.IMAGE


def photo_assets(post: Post) -> list[MediaAsset]:
    """The images in TikTok's order; a post saved with one image only has its `media`."""
    photos = [photo.media for photo in post.photos.select_related("media").order_by("position")]
    if not photos and post.media is not None:
        photos = [post.media]
    return photos


def publish_api_for(post: Post) -> str:
    """Business publishing when the account granted the Business app `video.publish` and the
    post keeps what the user chose: Business video posts take no privacy level (§4.4), so a
    video goes that way only when it is public; inbox drafts stay on Content Posting."""
    account = post.account
    if post.post_mode != PostMode.DIRECT or not account.has_business_scope("video.publish"):
        return PublishApi.CONTENT_POSTING
    if is_photo_post(post):
        return PublishApi.BUSINESS
    # Business video publishing pulls the file from our public URL. Without a usable one (no
    # https base to verify with TikTok) the upload path of Content Posting still works for every
    # account type, so a video never fails for want of a setting it does not need.
    if post.privacy_level == PrivacyLevel.PUBLIC_TO_EVERYONE and not url_property().problem:
        return PublishApi.BUSINESS
    return PublishApi.CONTENT_POSTING


def uses_pull(post: Post) -> bool:
    return (
        is_photo_post(post)
        or publish_api_for(post) == PublishApi.BUSINESS
        or settings.TIKTOK_VIDEO_SOURCE == "PULL_FROM_URL"
    )


def pull_refusal(post: Post) -> tuple[str, str] | None:
    """What makes a pull impossible before TikTok is asked, as (code, sentence). Reads only:
    `photos_prepare` runs first."""
    problem = url_property().problem
    if problem:
        return ("public_media_not_https", problem)
    if not is_photo_post(post):
        return None
    photos = photo_assets(post)
    if not 1 <= len(photos) <= MAX_PHOTOS:
        return (
            "photo_count",
            f"A photo post holds 1 to {MAX_PHOTOS} images; this one has {len(photos)}. "
            "Edit the post and retry.",
        )
    if any(p.kind != MediaKind.IMAGE or not p.file for p in photos):
        return (
            "photo_mixed_media",
            "A photo post holds images only. Edit the post and retry.",
        )
    if post.photo_cover_index >= len(photos):
        return ("photo_cover_index", "The cover image is not one of the post's images.")
    for number, photo in enumerate(photos, start=1):
        # §2.5: TikTok fails a photo over 1080p after the pull; it gets the rendition instead,
        # as does a photo whose EXIF carries a location (see photos_prepare).
        if not tiktok_ready(photo):
            code, sentence = photo_not_ready_refusal(number, photo)
            return (code, f"{sentence} Then retry.")
    return None


def photos_prepare(post: Post) -> None:
    """Make the missing renditions of a photo post's images before `pull_refusal` checks them
    and TikTok is handed their links. Writes storage: call it outside any transaction."""
    if not is_photo_post(post):
        return
    for photo in photo_assets(post):
        if photo.kind == MediaKind.IMAGE and photo.file:
            media_rendition_ensure(media=photo)


def total_bytes(post: Post) -> int:
    assets = photo_assets(post) if is_photo_post(post) else [post.media] if post.media else []
    return sum(served_size(a) for a in assets)


def _photo_post_info(post: Post) -> PhotoPostInfo:
    return PhotoPostInfo(
        title=post.title,
        description=post.caption,
        privacy_level=post.privacy_level or PrivacyLevel.SELF_ONLY,
        disable_comment=not post.allow_comment,
        auto_add_music=post.auto_add_music,
        brand_content_toggle=post.commercial_content and post.brand_content,
        brand_organic_toggle=post.commercial_content and post.brand_organic,
    )


def init_by_pull(post: Post, *, publish_api: str, video_info: PostInfo) -> PublishInit:
    """Init once, by the API the post goes through; the links are signed just now."""
    client = tiktok()
    if publish_api == PublishApi.BUSINESS:
        return _init_business(post, video_info)
    if is_photo_post(post):
        urls = [public_media_url(asset) for asset in photo_assets(post)]
        return account_call(
            post.account,
            lambda t: client.init_photo_post(
                access_token=t,
                post_info=_photo_post_info(post),
                photo_urls=urls,
                cover_index=post.photo_cover_index,
                direct=post.post_mode == PostMode.DIRECT,
            ),
        )
    assert post.media is not None
    url = public_media_url(post.media)
    if post.post_mode == PostMode.INBOX:
        return account_call(
            post.account, lambda t: client.init_inbox_video(access_token=t, video_url=url)
        )
    return account_call(
        post.account,
        lambda t: client.init_video_post(access_token=t, post_info=video_info, video_url=url),
    )


def _init_business(post: Post, video_info: PostInfo) -> PublishInit:
    client = tiktok()
    business_id = post.account.business_id
    if is_photo_post(post):
        urls = [public_media_url(asset) for asset in photo_assets(post)]
        info = _photo_post_info(post)
        share_id = business_call(
            post.account,
            lambda t: client.business_publish_photo(
                access_token=t,
                business_id=business_id,
                photo_urls=urls,
                cover_index=post.photo_cover_index,
                title=info.title,
                caption=info.description,
                privacy_level=info.privacy_level,
                disable_comment=info.disable_comment,
                auto_add_music=info.auto_add_music,
            ),
        )
    else:
        assert post.media is not None
        url = public_media_url(post.media)
        share_id = business_call(
            post.account,
            lambda t: client.business_publish_video(
                access_token=t,
                business_id=business_id,
                video_url=url,
                caption=video_info.title,
                disable_comment=video_info.disable_comment,
                disable_duet=video_info.disable_duet,
                disable_stitch=video_info.disable_stitch,
                is_brand_organic=video_info.brand_organic_toggle,
                is_branded_content=video_info.brand_content_toggle,
                is_ai_generated=video_info.is_aigc,
            ),
        )
    return PublishInit(publish_id=share_id, upload_url=None)

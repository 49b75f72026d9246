"""TikTok's rules as the simulator reads them from the fact sheet, ``docs/tiktok-api.md``.

This module is the simulator's own reading of the fact sheet: it must not import the product
(``tiktok_client.chunks``, ``tiktok_client.config``, ...), otherwise a wrong rule in the client
would pass every contract test. Section references are to the fact sheet; "Corrections" is its
"Corrections (2026-11-29)" section, which names the numbered section carrying each correction.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

AppKind = Literal["login_kit", "business"]

# §1.1 "Redirect-URI rules for web" (S-D6): at most 10 URIs per app, each absolute https, under
# 512 characters, static (no query string), no fragment. Corrections "One button for both
# apps": an API for Business app's redirect URL also ends with "/" and carries no port.
MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_CHARS = 511
# Local-development allowance (the simulator's, not TikTok's): the quick start and the tests
# serve the product on http://localhost:8000 or a loopback test port, so on these hosts only
# http and a port are accepted. Path, trailing "/", query string and fragment are checked as
# TikTok checks them, and the exact match at authorize and token exchange stays.
LOCAL_DEVELOPMENT_HOSTS = frozenset({"localhost", "127.0.0.1"})

# §2.5: photos are JPEG or WebP, at most 1080p (1080 x 1920 either way round) and 20 MB each;
# §2.6: videos at most 4 GB.
PHOTO_MAX_BYTES = 20 * 1024 * 1024
PHOTO_MAX_SIDES = (1080, 1920)
VIDEO_MAX_BYTES = 4 * 1024 * 1024 * 1024
# §2.6: MP4, WebM or MOV; at most 10 min at API level, the creator's cap below that (§2.2).
VIDEO_KINDS = frozenset({"mp4", "quicktime", "webm"})
API_MAX_VIDEO_SECONDS = 600
# §2.6 "Video specs": H.264/H.265/VP8/VP9, 23-60 fps, 360-4096 px
# per side. Which fail_reason each breach gets follows §2.7's names.
VIDEO_CODECS = frozenset(
    {"avc1", "avc3", "hvc1", "hev1", "vp08", "vp09"}  # MP4/MOV sample entries
    | {"V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC", "V_VP8", "V_VP9"}  # WebM CodecIDs
)
VIDEO_MIN_FPS, VIDEO_MAX_FPS = 23.0, 60.0
VIDEO_MIN_SIDE, VIDEO_MAX_SIDE = 360, 4096

# Corrections, "Two apps": the Login Kit app gets consumer scopes only.
LOGIN_KIT_SCOPES = frozenset(
    {
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "video.publish",
        "video.upload",
    }
)
# Corrections: "Business scopes are per field".
BUSINESS_SCOPES = frozenset(
    {
        "user.account.type",
        "user.info.username",
        "user.info.profile",
        "user.info.stats",
        "user.insights",
        "video.list",
        "video.insights",
        "comment.list",
        "comment.list.manage",
        "video.publish",
    }
)

# Token lifetimes (access, refresh) in seconds.
# Corrections: current pages (Nov 2026) say 2 h / 180 d with strict rotation; §1.3 keeps the
# older 24 h / 365 d profile that every integration was written against.
TOKEN_PROFILES: dict[str, tuple[int, int]] = {
    "B": (7200, 15552000),  # current docs (default)
    "A": (86400, 31536000),  # older docs
}
# Corrections + §4.1 (S-K3 fixture): Business access 86400 s, refresh 31536000 s.
BUSINESS_TOKEN_LIFETIMES = (86400, 31536000)

# §3.1: Display API user fields and the scope each needs.
USER_FIELD_SCOPES: dict[str, str] = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "profile_web_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
# §3.4
VIDEO_FIELDS = frozenset(
    {
        "id", "create_time", "cover_image_url", "share_url", "video_description", "duration",
        "height", "width", "title", "embed_html", "embed_link", "like_count", "comment_count",
        "share_count", "view_count",
    }
)  # fmt: skip

# §2.1 + §3: per access token and endpoint, 60 s sliding window -> 429 rate_limit_exceeded.
V2_RATE_LIMITS: dict[str, int] = {
    "/v2/post/publish/creator_info/query/": 20,
    "/v2/post/publish/video/init/": 6,
    "/v2/post/publish/inbox/video/init/": 6,
    "/v2/post/publish/content/init/": 6,
    "/v2/post/publish/status/fetch/": 30,
    "/v2/user/info/": 600,
    "/v2/video/list/": 600,
    "/v2/video/query/": 600,
}
# Corrections, "Business limits": about 40 requests/min per account per endpoint.
BUSINESS_RATE_LIMIT_PER_MINUTE = 40

# Corrections: Business error codes (official SDK table).
BUSINESS_ERRORS: dict[int, str] = {
    40001: "No permission to operate this account.",
    40002: "Parameter error.",
    40100: "Requests made too frequently.",
    40101: "Invalid app id or secret.",  # §4.1 [U], one client
    40102: "Access token has expired.",
    40103: "Refresh token has expired.",
    40104: "Access token is null. Please set Access-Token in the header.",
    40105: "Access token is incorrect or has been revoked.",
    40107: "Refresh token is invalid.",
    40110: "Auth code is invalid or has expired.",
    40130: "The scope is not authorized by the user.",
    40132: "Request frequency is limited.",
    50000: "System error.",
    50002: "Request timed out.",
    61000: "Too many requests. Please retry later.",
}

# §4.2 + Corrections, "Business analytics fields": what /business/get/ accepts in ``fields``
# and the scope each needs. There is no ``metrics`` field: daily metrics are asked by name.
BUSINESS_PROFILE_FIELD_SCOPES: dict[str, str] = {
    "is_business_account": "user.account.type",
    "username": "user.info.username",
    "display_name": "user.info.profile",
    "profile_image": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "bio_description": "user.info.profile",
    "is_verified": "user.info.profile",
    "following_count": "user.info.stats",
    "followers_count": "user.info.stats",
    "total_likes": "user.info.stats",
    "videos_count": "user.info.stats",
}
BUSINESS_DAILY_METRICS = frozenset(
    {
        "video_views", "unique_video_views", "profile_views", "likes", "comments", "shares",
        "phone_number_clicks", "lead_submissions", "app_download_clicks", "bio_link_clicks",
        "email_clicks", "address_clicks", "daily_total_followers", "daily_new_followers",
        "daily_lost_followers", "engaged_audience", "engagement_rate", "audience_activity",
    }
)  # fmt: skip
# "some metrics exist only for Business accounts": the click/lead metrics (null otherwise).
BUSINESS_ONLY_METRICS = frozenset(
    {
        "phone_number_clicks", "lead_submissions", "app_download_clicks", "bio_link_clicks",
        "email_clicks", "address_clicks",
    }
)  # fmt: skip
BUSINESS_AUDIENCE_FIELDS = frozenset(
    {"audience_ages", "audience_genders", "audience_countries", "audience_cities"}
)
AUDIENCE_MIN_FOLLOWERS = 100  # Corrections: audience breakdowns need >= 100 followers
METRICS_LOOKBACK_DAYS = 60  # Corrections: look-back <= 60 days
METRICS_DEFAULT_DAYS = 7  # Corrections: default window today-7 ... today-1
DEFAULT_BUSINESS_GET_FIELDS = ("display_name", "profile_image")

# §4.3: /business/video/list/ fields; the plain ones need video.list, metrics video.insights.
BUSINESS_VIDEO_BASIC_FIELDS = frozenset(
    {
        "item_id", "media_type", "is_ad", "create_time", "thumbnail_url", "share_url",
        "embed_url", "caption", "video_duration",
    }
)  # fmt: skip
BUSINESS_VIDEO_INSIGHT_FIELDS = frozenset(
    {
        "likes", "comments", "shares", "favorites", "reach", "video_views",
        "total_time_watched", "average_time_watched", "full_video_watched_rate",
        "new_followers", "profile_views", "website_clicks", "phone_number_clicks",
        "lead_submissions", "app_download_clicks", "email_clicks", "address_clicks",
        "video_view_retention", "impression_sources", "audience_genders", "audience_countries",
        "audience_cities", "audience_types", "engagement_likes",
    }
)  # fmt: skip

# §2.7: every fail_reason a publish can end with (the API error code is ``internal_error``,
# the fail_reason ``internal``).
FAIL_REASONS = frozenset(
    {
        "file_format_check_failed", "duration_check_failed", "frame_rate_check_failed",
        "picture_size_check_failed", "internal", "video_pull_failed", "photo_pull_failed",
        "publish_cancelled", "auth_removed", "spam_risk_too_many_posts",
        "spam_risk_user_banned_from_posting", "spam_risk_text", "spam_risk",
    }
)  # fmt: skip

# §2.6 (S-D14) and §5.13: FILE_UPLOAD chunk plans. The docs say "MB"; one report (Corrections)
# says TikTok compares decimal megabytes. The simulator takes the stricter bound of both
# readings: a plan it accepts passes TikTok under either one.
MIB = 1024 * 1024
MIN_CHUNK_BYTES = 5 * MIB  # max(5 MiB, 5 MB)
MAX_CHUNK_BYTES = 64_000_000  # min(64 MiB, 64 MB)
MAX_FINAL_CHUNK_BYTES = 128_000_000  # min(128 MiB, 128 MB)
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MIB  # §2.6: <= 4 GB


def chunk_plan_problem(
    video_size: int, chunk_size: int, total_chunk_count: int, *, refuse_multi_chunk: bool
) -> str | None:
    """Why TikTok refuses this FILE_UPLOAD plan, or None. TikTok's message is always
    "The chunk size is invalid"; the reason is for the simulator's own logs and tests."""
    if video_size <= 0 or chunk_size <= 0 or total_chunk_count <= 0:
        return "sizes must be positive"
    if video_size > MAX_VIDEO_BYTES:
        return "video larger than 4 GB"
    if chunk_size == video_size:
        if video_size > MAX_CHUNK_BYTES:
            return "a single chunk may hold at most 64,000,000 bytes"
        return None if total_chunk_count == 1 else "a whole-file chunk means total_chunk_count 1"
    if chunk_size > video_size:
        return "chunk_size larger than the video"
    if not MIN_CHUNK_BYTES <= chunk_size <= MAX_CHUNK_BYTES:
        return "chunk_size must be within 5 MB and 64 MB"
    expected = video_size // chunk_size
    if total_chunk_count != expected:
        return f"total_chunk_count must be floor(video_size / chunk_size) = {expected}"
    if total_chunk_count == 1:
        # §2.11 (sim PR #5568): one chunk whose chunk_size is not the video size fails.
        return "a single-chunk plan needs chunk_size == video_size"
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return "1 to 1000 chunks"
    if video_size - chunk_size * (total_chunk_count - 1) > MAX_FINAL_CHUNK_BYTES:
        return "the final chunk may hold at most 128 MB"
    if refuse_multi_chunk and total_chunk_count > 1:
        # Corrections [C1, single report]: multi-chunk inits refused from about 2026-08.
        return "multi-chunk plans are refused (refuse_multi_chunk)"
    return None


def chunk_length(video_size: int, chunk_size: int, total_chunk_count: int, index: int) -> int:
    """Bytes in chunk ``index`` (0-based): the last one absorbs the remainder (§2.6)."""
    if index == total_chunk_count - 1:
        return video_size - chunk_size * (total_chunk_count - 1)
    return chunk_size


def redirect_uri_refusal(uri: str, kind: AppKind) -> str | None:
    """Why TikTok's developer portal would refuse ``uri`` as a redirect URI of a ``kind`` app
    (None when it accepts it), with the local-development allowance above."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        return "the port is not a number"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must be an absolute https URL"
    local = parts.hostname in LOCAL_DEVELOPMENT_HOSTS
    reasons = []
    if parts.scheme != "https" and not local:
        reasons.append("it must be https (http is accepted on localhost/127.0.0.1 only)")
    if parts.query or "?" in uri:
        reasons.append("it must be static, without a query string")
    if parts.fragment or "#" in uri:
        reasons.append("it must not carry a fragment")
    if len(uri) > MAX_REDIRECT_URI_CHARS:
        reasons.append(f"it must be shorter than {MAX_REDIRECT_URI_CHARS + 1} characters")
    if kind == "business":
        if port is not None and not local:
            reasons.append("an API for Business app's redirect URL carries no port")
        if not parts.path.endswith("/"):
            reasons.append('an API for Business app\'s redirect URL ends with "/"')
    return "; ".join(reasons) or None

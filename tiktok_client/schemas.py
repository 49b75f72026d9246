"""Typed, immutable views of TikTok's JSON; parsers tolerate missing or mistyped fields."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

JsonDict = Mapping[str, Any]
_INT64 = 2**63


def storable_text(value: str) -> str:
    """`value` as PostgreSQL can store it: JSON may carry NUL characters and lone surrogates
    (`"\\u0000"`, `"\\ud800"`), which no text or jsonb column takes."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def storable_json(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) made storable (see storable_text)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, Mapping):
        return {storable_text(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _str(value: Any, default: str = "") -> str:
    return storable_text(value) if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return storable_text(value) if isinstance(value, str) else None


def _id(value: Any) -> str:
    # Identifiers come as numbers or strings; either way they end up in text columns.
    return storable_text(str(value))


def _parse_int(value: Any) -> int | None:
    # Business API sends some integers (create_time) as strings. A value no column can hold
    # (NaN, infinity, beyond 64 bits) is as good as missing: it must not fail a whole sync.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eEnN") else int(value)
        except ValueError:
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else None
    return None


def _int(value: Any, default: int = 0) -> int:
    number = _parse_int(value)
    return default if number is None else number


def _opt_int(value: Any) -> int | None:
    return _parse_int(value)


#: Unix seconds TikTok can mean: 1970 up to 2100 (a datetime near year 9999 still breaks
#: when shown in a time zone east of UTC).
_FIRST_SECOND, _LAST_SECOND = 0, 4_102_444_800


def _unix_time(value: Any) -> int | None:
    # A time outside that (milliseconds sent as seconds, junk) is as good as missing: the
    # ValueError of fromtimestamp would fail the whole page it came in.
    seconds = _parse_int(value)
    if seconds is None or not _FIRST_SECOND <= seconds <= _LAST_SECOND:
        return None
    return seconds


def _parse_float(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range
            return None
        return number if math.isfinite(number) else None
    return None


def _float(value: Any, default: float = 0.0) -> float:
    number = _parse_float(value)
    return default if number is None else number


def _opt_float(value: Any) -> float | None:
    return _parse_float(value)


def _bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value.lower() in {"true", "1", "yes"}
    return default


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else _bool(value)


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in value.split(",") if part)
    if isinstance(value, list | tuple):
        return tuple(_id(item) for item in value)
    return ()


def _dict_list(value: Any) -> list[JsonDict]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


@dataclass(frozen=True)
class TokenSet:
    open_id: str
    scopes: tuple[str, ...]
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str

    @classmethod
    def from_json(cls, data: JsonDict) -> TokenSet:
        return cls(
            open_id=_str(data.get("open_id")),
            scopes=_str_tuple(data.get("scope")),
            access_token=_str(data.get("access_token")),
            expires_in=_int(data.get("expires_in")),
            refresh_token=_str(data.get("refresh_token")),
            refresh_expires_in=_int(
                data.get("refresh_expires_in", data.get("refresh_token_expires_in"))
            ),
            token_type=_str(data.get("token_type"), "Bearer"),
        )

    def __repr__(self) -> str:  # tokens must never end up in logs or tracebacks
        return (
            f"TokenSet(open_id={self.open_id!r}, scopes={self.scopes!r}, "
            f"expires_in={self.expires_in}, refresh_expires_in={self.refresh_expires_in})"
        )


@dataclass(frozen=True)
class CreatorInfo:
    avatar_url: str
    username: str
    nickname: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int

    @classmethod
    def from_json(cls, data: JsonDict) -> CreatorInfo:
        return cls(
            avatar_url=_str(data.get("creator_avatar_url")),
            username=_str(data.get("creator_username")),
            nickname=_str(data.get("creator_nickname")),
            privacy_level_options=_str_tuple(data.get("privacy_level_options")),
            comment_disabled=_bool(data.get("comment_disabled")),
            duet_disabled=_bool(data.get("duet_disabled")),
            stitch_disabled=_bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=_int(data.get("max_video_post_duration_sec"), 600),
        )


@dataclass(frozen=True)
class PostInfo:
    title: str
    privacy_level: str
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    video_cover_timestamp_ms: int | None = None
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": self.title,
            "privacy_level": self.privacy_level,
            "disable_comment": self.disable_comment,
            "disable_duet": self.disable_duet,
            "disable_stitch": self.disable_stitch,
            "brand_content_toggle": self.brand_content_toggle,
            "brand_organic_toggle": self.brand_organic_toggle,
            "is_aigc": self.is_aigc,
        }
        if self.video_cover_timestamp_ms is not None:
            body["video_cover_timestamp_ms"] = self.video_cover_timestamp_ms
        return body


@dataclass(frozen=True)
class PhotoPostInfo:
    """``post_info`` of a photo post (§2.5): title ≤ 90, description ≤ 4000 UTF-16 units;
    duet and stitch do not apply to photos."""

    title: str
    description: str
    privacy_level: str
    disable_comment: bool = False
    auto_add_music: bool = False
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "privacy_level": self.privacy_level,
            "disable_comment": self.disable_comment,
            "auto_add_music": self.auto_add_music,
            "brand_content_toggle": self.brand_content_toggle,
            "brand_organic_toggle": self.brand_organic_toggle,
        }


@dataclass(frozen=True)
class BusinessPublishStatus:
    """``/business/publish/status/`` ``data`` (§4.4): status as in §2.7, ``post_ids``, reason."""

    status: str
    post_ids: tuple[str, ...]
    reason: str | None

    @classmethod
    def from_json(cls, data: JsonDict) -> BusinessPublishStatus:
        ids = data.get("post_ids")
        return cls(
            status=_str(data.get("status")),
            post_ids=tuple(str(i) for i in ids) if isinstance(ids, list) else (),
            reason=_opt_str(data.get("reason")) or None,
        )

    def as_publish_status(self) -> PublishStatus:
        """The Content Posting shape, so one pipeline settles both."""
        return PublishStatus(
            status=self.status,
            fail_reason=self.reason,
            publicly_available_post_ids=self.post_ids,
            uploaded_bytes=0,
            downloaded_bytes=0,
        )


@dataclass(frozen=True)
class HashtagSuggestion:
    name: str
    view_count: int

    @classmethod
    def from_json(cls, data: JsonDict) -> HashtagSuggestion:
        return cls(name=_str(data.get("name")), view_count=_int(data.get("view_count")))


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> Iterator[tuple[int, int]]:
        """(start, end_inclusive) per chunk; the last chunk absorbs the remainder."""
        for index in range(self.total_chunk_count):
            start = index * self.chunk_size
            last = index == self.total_chunk_count - 1
            end = self.video_size - 1 if last else start + self.chunk_size - 1
            yield start, end

    def to_source_info(self) -> dict[str, Any]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


@dataclass(frozen=True)
class PublishInit:
    publish_id: str
    upload_url: str | None

    @classmethod
    def from_json(cls, data: JsonDict) -> PublishInit:
        return cls(
            publish_id=_str(data.get("publish_id")),
            upload_url=_opt_str(data.get("upload_url")) or None,
        )


@dataclass(frozen=True)
class PublishStatus:
    status: str
    fail_reason: str | None
    publicly_available_post_ids: tuple[str, ...]
    uploaded_bytes: int
    downloaded_bytes: int

    @classmethod
    def from_json(cls, data: JsonDict) -> PublishStatus:
        # TikTok spells the field "publicaly_available_post_id"; accept the correct spelling too.
        raw_ids = data.get("publicaly_available_post_id", data.get("publicly_available_post_id"))
        ids = raw_ids if isinstance(raw_ids, list) else []
        return cls(
            status=_str(data.get("status")),
            fail_reason=_opt_str(data.get("fail_reason")) or None,
            publicly_available_post_ids=tuple(_id(item) for item in ids),
            uploaded_bytes=_int(data.get("uploaded_bytes")),
            downloaded_bytes=_int(data.get("downloaded_bytes")),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in {"PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"}


@dataclass(frozen=True)
class UserInfo:
    open_id: str | None = None
    union_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    username: str | None = None
    bio_description: str | None = None
    is_verified: bool | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None

    @classmethod
    def from_json(cls, data: JsonDict) -> UserInfo:
        return cls(
            open_id=_opt_str(data.get("open_id")),
            union_id=_opt_str(data.get("union_id")),
            display_name=_opt_str(data.get("display_name")),
            avatar_url=_opt_str(data.get("avatar_url")),
            username=_opt_str(data.get("username")),
            bio_description=_opt_str(data.get("bio_description")),
            is_verified=_opt_bool(data.get("is_verified")),
            follower_count=_opt_int(data.get("follower_count")),
            following_count=_opt_int(data.get("following_count")),
            likes_count=_opt_int(data.get("likes_count")),
            video_count=_opt_int(data.get("video_count")),
        )


@dataclass(frozen=True)
class Video:
    id: str
    create_time: int
    title: str | None = None
    video_description: str | None = None
    duration: int | None = None
    cover_image_url: str | None = None
    share_url: str | None = None
    embed_link: str | None = None
    view_count: int | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None

    @classmethod
    def from_json(cls, data: JsonDict) -> Video:
        return cls(
            id=_id(data.get("id", data.get("item_id", ""))),
            create_time=_unix_time(data.get("create_time")) or 0,
            title=_opt_str(data.get("title")),
            video_description=_opt_str(data.get("video_description")),
            duration=_opt_int(data.get("duration")),
            cover_image_url=_opt_str(data.get("cover_image_url")),
            share_url=_opt_str(data.get("share_url")),
            embed_link=_opt_str(data.get("embed_link")),
            view_count=_opt_int(data.get("view_count")),
            like_count=_opt_int(data.get("like_count")),
            comment_count=_opt_int(data.get("comment_count")),
            share_count=_opt_int(data.get("share_count")),
        )


@dataclass(frozen=True)
class VideoPage:
    videos: tuple[Video, ...]
    cursor: int
    has_more: bool

    @classmethod
    def from_json(cls, data: JsonDict) -> VideoPage:
        return cls(
            videos=tuple(Video.from_json(item) for item in _dict_list(data.get("videos"))),
            cursor=_int(data.get("cursor")),
            has_more=_bool(data.get("has_more")),
        )


@dataclass(frozen=True)
class BusinessDailyMetric:
    date: dt.date
    video_views: int | None = None
    profile_views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    #: The day's follower total (Corrections: the total per day lives in each metrics row).
    followers_count: int | None = None
    #: The day's *net change* in followers, despite its name (Corrections).
    daily_total_followers: int | None = None
    daily_new_followers: int | None = None
    daily_lost_followers: int | None = None
    reach: int | None = None
    engaged_audience: int | None = None
    unique_video_views: int | None = None
    #: (hour, count) pairs; TikTok sends both as numbers or numeric strings.
    audience_activity: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_json(cls, data: JsonDict) -> BusinessDailyMetric | None:
        try:
            day = dt.date.fromisoformat(_str(data.get("date")))
        except ValueError:
            return None
        return cls(
            date=day,
            video_views=_opt_int(data.get("video_views")),
            profile_views=_opt_int(data.get("profile_views")),
            likes=_opt_int(data.get("likes")),
            comments=_opt_int(data.get("comments")),
            shares=_opt_int(data.get("shares")),
            followers_count=_opt_int(data.get("followers_count")),
            daily_total_followers=_opt_int(data.get("daily_total_followers")),
            daily_new_followers=_opt_int(data.get("daily_new_followers")),
            daily_lost_followers=_opt_int(data.get("daily_lost_followers")),
            reach=_opt_int(data.get("reach")),
            engaged_audience=_opt_int(data.get("engaged_audience")),
            unique_video_views=_opt_int(data.get("unique_video_views")),
            audience_activity=_hourly(data.get("audience_activity")),
        )


def _hourly(value: Any) -> tuple[tuple[int, int], ...]:
    pairs = []
    for item in _dict_list(value):
        hour, count = _opt_int(item.get("hour")), _opt_int(item.get("count"))
        if hour is not None and count is not None and 0 <= hour < 24 and count >= 0:
            pairs.append((hour, count))
    return tuple(pairs)


def _breakdown(value: Any, key: str) -> tuple[tuple[str, float], ...]:
    return tuple(
        (_id(item.get(key, "")), _float(item.get("percentage"))) for item in _dict_list(value)
    )


@dataclass(frozen=True)
class BusinessAccount:
    is_business_account: bool | None = None
    username: str | None = None
    display_name: str | None = None
    profile_image: str | None = None
    followers_count: int | None = None
    following_count: int | None = None
    total_likes: int | None = None
    videos_count: int | None = None
    metrics: tuple[BusinessDailyMetric, ...] = ()
    audience_ages: tuple[tuple[str, float], ...] = ()
    audience_genders: tuple[tuple[str, float], ...] = ()
    audience_countries: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_json(cls, data: JsonDict) -> BusinessAccount:
        metrics = tuple(
            metric
            for item in _dict_list(data.get("metrics"))
            if (metric := BusinessDailyMetric.from_json(item)) is not None
        )
        return cls(
            is_business_account=_opt_bool(data.get("is_business_account")),
            username=_opt_str(data.get("username")),
            display_name=_opt_str(data.get("display_name")),
            profile_image=_opt_str(data.get("profile_image")),
            followers_count=_opt_int(data.get("followers_count")),
            following_count=_opt_int(data.get("following_count")),
            total_likes=_opt_int(data.get("total_likes")),
            videos_count=_opt_int(data.get("videos_count")),
            metrics=tuple(sorted(metrics, key=lambda metric: metric.date)),
            audience_ages=_breakdown(data.get("audience_ages"), "age"),
            audience_genders=_breakdown(data.get("audience_genders"), "gender"),
            audience_countries=_breakdown(data.get("audience_countries"), "country"),
        )


@dataclass(frozen=True)
class BusinessVideo:
    item_id: str
    create_time: int | None = None
    caption: str | None = None
    thumbnail_url: str | None = None
    share_url: str | None = None
    video_views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    reach: int | None = None
    average_time_watched: float | None = None
    full_video_watched_rate: float | None = None
    total_time_watched: float | None = None
    impression_sources: tuple[tuple[str, float], ...] = ()
    media_type: str | None = None
    new_followers: int | None = None
    video_view_retention: tuple[tuple[float, float], ...] = ()
    audience_types: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_json(cls, data: JsonDict) -> BusinessVideo:
        return cls(
            item_id=_id(data.get("item_id", "")),
            create_time=_unix_time(data.get("create_time")),
            caption=_opt_str(data.get("caption")),
            thumbnail_url=_opt_str(data.get("thumbnail_url")),
            share_url=_opt_str(data.get("share_url")),
            video_views=_opt_int(data.get("video_views")),
            likes=_opt_int(data.get("likes")),
            comments=_opt_int(data.get("comments")),
            shares=_opt_int(data.get("shares")),
            reach=_opt_int(data.get("reach")),
            average_time_watched=_opt_float(data.get("average_time_watched")),
            full_video_watched_rate=_opt_float(data.get("full_video_watched_rate")),
            total_time_watched=_opt_float(data.get("total_time_watched")),
            impression_sources=_breakdown(data.get("impression_sources"), "impression_source"),
            media_type=_opt_str(data.get("media_type")),
            new_followers=_opt_int(data.get("new_followers")),
            video_view_retention=tuple(
                (second, share)
                for item in _dict_list(data.get("video_view_retention"))
                if (second := _opt_float(item.get("second"))) is not None
                and (share := _opt_float(item.get("percentage"))) is not None
            ),
            audience_types=_breakdown(data.get("audience_types"), "type"),
        )


@dataclass(frozen=True)
class BusinessVideoPage:
    videos: tuple[BusinessVideo, ...]
    cursor: int
    has_more: bool

    @classmethod
    def from_json(cls, data: JsonDict) -> BusinessVideoPage:
        return cls(
            videos=tuple(BusinessVideo.from_json(v) for v in _dict_list(data.get("videos"))),
            cursor=_int(data.get("cursor")),
            has_more=_bool(data.get("has_more")),
        )


@dataclass(frozen=True)
class Comment:
    comment_id: str
    video_id: str
    parent_comment_id: str | None
    unique_identifier: str
    username: str
    display_name: str
    profile_image: str
    text: str
    create_time: int
    likes: int
    replies: int
    owner: bool
    liked: bool
    pinned: bool
    status: str
    reply_list: tuple[Comment, ...] = field(default=())

    @classmethod
    def from_json(cls, data: JsonDict) -> Comment:
        parent = data.get("parent_comment_id")
        comment_id = _id(data.get("comment_id", ""))
        return cls(
            comment_id=comment_id,
            video_id=_id(data.get("video_id", "")),
            # Top-level comments carry their own id (or nothing) as parent on some API versions.
            parent_comment_id=_id(parent) if parent and _id(parent) != comment_id else None,
            unique_identifier=_str(data.get("unique_identifier", data.get("user_id"))),
            username=_str(data.get("username")),
            display_name=_str(data.get("display_name")),
            profile_image=_str(data.get("profile_image")),
            text=_str(data.get("text")),
            create_time=_unix_time(data.get("create_time")) or 0,
            likes=_int(data.get("likes")),
            replies=_int(data.get("replies")),
            owner=_bool(data.get("owner")),
            liked=_bool(data.get("liked")),
            pinned=_bool(data.get("pinned")),
            status=_str(data.get("status"), "PUBLIC"),
            reply_list=tuple(
                Comment.from_json(item) for item in _dict_list(data.get("reply_list"))
            ),
        )


@dataclass(frozen=True)
class CommentPage:
    comments: tuple[Comment, ...]
    cursor: int
    has_more: bool

    @classmethod
    def from_json(cls, data: JsonDict) -> CommentPage:
        return cls(
            comments=tuple(Comment.from_json(c) for c in _dict_list(data.get("comments"))),
            cursor=_int(data.get("cursor")),
            has_more=_bool(data.get("has_more")),
        )


__all__ = [
    "BusinessAccount",
    "BusinessDailyMetric",
    "BusinessVideo",
    "BusinessVideoPage",
    "ChunkPlan",
    "Comment",
    "CommentPage",
    "CreatorInfo",
    "PostInfo",
    "PublishInit",
    "PublishStatus",
    "TokenSet",
    "UserInfo",
    "Video",
    "VideoPage",
]

"""Records the simulator keeps; plain dataclasses guarded by ``SimState.lock``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.rules import MAX_REDIRECT_URIS, AppKind, redirect_uri_refusal


class RedirectUriRefused(ValueError):
    """TikTok's developer portal would not register this redirect URI (the message says why)."""


if TYPE_CHECKING:
    from tiktok_client.simulator.media_checks import ReceivedVideo

PUBLIC = "PUBLIC_TO_EVERYONE"
MUTUAL = "MUTUAL_FOLLOW_FRIENDS"
FOLLOWERS = "FOLLOWER_OF_CREATOR"
SELF_ONLY = "SELF_ONLY"


@dataclass
class Creator:
    """A TikTok user. ``open_id`` is the creator's key in the simulator and also the open_id the
    default Login Kit app sees; every other app sees its own open_id (``SimState.open_id_for``)."""

    open_id: str
    username: str
    nickname: str
    bio: str
    is_business: bool
    is_private: bool
    is_verified: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    banned_from_posting: bool = False
    base_followers: int = 1000
    following_count: int = 100
    seeded_videos: int = 10
    fan_comments_per_video: int = 0

    @property
    def union_id(self) -> str:
        return f"union-{self.open_id}"

    @property
    def privacy_level_options(self) -> list[str]:
        if self.is_private:
            return [FOLLOWERS, MUTUAL, SELF_ONLY]
        return [PUBLIC, MUTUAL, SELF_ONLY]

    def to_json(self) -> dict[str, Any]:
        return {
            "open_id": self.open_id,
            "username": self.username,
            "nickname": self.nickname,
            "is_business": self.is_business,
            "is_private": self.is_private,
            "comment_disabled": self.comment_disabled,
            "duet_disabled": self.duet_disabled,
            "stitch_disabled": self.stitch_disabled,
            "max_video_post_duration_sec": self.max_video_post_duration_sec,
            "banned_from_posting": self.banned_from_posting,
            "privacy_level_options": self.privacy_level_options,
        }


@dataclass
class SimApp:
    """A developer app: a Login Kit app (client key/secret) or an API for Business app (app
    id/secret). Each has its own approved scopes, tokens, open_ids and webhook callback."""

    client_key: str
    client_secret: str
    redirect_uris: list[str]
    approved_scopes: frozenset[str]
    kind: AppKind = "login_kit"
    webhook_url: str | None = None
    audited: bool = True
    active_user_cap: int | None = None
    verified_url_prefixes: tuple[str, ...] = ("https://media.later.test/",)

    def __post_init__(self) -> None:
        given, self.redirect_uris = self.redirect_uris, []
        self.register_redirect_uris(given)

    def register_redirect_uris(self, uris: list[str] | tuple[str, ...]) -> None:
        """Add redirect URIs as the developer portal does: each must pass its rules
        (rules.redirect_uri_refusal), at most MAX_REDIRECT_URIS in all; nothing is added when
        one is refused. A URI already registered is kept once."""
        added = [uri for uri in dict.fromkeys(uris) if uri not in self.redirect_uris]
        for uri in added:
            reason = redirect_uri_refusal(uri, self.kind)
            if reason:
                raise RedirectUriRefused(
                    f"redirect URI {uri!r} refused for {self.client_key}: {reason}."
                )
        if len(self.redirect_uris) + len(added) > MAX_REDIRECT_URIS:
            raise RedirectUriRefused(
                f"{self.client_key} may register at most {MAX_REDIRECT_URIS} redirect URIs."
            )
        self.redirect_uris.extend(added)


@dataclass
class AuthCode:
    code: str
    client_key: str
    redirect_uri: str
    open_id: str  # the creator key
    scopes: tuple[str, ...]
    code_challenge: str | None
    created_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    client_key: str
    open_id: str  # as this app sees the user
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False
    creator_id: str = ""


@dataclass
class RefreshToken:
    token: str
    client_key: str
    open_id: str  # as this app sees the user
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False
    creator_id: str = ""
    used: bool = False


@dataclass
class Publish:
    publish_id: str
    open_id: str
    client_key: str
    kind: str  # "video" | "inbox" | "photo"
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    direct: bool
    post_info: dict[str, Any]
    created_at: float
    video_size: int = 0
    chunk_size: int = 0
    total_chunk_count: int = 0
    upload_id: str | None = None
    upload_token: str | None = None
    upload_expires_at: float = 0.0
    uploaded_bytes: int = 0
    chunks_received: int = 0
    upload_done_at: float | None = None
    # What TikTok's checks read from a received video (media_checks.py), uploaded or pulled.
    received_video: ReceivedVideo | None = None
    # PULL_FROM_URL (puller.py): what the real download found, once it is over.
    pulled_bytes: int = 0
    # Width and height each pulled photo's header announced (None: not announced), in order.
    pulled_photo_sizes: list[tuple[int, int] | None] = field(default_factory=list)
    pull_fail_reason: str | None = None
    pull_done_at: float | None = None
    injected_fail_reason: str | None = None
    # Accepted at init, refused by TikTok's checks afterwards (§2.7): fails with this reason.
    refused_reason: str | None = None
    stuck: bool = False
    cancelled: bool = False
    inbox_resolution: str | None = None  # "posted" | "discarded"
    completed_at: float | None = None
    video_id: str | None = None
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str | None = None
    announced: list[str] = field(default_factory=list)  # webhook events already sent

    @property
    def privacy_level(self) -> str:
        return str(self.post_info.get("privacy_level") or SELF_ONLY)


@dataclass
class SimVideo:
    id: str
    open_id: str
    create_time: float
    title: str
    description: str
    duration: int
    privacy_level: str
    popularity: float
    like_rate: float
    media_type: str = "VIDEO"
    publish_id: str | None = None
    visible_from: float = 0.0
    fan_comments: int = 0
    fan_comments_materialized: int = 0


@dataclass
class SimComment:
    comment_id: str
    video_id: str
    parent_comment_id: str | None
    unique_identifier: str
    username: str
    display_name: str
    text: str
    create_time: int
    likes: int = 0
    owner: bool = False
    liked: bool = False
    pinned: bool = False
    status: str = "PUBLIC"
    deleted: bool = False
    reply_ids: list[str] = field(default_factory=list)

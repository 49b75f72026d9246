"""Display API: ``/v2/user/info/``, ``/v2/video/list/``, ``/v2/video/query/`` (§3) and the
expiring media links they hand out."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.envelopes import v2_error, v2_ok
from tiktok_client.simulator.guards import RouteTable, v2_auth
from tiktok_client.simulator.models import SimVideo
from tiktok_client.simulator.posting import avatar_url, is_json_int
from tiktok_client.simulator.rules import USER_FIELD_SCOPES, VIDEO_FIELDS
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

INVALID = "invalid_params"


def cover_url(state: SimState, request: Request, video: SimVideo) -> str:
    """§3.4: cover links expire after 6 h."""
    expires = int(state.now() + 6 * 3600)
    return f"{request.base_url}/_sim/media/cover?video_id={video.id}&x-expires={expires}"


class DisplayApi:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        return {
            ("GET", "/v2/user/info/"): self.user_info,
            ("POST", "/v2/video/list/"): self.video_list,
            ("POST", "/v2/video/query/"): self.video_query,
            ("GET", "/_sim/media/avatar"): self.media,
            ("GET", "/_sim/media/cover"): self.media,
        }

    def media(self, request: Request) -> Response:
        try:
            expires = int(request.query.get("x-expires", "0"))
        except ValueError:
            expires = 0
        if expires < self.state.now():
            return Response(403, b"expired", [("Content-Type", "text/plain")], ok=False)
        label = request.query.get("open_id") or request.query.get("video_id") or "?"
        hue = int(hashlib.sha256(label.encode()).hexdigest()[:2], 16) * 360 // 256
        creator = self.state.creators.get(label)
        # An avatar shows the name's initials: "AC" for Ava Creates; a commenter's link names them.
        name = creator.nickname if creator is not None else request.query.get("name", "")
        words = [word for word in name.split() if word[0].isalnum()]
        label = "".join(word[0] for word in words[:2]) or (creator.username if creator else label)
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120">'
            f'<rect width="120" height="120" fill="hsl({hue},60%,55%)"/>'
            '<text x="60" y="60" dy=".35em" font-family="sans-serif" font-size="52"'
            ' font-weight="600" text-anchor="middle" fill="#fff">'
            f"{html.escape(label[-2:].upper())}</text></svg>"
        )
        return Response(200, svg.encode(), [("Content-Type", "image/svg+xml")])

    def user_info(self, request: Request) -> Response:
        token = v2_auth(self.state, request, "user.info.basic")
        if isinstance(token, Response):
            return token
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields:
            return v2_error(400, INVALID, "fields is required.")
        unknown = [f for f in fields if f not in USER_FIELD_SCOPES]
        if unknown:
            return v2_error(400, INVALID, f"Unknown fields: {','.join(unknown)}.")
        missing = sorted({USER_FIELD_SCOPES[f] for f in fields} - set(token.scopes))
        if missing:
            # Corrections + §1.8: a field whose scope was not granted fails the whole call.
            return v2_error(
                401,
                "scope_not_authorized",
                f"The user did not authorize the scope required: {','.join(missing)}.",
            )
        state = self.state
        creator = state.creators[token.creator_id]
        now = state.now()
        videos = state.listed_videos(creator.open_id, public_only=True)
        avatar = avatar_url(state, request, creator)
        values: dict[str, Any] = {
            "open_id": token.open_id,
            "union_id": creator.union_id,
            "avatar_url": avatar,
            "avatar_url_100": avatar,
            "avatar_large_url": avatar,
            "display_name": creator.nickname,
            "bio_description": creator.bio,
            "profile_deep_link": f"https://vm.tiktok.com/@{creator.username}",
            "profile_web_link": f"https://www.tiktok.com/@{creator.username}",
            "is_verified": creator.is_verified,
            "username": creator.username,
            "follower_count": state.followers_on(creator, dt.date.fromtimestamp(now)),
            "following_count": creator.following_count,
            "likes_count": sum(state.video_stats(v, now)["like_count"] for v in videos),
            "video_count": len(videos),
        }
        return v2_ok({"user": {f: values[f] for f in fields}})

    def _video_fields(self, request: Request) -> list[str] | Response:
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields:
            return v2_error(400, INVALID, "fields is required.")
        unknown = [f for f in fields if f not in VIDEO_FIELDS]
        if unknown:
            return v2_error(400, INVALID, f"Unknown fields: {','.join(unknown)}.")
        return fields

    def _video_json(self, request: Request, video: SimVideo, fields: list[str]) -> dict[str, Any]:
        creator = self.state.creators[video.open_id]
        stats = self.state.video_stats(video, self.state.now())
        values: dict[str, Any] = {
            "id": video.id,
            "create_time": int(video.create_time),
            "cover_image_url": cover_url(self.state, request, video),
            "share_url": f"https://www.tiktok.com/@{creator.username}/video/{video.id}",
            "video_description": video.description,
            "duration": video.duration,
            "height": 1920,
            "width": 1080,
            "title": video.title,
            "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{video.id}">'
            "</blockquote>",
            "embed_link": f"https://www.tiktok.com/player/v1/{video.id}",
            **stats,
        }
        return {f: values[f] for f in fields}

    def video_list(self, request: Request) -> Response:
        """§3.2, §5.18: newest first, max_count <= 20, cursor = ms timestamp of the last item."""
        token = v2_auth(self.state, request, "video.list")
        if isinstance(token, Response):
            return token
        fields = self._video_fields(request)
        if isinstance(fields, Response):
            return fields
        body = request.json() or {}
        if not isinstance(body, dict):
            return v2_error(400, INVALID, "Body must be JSON.")
        max_count = body.get("max_count", 10)
        cursor = body.get("cursor")
        if not is_json_int(max_count) or not 1 <= max_count <= 20:
            return v2_error(400, INVALID, "max_count must be 1-20.")
        if cursor is not None and not is_json_int(cursor):
            return v2_error(400, INVALID, "cursor must be an int64 ms timestamp.")
        videos = self.state.listed_videos(token.creator_id, public_only=True)
        if cursor:
            videos = [v for v in videos if int(v.create_time * 1000) < cursor]
        page = videos[:max_count]
        next_cursor = int(page[-1].create_time * 1000) if page else (cursor or 0)
        return v2_ok(
            {
                "videos": [self._video_json(request, v, fields) for v in page],
                "cursor": next_cursor,
                "has_more": len(videos) > max_count,
            }
        )

    def video_query(self, request: Request) -> Response:
        """§3.3: up to 20 ids of the token's user; others are silently left out [U]."""
        token = v2_auth(self.state, request, "video.list")
        if isinstance(token, Response):
            return token
        fields = self._video_fields(request)
        if isinstance(fields, Response):
            return fields
        body = request.json()
        filters = body.get("filters") if isinstance(body, dict) else None
        ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
            return v2_error(400, INVALID, "filters.video_ids must hold 1-20 ids.")
        state = self.state
        state.tick()
        owned = [
            state.videos[str(i)]
            for i in ids
            if str(i) in state.videos
            and state.videos[str(i)].open_id == token.creator_id
            and state.videos[str(i)].create_time <= state.now()
        ]
        return v2_ok(
            {
                "videos": [self._video_json(request, v, fields) for v in owned],
                "cursor": 0,
                "has_more": False,
            }
        )

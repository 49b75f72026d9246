"""TikTok API for Business, publishing (fact sheet §4.4, Corrections "Two apps"):
``/business/video/publish/``, ``/business/photo/publish/``, ``/business/publish/status/``,
and the hashtag helper ``/business/hashtag/suggestion/`` (§4.5).

Business publishing is PULL only, from a URL property verified for the Business app; it needs
the Business ``video.publish`` scope and a Business account. The media is really fetched
(``puller.py``), so an unreachable URL fails the publish with ``video_pull_failed`` /
``photo_pull_failed`` in the status, as in Content Posting (§2.7).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tiktok_client.simulator.business_oauth import BUSINESS_PREFIX
from tiktok_client.simulator.envelopes import business_error, business_ok
from tiktok_client.simulator.guards import RouteTable, business_auth, personal_account_refused
from tiktok_client.simulator.models import PUBLIC, AccessToken, Creator, Publish
from tiktok_client.simulator.posting import url_verified
from tiktok_client.simulator.puller import start_pull
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

# [U] The sheet names no Business code for an unverified URL; a parameter error (40002) that
# says so is the simulator's reading. The Content Posting twin is 403 url_ownership_unverified.
UNVERIFIED = "url_ownership_unverified: the URL is not under a verified URL property."
MAX_CAPTION = 2200
MAX_PHOTO_CAPTION = 4000
MAX_PHOTO_TITLE = 90
# The simulated world's vocabulary for /business/hashtag/suggestion/.
POPULAR_HASHTAGS = (
    "bread", "breakfast", "brunch", "baking", "bakery", "barista", "coffee", "cafe", "cake",
    "food", "foodie", "foodtok", "recipe", "recipes", "dinner", "lunch", "dessert", "vegan",
    "fyp", "foryou", "foryoupage", "viral", "trending", "tutorial", "tips", "lifehack",
    "dance", "dancechallenge", "music", "travel", "travelgram", "fitness", "workout",
    "fashion", "style", "beauty", "makeup", "skincare", "smallbusiness", "behindthescenes",
)  # fmt: skip


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class BusinessPublishing:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        b = f"{BUSINESS_PREFIX}/business"
        return {
            ("POST", f"{b}/video/publish/"): self.video_publish,
            ("POST", f"{b}/photo/publish/"): self.photo_publish,
            ("GET", f"{b}/publish/status/"): self.publish_status,
            ("GET", f"{b}/hashtag/suggestion/"): self.hashtag_suggestion,
        }

    def _auth(
        self, request: Request, business_id: Any, scopes: set[str]
    ) -> tuple[AccessToken, Creator] | Response:
        auth = business_auth(self.state, request, business_id, scopes)
        if isinstance(auth, Response):
            return auth
        refused = personal_account_refused(auth[1])
        return refused if refused is not None else auth

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = request.json()
        return body if isinstance(body, dict) else {}

    def _gate(self, creator: Creator) -> Response | None:
        if creator.banned_from_posting:
            return business_error(40001, "The user is banned from posting.")
        return None

    def _new(
        self,
        *,
        token: AccessToken,
        creator: Creator,
        kind: str,
        post_info: dict[str, Any],
        draft: bool,
        urls: list[str],
    ) -> Publish:
        state = self.state
        # §2.9 [C2]: the per-creator daily direct-post cap is shared across all API clients.
        # The Business API names no init error for it; its status carries §2.7's reasons
        # (§4.4), so the post is taken and then fails with spam_risk_too_many_posts.
        over_cap = not draft and (
            state.direct_posts_last_day(creator.open_id) >= state.settings.daily_post_cap
        )
        publish = state.new_publish(
            prefix="v_pub_url~v2." if kind == "video" else "p_pub_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind=kind,
            source="PULL_FROM_URL",
            direct=not draft,
            post_info=post_info,
            refused_reason="spam_risk_too_many_posts" if over_cap else None,
        )
        start_pull(state, publish.publish_id, urls, photo=kind == "photo")
        return publish

    # ------------------------------------------------------------------ video

    def video_publish(self, request: Request) -> Response:
        body = self._body(request)
        auth = self._auth(request, body.get("business_id"), {"video.publish"})
        if isinstance(auth, Response):
            return auth
        token, creator = auth
        url = body.get("video_url")
        if not isinstance(url, str) or not url:
            return business_error(40002, "video_url is required.")
        raw = body.get("post_info", {})
        if not isinstance(raw, dict):
            return business_error(40002, "post_info must be an object.")
        caption = raw.get("caption", "")
        if not isinstance(caption, str) or _utf16(caption) > MAX_CAPTION:
            return business_error(40002, f"caption must be at most {MAX_CAPTION} characters.")
        if "privacy_level" in raw:
            # §4.4 [C1]: Business video posts take no privacy_level.
            return business_error(40002, "privacy_level is not a video post_info field.")
        if not url_verified(url, self.state.apps[token.client_key]):
            return business_error(40002, UNVERIFIED)
        gate = self._gate(creator)
        if gate is not None:
            return gate
        post_info = {
            "title": caption,
            "privacy_level": PUBLIC,
            "disable_comment": bool(raw.get("disable_comment") or creator.comment_disabled),
            "disable_duet": bool(raw.get("disable_duet") or creator.duet_disabled),
            "disable_stitch": bool(raw.get("disable_stitch") or creator.stitch_disabled),
        }
        publish = self._new(
            token=token,
            creator=creator,
            kind="video",
            post_info=post_info,
            draft=bool(raw.get("upload_to_draft")),
            urls=[url],
        )
        return business_ok({"share_id": publish.publish_id})

    # ------------------------------------------------------------------ photo

    def photo_publish(self, request: Request) -> Response:
        body = self._body(request)
        auth = self._auth(request, body.get("business_id"), {"video.publish"})
        if isinstance(auth, Response):
            return auth
        token, creator = auth
        images = body.get("photo_images")
        if (
            not isinstance(images, list)
            or not 1 <= len(images) <= 35
            or not all(isinstance(u, str) and u for u in images)
        ):
            return business_error(40002, "photo_images must hold 1-35 URLs.")
        cover = body.get("photo_cover_index", 0)
        if not isinstance(cover, int) or isinstance(cover, bool) or not 0 <= cover < len(images):
            return business_error(40002, "photo_cover_index is out of range.")
        raw = body.get("post_info")
        if not isinstance(raw, dict):
            return business_error(40002, "post_info is required.")
        privacy = raw.get("privacy_level")
        if privacy not in creator.privacy_level_options:
            return business_error(40002, "privacy_level is required and must be offered.")
        title, caption = raw.get("title", ""), raw.get("caption", "")
        if not isinstance(title, str) or _utf16(title) > MAX_PHOTO_TITLE:
            return business_error(40002, f"title must be at most {MAX_PHOTO_TITLE} characters.")
        if not isinstance(caption, str) or _utf16(caption) > MAX_PHOTO_CAPTION:
            return business_error(40002, f"caption must be at most {MAX_PHOTO_CAPTION} characters.")
        app = self.state.apps[token.client_key]
        if not all(url_verified(u, app) for u in images):
            return business_error(40002, UNVERIFIED)
        if any(urlsplit(u).path.lower().endswith(".png") for u in images):
            return business_error(40002, "Photos must be JPEG or WebP.")
        gate = self._gate(creator)
        if gate is not None:
            return gate
        post_info = {
            "title": title,
            "description": caption,
            "privacy_level": privacy,
            "disable_comment": bool(raw.get("disable_comment") or creator.comment_disabled),
            "auto_add_music": bool(raw.get("auto_add_music")),
        }
        publish = self._new(
            token=token,
            creator=creator,
            kind="photo",
            post_info=post_info,
            draft=bool(raw.get("is_draft")),
            urls=list(images),
        )
        return business_ok({"share_id": publish.publish_id})

    # ------------------------------------------------------------------ status

    def publish_status(self, request: Request) -> Response:
        auth = self._auth(request, request.query.get("business_id"), {"video.publish"})
        if isinstance(auth, Response):
            return auth
        token, creator = auth
        publish = self.state.publishes.get(request.query.get("publish_id", ""))
        if (
            publish is None
            or publish.client_key != token.client_key
            or publish.open_id != creator.open_id
        ):
            return business_error(40002, "publish_id does not exist for this business.")
        self.state.counters.record_publish(publish.publish_id, "status_fetches")
        self.state.tick()
        data: dict[str, Any] = {"status": publish.status, "post_ids": self._post_ids(publish)}
        if publish.status == "FAILED":
            data["reason"] = publish.fail_reason
        return business_ok(data)

    def _post_ids(self, publish: Publish) -> list[str]:
        """§2.7 [C1]: the Business ``post_ids`` can lag PUBLISH_COMPLETE by minutes (the
        moderation delay here); they name the post whatever its privacy, as strings."""
        if publish.status != "PUBLISH_COMPLETE" or publish.video_id is None:
            return []
        video = self.state.videos[publish.video_id]
        return [video.id] if self.state.now() >= video.visible_from else []

    # ------------------------------------------------------------------ hashtags

    def hashtag_suggestion(self, request: Request) -> Response:
        """§4.5 [C1]: ``suggestions[{name, view_count}]`` for a keyword."""
        auth = business_auth(self.state, request, request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        keyword = (request.query.get("keyword") or "").strip().lstrip("#")
        if not keyword or len(keyword) > 100:
            return business_error(40002, "keyword is required (at most 100 characters).")
        stem = "".join(ch for ch in keyword.lower() if ch.isalnum() or ch == "_")
        if not stem:
            return business_ok({"suggestions": []})
        # Known tags that start with what was typed, then tags built on the keyword itself.
        known = [tag for tag in POPULAR_HASHTAGS if tag.startswith(stem) and tag != stem]
        names = [*known[:5], stem, f"{stem}tok", f"{stem}tips", f"{stem}oftheday"][:8]
        counted: list[tuple[int, str]] = []
        for name in names:
            digest = hashlib.sha256(f"{self.state.seed}:{name}".encode()).digest()
            counted.append((int.from_bytes(digest[:5], "big") % 900_000_000 + 10_000, name))
        counted.sort(reverse=True)
        return business_ok(
            {"suggestions": [{"name": name, "view_count": views} for views, name in counted]}
        )

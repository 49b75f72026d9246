"""Content Posting API: creator info, the three inits, status fetch and cancel (§2, Corrections)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tiktok_client.simulator.envelopes import v2_error, v2_ok
from tiktok_client.simulator.guards import RouteTable, v2_auth
from tiktok_client.simulator.models import (
    SELF_ONLY,
    AccessToken,
    Creator,
    Publish,
    SimApp,
    SimComment,
)
from tiktok_client.simulator.puller import start_pull
from tiktok_client.simulator.rules import chunk_plan_problem
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

UPLOAD_PATH = "/video/"
P = "/v2/post/publish"
# Corrections: a bad parameter or chunk plan is 400 ``invalid_param`` (singular).
INVALID = "invalid_param"
CHUNK_MESSAGE = "The chunk size is invalid"
# §2.3 and §2.5 type these post_info fields bool; a string or number there is a bad parameter
# (null reads as absent).
POST_INFO_BOOLEANS = (
    "disable_comment", "disable_duet", "disable_stitch", "brand_content_toggle",
    "brand_organic_toggle", "is_aigc", "auto_add_music",
)  # fmt: skip


def is_json_int(value: object) -> bool:
    """An int64 field holds a JSON number without a fraction; ``true`` is not 1 (Python's
    bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def url_verified(url: str, app: SimApp) -> bool:
    """§2.6: PULL_FROM_URL media must be https under a verified domain or URL prefix.

    §4.4 "URL properties": a domain property (``media.example.com``) covers that host and its
    subdomains; a URL prefix property must end with ``/`` and covers what starts with it."""
    if not url.startswith("https://"):
        return False
    host = (urlsplit(url).hostname or "").lower()
    for prop in app.verified_url_prefixes:
        if prop.startswith("https://"):
            if prop.endswith("/") and url.startswith(prop):
                return True
        elif prop and (host == prop.lower() or host.endswith("." + prop.lower())):
            return True
    return False


class ContentPosting:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        return {
            ("POST", f"{P}/creator_info/query/"): self.creator_info,
            ("POST", f"{P}/video/init/"): self.video_init,
            ("POST", f"{P}/inbox/video/init/"): self.inbox_init,
            ("POST", f"{P}/content/init/"): self.content_init,
            ("POST", f"{P}/status/fetch/"): self.status_fetch,
            ("POST", f"{P}/cancel/"): self.cancel,
        }

    def _creator(self, token: AccessToken) -> Creator:
        return self.state.creators[token.creator_id]

    # ------------------------------------------------------------------ creator info

    def creator_info(self, request: Request) -> Response:
        token = v2_auth(self.state, request, "video.publish")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        # Corrections: "cannot post now" answers are HTTP 200 with a non-ok error.code.
        refusal = self._cannot_post_now(token, creator)
        if refusal is not None:
            code, message = refusal
            return v2_error(200, code, message)
        return v2_ok(
            {
                "creator_avatar_url": avatar_url(self.state, request, creator),
                "creator_username": creator.username,
                "creator_nickname": creator.nickname,
                "privacy_level_options": creator.privacy_level_options,
                "comment_disabled": creator.comment_disabled,
                "duet_disabled": creator.duet_disabled,
                "stitch_disabled": creator.stitch_disabled,
                "max_video_post_duration_sec": creator.max_video_post_duration_sec,
            }
        )

    def _cannot_post_now(self, token: AccessToken, creator: Creator) -> tuple[str, str] | None:
        state = self.state
        if creator.banned_from_posting:
            return "spam_risk_user_banned_from_posting", "The user is banned from making new posts."
        if state.direct_posts_last_day(creator.open_id) >= state.settings.daily_post_cap:
            return "spam_risk_too_many_posts", "The daily post cap from the API is reached."
        app = state.apps[token.client_key]
        users = state.posting_users_last_day(app.client_key)
        cap = app.active_user_cap if app.audited else state.settings.unaudited_user_cap
        if cap is not None and creator.open_id not in users and len(users) >= cap:
            return "reached_active_user_cap", "The daily active creator cap is reached."
        return None

    # ------------------------------------------------------------------ init checks

    def _posting_gate(self, token: AccessToken, creator: Creator, privacy: str) -> Response | None:
        """§2.9, §5.11: caps and audit rules shared by direct video and photo posts (403)."""
        app = self.state.apps[token.client_key]
        if creator.banned_from_posting:
            return v2_error(
                403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
            )
        if not app.audited and (not creator.is_private or privacy != SELF_ONLY):
            return v2_error(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post SELF_ONLY to private accounts.",
            )
        refusal = self._cannot_post_now(token, creator)
        if refusal is not None:
            return v2_error(403, *refusal)
        return None

    def _inbox_gate(self, creator: Creator) -> Response | None:
        """§2.4 error table, for video and photo drafts alike (403)."""
        if creator.banned_from_posting:
            return v2_error(
                403, "spam_risk_user_banned_from_posting", "The user is banned from posting."
            )
        if self.state.pending_shares(creator.open_id) >= self.state.settings.pending_share_cap:
            return v2_error(
                403,
                "spam_risk_too_many_pending_share",
                "The user has too many pending shares in the last 24 hours.",
            )
        return None

    def _check_post_info(
        self, creator: Creator, post_info: dict[str, Any], *, photo: bool
    ) -> Response | None:
        privacy = post_info.get("privacy_level")
        if not isinstance(privacy, str) or not privacy:
            return v2_error(400, INVALID, "post_info.privacy_level is required.")
        if privacy not in creator.privacy_level_options:
            # Corrections: privacy_level_option_mismatch is 403.
            return v2_error(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is not one of the creator's privacy_level_options.",
            )
        text = self._check_switch_types(post_info) or self._check_text_lengths(
            post_info, photo=photo
        )
        if text is not None:
            return text
        if post_info.get("brand_content_toggle") and privacy == SELF_ONLY:
            return v2_error(400, INVALID, "Branded content visibility cannot be set to private.")
        cover = post_info.get("video_cover_timestamp_ms")
        if cover is not None and (not is_json_int(cover) or cover < 0):
            return v2_error(400, INVALID, "video_cover_timestamp_ms is invalid.")
        return None

    @staticmethod
    def _check_switch_types(post_info: dict[str, Any]) -> Response | None:
        wrong = [
            name
            for name in POST_INFO_BOOLEANS
            if post_info.get(name) is not None and not isinstance(post_info[name], bool)
        ]
        if wrong:
            return v2_error(400, INVALID, f"{', '.join(wrong)} must be a boolean.")
        return None

    @staticmethod
    def _check_text_lengths(post_info: dict[str, Any], *, photo: bool) -> Response | None:
        """§2.3/§2.5: a video's title <= 2200; a photo's title <= 90 and description <= 4000
        UTF-16 units (emoji outside the BMP count two)."""
        title = post_info.get("title", "")
        limit = 90 if photo else 2200
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > limit:
            return v2_error(400, INVALID, f"title must be at most {limit} UTF-16 units.")
        description = post_info.get("description", "")
        if photo and (
            not isinstance(description, str) or len(description.encode("utf-16-le")) // 2 > 4000
        ):
            return v2_error(400, INVALID, "description must be at most 4000 UTF-16 units.")
        return None

    @staticmethod
    def _apply_creator_switches(
        creator: Creator, post_info: dict[str, Any], *, photo: bool
    ) -> None:
        """Corrections: interactions the creator switched off are switched off, not refused."""
        flags = [("comment_disabled", "disable_comment")]
        if not photo:
            flags += [("duet_disabled", "disable_duet"), ("stitch_disabled", "disable_stitch")]
        for creator_flag, post_flag in flags:
            if getattr(creator, creator_flag):
                post_info[post_flag] = True

    def _check_source(
        self, source_info: Any, app: SimApp
    ) -> tuple[str, dict[str, int], list[str]] | Response:
        if not isinstance(source_info, dict):
            return v2_error(400, INVALID, "source_info is required.")
        source = source_info.get("source")
        if source == "FILE_UPLOAD":
            sizes = {
                k: source_info.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")
            }
            ints = {
                k: v for k, v in sizes.items() if isinstance(v, int) and not isinstance(v, bool)
            }
            if len(ints) != len(sizes) or chunk_plan_problem(
                ints["video_size"],
                ints["chunk_size"],
                ints["total_chunk_count"],
                refuse_multi_chunk=self.state.settings.refuse_multi_chunk,
            ):
                return v2_error(400, INVALID, CHUNK_MESSAGE)
            return source, ints, []
        if source == "PULL_FROM_URL":
            url = source_info.get("video_url")
            if not isinstance(url, str) or not url:
                return v2_error(400, INVALID, "video_url is required.")
            if not url_verified(url, app):
                return v2_error(
                    403, "url_ownership_unverified", "The video_url domain is not verified."
                )
            return source, {}, [url]
        return v2_error(400, INVALID, "source must be FILE_UPLOAD or PULL_FROM_URL.")

    def _outcome_faults(self, request: Request) -> dict[str, Any]:
        fault = self.state.faults.take(
            request.path, frozenset({"publish_fail", "stuck"}), request.open_id
        )
        if fault is None:
            return {}
        if fault.kind == "stuck":
            return {"stuck": True}
        return {"injected_fail_reason": fault.fail_reason}

    def _started(self, request: Request, publish: Publish) -> Response:
        data: dict[str, Any] = {"publish_id": publish.publish_id}
        if publish.source == "FILE_UPLOAD":
            query = urlencode(
                {"upload_id": publish.upload_id, "upload_token": publish.upload_token}
            )
            data["upload_url"] = f"{request.base_url}{UPLOAD_PATH}?{query}"
        return v2_ok(data)

    # ------------------------------------------------------------------ inits

    def video_init(self, request: Request) -> Response:
        token = v2_auth(self.state, request, "video.publish")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("post_info"), dict):
            return v2_error(400, INVALID, "post_info is required.")
        post_info: dict[str, Any] = dict(body["post_info"])
        gate = self._posting_gate(token, creator, str(post_info.get("privacy_level")))
        if gate is not None:
            return gate
        problem = self._check_post_info(creator, post_info, photo=False)
        if problem is not None:
            return problem
        checked = self._check_source(body.get("source_info"), self.state.apps[token.client_key])
        if isinstance(checked, Response):
            return checked
        source, sizes, urls = checked
        self._apply_creator_switches(creator, post_info, photo=False)
        publish = self.state.new_publish(
            prefix="v_pub_file~v2-1." if source == "FILE_UPLOAD" else "v_pub_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind="video",
            source=source,
            direct=True,
            post_info=post_info,
            video_size=sizes.get("video_size", 0),
            chunk_size=sizes.get("chunk_size", 0),
            total_chunk_count=sizes.get("total_chunk_count", 0),
            **self._outcome_faults(request),
        )
        if urls:
            start_pull(self.state, publish.publish_id, urls, photo=False)
        return self._started(request, publish)

    def inbox_init(self, request: Request) -> Response:
        """§2.4: only ``source_info``; caption and privacy are set by the user in the app."""
        token = v2_auth(self.state, request, "video.upload")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        gate = self._inbox_gate(creator)
        if gate is not None:
            return gate
        body = request.json()
        if not isinstance(body, dict):
            return v2_error(400, INVALID, "Body must be JSON.")
        checked = self._check_source(body.get("source_info"), self.state.apps[token.client_key])
        if isinstance(checked, Response):
            return checked
        source, sizes, urls = checked
        publish = self.state.new_publish(
            prefix="v_inbox_file~v2." if source == "FILE_UPLOAD" else "v_inbox_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind="inbox",
            source=source,
            direct=False,
            post_info={},
            video_size=sizes.get("video_size", 0),
            chunk_size=sizes.get("chunk_size", 0),
            total_chunk_count=sizes.get("total_chunk_count", 0),
            **self._outcome_faults(request),
        )
        if urls:
            start_pull(self.state, publish.publish_id, urls, photo=False)
        return self._started(request, publish)

    def content_init(self, request: Request) -> Response:
        """§2.5: photo posts, PULL_FROM_URL only, JPEG/WebP, up to 35 images."""
        token = v2_auth(self.state, request, "video.publish", "video.upload")
        if isinstance(token, Response):
            return token
        creator = self._creator(token)
        body = request.json()
        if not isinstance(body, dict):
            return v2_error(400, INVALID, "Body must be JSON.")
        mode = body.get("post_mode")
        if body.get("media_type") != "PHOTO" or mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            return v2_error(
                400, INVALID, "media_type must be PHOTO; post_mode DIRECT_POST|MEDIA_UPLOAD."
            )
        needed = "video.publish" if mode == "DIRECT_POST" else "video.upload"
        if needed not in token.scopes:
            return v2_error(
                401, "scope_not_authorized", f"The user did not authorize the scope {needed}."
            )
        raw_info = body.get("post_info")
        post_info: dict[str, Any] = dict(raw_info) if isinstance(raw_info, dict) else {}
        direct = mode == "DIRECT_POST"
        if direct:
            gate = self._posting_gate(token, creator, str(post_info.get("privacy_level")))
            if gate is None:
                gate = self._check_post_info(creator, post_info, photo=True)
            if gate is not None:
                return gate
        else:
            # An inbox photo still carries its title and description: the same limits apply.
            gate = (
                self._inbox_gate(creator)
                or self._check_switch_types(post_info)
                or self._check_text_lengths(post_info, photo=True)
            )
            if gate is not None:
                return gate
        images = self._check_photos(body.get("source_info"), self.state.apps[token.client_key])
        if isinstance(images, Response):
            return images
        if direct:
            self._apply_creator_switches(creator, post_info, photo=True)
        publish = self.state.new_publish(
            prefix="p_pub_url~v2." if direct else "p_inbox_url~v2.",
            open_id=creator.open_id,
            client_key=token.client_key,
            kind="photo",
            source="PULL_FROM_URL",
            direct=direct,
            post_info=post_info,
            **self._outcome_faults(request),
        )
        start_pull(self.state, publish.publish_id, images, photo=True)
        return v2_ok({"publish_id": publish.publish_id})

    def _check_photos(self, source_info: Any, app: SimApp) -> list[str] | Response:
        if not isinstance(source_info, dict) or source_info.get("source") != "PULL_FROM_URL":
            return v2_error(400, INVALID, "Photos support PULL_FROM_URL only.")
        images = source_info.get("photo_images")
        if not isinstance(images, list) or not 1 <= len(images) <= 35:
            return v2_error(400, INVALID, "photo_images must hold 1-35 URLs.")
        if not all(isinstance(url, str) for url in images):
            return v2_error(400, INVALID, "photo_images must be URLs.")
        cover = source_info.get("photo_cover_index", 0)
        if not is_json_int(cover) or not 0 <= cover < len(images):
            return v2_error(400, INVALID, "photo_cover_index is out of range.")
        if not all(url_verified(url, app) for url in images):
            return v2_error(
                403, "url_ownership_unverified", "A photo URL's domain is not verified."
            )
        if any(urlsplit(url).path.lower().endswith(".png") for url in images):
            return v2_error(400, INVALID, "Photos must be JPEG or WebP.")
        return list(images)

    # ------------------------------------------------------------------ status and cancel

    def _owned_publish(self, request: Request, token: AccessToken) -> Publish | Response:
        """Corrections: unknown id -> 400 invalid_publish_id; another user's id -> 400
        token_not_authorized_for_specified_publish_id."""
        body = request.json()
        publish_id = body.get("publish_id") if isinstance(body, dict) else None
        publish = self.state.publishes.get(publish_id) if isinstance(publish_id, str) else None
        if publish is None:
            return v2_error(400, "invalid_publish_id", "The publish_id does not exist.")
        if publish.open_id != token.creator_id or publish.client_key != token.client_key:
            return v2_error(
                400,
                "token_not_authorized_for_specified_publish_id",
                "The access token is not authorized for this publish_id.",
            )
        return publish

    def status_fetch(self, request: Request) -> Response:
        token = v2_auth(self.state, request, "video.upload", "video.publish")
        if isinstance(token, Response):
            return token
        publish = self._owned_publish(request, token)
        if isinstance(publish, Response):
            return publish
        self.state.counters.record_publish(publish.publish_id, "status_fetches")
        self.state.tick()
        data: dict[str, Any] = {
            "status": publish.status,
            "publicaly_available_post_id": self.state.public_post_ids(publish),
            "uploaded_bytes": publish.uploaded_bytes,
            "downloaded_bytes": self.state.downloaded_bytes(publish),
        }
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        return v2_ok(data)

    def cancel(self, request: Request) -> Response:
        token = v2_auth(self.state, request, "video.upload", "video.publish")
        if isinstance(token, Response):
            return token
        publish = self._owned_publish(request, token)
        if isinstance(publish, Response):
            return publish
        self.state.tick()
        if publish.source != "PULL_FROM_URL" or publish.status != "PROCESSING_DOWNLOAD":
            # Corrections: cancel applies to PULL_FROM_URL still downloading.
            return v2_error(
                400,
                "publish_not_cancellable",
                "Only PULL_FROM_URL posts still downloading can be cancelled.",
            )
        publish.cancelled = True
        self.state.counters.record_publish(publish.publish_id, "cancelled")
        self.state.tick()
        return v2_ok({})


def avatar_url(state: SimState, request: Request, creator: Creator) -> str:
    """§2.2: the avatar link expires after 2 h."""
    expires = int(state.now() + 2 * 3600)
    return f"{request.base_url}/_sim/media/avatar?open_id={creator.open_id}&x-expires={expires}"


def commenter_avatar_url(state: SimState, request: Request, comment: SimComment) -> str:
    """A comment author's ``profile_image``: like TikTok's CDN links, absolute and expiring,
    served by the simulator with the author's initials (fans are not simulated creators)."""
    expires = int(state.now() + 2 * 3600)
    query = urlencode(
        {"open_id": comment.unique_identifier, "name": comment.display_name, "x-expires": expires}
    )
    return f"{request.base_url}/_sim/media/avatar?{query}"

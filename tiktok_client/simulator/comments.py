"""TikTok API for Business, comments: list, replies, create, reply, hide, pin, like, delete
(§4.5). ``comment.list`` reads, ``comment.list.manage`` writes; changes send ``comment.update``
webhooks (§4.6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.business import Invalid, json_param
from tiktok_client.simulator.business_oauth import BUSINESS_PREFIX
from tiktok_client.simulator.envelopes import business_error, business_ok
from tiktok_client.simulator.guards import RouteTable, business_auth, personal_account_refused
from tiktok_client.simulator.models import AccessToken, Creator, SimVideo
from tiktok_client.simulator.posting import commenter_avatar_url
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState


class BusinessComments:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> RouteTable:
        c = f"{BUSINESS_PREFIX}/business/comment"
        return {
            ("GET", f"{c}/list/"): self.comment_list,
            ("GET", f"{c}/reply/list/"): self.reply_list,
            ("POST", f"{c}/create/"): self.comment_create,
            ("POST", f"{c}/reply/create/"): self.reply_create,
            ("POST", f"{c}/hide/"): self.comment_hide,
            ("POST", f"{c}/pin/"): self.comment_pin,
            ("POST", f"{c}/like/"): self.comment_like,
            ("POST", f"{c}/delete/"): self.comment_delete,
        }

    def _auth(
        self, request: Request, scope: str, business_id: Any
    ) -> tuple[AccessToken, Creator] | Response:
        auth = business_auth(self.state, request, business_id, {scope})
        if isinstance(auth, Response):
            return auth
        refused = personal_account_refused(auth[1])
        return refused if refused is not None else auth

    def _owned_video(self, creator: Creator, video_id: Any) -> SimVideo | Response:
        video = self.state.videos.get(str(video_id))
        if video is None or video.open_id != creator.open_id:
            return business_error(40002, "video_id does not belong to this business.")
        self.state.materialize_comments(video)
        return video

    def _comment_json(
        self, request: Request, comment_id: str, *, with_replies: bool = False
    ) -> dict[str, Any]:
        comment = self.state.comments[comment_id]
        replies = [r for r in comment.reply_ids if not self.state.comments[r].deleted]
        data: dict[str, Any] = {
            "comment_id": comment.comment_id,
            "video_id": comment.video_id,
            "parent_comment_id": comment.parent_comment_id or comment.comment_id,
            "unique_identifier": comment.unique_identifier,
            "username": comment.username,
            "display_name": comment.display_name,
            "profile_image": commenter_avatar_url(self.state, request, comment),
            "text": comment.text,
            "create_time": str(comment.create_time),
            "likes": comment.likes,
            "replies": len(replies),
            "owner": comment.owner,
            "liked": comment.liked,
            "pinned": comment.pinned,
            "status": comment.status,
        }
        if with_replies:
            data["reply_list"] = [self._comment_json(request, r) for r in replies]
        return data

    def _page_params(self, request: Request, limit: int) -> tuple[int, int] | Response:
        try:
            max_count = int(request.query.get("max_count", str(limit)))
            cursor = int(request.query.get("cursor") or 0)
        except ValueError:
            return business_error(40002, "max_count and cursor must be integers.")
        if not 1 <= max_count <= limit:
            return business_error(40002, f"max_count must be between 1 and {limit}.")
        if cursor < 0:
            return business_error(40002, "cursor must be >= 0.")
        return cursor, max_count

    def _sorted_comments(
        self, ids: list[str], request: Request, orders: tuple[str, ...]
    ) -> list[str] | Response:
        """§4.5: ``sort_order`` is asc/desc on the comment list; replies also take smart."""
        sort_field = request.query.get("sort_field", "create_time")
        order = request.query.get("sort_order", "desc")
        if sort_field not in ("create_time", "likes", "replies") or order not in orders:
            return business_error(40002, "Invalid sort_field or sort_order.")
        comments = self.state.comments

        def key(comment_id: str) -> tuple[int, str]:
            c = comments[comment_id]
            value = {"create_time": c.create_time, "likes": c.likes, "replies": len(c.reply_ids)}
            return value[sort_field], c.comment_id

        return sorted(ids, key=key, reverse=order != "asc")

    def comment_list(self, request: Request) -> Response:
        auth = self._auth(request, "comment.list", request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, request.query.get("video_id"))
        if isinstance(video, Response):
            return video
        paging = self._page_params(request, 30)
        if isinstance(paging, Response):
            return paging
        cursor, max_count = paging
        status = request.query.get("status", "ALL")
        if status not in ("ALL", "PUBLIC"):
            return business_error(40002, "status must be ALL or PUBLIC.")
        ids = [
            cid
            for cid in self.state.video_comments.get(video.id, [])
            if not self.state.comments[cid].deleted
            and (status == "ALL" or self.state.comments[cid].status == "PUBLIC")
        ]
        try:
            wanted = json_param(request, "comment_ids", None)
        except Invalid as exc:
            return business_error(40002, str(exc))
        if wanted is not None and (not isinstance(wanted, list) or len(wanted) > 30):
            return business_error(40002, "comment_ids must be a JSON array of at most 30 ids.")
        if wanted is not None:
            ids = [cid for cid in ids if cid in {str(w) for w in wanted}]
        ordered = self._sorted_comments(ids, request, ("asc", "desc"))
        if isinstance(ordered, Response):
            return ordered
        include = request.query.get("include_replies", "false").lower() == "true"
        page = ordered[cursor : cursor + max_count]
        return business_ok(
            {
                "comments": [self._comment_json(request, c, with_replies=include) for c in page],
                "cursor": cursor + len(page),
                "has_more": cursor + len(page) < len(ordered),
            }
        )

    def reply_list(self, request: Request) -> Response:
        auth = self._auth(request, "comment.list", request.query.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, request.query.get("video_id"))
        if isinstance(video, Response):
            return video
        parent = self.state.comments.get(request.query.get("comment_id", ""))
        if parent is None or parent.video_id != video.id or parent.deleted:
            return business_error(40002, "comment_id does not exist on this video.")
        paging = self._page_params(request, 30)
        if isinstance(paging, Response):
            return paging
        cursor, max_count = paging
        ids = [r for r in parent.reply_ids if not self.state.comments[r].deleted]
        ordered = self._sorted_comments(ids, request, ("asc", "desc", "smart"))
        if isinstance(ordered, Response):
            return ordered
        page = ordered[cursor : cursor + max_count]
        return business_ok(
            {
                "comments": [self._comment_json(request, c) for c in page],
                "cursor": cursor + len(page),
                "has_more": cursor + len(page) < len(ordered),
            }
        )

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = request.json()
        return body if isinstance(body, dict) else {}

    def _check_text(self, text: Any) -> Response | None:
        if not isinstance(text, str) or not text.strip() or len(text) > 150:
            return business_error(40002, "text must be 1-150 characters.")
        return None

    def comment_create(self, request: Request) -> Response:
        body = self._body(request)
        auth = self._auth(request, "comment.list.manage", body.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, body.get("video_id"))
        if isinstance(video, Response):
            return video
        problem = self._check_text(body.get("text"))
        if problem is not None:
            return problem
        comment = self.state.add_comment(
            video=video, text=body["text"], parent_id=None, by_owner=True
        )
        return business_ok(self._comment_json(request, comment.comment_id))

    def reply_create(self, request: Request) -> Response:
        body = self._body(request)
        auth = self._auth(request, "comment.list.manage", body.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        video = self._owned_video(creator, body.get("video_id"))
        if isinstance(video, Response):
            return video
        parent = self.state.comments.get(str(body.get("comment_id", "")))
        if parent is None or parent.video_id != video.id or parent.deleted:
            return business_error(40002, "comment_id does not exist on this video.")
        problem = self._check_text(body.get("text"))
        if problem is not None:
            return problem
        # Replies to replies attach to the top-level thread, as in the app.
        root = parent.parent_comment_id or parent.comment_id
        comment = self.state.add_comment(
            video=video, text=body["text"], parent_id=root, by_owner=True
        )
        return business_ok(self._comment_json(request, comment.comment_id))

    def _action_target(
        self, request: Request, actions: tuple[str, str], *, needs_video: bool
    ) -> tuple[dict[str, Any], Any] | Response:
        body = self._body(request)
        auth = self._auth(request, "comment.list.manage", body.get("business_id"))
        if isinstance(auth, Response):
            return auth
        _, creator = auth
        if needs_video:
            video = self._owned_video(creator, body.get("video_id"))
            if isinstance(video, Response):
                return video
        comment = self.state.comments.get(str(body.get("comment_id", "")))
        owner_video = self.state.videos.get(comment.video_id) if comment else None
        if (
            comment is None
            or comment.deleted
            or owner_video is None
            or (owner_video.open_id != creator.open_id)
            or (needs_video and comment.video_id != str(body.get("video_id")))
        ):
            return business_error(40002, "comment_id does not exist.")
        if body.get("action") not in actions and actions != ("", ""):
            return business_error(40002, f"action must be {actions[0]} or {actions[1]}.")
        return body, comment

    def comment_hide(self, request: Request) -> Response:
        target = self._action_target(request, ("HIDE", "UNHIDE"), needs_video=True)
        if isinstance(target, Response):
            return target
        body, comment = target
        comment.status = "HIDDEN" if body["action"] == "HIDE" else "PUBLIC"
        self.state.comment_changed(
            comment, "set_to_hidden" if comment.status == "HIDDEN" else "set_to_public"
        )
        return business_ok({})

    def comment_pin(self, request: Request) -> Response:
        target = self._action_target(request, ("PIN", "UNPIN"), needs_video=True)
        if isinstance(target, Response):
            return target
        body, comment = target
        if comment.parent_comment_id is not None:
            return business_error(40002, "Only top-level comments can be pinned.")
        if body["action"] == "PIN":
            for other_id in self.state.video_comments.get(comment.video_id, []):
                self.state.comments[other_id].pinned = False
        comment.pinned = body["action"] == "PIN"
        return business_ok({})

    def comment_like(self, request: Request) -> Response:
        target = self._action_target(request, ("LIKE", "UNLIKE"), needs_video=False)
        if isinstance(target, Response):
            return target
        body, comment = target
        want = body["action"] == "LIKE"
        if want != comment.liked:
            comment.likes += 1 if want else -1
        comment.liked = want
        return business_ok({})

    def comment_delete(self, request: Request) -> Response:
        target = self._action_target(request, ("", ""), needs_video=False)
        if isinstance(target, Response):
            return target
        _, comment = target
        if not comment.owner:
            return business_error(
                40002, "Only comments posted by the business account can be deleted."
            )
        comment.deleted = True
        self.state.comment_changed(comment, "delete")
        for reply_id in comment.reply_ids:
            self.state.comments[reply_id].deleted = True
        return business_ok({})

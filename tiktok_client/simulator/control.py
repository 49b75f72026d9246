"""``/_sim/...`` JSON endpoints so other processes (Celery workers, browsers, benchmarks)
can drive the simulator the same way in-process tests use ``app.state``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.faults import FAULT_KINDS
from tiktok_client.simulator.models import SimApp
from tiktok_client.simulator.state import APPROVED_SCOPES, DEFAULT_CLIENT_KEY
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.app import SimulatorApp

CONFIG_KEYS = {
    "token_profile": str,
    "strict_rotation": bool,
    "moderation_delay": float,
    "auth_code_ttl": float,
    "upload_url_ttl": float,
    "min_processing_seconds": float,
    "download_seconds": float,
    "daily_post_cap": int,
    "pending_share_cap": int,
    "unaudited_user_cap": int,
    "timeout_stall_seconds": float,
    "public_base_url": str,
    "loopback_redirect_any_port": bool,
}


def _bad(message: str, status: int = 400) -> Response:
    return Response.json({"ok": False, "error": message}, status)


def _ok(**payload: Any) -> Response:
    return Response.json({"ok": True, **payload})


def dispatch_control(app: SimulatorApp, request: Request) -> Response:
    state = app.state
    path = request.path
    body = request.json() if request.method == "POST" else None
    if request.method == "POST" and not isinstance(body, dict):
        body = {} if not request.body else None
        if body is None:
            return _bad("body must be a JSON object")
    data: dict[str, Any] = body or {}

    if (request.method, path) == ("GET", "/_sim/health"):
        return _ok(now=state.now())
    if (request.method, path) == ("GET", "/_sim/state"):
        state.tick()
        return _ok(**state.snapshot())
    if (request.method, path) == ("GET", "/_sim/creators"):
        return _ok(creators=[c.to_json() for c in state.creators.values()])
    if (request.method, path) == ("GET", "/_sim/counters"):
        return _ok(**state.counters.snapshot())
    if (request.method, path) == ("GET", "/_sim/clock"):
        return _ok(now=state.now(), speed=state.clock.speed)
    if request.method != "POST":
        return _bad(f"unknown control endpoint {request.method} {path}", 404)

    try:
        if path == "/_sim/reset":
            state.reset()
            return _ok()
        if path == "/_sim/faults":
            kind = str(data.get("kind", ""))
            if kind not in FAULT_KINDS:
                return _bad(f"kind must be one of {sorted(FAULT_KINDS)}")
            count = data.get("count", 1)
            fault = state.faults.add(
                str(data.get("endpoint", "*")),
                kind,
                count=None if count is None else int(count),
                seconds=float(data.get("seconds", 0.0)),
                fail_reason=str(data.get("fail_reason", "internal")),
                open_id=data.get("open_id"),
            )
            return _ok(fault=fault.to_json())
        if path == "/_sim/faults/clear":
            state.faults.clear()
            return _ok()
        if path == "/_sim/latency":
            state.faults.latency_seconds = float(data.get("seconds", 0.0))
            return _ok(seconds=state.faults.latency_seconds)
        if path == "/_sim/counters/reset":
            state.counters.reset()
            return _ok()
        if path == "/_sim/clock/advance":
            return _ok(now=state.clock.advance(float(data.get("seconds", 0.0))))
        if path == "/_sim/clock/speed":
            state.clock.set_speed(float(data.get("speed", 1.0)))
            return _ok(speed=state.clock.speed)
        if path == "/_sim/moderation_delay":
            state.settings.moderation_delay = float(data.get("seconds", 0.0))
            return _ok(seconds=state.settings.moderation_delay)
        if path == "/_sim/config":
            for key, value in data.items():
                if key not in CONFIG_KEYS:
                    return _bad(f"unknown setting {key}")
                if key == "token_profile" and value not in ("A", "B"):
                    return _bad("token_profile must be A or B")
                setattr(state.settings, key, None if value is None else CONFIG_KEYS[key](value))
            return _ok(settings=state.settings.to_json())
        if path == "/_sim/tokens/issue":
            open_id = str(data.get("open_id", ""))
            if open_id not in state.creators:
                return _bad("unknown open_id", 404)
            scopes = data.get("scopes") or sorted(APPROVED_SCOPES)
            client_key = str(data.get("client_key", DEFAULT_CLIENT_KEY))
            if client_key not in state.apps:
                return _bad("unknown client_key", 404)
            return _ok(
                token=state.issue_tokens(
                    open_id=open_id, scopes=tuple(scopes), client_key=client_key
                )
            )
        if path == "/_sim/tokens/revoke":
            if "access_token" in data:
                token = state.access_tokens.get(str(data["access_token"]))
                if token is None:
                    return _bad("unknown access_token", 404)
                return _ok(revoked=state.revoke_grant(open_id=token.open_id))
            return _ok(revoked=state.revoke_grant(open_id=str(data.get("open_id", ""))))
        if path == "/_sim/tokens/expire":
            state.expire_tokens(open_id=str(data.get("open_id", "")))
            return _ok()
        if path == "/_sim/inbox/resolve":
            publish = state.resolve_inbox(str(data.get("publish_id")), str(data.get("action")))
            return _ok(status=publish.status, video_id=publish.video_id)
        if path == "/_sim/clients":
            key = str(data.get("client_key", ""))
            existing = state.apps.get(key)
            state.apps[key] = SimApp(
                client_key=key,
                client_secret=str(
                    data.get("client_secret", existing.client_secret if existing else "")
                ),
                redirect_uris=list(
                    data.get("redirect_uris", existing.redirect_uris if existing else [])
                ),
                approved_scopes=frozenset(data.get("approved_scopes", APPROVED_SCOPES)),
                audited=bool(data.get("audited", True)),
                active_user_cap=data.get("active_user_cap"),
                verified_url_prefixes=tuple(
                    data.get("verified_url_prefixes", ("https://media.later.test/",))
                ),
            )
            return _ok(client_key=key)
        if path == "/_sim/comments/fan":
            video = state.videos.get(str(data.get("video_id", "")))
            if video is None:
                return _bad("unknown video_id", 404)
            parent = data.get("parent_comment_id")
            comment = state.add_comment(
                video=video,
                text=str(data.get("text", "Hello from a fan")),
                parent_id=str(parent) if parent else None,
                by_owner=False,
            )
            return _ok(comment_id=comment.comment_id)
    except (KeyError, ValueError, TypeError) as exc:
        return _bad(f"invalid request: {exc}")
    return _bad(f"unknown control endpoint {path}", 404)

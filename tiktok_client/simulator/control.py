"""``/_sim/...`` JSON endpoints so other processes (Celery workers, browsers, benchmarks) can
drive the simulator the way in-process tests use ``app.state``. One route table; each handler
reads its JSON body and answers ``{"ok": true, ...}`` or 4xx ``{"ok": false, "error": ...}``."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tiktok_client.simulator.faults import FAULT_KINDS
from tiktok_client.simulator.models import RedirectUriRefused, SimApp
from tiktok_client.simulator.rules import BUSINESS_SCOPES, LOGIN_KIT_SCOPES
from tiktok_client.simulator.settings import SimSettings
from tiktok_client.simulator.webhooks import WebhookSettings
from tiktok_client.simulator.wsgi_io import Request, Response

if TYPE_CHECKING:
    from tiktok_client.simulator.state import SimState

Body = dict[str, Any]
ControlHandler = Callable[[Body], Response]


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def ok(**payload: Any) -> Response:
    return Response.json({"ok": True, **payload})


def bad(message: str, status: int = 400) -> Response:
    return Response.json({"ok": False, "error": message}, status)


def _coerce(kind: Any, value: Any) -> Any:
    """Turn a JSON value into a settings field's type (``float | None``, ``bool``, ...)."""
    if value is None:
        return None
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is typing.Literal:
        if value not in typing.get_args(kind):
            raise ControlError(f"must be one of {typing.get_args(kind)}")
        return value
    if kind is bool and not isinstance(value, bool):
        raise ControlError("must be true or false")
    return kind(value)


def _apply(obj: Any, types: dict[str, Any], data: Body) -> None:
    for key, value in data.items():
        if key not in types:
            raise ControlError(f"unknown setting {key}")
        try:
            setattr(obj, key, _coerce(types[key], value))
        except ControlError as exc:
            raise ControlError(f"{key} {exc}") from exc


class SimControl:
    # Runs without the state lock: it waits for the sender thread, which needs the lock.
    UNLOCKED = frozenset({("POST", "/_sim/webhooks/flush")})

    def __init__(self, state: SimState) -> None:
        self.state = state

    def routes(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        table: dict[tuple[str, str], ControlHandler] = {
            ("GET", "/_sim/health"): lambda _: ok(now=self.state.now()),
            ("GET", "/_sim/state"): self.snapshot,
            ("GET", "/_sim/creators"): self.creators,
            ("GET", "/_sim/apps"): self.apps,
            ("GET", "/_sim/counters"): lambda _: ok(**self.state.counters.snapshot()),
            ("GET", "/_sim/clock"): lambda _: ok(
                now=self.state.now(), speed=self.state.clock.speed
            ),
            ("GET", "/_sim/webhooks"): self.webhook_log,
            ("POST", "/_sim/reset"): self.reset,
            ("POST", "/_sim/faults"): self.add_fault,
            ("POST", "/_sim/faults/clear"): self.clear_faults,
            ("POST", "/_sim/latency"): self.latency,
            ("POST", "/_sim/counters/reset"): self.reset_counters,
            ("POST", "/_sim/clock/advance"): self.advance,
            ("POST", "/_sim/clock/speed"): self.speed,
            ("POST", "/_sim/moderation_delay"): self.moderation_delay,
            ("POST", "/_sim/config"): self.config,
            ("POST", "/_sim/tokens/issue"): self.issue,
            ("POST", "/_sim/tokens/revoke"): self.revoke,
            ("POST", "/_sim/tokens/expire"): self.expire,
            ("POST", "/_sim/authorizations/remove"): self.user_disconnects,
            ("POST", "/_sim/inbox/resolve"): self.resolve_inbox,
            ("POST", "/_sim/clients"): self.register_app,
            ("POST", "/_sim/url_properties"): self.url_properties,
            ("POST", "/_sim/comments/fan"): self.fan_comment,
            ("POST", "/_sim/videos/withdraw"): self.withdraw_video,
            ("POST", "/_sim/webhooks/config"): self.webhook_config,
            ("POST", "/_sim/webhooks/flush"): self.webhook_flush,
        }
        return {route: self._wrap(handler) for route, handler in table.items()}

    def _wrap(self, handler: ControlHandler) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            body: Any = {}
            if request.method == "POST" and request.body:
                body = request.json()
                if not isinstance(body, dict):
                    return bad("body must be a JSON object")
            try:
                return handler(body)
            except ControlError as exc:
                return bad(str(exc), exc.status)
            except (KeyError, ValueError, TypeError) as exc:
                return bad(f"invalid request: {exc}")

        return run

    # ------------------------------------------------------------------ inspection

    def snapshot(self, _: Body) -> Response:
        self.state.tick()
        return ok(**self.state.snapshot())

    def creators(self, _: Body) -> Response:
        state = self.state
        return ok(
            creators=[
                {**c.to_json(), "open_ids": state.creator_open_ids(c.open_id)}
                for c in state.creators.values()
            ]
        )

    def apps(self, _: Body) -> Response:
        return ok(apps=self.state.snapshot()["apps"])

    # ------------------------------------------------------------------ knobs

    def reset(self, _: Body) -> Response:
        self.state.reset()
        return ok()

    def add_fault(self, data: Body) -> Response:
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            return bad(f"kind must be one of {sorted(FAULT_KINDS)}")
        count = data.get("count", 1)
        fault = self.state.faults.add(
            str(data.get("endpoint", "*")),
            kind,
            count=None if count is None else int(count),
            seconds=float(data.get("seconds", 0.0)),
            fail_reason=str(data.get("fail_reason", "internal")),
            open_id=data.get("open_id"),
            code=data.get("code"),
            status=None if data.get("status") is None else int(data["status"]),
        )
        return ok(fault=fault.to_json())

    def clear_faults(self, _: Body) -> Response:
        self.state.faults.clear()
        return ok()

    def latency(self, data: Body) -> Response:
        self.state.faults.latency_seconds = float(data.get("seconds", 0.0))
        return ok(seconds=self.state.faults.latency_seconds)

    def reset_counters(self, _: Body) -> Response:
        self.state.counters.reset()
        return ok()

    def advance(self, data: Body) -> Response:
        return ok(now=self.state.clock.advance(float(data.get("seconds", 0.0))))

    def speed(self, data: Body) -> Response:
        self.state.clock.set_speed(float(data.get("speed", 1.0)))
        return ok(speed=self.state.clock.speed)

    def moderation_delay(self, data: Body) -> Response:
        self.state.settings.moderation_delay = float(data.get("seconds", 0.0))
        return ok(seconds=self.state.settings.moderation_delay)

    def config(self, data: Body) -> Response:
        _apply(self.state.settings, SimSettings.field_types(), data)
        return ok(settings=self.state.settings.to_json())

    # ------------------------------------------------------------------ tokens and apps

    def issue(self, data: Body) -> Response:
        """Skip the consent page: a token pair for a seeded creator from any app. Login Kit
        apps answer the flat OAuth shape, Business apps the ``/tt_user/oauth2/token/`` data."""
        state = self.state
        open_id = str(data.get("open_id", ""))
        if open_id not in state.creators:
            raise ControlError("unknown open_id (use the creator key, e.g. sim-ava-public)", 404)
        client_key = str(data.get("client_key") or data.get("app_id") or "sim-client-key")
        app = state.apps.get(client_key)
        if app is None:
            raise ControlError("unknown client_key", 404)
        scopes = tuple(data.get("scopes") or sorted(state.approved_scopes(app)))
        unapproved = sorted(set(scopes) - state.approved_scopes(app))
        if unapproved:
            raise ControlError(f"scopes not approved for {client_key}: {unapproved}")
        if app.kind == "business":
            return ok(
                token=state.issue_business_tokens(
                    creator_id=open_id, scopes=scopes, app_id=client_key
                )
            )
        return ok(token=state.issue_tokens(open_id=open_id, scopes=scopes, client_key=client_key))

    def revoke(self, data: Body) -> Response:
        state = self.state
        if "access_token" in data:
            token = state.access_tokens.get(str(data["access_token"]))
            if token is None:
                raise ControlError("unknown access_token", 404)
            return ok(revoked=state.revoke_grant(open_id=token.open_id))
        return ok(
            revoked=state.revoke_grant(
                open_id=str(data.get("open_id", "")), client_key=data.get("client_key")
            )
        )

    def user_disconnects(self, data: Body) -> Response:
        """The user removes the app in TikTok: tokens die, ``authorization.removed`` is sent
        with ``reason`` (default 1, user disconnected; §2.8)."""
        revoked = self.state.revoke_grant(
            open_id=str(data["open_id"]),
            client_key=data.get("client_key"),
            reason=int(data.get("reason", 1)),
        )
        return ok(revoked=revoked)

    def expire(self, data: Body) -> Response:
        self.state.expire_tokens(
            open_id=str(data.get("open_id", "")), client_key=data.get("client_key")
        )
        return ok()

    def register_app(self, data: Body) -> Response:
        state = self.state
        key = str(data.get("client_key") or data.get("app_id") or "")
        if not key:
            raise ControlError("client_key (or app_id) is required")
        existing = state.apps.get(key)
        kind = str(data.get("kind", existing.kind if existing else "login_kit"))
        if kind not in ("login_kit", "business"):
            raise ControlError("kind must be login_kit or business")
        allowed = LOGIN_KIT_SCOPES if kind == "login_kit" else BUSINESS_SCOPES
        approved = frozenset(data.get("approved_scopes", allowed))
        if not approved <= allowed:
            raise ControlError(f"a {kind} app cannot be approved for {sorted(approved - allowed)}")
        redirect_uris = data.get("redirect_uris", existing.redirect_uris if existing else [])
        if not isinstance(redirect_uris, list) or not all(
            isinstance(u, str) for u in redirect_uris
        ):
            raise ControlError("redirect_uris must be a list of URLs")
        try:
            # The simulator's stand-in for the developer portal: its redirect URI rules apply.
            state.apps[key] = SimApp(
                client_key=key,
                client_secret=str(
                    data.get("client_secret", existing.client_secret if existing else "")
                ),
                redirect_uris=list(redirect_uris),
                approved_scopes=approved,
                kind="business" if kind == "business" else "login_kit",
                webhook_url=data.get("webhook_url", existing.webhook_url if existing else None),
                audited=bool(data.get("audited", True)),
                active_user_cap=data.get("active_user_cap"),
                verified_url_prefixes=tuple(
                    data.get("verified_url_prefixes", ("https://media.later.test/",))
                ),
            )
        except RedirectUriRefused as exc:
            raise ControlError(str(exc)) from exc
        return ok(client_key=key)

    def url_properties(self, data: Body) -> Response:
        """``{"properties": [...], "client_key"?: key (default: every app)}``: the URL prefixes
        (``https://…/``) and domains verified for PULL_FROM_URL (§2.6, §4.4 URL properties)."""
        raw = data.get("properties")
        if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
            raise ControlError("properties must be a list of URL prefixes or domains")
        for prop in raw:
            is_prefix = prop.startswith(("http://", "https://"))
            if is_prefix and not (prop.startswith("https://") and prop.endswith("/")):
                raise ControlError(f"{prop}: a URL prefix is https and ends with /")
        key = data.get("client_key")
        if key is not None and key not in self.state.apps:
            raise ControlError("unknown client_key", 404)
        targets = [self.state.apps[key]] if key else list(self.state.apps.values())
        for app in targets:
            app.verified_url_prefixes = tuple(raw)
        return ok(properties={a.client_key: list(a.verified_url_prefixes) for a in targets})

    # ------------------------------------------------------------------ the simulated world

    def resolve_inbox(self, data: Body) -> Response:
        publish = self.state.resolve_inbox(str(data.get("publish_id")), str(data.get("action")))
        return ok(status=publish.status, video_id=publish.video_id)

    def fan_comment(self, data: Body) -> Response:
        state = self.state
        video = state.videos.get(str(data.get("video_id", "")))
        if video is None:
            raise ControlError("unknown video_id", 404)
        parent = data.get("parent_comment_id")
        comment = state.add_comment(
            video=video,
            text=str(data.get("text", "Hello from a fan")),
            parent_id=str(parent) if parent else None,
            by_owner=False,
        )
        return ok(comment_id=comment.comment_id)

    def withdraw_video(self, data: Body) -> Response:
        """The creator makes a published post private: ``…no_longer_publicaly_available``."""
        video_id = str(data.get("video_id", ""))
        if video_id not in self.state.videos:
            raise ControlError("unknown video_id", 404)
        publish = self.state.withdraw_public_post(video_id)
        return ok(publish_id=publish.publish_id if publish else None)

    # ------------------------------------------------------------------ webhooks

    def webhook_config(self, data: Body) -> Response:
        """``{"callback_url": url, "client_key"?: key (default: every app)}`` and/or any
        ``WebhookSettings`` field (delays, duplicates, reorder, drop_rate, ...)."""
        state = self.state
        data = dict(data)
        if "callback_url" in data:
            url = data.pop("callback_url")
            key = data.pop("client_key", None)
            targets = [state.apps[key]] if key else list(state.apps.values())
            for app in targets:
                app.webhook_url = url or None
        types = {name: kind for name, kind in typing.get_type_hints(WebhookSettings).items()}
        _apply(state.webhooks.settings, types, data)
        if any(app.webhook_url for app in state.apps.values()):
            state.webhooks.ensure_running()
        return ok(
            settings=state.webhooks.settings.to_json(),
            callbacks={a.client_key: a.webhook_url for a in state.apps.values()},
        )

    def webhook_log(self, _: Body) -> Response:
        return ok(deliveries=self.state.webhooks.log())

    def webhook_flush(self, data: Body) -> Response:
        done = self.state.webhooks.flush(float(data.get("timeout", 10.0)))
        return ok(flushed=done, deliveries=self.state.webhooks.log())

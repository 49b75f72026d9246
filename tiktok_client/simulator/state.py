"""All simulator state behind one lock: apps, creators, tokens, publishes, videos, comments."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tiktok_client.simulator.clock import SimClock
from tiktok_client.simulator.content import SimContent, seeded_creators
from tiktok_client.simulator.envelopes import log_id
from tiktok_client.simulator.faults import SimCounters, SimFaults
from tiktok_client.simulator.models import (
    AccessToken,
    AuthCode,
    Creator,
    Publish,
    RefreshToken,
    SimApp,
    SimComment,
    SimVideo,
)
from tiktok_client.simulator.pipeline import PublishPipeline
from tiktok_client.simulator.rules import (
    BUSINESS_SCOPES,
    BUSINESS_TOKEN_LIFETIMES,
    LOGIN_KIT_SCOPES,
    TOKEN_PROFILES,
)
from tiktok_client.simulator.settings import MB, SimSettings
from tiktok_client.simulator.webhooks import WebhookSender

DAY = 86400.0
DEFAULT_CLIENT_KEY = "sim-client-key"
DEFAULT_CLIENT_SECRET = "sim-client-secret"
DEFAULT_BUSINESS_APP_ID = "sim-business-app-id"
DEFAULT_BUSINESS_APP_SECRET = "sim-business-app-secret"
# The quick start's callbacks (`make run`); http and the port pass under the simulator's
# local-development allowance (rules.LOCAL_DEVELOPMENT_HOSTS).
DEFAULT_REDIRECT_URIS = [
    "http://localhost:8000/connect/tiktok/callback/",
    "http://127.0.0.1:8000/connect/tiktok/callback/",
]
DEFAULT_BUSINESS_REDIRECT_URIS = [
    *DEFAULT_REDIRECT_URIS,
    "http://localhost:8000/connect/tiktok/business/callback/",
    "http://127.0.0.1:8000/connect/tiktok/business/callback/",
]
# Kept for callers of the old module: what the default Login Kit app may be granted.
APPROVED_SCOPES = LOGIN_KIT_SCOPES
__all__ = ["MB", "SimSettings", "SimState", "log_id"]


def default_apps() -> dict[str, SimApp]:
    return {
        DEFAULT_CLIENT_KEY: SimApp(
            client_key=DEFAULT_CLIENT_KEY,
            client_secret=DEFAULT_CLIENT_SECRET,
            redirect_uris=list(DEFAULT_REDIRECT_URIS),
            approved_scopes=LOGIN_KIT_SCOPES,
        ),
        DEFAULT_BUSINESS_APP_ID: SimApp(
            client_key=DEFAULT_BUSINESS_APP_ID,
            client_secret=DEFAULT_BUSINESS_APP_SECRET,
            redirect_uris=list(DEFAULT_BUSINESS_REDIRECT_URIS),
            approved_scopes=BUSINESS_SCOPES,
            kind="business",
        ),
    }


@dataclass
class SimState(SimContent, PublishPipeline):
    seed: int = 1234
    clock: SimClock = field(default_factory=SimClock)
    settings: SimSettings = field(default_factory=SimSettings)
    faults: SimFaults = field(default_factory=SimFaults)
    counters: SimCounters = field(default_factory=SimCounters)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.webhooks = WebhookSender(self.clock, self.lock, faults=self.faults, tick=self.tick)
        self._reset_data()

    # ------------------------------------------------------------------ lifecycle

    def _reset_data(self) -> None:
        self.creators: dict[str, Creator] = {c.open_id: c for c in seeded_creators()}
        self.apps: dict[str, SimApp] = default_apps()
        self.codes: dict[str, AuthCode] = {}
        # (app, creator key) -> scopes the creator has authorized (auto-authorization, oauth.py)
        self.consents: dict[tuple[str, str], frozenset[str]] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.publishes: dict[str, Publish] = {}
        self.uploads: dict[str, str] = {}
        self.videos: dict[str, SimVideo] = {}
        self.comments: dict[str, SimComment] = {}
        self.video_comments: dict[str, list[str]] = {}
        self.rate_windows: dict[tuple[str, str], deque[float]] = {}
        self.direct_posts: list[tuple[float, str, str]] = []  # (time, creator, client_key)
        self._sequence = 0
        self._flow_cache: dict[tuple[str, dt.date], tuple[int, int]] = {}
        self._followers_cache: dict[tuple[str, dt.date], int] = {}
        self._rng = random.Random(f"{self.seed}:runtime")
        self.epoch = self.clock.now()
        for creator in self.creators.values():
            self._seed_videos(creator)

    def reset(self) -> None:
        with self.lock:
            self.clock = SimClock(speed=self.clock.speed)
            self.settings = SimSettings(public_base_url=self.settings.public_base_url)
            self.faults.clear()
            self.counters.reset()
            self.webhooks.reset(self.clock)
            self._reset_data()

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def now(self) -> float:
        return self.clock.now()

    # ------------------------------------------------------------------ apps and open_ids

    def app_kind(self, client_key: str) -> str | None:
        app = self.apps.get(client_key)
        return app.kind if app else None

    def approved_scopes(self, app: SimApp) -> frozenset[str]:
        return app.approved_scopes

    def open_id_for(self, creator_id: str, client_key: str) -> str:
        """open_ids are per app (Corrections): the default Login Kit app sees the creator key,
        every other app a stable UUID of its own."""
        if client_key == DEFAULT_CLIENT_KEY:
            return creator_id
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tiktok-sim:{client_key}:{creator_id}"))

    def creator_by_open_id(self, open_id: str, client_key: str) -> Creator | None:
        for creator in self.creators.values():
            if self.open_id_for(creator.open_id, client_key) == open_id:
                return creator
        return None

    # ------------------------------------------------------------------ Login Kit tokens

    def issue_tokens(
        self,
        *,
        open_id: str,
        scopes: tuple[str, ...] | list[str],
        client_key: str = DEFAULT_CLIENT_KEY,
        refresh_expires_at: float | None = None,
    ) -> dict[str, Any]:
        """Mint a Login Kit token pair for creator ``open_id`` (the creator key); returns the
        flat OAuth token response (§1.3)."""
        access_ttl, refresh_ttl = TOKEN_PROFILES[self.settings.token_profile]
        access, refresh = self._mint(
            creator_id=open_id,
            client_key=client_key,
            scopes=tuple(scopes),
            access_ttl=access_ttl,
            refresh_expires_at=refresh_expires_at or self.now() + refresh_ttl,
        )
        return {
            "access_token": access.token,
            "expires_in": access_ttl,
            "open_id": access.open_id,
            "refresh_expires_in": max(round(refresh.expires_at - self.now()), 0),
            "refresh_token": refresh.token,
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }

    def issue_business_tokens(
        self,
        *,
        creator_id: str,
        scopes: tuple[str, ...] | list[str],
        app_id: str = DEFAULT_BUSINESS_APP_ID,
        refresh_expires_at: float | None = None,
    ) -> dict[str, Any]:
        """Mint a Business token pair; returns the ``data`` of ``/tt_user/oauth2/token/``."""
        access_ttl, refresh_ttl = BUSINESS_TOKEN_LIFETIMES
        access, refresh = self._mint(
            creator_id=creator_id,
            client_key=app_id,
            scopes=tuple(scopes),
            access_ttl=access_ttl,
            refresh_expires_at=refresh_expires_at or self.now() + refresh_ttl,
        )
        return {
            "access_token": access.token,
            "expires_in": access_ttl,
            "open_id": access.open_id,
            "refresh_token": refresh.token,
            "refresh_token_expires_in": max(round(refresh.expires_at - self.now()), 0),
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }

    def _mint(
        self,
        *,
        creator_id: str,
        client_key: str,
        scopes: tuple[str, ...],
        access_ttl: int,
        refresh_expires_at: float,
    ) -> tuple[AccessToken, RefreshToken]:
        unapproved = sorted(set(scopes) - self.approved_scopes(self.apps[client_key]))
        if unapproved:
            # Corrections "Two apps": no path to a token, consent page or not, grants these.
            raise ValueError(f"scopes not approved for {client_key}: {','.join(unapproved)}")
        open_id = self.open_id_for(creator_id, client_key)
        access = AccessToken(
            token=f"act.{secrets.token_urlsafe(30)}",
            client_key=client_key,
            open_id=open_id,
            scopes=scopes,
            expires_at=self.now() + access_ttl,
            creator_id=creator_id,
        )
        refresh = RefreshToken(
            token=f"rft.{secrets.token_urlsafe(30)}",
            client_key=client_key,
            open_id=open_id,
            scopes=scopes,
            expires_at=refresh_expires_at,
            creator_id=creator_id,
        )
        self.access_tokens[access.token] = access
        self.refresh_tokens[refresh.token] = refresh
        return access, refresh

    def revoke_grant(
        self, *, open_id: str, client_key: str | None = None, reason: int | None = None
    ) -> int:
        """Revoke every token of the user (creator key or an app's open_id) for one app or all.
        With ``reason`` the app(s) get ``authorization.removed`` (§2.8)."""
        revoked = 0
        apps: dict[str, str] = {}  # client_key -> creator key
        tokens: list[AccessToken | RefreshToken] = [
            *self.access_tokens.values(),
            *self.refresh_tokens.values(),
        ]
        for token in tokens:
            if open_id not in (token.open_id, token.creator_id):
                continue
            if client_key not in (None, token.client_key) or token.revoked:
                continue
            token.revoked = True
            revoked += 1
            apps[token.client_key] = token.creator_id
        for key, creator_id in apps.items():
            self.consents.pop((key, creator_id), None)
        if reason is not None:
            for key, creator_id in sorted(apps.items()):
                self.webhooks.emit(
                    app=self.apps[key],
                    event="authorization.removed",
                    user_openid=self.open_id_for(creator_id, key),
                    content={"reason": reason},
                )
        for key, creator_id in sorted(apps.items()):
            self.fail_unfinished_publishes(creator_id=creator_id, client_key=key)
        return revoked

    def expire_tokens(self, *, open_id: str, client_key: str | None = None) -> None:
        now = self.now()
        for token in self.access_tokens.values():
            if open_id in (token.open_id, token.creator_id) and client_key in (
                None,
                token.client_key,
            ):
                token.expires_at = min(token.expires_at, now - 1)

    def token_open_id(self, token: str) -> str | None:
        """The creator key behind an access token (for per-user counters and faults)."""
        record = self.access_tokens.get(token)
        return record.creator_id if record else None

    def live_access_token(self, token: str) -> AccessToken | None:
        record = self.access_tokens.get(token)
        if record is None or record.revoked or record.expires_at <= self.now():
            return None
        return record

    def rate_limited(self, token: str, endpoint: str, limit: int) -> float:
        """Record one call; return seconds until retry when over the 60 s sliding window."""
        now = self.now()
        window = self.rate_windows.setdefault((token, endpoint), deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            return max(window[0] + 60 - now, 1.0)
        window.append(now)
        return 0.0

    # ------------------------------------------------------------------ webhooks

    def publish_event(self, p: Publish, event: str, content: dict[str, Any]) -> None:
        self.webhooks.emit(
            app=self.apps[p.client_key],
            event=event,
            user_openid=self.open_id_for(p.open_id, p.client_key),
            content=content,
        )

    def comment_changed(self, comment: SimComment, action: str) -> None:
        """Business ``comment.update`` (§4.6) to every Business app the creator authorized."""
        video = self.videos[comment.video_id]
        granted = {
            t.client_key
            for t in self.refresh_tokens.values()
            if t.creator_id == video.open_id
            and not t.revoked
            and self.app_kind(t.client_key) == "business"
        }
        content = {
            "comment_id": comment.comment_id,
            "video_id": comment.video_id,
            "parent_comment_id": comment.parent_comment_id or comment.comment_id,
            "comment_type": "reply" if comment.parent_comment_id else "comment",
            "comment_action": action,
            "unique_identifier": comment.unique_identifier,
            "timestamp": int(self.now()),
        }
        for key in sorted(granted):
            self.webhooks.emit(
                app=self.apps[key],
                event="comment.update",
                user_openid=self.open_id_for(video.open_id, key),
                content=content,
            )

    # ------------------------------------------------------------------ inspection

    def snapshot(self) -> dict[str, Any]:
        return {
            "now": self.now(),
            "speed": self.clock.speed,
            "settings": self.settings.to_json(),
            "creators": [c.to_json() for c in self.creators.values()],
            "apps": [
                {
                    "client_key": a.client_key,
                    "kind": a.kind,
                    "redirect_uris": a.redirect_uris,
                    "audited": a.audited,
                    "approved_scopes": sorted(self.approved_scopes(a)),
                    "verified_url_prefixes": list(a.verified_url_prefixes),
                    "webhook_url": a.webhook_url,
                }
                for a in self.apps.values()
            ],
            "faults": [f.to_json() for f in self.faults.active()],
            "publishes": {
                pid: {
                    "open_id": p.open_id,
                    "kind": p.kind,
                    "status": p.status,
                    "fail_reason": p.fail_reason,
                    "video_id": p.video_id,
                    "uploaded_bytes": p.uploaded_bytes,
                }
                for pid, p in self.publishes.items()
            },
        }

    def creator_open_ids(self, creator_id: str) -> dict[str, str]:
        """The creator's open_id in each registered app."""
        return {key: self.open_id_for(creator_id, key) for key in self.apps}

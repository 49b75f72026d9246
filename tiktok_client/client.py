"""Thin, ORM-free HTTP client for TikTok's Login Kit, Content Posting, Display and Business APIs.

Every call goes through ``TikTokClient._request``: one place with a mandatory timeout, the
client-side rate budgets (per token, and per app for the API for Business), and the mapping of
every failure to ``tiktok_client.errors``.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx

from tiktok_client.chunks import plan_chunks
from tiktok_client.config import TikTokConfig
from tiktok_client.errors import (
    TikTokAppBudgetSpent,
    TikTokError,
    TikTokOAuthError,
    TikTokRateLimited,
    TikTokRequestNotSent,
    TikTokResponseUnreadable,
    TikTokUnavailable,
    TikTokUploadError,
    error_from_business,
    error_from_v2,
)
from tiktok_client.pkce import pkce_pair
from tiktok_client.ratelimit import (
    AppBudget,
    InMemoryRateLimiter,
    RateLimiter,
    business_family,
)
from tiktok_client.schemas import (
    BusinessAccount,
    BusinessPublishStatus,
    BusinessVideoPage,
    ChunkPlan,
    Comment,
    CommentPage,
    CreatorInfo,
    HashtagSuggestion,
    JsonDict,
    PhotoPostInfo,
    PostInfo,
    PublishInit,
    PublishStatus,
    TokenSet,
    UserInfo,
    VideoPage,
)

logger = logging.getLogger("tiktok_client")

Surface = Literal["oauth", "v2", "business", "upload"]

DEFAULT_VIDEO_FIELDS: tuple[str, ...] = (
    "id",
    "create_time",
    "title",
    "video_description",
    "duration",
    "cover_image_url",
    "share_url",
    "embed_link",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
)
DEFAULT_BUSINESS_VIDEO_FIELDS: tuple[str, ...] = (
    "item_id",
    "create_time",
    "caption",
    "thumbnail_url",
    "share_url",
    "video_views",
    "likes",
    "comments",
    "shares",
    "reach",
    "average_time_watched",
    "full_video_watched_rate",
    "total_time_watched",
    "impression_sources",
    "new_followers",
    "video_view_retention",
    "audience_types",
)
#: Which Business scope each ``/business/get/`` field needs (Corrections: scopes are per field).
BUSINESS_FIELD_SCOPES: dict[str, str] = {
    "is_business_account": "user.account.type",
    "username": "user.info.username",
    "display_name": "user.info.profile",
    "profile_image": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "bio_description": "user.info.profile",
    "is_verified": "user.info.profile",
    "followers_count": "user.info.stats",
    "following_count": "user.info.stats",
    "total_likes": "user.info.stats",
    "videos_count": "user.info.stats",
}
DEFAULT_RETRY_AFTER_SECONDS = 60.0


def business_scopes_for_fields(fields: Sequence[str]) -> list[str]:
    """The scopes a ``/business/get/`` field list needs; metrics and audience: ``user.insights``."""
    return sorted({BUSINESS_FIELD_SCOPES.get(name, "user.insights") for name in fields})


__all__ = [
    "DEFAULT_BUSINESS_VIDEO_FIELDS",
    "DEFAULT_VIDEO_FIELDS",
    "TikTokClient",
    "pkce_pair",
    "plan_chunks",
]


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After")
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
        # "inf" and "nan" parse as floats, but no wait can be scheduled from them.
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return DEFAULT_RETRY_AFTER_SECONDS


def _business_budget_key(fields: Mapping[str, Any]) -> str | None:
    """The account a Business call's budget belongs to: its ``business_id``, stable across
    token refreshes (None: the token's budget)."""
    business_id = fields.get("business_id")
    return f"business_id:{business_id}" if business_id else None


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


class TikTokClient:
    """One instance per app configuration; safe to share between threads.

    `background=True` (or `for_background()`) marks the caller as background work: its
    Business calls stop at `config.business_background_ceiling` of the app's per-minute budget,
    which leaves the rest to people's actions, and are refused with `TikTokAppBudgetSpent`.
    """

    def __init__(
        self,
        config: TikTokConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        background: bool = False,
    ) -> None:
        if config.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.config = config
        self.rate_limiter: RateLimiter = rate_limiter or InMemoryRateLimiter()
        self.background = background
        self._background_view: TikTokClient | None = self if background else None
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(config.timeout_seconds),
            follow_redirects=False,
        )

    def for_background(self) -> TikTokClient:
        """This client for background passes (comment sync, analytics): the same connections
        and rate limiter, the background share of the Business app's budget."""
        view = self._background_view
        if view is None:
            view = copy.copy(self)
            view.background = True
            view._background_view = view
            self._background_view = view
        return view

    def close(self) -> None:
        """Closes the connection pool, which `for_background()` views share."""
        self._http.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ request path

    def _request(
        self,
        method: str,
        url: str,
        *,
        surface: Surface,
        access_token: str | None = None,
        family: str | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        scope: str = "",
        budget_key: str | None = None,
    ) -> Any:
        endpoint = urlsplit(url).path
        # Whose budget a call takes: the token's, or (API for Business) the account's, which
        # TikTok counts per endpoint and which a refreshed token does not start afresh.
        budget_key = budget_key or access_token
        if access_token is not None and budget_key is not None:
            app = None
            if surface == "business":
                app = self._app_budget()
                family = family or business_family(endpoint)
            self._admit(budget_key, endpoint, family, app)
        request_headers: dict[str, str] = dict(headers or {})
        if access_token is not None:
            if surface == "business":
                request_headers["Access-Token"] = access_token
            else:
                request_headers["Authorization"] = f"Bearer {access_token}"
        if json_body is not None:
            content = json.dumps(json_body).encode("utf-8")
            request_headers["Content-Type"] = "application/json; charset=UTF-8"
        try:
            response = self._http.request(
                method,
                url,
                params=params,
                data=form,
                content=content,
                headers=request_headers,
                timeout=self.config.timeout_seconds,
            )
        except httpx.TimeoutException as exc:
            logger.warning("tiktok %s %s timed out", method, endpoint)
            raise TikTokUnavailable(f"{endpoint} timed out", code="timeout") from exc
        except (httpx.TransportError, TimeoutError, ConnectionError) as exc:
            logger.warning("tiktok %s %s connection failed: %s", method, endpoint, type(exc))
            code = "timeout" if isinstance(exc, TimeoutError) else "connection_error"
            raise TikTokUnavailable(f"{endpoint}: {type(exc).__name__}", code=code) from exc

        if surface == "upload":
            return self._handle_upload(response, endpoint)
        body = _json_body(response)
        try:
            if surface == "oauth":
                result = self._handle_oauth(response, body)
            elif surface == "business":
                result = self._handle_business(response, body, scope=scope)
            else:
                result = self._handle_v2(response, body)
        except TikTokRateLimited as exc:
            if budget_key is not None:
                self._hold(budget_key, endpoint, exc.retry_after)
            raise
        logger.info("tiktok %s %s -> %s", method, endpoint, response.status_code)
        return result

    def _app_budget(self) -> AppBudget | None:
        """The Business app's per-minute window, up to this client's ceiling in it."""
        config = self.config
        if not config.business_app_id:
            return None
        ceiling = (
            config.business_background_ceiling
            if self.background
            else config.business_app_rate_limit
        )
        return AppBudget(app_id=config.business_app_id, ceiling=ceiling)

    def _admit(
        self, access_token: str, endpoint: str, family: str | None, app: AppBudget | None
    ) -> None:
        """Refuse locally while TikTok's last Retry-After for this token and endpoint runs, or
        while the token's budget for `family` or the app's budget is spent; else take one slot
        of each, in one round trip to a shared limiter's store."""
        try:
            admission = self.rate_limiter.admit(
                access_token=access_token, endpoint=endpoint, family=family, app=app
            )
        except Exception as exc:  # the shared budget's store (Redis) failed
            logger.warning("tiktok %s: rate budget unavailable: %r", endpoint, exc)
            raise TikTokRequestNotSent(
                f"{endpoint}: rate budget unavailable", code="rate_budget_unavailable"
            ) from exc
        if admission.held > 0:
            raise TikTokRateLimited(
                f"{endpoint}: TikTok asked us to wait", retry_after=admission.held, local=True
            )
        if admission.wait > 0:
            raise TikTokRateLimited(
                f"local budget for {family} exhausted",
                retry_after=max(admission.wait, admission.app_wait),
                local=True,
            )
        if admission.app_wait > 0 and app is not None:
            raise TikTokAppBudgetSpent(
                f"{endpoint}: the app's budget is spent up to "
                f"{'the background' if self.background else 'its'} ceiling ({app.ceiling}/min)",
                retry_after=admission.app_wait,
            )

    def _hold(self, access_token: str, endpoint: str, seconds: float) -> None:
        try:
            self.rate_limiter.hold(access_token=access_token, endpoint=endpoint, seconds=seconds)
        except Exception as exc:  # keep TikTok's 429 as the error the caller sees
            logger.warning("tiktok %s: could not record Retry-After: %r", endpoint, exc)

    def _fail(self, response: httpx.Response, error: TikTokError) -> TikTokError:
        # A rate limit is expected and handled (the caller backs off and resumes), so it is
        # not a warning: the quick start's first comment sync hits the Business budget.
        logger.log(
            logging.INFO if isinstance(error, TikTokRateLimited) else logging.WARNING,
            "tiktok %s %s failed: %s (HTTP %s, log_id=%s)",
            response.request.method,
            response.request.url.path,
            error.code,
            response.status_code,
            error.log_id,
        )
        return error

    def _malformed(self, response: httpx.Response) -> TikTokError:
        status = response.status_code
        if status == 429:
            error: TikTokError = TikTokRateLimited(
                "rate limited", http_status=status, retry_after=_retry_after(response)
            )
        elif status in (401, 403) or 400 <= status < 500:
            error = error_from_v2(
                code=f"http_{status}", message="unparsable body", log_id=None, http_status=status
            )
        else:
            # A complete answer arrived, so the request reached TikTok and may have been
            # acted on: a distinct type, so nobody repeats a non-idempotent call after it.
            error = TikTokResponseUnreadable(
                "TikTok returned an unparsable response",
                code="malformed_response",
                http_status=status,
            )
        return self._fail(response, error)

    def _handle_v2(self, response: httpx.Response, body: Any) -> JsonDict:
        if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
            raise self._malformed(response)
        error = body["error"]
        code = str(error.get("code", ""))
        log_id = error.get("log_id") or response.headers.get("X-Tt-Logid")
        if code == "ok" and response.status_code < 400:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        raise self._fail(
            response,
            error_from_v2(
                code=code or f"http_{response.status_code}",
                message=str(error.get("message", "")),
                log_id=str(log_id) if log_id else None,
                http_status=response.status_code,
                retry_after=_retry_after(response),
            ),
        )

    def _handle_oauth(self, response: httpx.Response, body: Any) -> JsonDict:
        if not isinstance(body, dict):
            raise self._malformed(response)
        error = body.get("error")
        # Token errors may arrive under HTTP 200, so the body decides, not the status.
        if isinstance(error, str) and error:
            log_id = body.get("log_id")
            raise self._fail(
                response,
                TikTokOAuthError(
                    str(body.get("error_description", "")),
                    code=error,
                    log_id=str(log_id) if log_id else None,
                    http_status=response.status_code,
                ),
            )
        if isinstance(error, dict) and error.get("code") not in (None, "ok"):
            return self._handle_v2(response, body)
        if response.status_code == 429:
            raise self._fail(
                response,
                TikTokRateLimited(http_status=429, retry_after=_retry_after(response)),
            )
        if response.status_code >= 500:
            raise self._fail(
                response,
                TikTokUnavailable(
                    "server error", code="internal_error", http_status=response.status_code
                ),
            )
        if response.status_code >= 400:
            raise self._malformed(response)
        return body

    def _handle_business(self, response: httpx.Response, body: Any, *, scope: str) -> JsonDict:
        if response.status_code == 429:
            raise self._fail(
                response,
                TikTokRateLimited(http_status=429, retry_after=_retry_after(response)),
            )
        if not isinstance(body, dict) or "code" not in body:
            raise self._malformed(response)
        request_id = body.get("request_id")
        try:
            code = int(body["code"])
        except (TypeError, ValueError):
            raise self._malformed(response) from None
        if code == 0 and response.status_code < 400:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        if code == 0:
            raise self._malformed(response)
        raise self._fail(
            response,
            error_from_business(
                code=code,
                message=str(body.get("message", "")),
                request_id=str(request_id) if request_id else None,
                http_status=response.status_code,
                scope=scope,
            ),
        )

    def _handle_upload(self, response: httpx.Response, endpoint: str) -> int:
        status = response.status_code
        logger.info("tiktok PUT %s -> %s", endpoint, status)
        if status in (200, 201, 206):
            return status
        if status == 403:
            raise TikTokUploadError(
                "upload URL expired or invalid", code="upload_url_expired", http_status=status
            )
        if status == 416:
            raise TikTokUploadError(
                "Content-Range does not match the upload's progress",
                code="range_mismatch",
                http_status=status,
            )
        if status == 429:
            raise TikTokRateLimited(http_status=status, retry_after=_retry_after(response))
        if status >= 500:
            raise TikTokUnavailable("upload host error", code="upload_failed", http_status=status)
        raise TikTokUploadError("upload chunk refused", code=f"http_{status}", http_status=status)

    def _open_api(self, path: str) -> str:
        return f"{self.config.open_api_base_url.rstrip('/')}{path}"

    def _business_api(self, path: str) -> str:
        return f"{self.config.business_api_base_url.rstrip('/')}{path}"

    # ------------------------------------------------------------------ Login Kit v2

    def authorize_url(
        self, *, state: str, code_challenge: str, scopes: Sequence[str] | None = None
    ) -> str:
        """Browser URL for ``GET https://www.tiktok.com/v2/auth/authorize/`` (Login Kit v2)."""
        query = {
            "client_key": self.config.client_key,
            "response_type": "code",
            "scope": ",".join(scopes if scopes is not None else self.config.scopes),
            "redirect_uri": self.config.redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            # Without it a browser signed in to TikTok silently re-authorizes the same account,
            # so "connect another account" would reconnect the first one (Corrections).
            "disable_auto_auth": "1",
        }
        base = self.config.auth_base_url.rstrip("/")
        return f"{base}/v2/auth/authorize/?{urlencode(query, safe=',')}"

    def exchange_code(self, *, code: str, code_verifier: str) -> TokenSet:
        """``POST /v2/oauth/token/`` with ``grant_type=authorization_code``."""
        body = self._request(
            "POST",
            self._open_api("/v2/oauth/token/"),
            surface="oauth",
            form={
                "client_key": self.config.client_key,
                "client_secret": self.config.client_secret,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": self.config.redirect_uri,
                "code_verifier": code_verifier,
            },
            headers={"Cache-Control": "no-cache"},
        )
        return TokenSet.from_json(body)

    def refresh_access_token(self, *, refresh_token: str) -> TokenSet:
        """``POST /v2/oauth/token/`` with ``grant_type=refresh_token``.

        TikTok rotates refresh tokens: persist the returned ``refresh_token`` atomically.
        """
        body = self._request(
            "POST",
            self._open_api("/v2/oauth/token/"),
            surface="oauth",
            form={
                "client_key": self.config.client_key,
                "client_secret": self.config.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            headers={"Cache-Control": "no-cache"},
        )
        return TokenSet.from_json(body)

    def revoke_token(self, *, access_token: str) -> None:
        """``POST /v2/oauth/revoke/``: disconnects the app from the user's account."""
        self._request(
            "POST",
            self._open_api("/v2/oauth/revoke/"),
            surface="oauth",
            form={
                "client_key": self.config.client_key,
                "client_secret": self.config.client_secret,
                "token": access_token,
            },
        )

    # ------------------------------------------------------------------ Business OAuth

    def business_authorize_url(self, *, state: str, scopes: Sequence[str] | None = None) -> str:
        """TikTok's consent page (``/v2/auth/authorize/``) for the API for Business app."""
        query = {
            "client_key": self.config.business_app_id,
            "response_type": "code",
            "scope": ",".join(scopes if scopes is not None else self.config.business_scopes),
            "redirect_uri": self.config.business_redirect_uri,
            "state": state,
            "disable_auto_auth": "1",
        }
        base = self.config.auth_base_url.rstrip("/")
        return f"{base}/v2/auth/authorize/?{urlencode(query, safe=',')}"

    def _business_oauth(self, path: str, body: Mapping[str, Any]) -> TokenSet:
        data: JsonDict = self._request(
            "POST", self._business_api(path), surface="business", json_body=dict(body)
        )
        return TokenSet.from_json(data)

    def business_exchange_code(self, *, auth_code: str) -> TokenSet:
        """``POST /tt_user/oauth2/token/``: the Business token; its ``open_id`` is the
        ``business_id`` of every Business call (open_ids are per app)."""
        return self._business_oauth(
            "/tt_user/oauth2/token/",
            {
                "client_id": self.config.business_app_id,
                "client_secret": self.config.business_app_secret,
                "grant_type": "authorization_code",
                "auth_code": auth_code,
                "redirect_uri": self.config.business_redirect_uri,
            },
        )

    def business_refresh_token(self, *, refresh_token: str) -> TokenSet:
        """``POST /tt_user/oauth2/refresh_token/``; persist the rotated refresh token."""
        return self._business_oauth(
            "/tt_user/oauth2/refresh_token/",
            {
                "client_id": self.config.business_app_id,
                "client_secret": self.config.business_app_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )

    def business_revoke_token(self, *, access_token: str) -> None:
        """``POST /tt_user/oauth2/revoke/``."""
        self._request(
            "POST",
            self._business_api("/tt_user/oauth2/revoke/"),
            surface="business",
            json_body={
                "client_id": self.config.business_app_id,
                "client_secret": self.config.business_app_secret,
                "access_token": access_token,
            },
        )

    # ------------------------------------------------------------------ Content Posting

    def query_creator_info(self, *, access_token: str) -> CreatorInfo:
        """``POST /v2/post/publish/creator_info/query/`` (fetch on every post-screen render)."""
        data = self._request(
            "POST",
            self._open_api("/v2/post/publish/creator_info/query/"),
            surface="v2",
            access_token=access_token,
            family="creator_info",
            json_body={},
        )
        return CreatorInfo.from_json(data)

    @staticmethod
    def _video_source(chunk_plan: ChunkPlan | None, video_url: str | None) -> dict[str, Any]:
        """FILE_UPLOAD with a chunk plan, or PULL_FROM_URL from a verified URL (§2.3, §2.6)."""
        if (chunk_plan is None) == (video_url is None):
            raise ValueError("give exactly one of chunk_plan and video_url")
        if video_url is not None:
            return {"source": "PULL_FROM_URL", "video_url": video_url}
        assert chunk_plan is not None
        return chunk_plan.to_source_info()

    def init_video_post(
        self,
        *,
        access_token: str,
        post_info: PostInfo,
        chunk_plan: ChunkPlan | None = None,
        video_url: str | None = None,
    ) -> PublishInit:
        """``POST /v2/post/publish/video/init/`` (Direct Post, FILE_UPLOAD or PULL_FROM_URL)."""
        data = self._request(
            "POST",
            self._open_api("/v2/post/publish/video/init/"),
            surface="v2",
            access_token=access_token,
            family="init",
            json_body={
                "post_info": post_info.to_json(),
                "source_info": self._video_source(chunk_plan, video_url),
            },
        )
        return PublishInit.from_json(data)

    def init_inbox_video(
        self,
        *,
        access_token: str,
        chunk_plan: ChunkPlan | None = None,
        video_url: str | None = None,
    ) -> PublishInit:
        """``POST /v2/post/publish/inbox/video/init/`` (draft to the creator's TikTok inbox)."""
        data = self._request(
            "POST",
            self._open_api("/v2/post/publish/inbox/video/init/"),
            surface="v2",
            access_token=access_token,
            family="init",
            json_body={"source_info": self._video_source(chunk_plan, video_url)},
        )
        return PublishInit.from_json(data)

    def init_photo_post(
        self,
        *,
        access_token: str,
        post_info: PhotoPostInfo,
        photo_urls: Sequence[str],
        cover_index: int = 0,
        direct: bool = True,
    ) -> PublishInit:
        """``POST /v2/post/publish/content/init/`` (photo post, PULL_FROM_URL only, ≤ 35
        images; ``direct=False`` sends it to the creator's inbox, which takes no post_info
        choices from us beyond the title and description)."""
        body: dict[str, Any] = {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST" if direct else "MEDIA_UPLOAD",
            "post_info": post_info.to_json(),
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": list(photo_urls),
                "photo_cover_index": cover_index,
            },
        }
        if not direct:
            body["post_info"] = {"title": post_info.title, "description": post_info.description}
        data = self._request(
            "POST",
            self._open_api("/v2/post/publish/content/init/"),
            surface="v2",
            access_token=access_token,
            family="init",
            json_body=body,
        )
        return PublishInit.from_json(data)

    def upload_chunk(
        self,
        *,
        upload_url: str,
        data: bytes,
        start: int,
        end_inclusive: int,
        total: int,
        content_type: str = "video/mp4",
    ) -> int:
        """``PUT {upload_url}`` with ``Content-Range``; returns 206 (more to come) or 201 (done)."""
        if end_inclusive - start + 1 != len(data):
            raise ValueError("chunk length does not match the byte range")
        return int(
            self._request(
                "PUT",
                upload_url,
                surface="upload",
                content=data,
                headers={
                    "Content-Type": content_type,
                    "Content-Range": f"bytes {start}-{end_inclusive}/{total}",
                },
            )
        )

    def fetch_publish_status(self, *, access_token: str, publish_id: str) -> PublishStatus:
        """``POST /v2/post/publish/status/fetch/``."""
        data = self._request(
            "POST",
            self._open_api("/v2/post/publish/status/fetch/"),
            surface="v2",
            access_token=access_token,
            family="status",
            json_body={"publish_id": publish_id},
        )
        return PublishStatus.from_json(data)

    # ------------------------------------------------------------------ Display API

    def get_user_info(self, *, access_token: str, fields: Sequence[str]) -> UserInfo:
        """``GET /v2/user/info/?fields=...``."""
        if not fields:
            raise ValueError("TikTok requires at least one field")
        data = self._request(
            "GET",
            self._open_api("/v2/user/info/"),
            surface="v2",
            access_token=access_token,
            family="display",
            params={"fields": ",".join(fields)},
        )
        user = data.get("user")
        return UserInfo.from_json(user if isinstance(user, dict) else {})

    def list_videos(
        self,
        *,
        access_token: str,
        cursor: int | None = None,
        max_count: int = 20,
        fields: Sequence[str] = DEFAULT_VIDEO_FIELDS,
    ) -> VideoPage:
        """``POST /v2/video/list/?fields=...``: newest first; ``cursor`` is a ms timestamp."""
        body: dict[str, Any] = {"max_count": max_count}
        if cursor is not None:
            body["cursor"] = cursor
        data = self._request(
            "POST",
            self._open_api("/v2/video/list/"),
            surface="v2",
            access_token=access_token,
            family="display",
            params={"fields": ",".join(fields)},
            json_body=body,
        )
        return VideoPage.from_json(data)

    # ------------------------------------------------------------------ Business API

    def _business_get(
        self, path: str, *, access_token: str, params: Mapping[str, Any], scope: str
    ) -> JsonDict:
        clean = {key: value for key, value in params.items() if value is not None}
        result: JsonDict = self._request(
            "GET",
            self._business_api(path),
            surface="business",
            access_token=access_token,
            params=clean,
            scope=scope,
            budget_key=_business_budget_key(clean),
        )
        return result

    def _business_post(
        self, path: str, *, access_token: str, body: Mapping[str, Any], scope: str
    ) -> JsonDict:
        result: JsonDict = self._request(
            "POST",
            self._business_api(path),
            surface="business",
            access_token=access_token,
            json_body=dict(body),
            scope=scope,
            budget_key=_business_budget_key(body),
        )
        return result

    def business_get_account(
        self,
        *,
        access_token: str,
        business_id: str,
        fields: Sequence[str],
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> BusinessAccount:
        """``GET /business/get/``: profile, daily ``metrics[]`` (≤60-day window) and audience.

        Daily metrics are requested by name in ``fields`` (there is no ``metrics`` field).
        """
        data = self._business_get(
            "/business/get/",
            access_token=access_token,
            scope=", ".join(business_scopes_for_fields(fields)),
            params={
                "business_id": business_id,
                "fields": json.dumps(list(fields)),
                "start_date": start_date.isoformat() if start_date else None,
                "end_date": end_date.isoformat() if end_date else None,
            },
        )
        return BusinessAccount.from_json(data)

    def business_list_videos(
        self,
        *,
        access_token: str,
        business_id: str,
        fields: Sequence[str] = DEFAULT_BUSINESS_VIDEO_FIELDS,
        cursor: int | None = None,
        max_count: int = 20,
        video_ids: Sequence[str] | None = None,
    ) -> BusinessVideoPage:
        """``GET /business/video/list/`` (per-video insights)."""
        data = self._business_get(
            "/business/video/list/",
            access_token=access_token,
            scope="video.list, video.insights",
            params={
                "business_id": business_id,
                "fields": json.dumps(list(fields)),
                "filters": json.dumps({"video_ids": list(video_ids)}) if video_ids else None,
                "cursor": cursor,
                "max_count": max_count,
            },
        )
        return BusinessVideoPage.from_json(data)

    def business_list_comments(
        self,
        *,
        access_token: str,
        business_id: str,
        video_id: str,
        cursor: int | None = None,
        max_count: int = 30,
        include_replies: bool = False,
        status: str = "ALL",
        sort_order: str = "desc",
        sort_field: str = "create_time",
    ) -> CommentPage:
        """``GET /business/comment/list/``."""
        data = self._business_get(
            "/business/comment/list/",
            access_token=access_token,
            scope="comment.list",
            params={
                "business_id": business_id,
                "video_id": video_id,
                "include_replies": json.dumps(include_replies),
                "status": status,
                "sort_field": sort_field,
                "sort_order": sort_order,
                "cursor": cursor,
                "max_count": max_count,
            },
        )
        return CommentPage.from_json(data)

    def business_list_replies(
        self,
        *,
        access_token: str,
        business_id: str,
        video_id: str,
        comment_id: str,
        cursor: int | None = None,
        max_count: int = 30,
    ) -> CommentPage:
        """``GET /business/comment/reply/list/``."""
        data = self._business_get(
            "/business/comment/reply/list/",
            access_token=access_token,
            scope="comment.list",
            params={
                "business_id": business_id,
                "video_id": video_id,
                "comment_id": comment_id,
                "cursor": cursor,
                "max_count": max_count,
            },
        )
        return CommentPage.from_json(data)

    def business_reply_to_comment(
        self, *, access_token: str, business_id: str, video_id: str, comment_id: str, text: str
    ) -> Comment:
        """``POST /business/comment/reply/create/`` (text ≤150 characters)."""
        data = self._business_post(
            "/business/comment/reply/create/",
            access_token=access_token,
            scope="comment.list.manage",
            body={
                "business_id": business_id,
                "video_id": video_id,
                "comment_id": comment_id,
                "text": text,
            },
        )
        return Comment.from_json(data)

    def business_set_comment_hidden(
        self, *, access_token: str, business_id: str, video_id: str, comment_id: str, hidden: bool
    ) -> None:
        """``POST /business/comment/hide/`` with ``action`` HIDE or UNHIDE."""
        self._business_post(
            "/business/comment/hide/",
            access_token=access_token,
            scope="comment.list.manage",
            body={
                "business_id": business_id,
                "video_id": video_id,
                "comment_id": comment_id,
                "action": "HIDE" if hidden else "UNHIDE",
            },
        )

    def business_delete_comment(
        self, *, access_token: str, business_id: str, comment_id: str
    ) -> None:
        """``POST /business/comment/delete/`` (only comments the business itself wrote)."""
        self._business_post(
            "/business/comment/delete/",
            access_token=access_token,
            scope="comment.list.manage",
            body={"business_id": business_id, "comment_id": comment_id},
        )

    def business_set_comment_liked(
        self, *, access_token: str, business_id: str, comment_id: str, liked: bool
    ) -> None:
        """``POST /business/comment/like/`` with ``action`` LIKE or UNLIKE."""
        self._business_post(
            "/business/comment/like/",
            access_token=access_token,
            scope="comment.list.manage",
            body={
                "business_id": business_id,
                "comment_id": comment_id,
                "action": "LIKE" if liked else "UNLIKE",
            },
        )

    # ------------------------------------------------------------------ Business publishing

    def business_publish_video(
        self,
        *,
        access_token: str,
        business_id: str,
        video_url: str,
        caption: str,
        disable_comment: bool = False,
        disable_duet: bool = False,
        disable_stitch: bool = False,
        is_brand_organic: bool = False,
        is_branded_content: bool = False,
        is_ai_generated: bool = False,
    ) -> str:
        """``POST /business/video/publish/`` (PULL from a verified URL property); returns the
        ``share_id``, the publish id for ``/business/publish/status/`` (§4.4)."""
        data = self._business_post(
            "/business/video/publish/",
            access_token=access_token,
            scope="video.publish",
            body={
                "business_id": business_id,
                "video_url": video_url,
                "post_info": {
                    "caption": caption,
                    "disable_comment": disable_comment,
                    "disable_duet": disable_duet,
                    "disable_stitch": disable_stitch,
                    "is_brand_organic": is_brand_organic,
                    "is_branded_content": is_branded_content,
                    "is_ai_generated": is_ai_generated,
                },
            },
        )
        return str(data.get("share_id") or "")

    def business_publish_photo(
        self,
        *,
        access_token: str,
        business_id: str,
        photo_urls: Sequence[str],
        cover_index: int,
        title: str,
        caption: str,
        privacy_level: str,
        disable_comment: bool = False,
        auto_add_music: bool = False,
    ) -> str:
        """``POST /business/photo/publish/`` (≤ 35 images, ``privacy_level`` required);
        returns the ``share_id`` (§4.4)."""
        data = self._business_post(
            "/business/photo/publish/",
            access_token=access_token,
            scope="video.publish",
            body={
                "business_id": business_id,
                "photo_images": list(photo_urls),
                "photo_cover_index": cover_index,
                "post_info": {
                    "title": title,
                    "caption": caption,
                    "privacy_level": privacy_level,
                    "disable_comment": disable_comment,
                    "auto_add_music": auto_add_music,
                },
            },
        )
        return str(data.get("share_id") or "")

    def business_publish_status(
        self, *, access_token: str, business_id: str, publish_id: str
    ) -> BusinessPublishStatus:
        """``GET /business/publish/status/``: ``status``, ``post_ids``, ``reason`` (§4.4)."""
        data = self._business_get(
            "/business/publish/status/",
            access_token=access_token,
            scope="video.publish",
            params={"business_id": business_id, "publish_id": publish_id},
        )
        return BusinessPublishStatus.from_json(data)

    def business_create_comment(
        self, *, access_token: str, business_id: str, video_id: str, text: str
    ) -> Comment:
        """``POST /business/comment/create/`` (a top-level comment, text ≤150 characters)."""
        data = self._business_post(
            "/business/comment/create/",
            access_token=access_token,
            scope="comment.list.manage",
            body={"business_id": business_id, "video_id": video_id, "text": text},
        )
        return Comment.from_json(data)

    def business_hashtag_suggestions(
        self, *, access_token: str, business_id: str, keyword: str, language: str = "en"
    ) -> list[HashtagSuggestion]:
        """``GET /business/hashtag/suggestion/``: ``suggestions[{name, view_count}]`` (§4.5)."""
        data = self._business_get(
            "/business/hashtag/suggestion/",
            access_token=access_token,
            scope="",
            params={"business_id": business_id, "keyword": keyword, "language": language},
        )
        raw = data.get("suggestions")
        items = raw if isinstance(raw, list) else []
        return [HashtagSuggestion.from_json(item) for item in items if isinstance(item, dict)]

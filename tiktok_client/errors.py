"""One exception hierarchy for every way a TikTok call can fail."""

from __future__ import annotations

from typing import ClassVar


class TikTokError(Exception):
    """Base class: ``code`` is TikTok's error code (or ours for transport failures)."""

    default_retryable: ClassVar[bool] = False
    default_user_message: ClassVar[str] = (
        "TikTok could not complete this request. Please try again, "
        "and contact support if it keeps happening."
    )
    user_messages_by_code: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        message: str = "",
        *,
        code: str = "unknown_error",
        log_id: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.log_id = log_id
        self.http_status = http_status
        self.retryable = self.default_retryable if retryable is None else retryable
        detail = f"{code}: {message}" if message else code
        if http_status is not None:
            detail += f" (HTTP {http_status})"
        if log_id:
            detail += f" [log_id={log_id}]"
        super().__init__(detail)

    @property
    def user_message(self) -> str:
        return self.user_messages_by_code.get(self.code, self.default_user_message)


class TikTokAuthError(TikTokError):
    default_user_message = (
        "TikTok no longer accepts this account's connection (it expired or was removed). "
        "Please reconnect the TikTok account."
    )


class TikTokScopeError(TikTokAuthError):
    """A permission (scope) the call needs was not granted; ``scope`` names it when known."""

    default_user_message = (
        "This TikTok account did not grant the permission this feature needs. "
        "Reconnect the account and keep all permissions ticked."
    )
    scope: str = ""

    @property
    def user_message(self) -> str:
        if not self.scope:
            return self.default_user_message
        return (
            f"This TikTok account did not grant the permission “{self.scope}” that this feature "
            "needs. Reconnect the account and keep that permission ticked."
        )


class TikTokReconnectRequired(TikTokAuthError):
    """TikTok refused the refresh token itself (expired or invalid): only the user can fix it."""

    default_user_message = (
        "TikTok's authorization for this account expired or was withdrawn. "
        "Please reconnect the TikTok account."
    )


class TikTokOAuthError(TikTokError):
    """Flat OAuth error ``{"error", "error_description", "log_id"}``; ``.error`` is the category."""

    default_user_message = "Connecting to TikTok failed. Please start the connection again."
    user_messages_by_code = {
        "access_denied": "The TikTok connection was cancelled. Nothing was connected.",
        "invalid_grant": (
            "TikTok's sign-in link expired or was already used. Please connect the account again."
        ),
        "invalid_client": (
            "TikTok rejected this app's credentials. An administrator needs to check the "
            "TikTok app settings."
        ),
        "invalid_scope": (
            "TikTok refused the requested permissions. An administrator needs to check which "
            "permissions the TikTok app is approved for."
        ),
    }

    @property
    def error(self) -> str:
        return self.code


class TikTokRateLimited(TikTokError):
    default_retryable = True
    default_user_message = (
        "TikTok is receiving too many requests for this account right now. "
        "We will try again in a minute."
    )

    def __init__(
        self,
        message: str = "",
        *,
        code: str = "rate_limit_exceeded",
        log_id: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
        retry_after: float = 60.0,
        local: bool = False,
    ) -> None:
        super().__init__(
            message, code=code, log_id=log_id, http_status=http_status, retryable=retryable
        )
        self.retry_after = retry_after
        self.local = local


class TikTokAppBudgetSpent(TikTokRateLimited):
    """Refused here, never sent: the developer app's per-minute budget across all its accounts
    (API for Business, ~600 calls a minute) has no room for this call. Background passes meet
    it at their lower ceiling and wait for their next run; it is not a failure."""

    default_user_message = (
        "TikTok limits how many requests this service can send per minute across all accounts, "
        "and that limit is reached right now. Try again in a minute."
    )

    def __init__(self, message: str = "", *, retry_after: float = 60.0) -> None:
        super().__init__(message, code="app_rate_budget_spent", retry_after=retry_after, local=True)


class TikTokPostingCapError(TikTokError):
    default_user_message = "TikTok is not letting this account post right now. Try again later."
    user_messages_by_code = {
        "spam_risk_too_many_posts": (
            "TikTok limits how many posts a creator can publish per day; this account has "
            "reached it. Try again tomorrow."
        ),
        "spam_risk_too_many_pending_share": (
            "This account already has 5 drafts waiting in the TikTok app. Post or delete them "
            "in TikTok, then try again."
        ),
        "spam_risk_user_banned_from_posting": (
            "TikTok has temporarily blocked this account from posting. Check the TikTok app "
            "for details and try again later."
        ),
        "reached_active_user_cap": (
            "Our TikTok app has reached the number of creators TikTok lets it post for today. "
            "Try again tomorrow."
        ),
        "unaudited_client_can_only_post_to_private_accounts": (
            "Until TikTok approves this app, it can only post privately to private accounts. "
            "Make the TikTok account private or choose 'Only me'."
        ),
    }


class TikTokPrivacyLevelMismatch(TikTokError):
    default_user_message = (
        "The chosen audience is not available for this TikTok account. "
        "Pick one of the audiences TikTok offers for it."
    )


class TikTokInvalidRequest(TikTokError):
    default_user_message = (
        "TikTok rejected this request because something in it is not allowed. "
        "Check the post's settings and media."
    )
    user_messages_by_code = {
        "url_ownership_unverified": (
            "TikTok can only fetch media from a verified website. The media host needs to be "
            "verified in the TikTok app settings."
        ),
        "invalid_file_upload": "TikTok could not accept this video file. Try a different export.",
    }

    @property
    def user_message(self) -> str:
        if self.code in ("invalid_param", "invalid_params") and self.message:
            # TikTok's own words say which parameter; the chunk plan is the known case.
            advice = (
                " Export the video smaller than 64 MB so it can go up in one piece, then publish "
                "again."
                if "chunk" in self.message.lower()
                else " Check the post's settings and media, then publish again."
            )
            return f"TikTok refused the request: “{self.message}”.{advice}"
        return super().user_message


class TikTokPublishIdError(TikTokInvalidRequest):
    """A status fetch or cancel named a publish id TikTok does not know for this token."""

    user_messages_by_code = {
        "invalid_publish_id": "TikTok does not know this post's publish id.",
        "token_not_authorized_for_specified_publish_id": (
            "This post was started by another TikTok account; TikTok will not report on it here."
        ),
        "publish_not_cancellable": (
            "TikTok can no longer cancel this post (only posts still downloading can be cancelled)."
        ),
    }


class TikTokUnavailable(TikTokError):
    default_retryable = True
    default_user_message = "TikTok is not responding right now. We will try again automatically."


class TikTokResponseUnreadable(TikTokUnavailable):
    """TikTok answered but the answer could not be read: the request reached TikTok, which
    may have acted on it. Never repeat a non-idempotent call (init) after this."""

    reached_tiktok: ClassVar[bool] = True


class TikTokRequestNotSent(TikTokUnavailable):
    """Nothing left this host (e.g. the shared rate budget could not be asked)."""


class TikTokUploadError(TikTokError):
    default_user_message = (
        "Uploading the video to TikTok failed part-way. Please try publishing again."
    )


POSTING_CAP_CODES = frozenset(TikTokPostingCapError.user_messages_by_code)
SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})
INVALID_REQUEST_CODES = frozenset(
    {"invalid_params", "invalid_param", "invalid_file_upload", "url_ownership_unverified"}
)
PUBLISH_ID_CODES = frozenset(TikTokPublishIdError.user_messages_by_code)


def error_from_v2(
    *,
    code: str,
    message: str,
    log_id: str | None,
    http_status: int | None,
    retry_after: float = 60.0,
) -> TikTokError:
    """Map an Open API v2 ``error`` object (plus HTTP status) to a typed exception."""
    if code == "rate_limit_exceeded" or http_status == 429:
        return TikTokRateLimited(
            message, code=code, log_id=log_id, http_status=http_status, retry_after=retry_after
        )
    cls: type[TikTokError]
    if code in SCOPE_CODES:
        cls = TikTokScopeError
    elif code == "access_token_invalid":
        cls = TikTokAuthError
    elif code in POSTING_CAP_CODES:
        cls = TikTokPostingCapError
    elif code == "privacy_level_option_mismatch":
        cls = TikTokPrivacyLevelMismatch
    elif code in PUBLISH_ID_CODES:
        cls = TikTokPublishIdError
    elif code == "internal_error" or (http_status is not None and http_status >= 500):
        cls = TikTokUnavailable
    elif http_status == 401:
        cls = TikTokAuthError
    else:
        cls = TikTokInvalidRequest
    return cls(message, code=code, log_id=log_id, http_status=http_status)


# TikTok API for Business numeric codes (fact sheet, Corrections: the official SDK's table).
BUSINESS_RATE_LIMIT_CODES = frozenset({40100, 40132, 61000})  # back off and retry
BUSINESS_AUTH_CODES = frozenset({40102, 40104, 40105})  # access token expired/empty/invalid
BUSINESS_REFRESH_CODES = frozenset({40103, 40107})  # refresh token expired/invalid: reconnect
BUSINESS_AUTH_CODE_CODES = frozenset({40110})  # auth_code invalid or expired
BUSINESS_SCOPE_CODES = frozenset({40001, 40130})  # permission / scope not authorized
BUSINESS_UNAVAILABLE_CODES = frozenset({50000, 50002})
# Message fragments integrations match on when the numeric code is not one documented above.
BUSINESS_AUTH_HINTS = (
    "access token has expired",
    "access token is incorrect",
    "access token is null",
    "auth_removed",
)
#: Backoff when TikTok's Business API says "too many requests" without a Retry-After.
BUSINESS_RETRY_AFTER_SECONDS = 60.0


def error_from_business(
    *,
    code: int,
    message: str,
    request_id: str | None,
    http_status: int | None,
    scope: str = "",
) -> TikTokError:
    """Map a Business API ``{code, message}`` pair (usually under HTTP 200) to an exception.

    ``scope`` is the permission the call needs, named to the user on a scope refusal.
    """
    if code in BUSINESS_RATE_LIMIT_CODES:
        return TikTokRateLimited(
            message,
            code=str(code),
            log_id=request_id,
            http_status=http_status,
            retry_after=BUSINESS_RETRY_AFTER_SECONDS,
        )
    cls: type[TikTokError]
    if code in BUSINESS_REFRESH_CODES:
        cls = TikTokReconnectRequired
    elif code in BUSINESS_AUTH_CODES:
        cls = TikTokAuthError
    elif code in BUSINESS_SCOPE_CODES:
        error = TikTokScopeError(
            message, code=str(code), log_id=request_id, http_status=http_status
        )
        error.scope = scope
        return error
    elif code in BUSINESS_AUTH_CODE_CODES:
        return TikTokOAuthError(
            message, code="invalid_grant", log_id=request_id, http_status=http_status
        )
    elif code in BUSINESS_UNAVAILABLE_CODES or code >= 50000:
        cls = TikTokUnavailable
    elif any(hint in message.lower() for hint in BUSINESS_AUTH_HINTS):
        cls = TikTokAuthError
    else:
        cls = TikTokInvalidRequest
    return cls(message, code=str(code), log_id=request_id, http_status=http_status)

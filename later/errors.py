"""The one application error type. The API renders it as JSON, the UI as a sentence."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class ValidationFailed(AppError):
    code = "validation_failed"
    status = 400


class NotFound(AppError):
    code = "not_found"
    status = 404


class RoleRequired(AppError):
    """A member lacks the role for an action (outsiders get NotFound, never this)."""

    code = "role_required"
    status = 403


class Conflict(AppError):
    code = "conflict"
    status = 409


class ExternalServiceError(AppError):
    """TikTok refused or failed; message is TikTok's reason in plain words."""

    code = "tiktok_error"
    status = 502

"""The one application error type. The API renders it as JSON, the UI as a sentence."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one input field. `account_id` names the account of a per-account
    setting (a multi-account post has one privacy choice per account)."""

    field: str
    code: str
    message: str
    account_id: str = ""

    @property
    def key(self) -> str:
        return f"targets.{self.account_id}.{self.field}" if self.account_id else self.field


class ValidationFailed(AppError):
    """Bad input. It may carry several problems, each naming its field: `code` and `message`
    stay those of the first (what callers of the single-error shape relied on), `problems`
    lists all of them and the API adds them as `fields`."""

    code = "validation_failed"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        field: str = "",
        account_id: str = "",
    ) -> None:
        super().__init__(message, code=code, details=details)
        if not field and isinstance(details, dict) and isinstance(details.get("field"), str):
            field = details["field"]
        self.problems: list[FieldProblem] = [
            FieldProblem(field=field, code=self.code, message=message, account_id=account_id)
        ]
        # The original errors, so an interface can still find e.g. an ambiguous time among them.
        self.errors: list[ValidationFailed] = [self]

    @property
    def fields(self) -> dict[str, list[dict[str, str]]]:
        grouped: dict[str, list[dict[str, str]]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.key or "__all__", []).append(
                {"code": problem.code, "message": problem.message}
            )
        return grouped

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        if any(p.field for p in self.problems):
            body["error"]["fields"] = self.fields
        return body

    @staticmethod
    def combined(errors: Sequence[ValidationFailed]) -> ValidationFailed:
        """One error reporting all of `errors`: the first one's type and code, every message."""
        first = errors[0]
        if len(errors) == 1:
            return first
        problems = [p for e in errors for p in e.problems]
        originals = [o for e in errors for o in e.errors]
        first.message = " ".join(p.message for p in problems)
        first.args = (first.message,)
        first.problems, first.errors = problems, originals
        return first


class Problems:
    """Collects every validation problem of a form or request before answering once:

    problems = Problems()
    with problems.field("caption"):
        caption = clean_caption(text)
    problems.raise_any()
    """

    def __init__(self) -> None:
        self.errors: list[ValidationFailed] = []

    def __bool__(self) -> bool:
        return bool(self.errors)

    def has_code(self, code: str) -> bool:
        return any(p.code == code for e in self.errors for p in e.problems)

    def add(self, error: ValidationFailed, field: str = "", account_id: str = "") -> None:
        if field or account_id:
            error.problems = [
                FieldProblem(
                    field=p.field or field,
                    code=p.code,
                    message=p.message,
                    account_id=p.account_id or account_id,
                )
                for p in error.problems
            ]
        self.errors.append(error)

    @contextmanager
    def field(self, name: str, *, account_id: str = "") -> Iterator[None]:
        try:
            yield
        except ValidationFailed as exc:
            self.add(exc, name, account_id)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed.combined(self.errors)


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

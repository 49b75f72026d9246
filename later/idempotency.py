"""Every create action is idempotent, in one place for each interface.

- API: a POST may carry `Idempotency-Key` (Stripe's semantics). The same key and body
  replay the first response (status and body); the same key with another body is a 422; a
  repeat while the first is still running is a 409. Keys are per user and workspace, 24 h.
- HTML: forms carry a one-time `form_token` (`{% form_token %}`); `@once_per_form` makes a
  repeat (a double click, a resubmitted page) replay the first response or redirect.

The first outcome lives in PostgreSQL (`IdempotencyRecord`, unique per user, workspace,
scope and key), claimed by an INSERT before the action runs, so two concurrent repeats
cannot both act.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from later.errors import AppError, Conflict
from later.models import IdempotencyRecord

KEY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
FORM_FIELD = "form_token"
MAX_KEY_LENGTH = 255
#: A double-clicked form waits this long for the first submission before answering 409.
FORM_WAIT_SECONDS = 10.0
#: HTML bodies above this size are not kept; their replay redirects to the page instead.
MAX_STORED_BODY = 256 * 1024


class IdempotencyKeyReused(AppError):
    code = "idempotency_key_reused"
    status = 422


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord) -> None:
        self.record = record


@dataclass(frozen=True)
class _Key:
    user: Any
    workspace_key: str
    scope: str
    key: str

    def lookup(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "workspace_key": self.workspace_key,
            "scope": self.scope,
            "key": self.key,
        }


def _claim(k: _Key, *, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the claim (None: this request acts), or return the record already there."""
    now = timezone.now()
    lookup = k.lookup()
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    **lookup, fingerprint=fingerprint, expires_at=now + KEY_TTL
                )
            return None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(**lookup).first()
            if existing is None:
                continue  # deleted between our INSERT and SELECT: try again
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                continue
            return existing
    raise IdempotencyInFlight("This request is being processed; try again in a moment.")


def _release(k: _Key) -> None:
    IdempotencyRecord.objects.filter(**k.lookup(), completed_at__isnull=True).delete()


def _complete(
    k: _Key, *, status_code: int, content_type: str, location: str, body: bytes | None
) -> None:
    IdempotencyRecord.objects.filter(**k.lookup()).update(
        completed_at=timezone.now(),
        status_code=status_code,
        content_type=content_type[:100],
        location=location[:2000],
        body=body,
    )


# --- API --------------------------------------------------------------------------------------


def _api_fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type.startswith("multipart/"):
        # Hash the parsed upload (fields, then each file's bytes), not a raw body held in memory.
        data: Any = request.data  # fields and files together
        for name, values in sorted(data.lists()):
            texts = [v for v in values if isinstance(v, str)]
            digest.update(repr((name, texts)).encode("utf-8", "surrogatepass"))
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"{name}:{upload.name}:{upload.size}".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request._request.body)
    return digest.hexdigest()


class IdempotentAPIMixin:
    """For DRF views: call `idempotency_begin` once the caller and workspace are resolved."""

    _idempotency: _Key | None = None

    def idempotency_begin(self, request: Request, *, workspace_id: Any = None) -> None:
        self._idempotency = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise AppError(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.",
                code="validation_failed",
            )
        k = _Key(request.user, str(workspace_id or ""), IdempotencyRecord.Scope.API, key)
        fingerprint = _api_fingerprint(request)
        existing = _claim(k, fingerprint=fingerprint)
        if existing is None:
            self._idempotency = k
            return
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"This {HEADER} was already used with a different request; use a new key."
            )
        if existing.completed_at is None:
            raise IdempotencyInFlight(
                f"A request with this {HEADER} is still being processed; retry shortly."
            )
        raise _Replay(existing)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            record = exc.record
            data = json.loads(bytes(record.body)) if record.body else None
            response = Response(data, status=record.status_code)
            response["Idempotent-Replayed"] = "true"
            if record.location:
                response["Location"] = record.location
            return response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        k, self._idempotency = self._idempotency, None
        if k is None:
            return response
        if response.status_code >= 500:
            _release(k)  # nothing was settled: a retry with the same key may act
            return response
        data = getattr(response, "data", None)
        body = json.dumps(data, cls=JSONEncoder).encode() if data is not None else None
        _complete(
            k,
            status_code=response.status_code,
            content_type="application/json",
            location=response.get("Location", ""),
            body=body,
        )
        return response


# --- HTML forms -------------------------------------------------------------------------------


def _form_replay(request: HttpRequest, record: IdempotencyRecord) -> HttpResponse:
    if record.status_code and record.body is not None:
        response = HttpResponse(
            bytes(record.body), status=record.status_code, content_type=record.content_type
        )
    elif record.location:
        response = HttpResponseRedirect(record.location)
    else:
        messages.info(request, "That form was already submitted; here is the result.")
        response = HttpResponseRedirect(request.get_full_path())
    response["Idempotent-Replayed"] = "true"
    return response


def once_per_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST carrying `form_token` acts once; repeats get the first response or redirect.

    Failed submissions (4xx/5xx) release the token so the corrected form can be sent again.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = getattr(request, "workspace", None)
        return form_once(
            request,
            owner=request.user if request.user.is_authenticated else None,
            workspace_key=str(workspace.pk) if workspace is not None else "",
            act=lambda: view(request, *args, **kwargs),
        )

    # Copied up through every functools.wraps above it: tests/later/test_form_tokens.py
    # reads it to prove that each form carrying a token posts to a view that honours it.
    wrapper.once_per_form = True  # type: ignore[attr-defined]
    return wrapper


def form_once(
    request: HttpRequest,
    *,
    owner: Any,
    workspace_key: str,
    act: Callable[[], HttpResponse],
) -> HttpResponse:
    """`act()` once per form token; a repeat gets the first response or redirect.

    `owner` namespaces the token: the signed-in user, or for a page reached without an
    account (the client review page) the user who shared it. None: no token is kept."""
    token = request.POST.get(FORM_FIELD, "") if request.method == "POST" else ""
    if not token or owner is None:
        return act()
    token = token[:MAX_KEY_LENGTH]
    k = _Key(owner, workspace_key, IdempotencyRecord.Scope.FORM, token)
    fingerprint = hashlib.sha256(request.path.encode()).hexdigest()
    deadline = time.monotonic() + FORM_WAIT_SECONDS
    while (existing := _claim(k, fingerprint=fingerprint)) is not None:
        if existing.fingerprint != fingerprint:
            return render(
                request,
                "400.html",
                {"reason": "This form token belongs to another form. Reload the page."},
                status=400,
            )
        if existing.completed_at is not None:
            return _form_replay(request, existing)
        if time.monotonic() > deadline:
            return render(
                request,
                "400.html",
                {"reason": "This form is still being processed. Reload the page shortly."},
                status=409,
            )
        time.sleep(0.1)  # the first click is still running: answer as it will
    try:
        response = act()
    except BaseException:
        _release(k)
        raise
    if response.status_code >= 400:
        _release(k)
        return response
    keep_body = (
        not response.has_header("Location")
        and "no-store" not in response.get("Cache-Control", "")
        and not getattr(response, "streaming", False)
        and len(response.content) <= MAX_STORED_BODY
    )
    _complete(
        k,
        status_code=response.status_code,
        content_type=response.get("Content-Type", ""),
        location=response.get("Location", ""),
        body=bytes(response.content) if keep_body else None,
    )
    return response

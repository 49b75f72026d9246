"""Request guards that apply to every route before any view runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL_MESSAGE = "The request contains a NUL character, which no field accepts."


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, *, code: str, message: str) -> HttpResponse:
    """A 400 in the interface's own shape: the API's error envelope, or the HTML error page."""
    if is_api_request(request):
        return JsonResponse({"error": {"code": code, "message": message}}, status=400)
    return render(request, "400.html", {"reason": message}, status=400)


def _nul_in(data: Any) -> bool:
    return any("\x00" in k or any("\x00" in v for v in vs) for k, vs in data.lists())


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or _nul_in(request.GET):
        return True
    # Form bodies are small and their text is kept (the raw body stays readable afterwards).
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        return _nul_in(request.POST)
    return False


API_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    500: "server_error",
}


class ApiErrorEnvelopeMiddleware:
    """Errors raised before a DRF view runs (no route matched, a body too large, a crash) are
    rendered by Django as HTML; under /api/v1/ they get the API's one JSON error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/v1/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            code = API_ERROR_CODES.get(status, "error")
            message = {
                404: "Not found.",
                500: "Something went wrong on our side; nothing was changed.",
            }.get(status, "The request could not be processed.")
            envelope = JsonResponse({"error": {"code": code, "message": message}}, status=status)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    envelope[header] = response[header]
            return envelope
        return response


class RejectNulBytesMiddleware:
    """PostgreSQL cannot store or compare text holding NUL, so such input is refused here with
    a 400 for every route instead of failing deep in a query as a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return bad_request(request, code="invalid_characters", message=NUL_MESSAGE)
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        # Multipart form fields of HTML views (which CSRF protection parses anyway). The API
        # (CSRF-exempt) parses its own bodies and its serializers refuse NUL in text.
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and not getattr(view_func, "csrf_exempt", False)
            and _nul_in(request.POST)
        ):
            return bad_request(request, code="invalid_characters", message=NUL_MESSAGE)
        return None


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on every response.

    Scripts, styles, fonts, media and requests come from this origin only; no inline script
    runs (handlers live in static/js, a `request.csp_nonce` exists for the rare inline block).
    Images may also come over HTTPS, for TikTok's CDN avatars and covers. Style attributes stay
    allowed: they cannot run code, and the account colours are data-driven.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        import secrets

        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(nonce)
        return response


def content_security_policy(nonce: str) -> str:
    from urllib.parse import urlsplit

    from django.conf import settings

    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""

    # The "Connect TikTok" form answers with a redirect to TikTok's consent page.
    tiktok_auth = origin(settings.TIKTOK_AUTH_BASE_URL)
    # Avatars and covers come from TikTok's CDN over HTTPS; a local simulator serves them
    # over plain HTTP from its own origin, which is then named explicitly.
    simulators = {
        origin(url)
        for url in (settings.TIKTOK_OPEN_API_BASE_URL, settings.TIKTOK_AUTH_BASE_URL)
        if url.startswith("http://")
    }
    images = " ".join(["'self' data: blob: https:", *sorted(simulators)])
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        f"img-src {images}",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        f"form-action 'self' {tiktok_auth}".strip(),
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)

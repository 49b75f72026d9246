"""The three answer shapes TikTok uses (fact sheet §0 and §5.8), built in one place."""

from __future__ import annotations

import secrets
import time
from typing import Any

from tiktok_client.simulator.rules import BUSINESS_ERRORS
from tiktok_client.simulator.wsgi_io import Response


def log_id(now: float | None = None) -> str:
    """``YYYYMMDDhhmmss`` + hex, like TikTok's ``log_id``/``request_id`` (§0)."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now if now is not None else time.time()))
    return stamp + secrets.token_hex(10).upper()


def v2_ok(data: Any) -> Response:
    """Open API v2 success: HTTP 200, ``error.code == "ok"``."""
    return Response.json({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})


def v2_error(status: int, code: str, message: str, *, data: Any = None) -> Response:
    """Open API v2 failure: the same shape with a non-ok code; the HTTP status is given (it may
    be 200, e.g. creator_info's "cannot post now" answers, Corrections)."""
    return Response.json(
        {
            "data": {} if data is None else data,
            "error": {"code": code, "message": message, "log_id": log_id()},
        },
        status,
        ok=False,
    )


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """Login Kit OAuth endpoints answer flat ``{error, error_description, log_id}`` (§1.7)."""
    return Response.json(
        {"error": error, "error_description": description, "log_id": log_id()}, status, ok=False
    )


def business_ok(data: Any) -> Response:
    return Response.json({"code": 0, "message": "OK", "request_id": log_id(), "data": data})


def business_error(code: int, message: str | None = None, *, status: int = 200) -> Response:
    """Business API failures are HTTP 200 with a non-zero ``code`` (§0, Corrections)."""
    text = message or BUSINESS_ERRORS.get(code, "Error.")
    return Response.json(
        {"code": code, "message": text, "request_id": log_id(), "data": {}}, status, ok=False
    )

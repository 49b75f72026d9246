"""Minimal request/response plumbing for the WSGI simulator (stdlib only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    206: "Partial Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str
    environ: Mapping[str, Any]
    open_id: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any], public_base_url: str | None) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        query = {
            key: values[-1]
            for key, values in parse_qs(
                str(environ.get("QUERY_STRING", "")), keep_blank_values=True
            ).items()
        }
        if public_base_url:
            base_url = public_base_url.rstrip("/")
        else:
            host = headers.get("host") or (
                f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
            )
            base_url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "/")) or "/",
            query=query,
            headers=headers,
            body=body,
            base_url=base_url,
            environ=environ,
        )


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    ok: bool = True

    @classmethod
    def json(
        cls,
        payload: Any,
        status: int = 200,
        *,
        ok: bool | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        return cls(
            status=status,
            body=json.dumps(payload).encode("utf-8"),
            headers=[("Content-Type", "application/json; charset=UTF-8"), *(headers or [])],
            ok=status < 400 if ok is None else ok,
        )

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(
            status=status,
            body=text.encode("utf-8"),
            headers=[("Content-Type", "text/html; charset=utf-8")],
            ok=status < 400,
        )

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(status=302, headers=[("Location", location)], ok=True)

    def status_line(self) -> str:
        return f"{self.status} {STATUS_TEXT.get(self.status, 'Unknown')}"

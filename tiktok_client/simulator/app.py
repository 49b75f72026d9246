"""The TikTok simulator as one WSGI application over one route table.

TikTok's hosts do not share paths, so one app serves them all: the consent page and Login Kit
OAuth (``oauth``), Content Posting (``posting``) and its upload host (``upload``), the Display
API (``display``), the API for Business (``business_oauth``, ``business``, ``comments``) under
``/open_api/v1.3``, and the ``/_sim`` control endpoints (``control``). Webhooks leave through
``webhooks``. This module only routes, applies injected faults and counts.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from tiktok_client.simulator.business import BusinessAccounts
from tiktok_client.simulator.business_oauth import BUSINESS_PREFIX, BusinessOAuth
from tiktok_client.simulator.business_publish import BusinessPublishing
from tiktok_client.simulator.clock import SimClock
from tiktok_client.simulator.comments import BusinessComments
from tiktok_client.simulator.control import SimControl
from tiktok_client.simulator.display import DisplayApi
from tiktok_client.simulator.envelopes import business_error, oauth_error, v2_error
from tiktok_client.simulator.faults import Fault, SimCounters, SimFaults
from tiktok_client.simulator.guards import Handler, bearer_token
from tiktok_client.simulator.oauth import LoginKit
from tiktok_client.simulator.posting import ContentPosting
from tiktok_client.simulator.settings import SimSettings
from tiktok_client.simulator.state import DEFAULT_CLIENT_KEY, SimState
from tiktok_client.simulator.upload import UploadHost
from tiktok_client.simulator.wsgi_io import Request, Response

StartResponse = Callable[..., Any]
CONTROL_PREFIX = "/_sim/"
ANSWER_FAULTS = frozenset({"http_500", "http_429", "timeout", "malformed", "error_code"})
AFTER_FAULTS = frozenset({"drop_after_accept", "unparseable_after_accept"})
# A complete HTTP answer whose body is not JSON (issue 20: TikTok may have acted).
UNPARSEABLE_BODY = b'{"data": {"publish_id": <upstream proxy error>'


class SimulatorApp:
    """WSGI callable; ``.state``/``.faults``/``.counters``/``.clock`` give in-process control."""

    def __init__(self, state: SimState | None = None) -> None:
        self.state = state or SimState()
        control = SimControl(self.state)
        self.unlocked = control.UNLOCKED
        self.routes: dict[tuple[str, str], Handler] = {}
        for product in (
            LoginKit(self.state),
            BusinessOAuth(self.state),
            ContentPosting(self.state),
            UploadHost(self.state),
            DisplayApi(self.state),
            BusinessAccounts(self.state),
            BusinessComments(self.state),
            BusinessPublishing(self.state),
            control,
        ):
            self.routes.update(product.routes())

    @property
    def faults(self) -> SimFaults:
        return self.state.faults

    @property
    def counters(self) -> SimCounters:
        return self.state.counters

    @property
    def clock(self) -> SimClock:
        return self.state.clock

    @property
    def settings(self) -> SimSettings:
        return self.state.settings

    # ------------------------------------------------------------------ WSGI entry point

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        state = self.state
        request = Request.from_environ(environ, state.settings.public_base_url)
        endpoint = request.path
        handler = self.routes.get((request.method, endpoint))
        if endpoint.startswith(CONTROL_PREFIX):
            if handler is None:
                response = Response.json({"ok": False, "error": f"unknown {endpoint}"}, 404)
            elif (request.method, endpoint) in self.unlocked:
                response = handler(request)
            else:
                with state.lock:
                    response = handler(request)
            return self._finish(response, start_response)
        if state.faults.latency_seconds > 0:
            time.sleep(state.faults.latency_seconds)
        request.open_id = self._resolve_open_id(request)
        state.counters.record_request(endpoint, request.open_id)
        latency = state.faults.take(endpoint, frozenset({"latency"}), request.open_id)
        if latency is not None:
            time.sleep(latency.seconds)
        fault = state.faults.take(endpoint, ANSWER_FAULTS, request.open_id)
        if fault is not None:
            return self._answer_fault(fault, request, start_response)
        with state.lock:
            response = self._not_found(request) if handler is None else handler(request)
            after = state.faults.take(endpoint, AFTER_FAULTS, request.open_id)
        state.counters.record_response(endpoint, response.status, response.ok, request.open_id)
        if after is not None and after.kind == "unparseable_after_accept":
            garbled = Response(200, UNPARSEABLE_BODY, [("Content-Type", "application/json")])
            return self._finish(garbled, start_response)
        if after is not None:
            return self._drop(request, start_response, stall=after.seconds)
        return self._finish(response, start_response)

    def _finish(self, response: Response, start_response: StartResponse) -> list[bytes]:
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(response.status_line(), headers)
        return [response.body]

    def _resolve_open_id(self, request: Request) -> str | None:
        """The creator behind the request's token (for per-user counters and faults)."""
        token = request.header("access-token") or bearer_token(request)
        if not token:
            return None
        with self.state.lock:
            return self.state.token_open_id(token)

    @staticmethod
    def _is_business(request: Request) -> bool:
        return request.path.startswith(BUSINESS_PREFIX)

    def _not_found(self, request: Request) -> Response:
        known_path = any(path == request.path for _, path in self.routes)
        message = (
            f"Method {request.method} not allowed." if known_path else f"Unknown {request.path}."
        )
        if self._is_business(request):
            return business_error(40002, message)
        return v2_error(405 if known_path else 404, "invalid_params", message)

    # ------------------------------------------------------------------ faults

    def _answer_fault(
        self, fault: Fault, request: Request, start_response: StartResponse
    ) -> list[bytes]:
        """Faults answered instead of the handler: TikTok did not act."""
        endpoint = request.path
        counters = self.state.counters
        if fault.kind == "timeout":
            counters.record_response(endpoint, 504, False, request.open_id)
            stall = fault.seconds or self.state.settings.timeout_stall_seconds
            return self._drop(request, start_response, stall=stall, timeout=True)
        if fault.kind == "malformed":
            counters.record_response(endpoint, 200, False, request.open_id)
            page = Response(200, b"<html>upstream hiccup", [("Content-Type", "text/html")])
            return self._finish(page, start_response)
        response = self._fault_response(fault, request)
        counters.record_response(endpoint, response.status, False, request.open_id)
        return self._finish(response, start_response)

    def _fault_response(self, fault: Fault, request: Request) -> Response:
        business = self._is_business(request)
        if fault.kind == "error_code":
            if business:
                return business_error(int(str(fault.code)))
            if request.path.startswith("/v2/oauth/"):
                return oauth_error(str(fault.code), "Injected error.", fault.status or 400)
            return v2_error(fault.status or 500, str(fault.code), "Injected error.")
        if fault.kind == "http_429":
            retry_after = ("Retry-After", str(int(fault.seconds) if fault.seconds else 60))
            if business:
                # The Business API reports throttling as HTTP 200 with code 40100.
                response = business_error(40100)
            else:
                response = v2_error(429, "rate_limit_exceeded", "Rate limit exceeded.")
            response.headers.append(retry_after)
            return response
        if business:
            return business_error(50000, status=500)
        return v2_error(500, "internal_error", "Something went wrong.")

    def _drop(
        self,
        request: Request,
        start_response: StartResponse,
        *,
        stall: float,
        timeout: bool = False,
    ) -> list[bytes]:
        """Lose the answer: on a real socket close it (after ``stall`` for a timeout)."""
        connection = request.environ.get("tiktok_sim.connection")
        if connection is not None:
            if timeout:
                time.sleep(stall)
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            start_response("500 Dropped", [("Content-Length", "0")])
            return []
        if timeout:
            # In-process (httpx.WSGITransport) there is no socket to stall; this is what a
            # socket timeout looks like to the transport.
            raise TimeoutError("simulated TikTok timeout")
        body = b'{"data": {"publish_id": "v_pub_'
        start_response(
            "200 OK",
            [("Content-Type", "application/json; charset=UTF-8"),
             ("Content-Length", str(len(body)))],
        )  # fmt: skip
        return [body]


def create_app(*, seed: int = 1234, speed: float = 1.0, **settings: Any) -> SimulatorApp:
    """Build a fresh simulator; ``settings`` override ``SimSettings`` fields."""
    state = SimState(seed=seed, clock=SimClock(speed=speed), settings=SimSettings(**settings))
    return SimulatorApp(state)


__all__ = ["DEFAULT_CLIENT_KEY", "SimulatorApp", "create_app"]

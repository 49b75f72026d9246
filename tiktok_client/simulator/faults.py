"""Fault injection and request counters, shared by in-process tests and ``/_sim`` endpoints."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from tiktok_client.simulator.rules import FAIL_REASONS

FAULT_KINDS = frozenset(
    {
        "http_500",  # 500 + internal_error (Business: HTTP 500, code 50000)
        "http_429",  # 429 + rate_limit_exceeded (Business: HTTP 200, code 40100)
        "timeout",  # request never answered (socket: stall then close; WSGI: TimeoutError)
        "drop_after_accept",  # action performed, response lost
        "malformed",  # HTTP 200 with an unparsable body, action not performed
        "unparseable_after_accept",  # action performed, then a complete 200 OK that is not JSON
        "error_code",  # answer with TikTok error ``code`` (Business: HTTP 200 + int code;
        # v2: HTTP ``status`` (default 500) + string code; OAuth: flat error), not performed
        "webhook_drop",  # ``endpoint`` = event name or "*": that webhook is never delivered
        "latency",  # extra delay of ``seconds``, then normal handling
        "publish_fail",  # consumed by an init: that publish ends FAILED with ``fail_reason``
        "stuck",  # consumed by an init: that publish never leaves processing
    }
)
ANY_ENDPOINT = "*"


@dataclass
class Fault:
    endpoint: str
    kind: str
    remaining: int | None = 1  # None = until cleared
    seconds: float = 0.0
    fail_reason: str = "internal"
    open_id: str | None = None
    code: str | int | None = None
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "remaining": self.remaining,
            "seconds": self.seconds,
            "fail_reason": self.fail_reason,
            "open_id": self.open_id,
            "code": self.code,
            "status": self.status,
        }


class SimFaults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency_seconds = 0.0

    def add(
        self,
        endpoint: str,
        kind: str,
        *,
        count: int | None = 1,
        seconds: float = 0.0,
        fail_reason: str = "internal",
        open_id: str | None = None,
        code: str | int | None = None,
        status: int | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if kind == "error_code" and code is None:
            raise ValueError("an error_code fault needs a code")
        if kind == "publish_fail" and fail_reason not in FAIL_REASONS:
            # A publish may only fail the way TikTok's fail it (§2.7).
            raise ValueError(
                f"unknown fail_reason {fail_reason!r}; expected one of {sorted(FAIL_REASONS)}"
            )
        fault = Fault(endpoint, kind, count, seconds, fail_reason, open_id, code, status)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(
        self, endpoint: str, kinds: frozenset[str], open_id: str | None = None
    ) -> Fault | None:
        """Consume one matching fault (first added wins)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds:
                    continue
                if fault.endpoint not in (endpoint, ANY_ENDPOINT):
                    continue
                if fault.open_id is not None and fault.open_id != open_id:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency_seconds = 0.0

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)


@dataclass
class SimCounters:
    requests: Counter[str] = field(default_factory=Counter)
    responses: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_open_id: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    succeeded: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    publishes: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_request(self, endpoint: str, open_id: str | None) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            if open_id:
                self.by_open_id[open_id][endpoint] += 1

    def record_response(self, endpoint: str, status: int, ok: bool, open_id: str | None) -> None:
        with self._lock:
            self.responses[endpoint][status] += 1
            if ok:
                self.succeeded[endpoint][open_id or "-"] += 1

    def record_publish(self, publish_id: str, event: str) -> None:
        with self._lock:
            self.publishes[publish_id][event] += 1

    def requests_to(self, endpoint: str, open_id: str | None = None) -> int:
        with self._lock:
            if open_id is None:
                return self.requests[endpoint]
            return self.by_open_id[open_id][endpoint]

    def successes(self, endpoint: str, open_id: str | None = None) -> int:
        with self._lock:
            per_user = self.succeeded[endpoint]
            return sum(per_user.values()) if open_id is None else per_user[open_id]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.responses.clear()
            self.by_open_id.clear()
            self.succeeded.clear()
            self.publishes.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "responses": {
                    ep: {str(code): n for code, n in codes.items()}
                    for ep, codes in self.responses.items()
                },
                "by_open_id": {oid: dict(eps) for oid, eps in self.by_open_id.items()},
                "succeeded": {ep: dict(users) for ep, users in self.succeeded.items()},
                "publishes": {pid: dict(events) for pid, events in self.publishes.items()},
            }

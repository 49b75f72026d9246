"""Client-side budgets that keep us inside TikTok's per-token, per-endpoint 60 s windows.

Keys are SHA-256 fingerprints of the access token, so tokens never reach memory dumps of
the limiter or Redis.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

WINDOW_SECONDS = 60.0

#: Endpoint families and their published per-token budgets per minute.
DEFAULT_LIMITS: Mapping[str, int] = {
    "init": 6,
    "status": 30,
    "creator_info": 20,
    "display": 600,
}


def token_fingerprint(access_token: str) -> str:
    return hashlib.sha256(access_token.encode("utf-8")).hexdigest()[:32]


@runtime_checkable
class RateLimiter(Protocol):
    def acquire(self, *, access_token: str, family: str) -> float:
        """Take one slot. Return 0.0 when granted, else seconds until a slot frees up."""
        ...


class NoRateLimiter:
    """Never limits; for tests that want to observe TikTok's own 429s."""

    def acquire(self, *, access_token: str, family: str) -> float:
        return 0.0


class InMemoryRateLimiter:
    """Sliding-window limiter for one process (thread-safe)."""

    def __init__(
        self,
        limits: Mapping[str, int] = DEFAULT_LIMITS,
        *,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits)
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def acquire(self, *, access_token: str, family: str) -> float:
        limit = self._limits.get(family)
        if limit is None:
            return 0.0
        key = (token_fingerprint(access_token), family)
        with self._lock:
            now = self._clock()
            hits = self._hits[key]
            while hits and hits[0] <= now - self._window:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + self._window - now, 0.001)
            hits.append(now)
            return 0.0


_REDIS_ACQUIRE = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return '0'
"""


class RedisRateLimiter:
    """Same sliding window in a Redis sorted set, shared by every worker process."""

    def __init__(
        self,
        redis_url: str,
        limits: Mapping[str, int] = DEFAULT_LIMITS,
        *,
        window_seconds: float = WINDOW_SECONDS,
        key_prefix: str = "tiktok:ratelimit",
        client: Any = None,
    ) -> None:
        import redis

        self._redis = client if client is not None else redis.Redis.from_url(redis_url)
        self._limits = dict(limits)
        self._window = window_seconds
        self._prefix = key_prefix
        self._script = self._redis.register_script(_REDIS_ACQUIRE)

    def _key(self, access_token: str, family: str) -> str:
        return f"{self._prefix}:{family}:{token_fingerprint(access_token)}"

    def acquire(self, *, access_token: str, family: str) -> float:
        limit = self._limits.get(family)
        if limit is None:
            return 0.0
        # Redis server time keeps workers on different hosts on one clock.
        seconds, micros = self._redis.time()
        now = float(seconds) + float(micros) / 1_000_000
        result = self._script(
            keys=[self._key(access_token, family)],
            args=[now, self._window, limit, f"{now}:{uuid.uuid4().hex}"],
        )
        wait = float(result.decode() if isinstance(result, bytes) else result)
        return max(wait, 0.001) if wait > 0 else 0.0

    def reset(self, *, access_token: str, family: str) -> None:
        self._redis.delete(self._key(access_token, family))

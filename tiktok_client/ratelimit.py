"""Client-side budgets that keep us inside TikTok's 60 s windows: per token and endpoint
family (Login Kit), per account and endpoint (API for Business, ~40 calls a minute each), and
per developer app (the API for Business app's ~600 calls a minute across all its accounts and
endpoints).

Token keys are SHA-256 fingerprints of the access token, so tokens never reach memory dumps of
the limiter or Redis.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

WINDOW_SECONDS = 60.0

#: Endpoint families and their published per-token budgets per minute.
DEFAULT_LIMITS: Mapping[str, int] = {
    "init": 6,
    "status": 30,
    "creator_info": 20,
    "display": 600,
    # API for Business: about 40 calls a minute per account and endpoint (fact sheet,
    # Corrections, "Business limits"); each endpoint is its own family (`business_family`).
    "business": 40,
}
BUSINESS_FAMILY_PREFIX = "business:"


def business_family(endpoint: str) -> str:
    """The budget family of one API for Business endpoint (its path): TikTok counts each
    endpoint of an account apart."""
    return f"{BUSINESS_FAMILY_PREFIX}{endpoint}"


def limit_of(limits: Mapping[str, int], family: str | None) -> int | None:
    """`family`'s budget per minute in `limits`; a Business endpoint's family takes the
    "business" entry unless it has one of its own. None: not budgeted."""
    if family is None:
        return None
    limit = limits.get(family)
    if limit is None and family.startswith(BUSINESS_FAMILY_PREFIX):
        limit = limits.get("business")
    return limit


def token_fingerprint(access_token: str) -> str:
    return hashlib.sha256(access_token.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class AppBudget:
    """One developer app's window across all its tokens and endpoints (API for Business:
    ~600 calls a minute, fact sheet Corrections "Business limits"). Every admitted call counts
    in it; `ceiling` is how full this call may find it: the whole budget for people's actions,
    a share of it for background passes, so that those always leave room for people."""

    app_id: str
    ceiling: int


class Admission(NamedTuple):
    """What `RateLimiter.admit` decided; all zero means admitted (and the slots are taken)."""

    #: Seconds of TikTok's Retry-After still running for this token and endpoint.
    held: float = 0.0
    #: Seconds until the token's budget for the endpoint family has room.
    wait: float = 0.0
    #: Seconds until the app's window is below this call's ceiling.
    app_wait: float = 0.0


@runtime_checkable
class RateLimiter(Protocol):
    """What TikTokClient needs of a limiter: the token's budgets, the app's window and TikTok's
    own Retry-After, kept per access token and endpoint (after a 429 nothing calls that token
    and endpoint again before it elapses)."""

    def acquire(self, *, access_token: str, family: str) -> float:
        """Take one slot. Return 0.0 when granted, else seconds until a slot frees up."""
        ...

    def admit(
        self,
        *,
        access_token: str,
        endpoint: str,
        family: str | None,
        app: AppBudget | None = None,
    ) -> Admission:
        """The request path's check, in one step (one round trip to a shared store): nothing is
        taken while a hold runs, nor unless both the token's `family` budget and the `app`
        window have room; then one slot of each is taken."""
        ...

    def hold(self, *, access_token: str, endpoint: str, seconds: float) -> None:
        """Block `endpoint` for `access_token` for `seconds` (never shortens a longer hold)."""
        ...

    def held_for(self, *, access_token: str, endpoint: str) -> float:
        """Seconds until `endpoint` may be called again with `access_token`; 0.0 when free."""
        ...


class NoRateLimiter:
    """Never limits; for tests that want to observe TikTok's own 429s."""

    def acquire(self, *, access_token: str, family: str) -> float:
        return 0.0

    def admit(
        self,
        *,
        access_token: str,
        endpoint: str,
        family: str | None,
        app: AppBudget | None = None,
    ) -> Admission:
        return Admission()

    def hold(self, *, access_token: str, endpoint: str, seconds: float) -> None:
        return None

    def held_for(self, *, access_token: str, endpoint: str) -> float:
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
        self._app_hits: dict[str, deque[float]] = defaultdict(deque)
        self._holds: dict[tuple[str, str], float] = {}

    def acquire(self, *, access_token: str, family: str) -> float:
        limit = limit_of(self._limits, family)
        if limit is None:
            return 0.0
        key = (token_fingerprint(access_token), family)
        with self._lock:
            now = self._clock()
            hits = self._hits[key]
            wait = self._wait_in(hits, limit, now)
            if not wait:
                hits.append(now)
            return wait

    def _wait_in(self, hits: deque[float], ceiling: int, now: float) -> float:
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) < ceiling:
            return 0.0
        # Room comes back once all but ceiling - 1 of the calls in the window have aged out.
        edge = hits[len(hits) - ceiling] if ceiling > 0 else now
        return max(edge + self._window - now, 0.001)

    def admit(
        self,
        *,
        access_token: str,
        endpoint: str,
        family: str | None,
        app: AppBudget | None = None,
    ) -> Admission:
        limit = limit_of(self._limits, family)
        fingerprint = token_fingerprint(access_token)
        with self._lock:
            now = self._clock()
            until = self._holds.get((fingerprint, endpoint))
            if until is not None and until > now:
                return Admission(held=until - now)
            token = (
                (self._hits[(fingerprint, family)], limit)
                if family is not None and limit is not None
                else None
            )
            shared = (self._app_hits[app.app_id], app.ceiling) if app is not None else None
            wait = self._wait_in(*token, now) if token else 0.0
            app_wait = self._wait_in(*shared, now) if shared else 0.0
            if wait or app_wait:
                return Admission(wait=wait, app_wait=app_wait)
            for hits, _ceiling in filter(None, (token, shared)):
                hits.append(now)
            return Admission()

    def clear(self) -> None:
        """Forget every window and hold (as if a long quiet time had passed)."""
        with self._lock:
            self._hits.clear()
            self._app_hits.clear()
            self._holds.clear()

    def hold(self, *, access_token: str, endpoint: str, seconds: float) -> None:
        key = (token_fingerprint(access_token), endpoint)
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            self._holds[key] = max(self._holds.get(key, 0.0), until)

    def held_for(self, *, access_token: str, endpoint: str) -> float:
        key = (token_fingerprint(access_token), endpoint)
        with self._lock:
            until = self._holds.get(key)
            if until is None:
                return 0.0
            remaining = until - self._clock()
            if remaining <= 0:
                del self._holds[key]
                return 0.0
            return remaining


# Redis' own clock keeps workers on different hosts on one clock (read in the script: one
# round trip per request, not two).
_REDIS_ACQUIRE = """
local key = KEYS[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', key, now, ARGV[3])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return '0'
"""

# TikTok's Retry-After first (a running hold takes no slot), then the sliding windows of
# _REDIS_ACQUIRE: KEYS[1] the hold, then the token's window for the endpoint family (when ARGV[2],
# its limit, is not empty) and the app's window (when ARGV[3], this call's ceiling, is not
# empty). A slot is taken in each only when every window has room.
_REDIS_ADMIT = """
local held = redis.call('PTTL', KEYS[1])
if held > 0 then
  return {tostring(held / 1000), '0', '0'}
end
local window = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local waits, budgeted, refused = {'0', '0'}, {}, false
local next_key = 2
for slot = 1, 2 do
  local ceiling = tonumber(ARGV[slot + 1])
  if ceiling then
    local key = KEYS[next_key]
    next_key = next_key + 1
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    if count >= ceiling then
      -- Room comes back once all but ceiling - 1 of the calls in the window have aged out.
      local wait = window
      if ceiling > 0 then
        local edge = redis.call('ZRANGE', key, count - ceiling, count - ceiling, 'WITHSCORES')
        wait = tonumber(edge[2]) + window - now
      end
      waits[slot] = tostring(wait)
      refused = true
    end
    table.insert(budgeted, key)
  end
end
if refused then
  return {'0', waits[1], waits[2]}
end
for _, key in ipairs(budgeted) do
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
end
return {'0', '0', '0'}
"""

# Extend a hold, never shorten it: a late, shorter Retry-After must not unblock early.
_REDIS_HOLD = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return 1
"""


def _at_least_a_ms(wait: float) -> float:
    return max(wait, 0.001) if wait > 0 else 0.0


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
        self._hold_script = self._redis.register_script(_REDIS_HOLD)
        self._admit_script = self._redis.register_script(_REDIS_ADMIT)

    def _key(self, access_token: str, family: str) -> str:
        return f"{self._prefix}:{family}:{token_fingerprint(access_token)}"

    def acquire(self, *, access_token: str, family: str) -> float:
        limit = limit_of(self._limits, family)
        if limit is None:
            return 0.0
        result = self._script(
            keys=[self._key(access_token, family)], args=[self._window, limit, uuid.uuid4().hex]
        )
        return _at_least_a_ms(float(result.decode() if isinstance(result, bytes) else result))

    def admit(
        self,
        *,
        access_token: str,
        endpoint: str,
        family: str | None,
        app: AppBudget | None = None,
    ) -> Admission:
        limit = limit_of(self._limits, family)
        keys = [self._hold_key(access_token, endpoint)]
        if limit is not None and family is not None:
            keys.append(self._key(access_token, family))
        if app is not None:
            keys.append(self._app_key(app.app_id))
        args = [
            self._window,
            "" if limit is None else limit,
            "" if app is None else app.ceiling,
            uuid.uuid4().hex,
        ]
        held, wait, app_wait = (
            float(v.decode() if isinstance(v, bytes) else v)
            for v in self._admit_script(keys=keys, args=args)
        )
        if held > 0:
            return Admission(held=max(held, 0.001))
        return Admission(wait=_at_least_a_ms(wait), app_wait=_at_least_a_ms(app_wait))

    def _app_key(self, app_id: str) -> str:
        return f"{self._prefix}:app:{app_id}"

    def reset(self, *, access_token: str, family: str) -> None:
        self._redis.delete(self._key(access_token, family))

    def reset_app(self, *, app_id: str) -> None:
        self._redis.delete(self._app_key(app_id))

    def _hold_key(self, access_token: str, endpoint: str) -> str:
        return f"{self._prefix}:hold:{endpoint}:{token_fingerprint(access_token)}"

    def hold(self, *, access_token: str, endpoint: str, seconds: float) -> None:
        ms = math.ceil(max(seconds, 0.0) * 1000)
        if ms > 0:
            self._hold_script(keys=[self._hold_key(access_token, endpoint)], args=[ms])

    def held_for(self, *, access_token: str, endpoint: str) -> float:
        ms = int(self._redis.pttl(self._hold_key(access_token, endpoint)))
        return ms / 1000 if ms > 0 else 0.0

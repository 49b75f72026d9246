"""The webhook sender: signed, at-least-once deliveries from a background thread (§2.8, §4.6).

TikTok delivers each event at least once, retries non-200 answers with backoff, and may repeat
or reorder deliveries. The sender does the same by default: some events arrive twice
(``duplicate_rate``) and each delivery is late by a random jitter (``jitter_seconds``), so
events close together arrive out of order. Knobs make more of it happen on purpose:
``duplicates`` (extra copies of every event), ``delay_seconds``, ``reorder`` (due deliveries sent
newest first) and ``drop_rate`` or the ``webhook_drop`` fault (the event is lost).
``exactly_once`` turns duplicates, jitter and reordering off: more lenient than TikTok, so only a
test that counts or orders the deliveries themselves may set it, saying why. Every event is kept
in ``log()``, also when the app has no callback URL, so tests can see what TikTok would have sent.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from tiktok_client.simulator.clock import SimClock
from tiktok_client.simulator.faults import SimFaults
from tiktok_client.simulator.models import SimApp

POLL_SECONDS = 0.1


@dataclass
class WebhookSettings:
    delay_seconds: float = 0.0
    # §2.8: "at least once ... may repeat or arrive out of order". A tenth of the events twice
    # and up to a second late by default, as TikTok behaves; ``exactly_once`` is the opt-out.
    jitter_seconds: float = 1.0
    duplicates: int = 0
    duplicate_rate: float = 0.1
    reorder: bool = False
    exactly_once: bool = False
    drop_rate: float = 0.0
    max_attempts: int = 5
    retry_base_seconds: float = 0.5
    timeout_seconds: float = 5.0
    # §2.8: HMAC-SHA256 over ``t + "." + body``. One Business library signs ``t + body``
    # (conflict, [U]); set False to send that form.
    signature_dot: bool = True

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Delivery:
    id: int
    event_id: int
    client_key: str
    event: str
    body: str
    url: str | None
    secret: str
    due_at: float
    copy: int = 0
    status: str = "pending"  # pending | delivered | failed | dropped | no_callback
    attempts: int = 0
    answers: list[str] = field(default_factory=list)
    sent_at: float | None = None
    signature: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "client_key": self.client_key,
            "event": self.event,
            "body": json.loads(self.body),
            "url": self.url,
            "copy": self.copy,
            "status": self.status,
            "attempts": self.attempts,
            "answers": list(self.answers),
            "signature": self.signature,
        }


def sign(secret: str, body: str, timestamp: int, *, dot: bool = True) -> str:
    """The ``TikTok-Signature`` header value: ``t=<unix>,s=<hex hmac-sha256>``."""
    payload = f"{timestamp}.{body}" if dot else f"{timestamp}{body}"
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def post(url: str, body: str, signature: str, timeout: float) -> int:
    """POST one delivery; returns the HTTP status. Header names as TikTok spells them."""
    parts = urllib.parse.urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.netloc, timeout=timeout)
    try:
        path = parts.path or "/"
        connection.request(
            "POST",
            f"{path}?{parts.query}" if parts.query else path,
            body=body.encode(),
            headers={"Content-Type": "application/json", "TikTok-Signature": signature},
        )
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


class WebhookSender:
    def __init__(
        self,
        clock: SimClock,
        state_lock: Any,
        *,
        faults: SimFaults | None = None,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.settings = WebhookSettings()
        self.faults = faults
        self._state_lock = state_lock
        self._tick = tick
        self._lock = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._events = 0
        self._rng = random.Random("tiktok-sim:webhooks")
        self._thread: threading.Thread | None = None
        self._stopping = False

    def reset(self, clock: SimClock) -> None:
        with self._lock:
            self.clock = clock
            self.settings = WebhookSettings()
            self._deliveries.clear()
            self._events = 0
            # The same duplicates and jitter for the same events, whatever ran before.
            self._rng = random.Random("tiktok-sim:webhooks")

    # ------------------------------------------------------------------ producing

    def emit(self, *, app: SimApp, event: str, user_openid: str, content: dict[str, Any]) -> None:
        """Queue one event for ``app`` (§2.8 body; ``content`` is a JSON string in it)."""
        body = json.dumps(
            {
                "client_key": app.client_key,
                "event": event,
                "create_time": int(self.clock.now()),
                "user_openid": user_openid,
                "content": json.dumps(content, separators=(",", ":")),
            },
            separators=(",", ":"),
        )
        dropped = self.faults is not None and (
            self.faults.take(event, frozenset({"webhook_drop"})) is not None
        )
        with self._lock:
            self._events += 1
            settings = self.settings
            dropped = dropped or self._rng.random() < settings.drop_rate
            copies = 1 + settings.duplicates + (self._rng.random() < settings.duplicate_rate)
            jitter = settings.jitter_seconds
            if settings.exactly_once:
                copies, jitter = 1, 0.0
            now = time.monotonic()
            for copy in range(1 if dropped or not app.webhook_url else copies):
                delivery = Delivery(
                    id=len(self._deliveries) + 1,
                    event_id=self._events,
                    client_key=app.client_key,
                    event=event,
                    body=body,
                    url=app.webhook_url,
                    secret=app.client_secret,
                    due_at=now + settings.delay_seconds + self._rng.uniform(0.0, jitter),
                    copy=copy,
                )
                if dropped:
                    delivery.status = "dropped"
                elif not app.webhook_url:
                    delivery.status = "no_callback"
                self._deliveries.append(delivery)
            self._lock.notify_all()
            start = delivery.status == "pending"
        if start:
            self.ensure_running()

    # ------------------------------------------------------------------ inspecting

    def log(self, *, event: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_json() for d in self._deliveries if event in (None, d.event)]

    def pending(self) -> int:
        with self._lock:
            return sum(1 for d in self._deliveries if d.status == "pending")

    def flush(self, timeout: float = 10.0) -> bool:
        """Deliver everything due now and wait for pending deliveries; False on timeout.
        Call without holding the state lock (the sender thread needs it)."""
        if self._tick is not None:
            with self._state_lock:
                self._tick()
        self.ensure_running()
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = [d for d in self._deliveries if d.status == "pending"]
            # Everything due now, in the order the delays and jitter gave (out of order stays
            # out of order).
            early = max((d.due_at for d in pending), default=0.0) - time.monotonic()
            for delivery in pending:
                delivery.due_at -= max(early, 0.0)
            self._lock.notify_all()
            while any(d.status == "pending" for d in self._deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, POLL_SECONDS))
        return True

    # ------------------------------------------------------------------ the thread

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="tiktok-sim-webhooks", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
            if self._tick is not None:
                # Publishes advance with simulated time; ticking here sends their webhooks
                # without waiting for the product to poll.
                with self._state_lock:
                    self._tick()
            for delivery in self._due():
                self._attempt(delivery)
            with self._lock:
                if not self._stopping:
                    self._lock.wait(POLL_SECONDS)

    def _due(self) -> list[Delivery]:
        now = time.monotonic()
        with self._lock:
            due = [d for d in self._deliveries if d.status == "pending" and d.due_at <= now]
            reorder = self.settings.reorder and not self.settings.exactly_once
            due.sort(key=lambda d: (d.due_at, d.id), reverse=reorder)
            return due

    def _attempt(self, delivery: Delivery) -> None:
        with self._lock:
            settings = self.settings
        timestamp = int(time.time())
        signature = sign(delivery.secret, delivery.body, timestamp, dot=settings.signature_dot)
        try:
            outcome = str(
                post(str(delivery.url), delivery.body, signature, settings.timeout_seconds)
            )
        except (OSError, ValueError, http.client.HTTPException) as exc:
            outcome = f"error: {exc.__class__.__name__}"
        with self._lock:
            delivery.attempts += 1
            delivery.answers.append(outcome)
            delivery.signature = signature
            delivery.sent_at = time.time()
            if outcome.isdigit() and 200 <= int(outcome) < 300:
                delivery.status = "delivered"
            elif delivery.attempts >= settings.max_attempts:
                delivery.status = "failed"
            else:
                # TikTok retries with exponential backoff (for up to 72 h, §2.8).
                delivery.due_at = time.monotonic() + settings.retry_base_seconds * (
                    2 ** (delivery.attempts - 1)
                )
            self._lock.notify_all()

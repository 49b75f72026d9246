"""What the broker still holds of the publishing queue: the sweeper's evidence that a queued
post's message is waiting its turn, not lost.

Each publish message carries its claim token as its Celery task id (dispatch._send), so
the sweeper can look for exactly the message a queued post is waiting on:
- still in the queue's Redis lists: a pool that starts slowly, or is busy, will get to it;
  re-offering it would only put a second copy behind the first;
- delivered to a worker and not yet acknowledged (kombu's `unacked` hash): a live worker
  is about to run it, a killed one will not;
- in neither: it is gone (the broker restarted empty, a message was dropped).

Only the Redis transport can answer; with any other broker (the quick start's filesystem
one) or when Redis does not answer, `publishing_messages` returns None and the sweeper keeps
its guess from the order posts were started in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

#: Read at most this many messages of each list (the oldest): past it, a post not found
#: there counts as waiting (the sweeper's max-wait rule still applies to it).
SCAN_LIMIT = 20_000


@dataclass(frozen=True)
class BrokerHolds:
    waiting: frozenset[str]  # ids of the wanted messages still in the queue
    taken: frozenset[str]  # ids delivered to a worker and not acknowledged
    complete: bool  # every list was read to its end


def _message_id(raw: bytes | str) -> str | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if isinstance(payload, list) and payload:  # unacked: [message, exchange, routing_key]
        payload = payload[0]
    if not isinstance(payload, dict):
        return None
    headers = payload.get("headers") or {}
    properties = payload.get("properties") or {}
    found = headers.get("id") or properties.get("correlation_id")
    return str(found) if found else None


def _found(raws: Iterable[bytes | str], wanted: Collection[str]) -> set[str]:
    ids = (_message_id(raw) for raw in raws)
    return {i for i in ids if i is not None and i in wanted}


def _queue_keys(channel: Any, queue: str) -> list[str]:
    """The queue's lists, one per priority step (kombu's Redis transport: `queue` for the
    first step, `queue<sep><step>` for the others)."""
    steps = sorted({int(step) for step in channel.priority_steps})
    return [queue if i == 0 else f"{queue}{channel.sep}{step}" for i, step in enumerate(steps)]


def publishing_messages(queue: str, wanted: Collection[str]) -> BrokerHolds | None:
    """Which of the `wanted` message ids the broker holds for `queue`; None when it cannot say.

    One MULTI reads the queue's lists (their oldest SCAN_LIMIT messages: consumers pop at
    that end, and the posts the sweeper asks about are the oldest queued ones) and the
    unacked hash at one instant, so a message moving from one to the other is seen in one
    of them. (kombu moves it in two steps, so a message taken in the same instant may be
    missed: its post is then re-offered and the stale message finds its claim void.)"""
    from later.celery import app

    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            client = getattr(channel, "client", None)
            if client is None or not hasattr(channel, "unacked_key"):
                return None  # not the Redis transport
            keys = _queue_keys(channel, queue)
            with client.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.llen(key)
                    pipe.lrange(key, -SCAN_LIMIT, -1)
                pipe.hvals(channel.unacked_key)
                answers = pipe.execute()
    except Exception as exc:  # unreachable, or not the broker we expect: no evidence
        logger.warning("could not read the %s queue from the broker: %s", queue, exc)
        return None
    lengths, lists, unacked = answers[0:-1:2], answers[1:-1:2], answers[-1]
    wanted = set(wanted)
    waiting: set[str] = set()
    for raws in lists:
        waiting |= _found(raws, wanted)
    taken = _found(unacked, wanted - waiting)
    complete = all(int(length) <= SCAN_LIMIT for length in lengths)
    return BrokerHolds(frozenset(waiting), frozenset(taken), complete)

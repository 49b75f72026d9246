"""Run one call from many threads released together, as racing workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def race(workers: int, call: Callable[[], T]) -> tuple[list[T], list[BaseException]]:
    """Each thread runs `call` once after a barrier; returns what they got and what they raised."""
    barrier = threading.Barrier(workers)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            value = call()
            with lock:
                results.append(value)
        except BaseException as exc:  # collected for the test to assert on
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors

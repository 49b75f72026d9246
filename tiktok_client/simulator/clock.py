"""Simulated time: real time scaled by ``speed`` plus manual advances."""

from __future__ import annotations

import threading
import time


class SimClock:
    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._speed = speed
        self._real_anchor = time.time()
        self._sim_anchor = self._real_anchor if start is None else start

    def now(self) -> float:
        with self._lock:
            return self._sim_anchor + (time.time() - self._real_anchor) * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        current = self.now()
        with self._lock:
            self._sim_anchor = current
            self._real_anchor = time.time()
            self._speed = speed

    def restart_at(self, sim_now: float) -> None:
        """Continue from ``sim_now`` (a simulator loading its saved state)."""
        with self._lock:
            self._sim_anchor = sim_now
            self._real_anchor = time.time()

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._sim_anchor += seconds
        return self.now()

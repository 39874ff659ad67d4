"""Sliding-window limits: how many times a key (a login, an address) did something recently."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class WindowLimit:
    """At most `limit` counted events per key within `window_s`; then the key waits until the
    oldest leaves the window. In memory: one app process (several processes: a shared store)."""

    limit: int
    window_s: float
    max_keys: int = 100_000  # a flood of invented keys must not grow memory without bound
    _events: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float | None = None) -> float | None:
        """Seconds until this key may try again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        if key not in self._events:  # asking must not store a key
            return None
        events = self._recent(key, now)
        if len(events) < self.limit:
            return None
        return max(events[0] + self.window_s - now, 0.1)

    def count(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if key not in self._events and len(self._events) >= self.max_keys:
            self._forget_stale(now)
        self._recent(key, now).append(now)

    def reset(self, key: str) -> None:
        self._events.pop(key, None)

    def uncount(self, key: str) -> None:
        """Take back the latest counted event of a key (it turned out not to count)."""
        events = self._events.get(key)
        if events:
            events.pop()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def _forget_stale(self, now: float) -> None:
        for key in [k for k, f in self._events.items() if not f or f[-1] <= now - self.window_s]:
            del self._events[key]
        if len(self._events) >= self.max_keys:  # all recent: forget the oldest half
            for key in list(self._events)[: self.max_keys // 2]:
                del self._events[key]

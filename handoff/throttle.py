"""Failed log-ins counted per login and per address: guessing passwords stops after a few tries."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class FailureThrottle:
    """At most `limit` failures per key within `window_s`; then the key waits until the oldest
    failure leaves the window. In memory: one app process (several processes: a shared store)."""

    limit: int
    window_s: float
    max_keys: int = 100_000  # a flood of invented logins must not grow memory without bound
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float | None = None) -> float | None:
        """Seconds until this key may try again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(key, now)
        if len(failures) < self.limit:
            return None
        return max(failures[0] + self.window_s - now, 0.1)

    def failed(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._forget_stale(now)
        self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def _forget_stale(self, now: float) -> None:
        for key in [k for k, f in self._failures.items() if not f or f[-1] <= now - self.window_s]:
            del self._failures[key]
        if len(self._failures) >= self.max_keys:  # all recent: forget the oldest half
            for key in list(self._failures)[: self.max_keys // 2]:
                del self._failures[key]


@dataclass
class LoginThrottles:
    """Per login (one operator's password) and per client address (many logins tried from one place)."""

    per_login: FailureThrottle = field(default_factory=lambda: FailureThrottle(limit=5, window_s=300))
    per_address: FailureThrottle = field(default_factory=lambda: FailureThrottle(limit=30, window_s=300))

    def retry_after(self, login: str, address: str) -> float | None:
        waits = [w for w in (self.per_login.retry_after(login), self.per_address.retry_after(address)) if w]
        return max(waits) if waits else None

    def failed(self, login: str, address: str) -> None:
        self.per_login.failed(login)
        self.per_address.failed(address)

    def succeeded(self, login: str) -> None:
        self.per_login.succeeded(login)

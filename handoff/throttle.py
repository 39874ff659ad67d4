"""Failed log-ins counted per login and per address: guessing passwords stops after a few tries."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.ratelimit import WindowLimit


@dataclass
class LoginThrottles:
    """Per login (one operator's password) and per client address (many logins tried from one place)."""

    per_login: WindowLimit = field(default_factory=lambda: WindowLimit(limit=5, window_s=300))
    per_address: WindowLimit = field(default_factory=lambda: WindowLimit(limit=30, window_s=300))

    def retry_after(self, login: str, address: str) -> float | None:
        waits = [w for w in (self.per_login.retry_after(login), self.per_address.retry_after(address)) if w]
        return max(waits) if waits else None

    def failed(self, login: str, address: str) -> None:
        self.per_login.count(login)
        self.per_address.count(address)

    def succeeded(self, login: str) -> None:
        self.per_login.reset(login)

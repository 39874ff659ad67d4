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

    def attempt(self, login: str, address: str) -> float | None:
        """Counts an attempt as failed before its password is checked, so attempts arriving
        together (the check takes about 30 ms each, one at a time) cannot all pass the limit;
        returns the wait instead when the limit is reached. `succeeded` takes it back."""
        wait = self.retry_after(login, address)
        if wait is None:
            self.per_login.count(login)
            self.per_address.count(address)
        return wait

    def not_tried(self, login: str, address: str) -> None:
        """The password was never checked (the checker was busy): the attempt does not count."""
        self.per_login.uncount(login)
        self.per_address.uncount(address)

    def succeeded(self, login: str, address: str) -> None:
        self.per_login.reset(login)
        self.per_address.uncount(address)  # colleagues behind one office address log in too

"""Failed log-ins counted per login and per address: guessing passwords stops after a few tries.

The counts are shared by every app process on PostgreSQL (core.ratelimit), so spreading guesses over
the processes behind a load balancer gains nothing; one app process (SQLite) counts in memory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ratelimit import Limit, window_limit

WINDOW_S = 300.0
PER_LOGIN = 5
PER_ADDRESS = 30


@dataclass(frozen=True)
class LoginThrottles:
    """Per login (one operator's password) and per client address (many logins tried from one place)."""

    per_login: Limit
    per_address: Limit

    @classmethod
    def for_database(cls, sessions: async_sessionmaker[AsyncSession]) -> LoginThrottles:
        return cls(
            window_limit(sessions, "login", PER_LOGIN, WINDOW_S),
            window_limit(sessions, "login-address", PER_ADDRESS, WINDOW_S),
        )

    async def attempt(self, login: str, address: str) -> float | None:
        """Counts an attempt as failed before its password is checked, so attempts arriving
        together (the check takes about 30 ms each, one at a time) cannot all pass the limit;
        returns the wait instead when the limit is reached. `succeeded` takes it back."""
        wait = await self.per_login.take(login)
        if wait is not None:
            return wait
        wait = await self.per_address.take(address)
        if wait is not None:
            await self.per_login.uncount(login)
        return wait

    async def not_tried(self, login: str, address: str) -> None:
        """The password was never checked (the checker was busy): the attempt does not count."""
        await self.per_login.uncount(login)
        await self.per_address.uncount(address)

    async def succeeded(self, login: str, address: str) -> None:
        await self.per_login.reset(login)
        await self.per_address.uncount(address)  # colleagues behind one office address log in too

"""Sliding-window limits: how many times a key (a login, an address) did something recently.

`WindowLimit` counts in this process's memory (one app process: SQLite). With several app processes
a client could spread its tries over them and get the limit once per process, so on PostgreSQL the
counts are rows of `rate_limit_events`, shared by every process (`SharedWindowLimit`). Why a table
and not Redis: the app already holds a pool to this database and needs no new client or service
for it; the events counted (failed log-ins, new web conversations) are rare, each a small indexed
write; and `take` is atomic across processes under a transaction-scoped advisory lock per key.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Index, String, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, utcnow


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


class Limit(Protocol):
    """A sliding-window limit as the routes use it, in memory or shared by every app process."""

    async def take(self, key: str) -> float | None:
        """Counts an event when the key may act now (None); else the seconds to wait, uncounted."""
        ...

    async def retry_after(self, key: str) -> float | None: ...

    async def count(self, key: str) -> None: ...

    async def uncount(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...


class LocalLimit:
    """A WindowLimit of this process's own (one app process)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.window = WindowLimit(limit, window_s)

    async def take(self, key: str) -> float | None:
        wait = self.window.retry_after(key)
        if wait is None:
            self.window.count(key)
        return wait

    async def retry_after(self, key: str) -> float | None:
        return self.window.retry_after(key)

    async def count(self, key: str) -> None:
        self.window.count(key)

    async def uncount(self, key: str) -> None:
        self.window.uncount(key)

    async def reset(self, key: str) -> None:
        self.window.reset(key)


class RateLimitEvent(Base):
    """One counted event of a shared limit (`scope`) for a key (a login, a client address)."""

    __tablename__ = "rate_limit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_rate_limit_events_key", "scope", "key", "at"),
        Index("ix_rate_limit_events_at", "scope", "at"),
    )


# Advisory locks take two int4 keys; the first says what is locked (see core.advisory_locks).
RATE_LIMITS = 5
_LOCK = text("SELECT pg_advisory_xact_lock(CAST(:namespace AS integer), CAST(:key AS integer))")
KEY_LENGTH = 160


class SharedWindowLimit:
    """A WindowLimit whose events are rows, counted alike by every app process on one PostgreSQL
    database. Time is each process's clock (they agree to well within a window, as with NTP)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: str,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.scope = scope
        self.limit = limit
        self.window = timedelta(seconds=window_s)
        self._clock = clock

    async def take(self, key: str) -> float | None:
        key = key[:KEY_LENGTH]
        async with self._sessions() as db, db.begin():
            # Two processes taking for one key at once: the second waits, then sees the first's row.
            await db.execute(_LOCK, {"namespace": RATE_LIMITS, "key": _lock_key(f"{self.scope}\n{key}")})
            wait = await self._wait(db, key)
            if wait is None:
                await self._add(db, key)
            return wait

    async def retry_after(self, key: str) -> float | None:
        async with self._sessions() as db:
            return await self._wait(db, key[:KEY_LENGTH])

    async def count(self, key: str) -> None:
        async with self._sessions() as db, db.begin():
            await self._add(db, key[:KEY_LENGTH])

    async def uncount(self, key: str) -> None:
        newest = (
            select(func.max(RateLimitEvent.id))
            .where(RateLimitEvent.scope == self.scope, RateLimitEvent.key == key[:KEY_LENGTH])
            .scalar_subquery()
        )
        async with self._sessions() as db, db.begin():
            await db.execute(delete(RateLimitEvent).where(RateLimitEvent.id == newest))

    async def reset(self, key: str) -> None:
        async with self._sessions() as db, db.begin():
            await db.execute(
                delete(RateLimitEvent).where(
                    RateLimitEvent.scope == self.scope, RateLimitEvent.key == key[:KEY_LENGTH]
                )
            )

    async def _wait(self, db: AsyncSession, key: str) -> float | None:
        now = self._clock()
        recent = list(
            await db.scalars(
                select(RateLimitEvent.at)
                .where(
                    RateLimitEvent.scope == self.scope,
                    RateLimitEvent.key == key,
                    RateLimitEvent.at > now - self.window,
                )
                .order_by(RateLimitEvent.at.desc())
                .limit(self.limit)
            )
        )
        if len(recent) < self.limit:
            return None
        return max((recent[-1] + self.window - now).total_seconds(), 0.1)

    async def _add(self, db: AsyncSession, key: str) -> None:
        now = self._clock()
        # Events that left the window are kept by nobody: each write clears its scope's.
        await db.execute(
            delete(RateLimitEvent).where(
                RateLimitEvent.scope == self.scope, RateLimitEvent.at <= now - self.window
            )
        )
        db.add(RateLimitEvent(scope=self.scope, key=key, at=now))


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def window_limit(
    sessions: async_sessionmaker[AsyncSession], scope: str, limit: int, window_s: float
) -> Limit:
    """Shared by every app process on PostgreSQL; in this process's memory on SQLite (it serves one)."""
    if sessions.kw["bind"].dialect.name == "sqlite":
        return LocalLimit(limit, window_s)
    return SharedWindowLimit(sessions, scope, limit, window_s)

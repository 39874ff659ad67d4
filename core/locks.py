"""Per-customer locks: what they promise (CustomerLocks) and the in-process kind (KeyedLocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class CustomerLocks(Protocol):
    """One customer's turns (and the start of their call) never interleave; other customers' do.
    KeyedLocks keeps that within one process (SQLite); core.advisory_locks across processes."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Serialise work per key (one customer's turns in order); other keys run in parallel."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)

"""One sender per chat at a time, across app processes: "what is unsent, send it, mark it sent".

With several app processes, a chat's replies may be delivered by the process that handled the
customer's update (webhooks reach any process) while the lease holder relays an operator's message
to the same chat. Each reads the chat's cursor, sends what follows it and advances it; two at once
would both send the same messages. Within a process the chat's worker keeps them apart; across
processes a PostgreSQL advisory lock per chat does, and the cursor is read after it is taken.

The lock is transaction-scoped on a pooled connection, as core.advisory_locks explains: it ends
with its transaction, so a failed or cancelled delivery, or a dead process, leaves none behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

# Advisory locks take two int4 keys; the first says what is locked: 1 customers' turns
# (core.advisory_locks), 2 singleton leases (core.lease), 3 migrations (core/migrations/env.py).
CHAT_DELIVERY = 4

_WAIT_AT_MOST = text("SELECT set_config('lock_timeout', :timeout, true)")
_LOCK = text("SELECT pg_advisory_xact_lock(CAST(:namespace AS integer), CAST(:key AS integer))")


class DeliveryLocks(Protocol):
    def hold(self, chat_id: int) -> AbstractAsyncContextManager[None]: ...


class InProcessDelivery:
    """One app process (SQLite): the chat's worker already runs its deliveries one at a time."""

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        yield


def chat_lock_key(chat_id: int) -> int:
    """A chat id (up to 52 bits) as a signed int4, the same in every process."""
    digest = hashlib.blake2b(str(chat_id).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryDelivery:
    """Chats' deliveries serialised across every app process on one PostgreSQL database."""

    def __init__(self, engine: AsyncEngine, *, max_holders: int, wait_timeout_s: float) -> None:
        self._engine = engine
        # A holder keeps its connection while Telegram answers (flood-control waits included):
        # at most this many at once, so deliveries never take the pool from the turns.
        self._holders = asyncio.Semaphore(max_holders)
        self._wait_timeout = f"{max(1, round(wait_timeout_s * 1000))}ms"

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        async with self._holders, self._engine.connect() as connection:
            await connection.execute(_WAIT_AT_MOST, {"timeout": self._wait_timeout})
            await connection.execute(_LOCK, {"namespace": CHAT_DELIVERY, "key": chat_lock_key(chat_id)})
            try:
                yield
            finally:
                try:
                    await connection.rollback()
                except Exception:  # its connection died: the server freed the lock with it
                    logger.warning("telegram delivery lock: connection lost", exc_info=True)
                    await connection.invalidate()


def delivery_locks(engine: AsyncEngine, *, wait_timeout_s: float) -> DeliveryLocks:
    """Across processes on PostgreSQL; SQLite serves one app process."""
    if engine.dialect.name == "sqlite":
        return InProcessDelivery()
    pool = engine.pool.size() + max(0, getattr(engine.pool, "_max_overflow", 0))
    return AdvisoryDelivery(engine, max_holders=max(1, pool // 4), wait_timeout_s=wait_timeout_s)

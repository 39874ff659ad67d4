"""Per-customer locks that hold across app processes: PostgreSQL advisory locks, one per customer.

Each lock is transaction-scoped (`pg_advisory_xact_lock`) on a pooled connection used for nothing
else, and is held for the whole turn, the Rasa call included. Why this kind:
- It ends with its transaction, and the pool rolls back every connection it gets back (and drops
  one it cannot), so a turn that fails, is cancelled, or whose release step never runs leaves no
  lock behind. A session-level lock needs its `pg_advisory_unlock` to run; when it does not, the
  pooled connection keeps the lock for as long as it lives, and (being re-entrant per connection)
  lets a later turn on that connection in without waiting.
- The lock's transaction writes nothing and locks no rows, and at READ COMMITTED it keeps no
  snapshot between statements: open for a whole turn, it holds back neither writers nor vacuum. The
  turn's own writes commit as they go, in short transactions on other connections (store first).
- A process that dies drops its connections, the server ends their transactions, and the lock is
  free at once. (The database role's `idle_in_transaction_session_timeout`, if set, must be longer
  than a turn, or the server ends the lock's transaction mid-turn.)

What a turn costs in connections: one for the lock, held for the whole turn, plus one at a time
for its steps (each step opens and closes its own database session). At most half the pool
(pool_size + max_overflow) holds locks at once, so every holder finds its second connection and the
pool never fills with holders waiting for one. Turns beyond that wait in the process without a
connection, and so do further turns of a customer who is being served (the in-process lock in front).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.locks import KeyedLocks
from core.settings import DbSettings

logger = logging.getLogger(__name__)

# Advisory locks take two int4 keys: the first says what is locked, so other uses of advisory locks
# in the same database never meet these.
CUSTOMER_TURNS = 1
# A turn waits at most this long for another process to finish the customer's turn (a few turns
# with a 15 s Rasa timeout); beyond it the turn fails as storage unavailable (503, retry), so a
# process that hangs while holding a customer cannot hold up that customer's turns for ever.
WAIT_TIMEOUT_S = 60.0  # the default of FRONTLINE_SCALE_OUT__CUSTOMER_LOCK_WAIT_S

# One round trip: the wait limit (for this transaction only) is set in a materialised CTE, which
# the lock's row is read from, so it is in force before the lock is asked for.
_LOCK = text(
    "WITH wait_at_most AS MATERIALIZED (SELECT set_config('lock_timeout', :timeout, true)) "
    "SELECT pg_advisory_xact_lock(CAST(:namespace AS integer), CAST(:key AS integer)) FROM wait_at_most"
)


def customer_lock_key(customer_key: str) -> int:
    """The customer key as a signed int4, the same in every process (Python's hash() is salted per
    process). Two customers who share one only wait for each other now and then."""
    digest = hashlib.blake2b(customer_key.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLocks:
    """CustomerLocks across every app process on one PostgreSQL database."""

    def __init__(
        self, engine: AsyncEngine, *, max_holders: int, wait_timeout_s: float = WAIT_TIMEOUT_S
    ) -> None:
        self._engine = engine
        self._in_process = KeyedLocks()
        self._holders = asyncio.Semaphore(max_holders)
        self._wait_timeout = f"{max(1, round(wait_timeout_s * 1000))}ms"

    @classmethod
    def for_pool(
        cls, engine: AsyncEngine, db: DbSettings, *, wait_timeout_s: float = WAIT_TIMEOUT_S
    ) -> AdvisoryLocks:
        """Sized to the engine's pool: a holder may need a second connection (see the module)."""
        holders = max(1, (db.pool_size + db.max_overflow) // 2)
        return cls(engine, max_holders=holders, wait_timeout_s=wait_timeout_s)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Serialise one customer's work across processes; other customers run in parallel."""
        async with self._in_process.hold(key), self._holders, self._engine.connect() as connection:
            lock = {"timeout": self._wait_timeout, "namespace": CUSTOMER_TURNS, "key": customer_lock_key(key)}
            await connection.execute(_LOCK, lock)
            try:
                yield
            finally:
                await _release(connection)


async def _release(connection: AsyncConnection) -> None:
    """Ends the lock's transaction. A connection that cannot (it died during the turn) is dropped:
    the server has freed the lock with it, and the turn's own work is stored already."""
    try:
        await connection.rollback()
    except Exception:
        logger.warning("customer lock: its connection was lost during the turn", exc_info=True)
        await connection.invalidate()

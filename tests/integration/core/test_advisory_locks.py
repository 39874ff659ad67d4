"""Per-customer locks across processes on PostgreSQL: two engines stand for two app processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.advisory_locks import CUSTOMER_TURNS, AdvisoryLocks
from core.db import create_engine
from core.settings import DbSettings

pytestmark = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

ALICE, BOB = "web:alice", "web:bob"
# Long enough for a lock that should be free to be taken, short enough to keep the tests quick.
PROMPTLY_S = 5.0
# Long enough to be sure a waiter is still waiting and not merely slow to start.
STILL_WAITING_S = 0.3


@asynccontextmanager
async def engine_of(db_url: str, **pool: int) -> AsyncIterator[AsyncEngine]:
    """What one app process has: its own engine and pool."""
    engine = create_engine(DbSettings(url=db_url, **pool))
    try:
        yield engine
    finally:
        await engine.dispose()


async def enter_and_leave(locks: AdvisoryLocks, key: str) -> None:
    async with locks.hold(key):
        pass


async def advisory_locks_held(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        held = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = database"
                " WHERE locktype = 'advisory' AND classid = :namespace AND d.datname = current_database()"
            ),
            {"namespace": CUSTOMER_TURNS},
        )
    return int(held or 0)


async def test_a_customer_held_by_one_process_waits_in_another_while_other_customers_go_on(
    db_url: str,
) -> None:
    async with engine_of(db_url) as engine_a, engine_of(db_url) as engine_b:
        a, b = AdvisoryLocks.for_pool(engine_a, DbSettings()), AdvisoryLocks.for_pool(engine_b, DbSettings())
        async with a.hold(ALICE):
            alice_in_b = asyncio.create_task(enter_and_leave(b, ALICE))
            async with asyncio.timeout(PROMPTLY_S):
                await enter_and_leave(b, BOB)
            await asyncio.sleep(STILL_WAITING_S)
            assert not alice_in_b.done()
        async with asyncio.timeout(PROMPTLY_S):
            await alice_in_b
        assert await advisory_locks_held(engine_a) == 0


async def test_a_holder_whose_connection_dies_frees_the_customer_and_its_turn_still_ends_quietly(
    db_url: str,
) -> None:
    async with engine_of(db_url) as engine_a, engine_of(db_url) as engine_b:
        a, b = AdvisoryLocks.for_pool(engine_a, DbSettings()), AdvisoryLocks.for_pool(engine_b, DbSettings())
        async with a.hold(ALICE):
            alice_in_b = asyncio.create_task(enter_and_leave(b, ALICE))
            await asyncio.sleep(STILL_WAITING_S)
            await _kill_lock_holders(db_url)  # as when process A's machine goes away
            async with asyncio.timeout(PROMPTLY_S):
                await alice_in_b
        # A's turn is stored already: losing the lock's connection does not turn it into an error.
        async with asyncio.timeout(PROMPTLY_S):
            await enter_and_leave(a, ALICE)  # and A's pool gives it a working connection again


async def test_a_turn_cancelled_while_holding_or_waiting_leaves_no_lock_behind(db_url: str) -> None:
    async with engine_of(db_url) as engine_a, engine_of(db_url) as engine_b:
        a, b = AdvisoryLocks.for_pool(engine_a, DbSettings()), AdvisoryLocks.for_pool(engine_b, DbSettings())
        holding = asyncio.Event()

        async def hold_for_ever() -> None:
            async with a.hold(ALICE):
                holding.set()
                await asyncio.Event().wait()

        holder = asyncio.create_task(hold_for_ever())
        await holding.wait()
        waiter = asyncio.create_task(enter_and_leave(b, ALICE))
        await asyncio.sleep(STILL_WAITING_S)
        waiter.cancel()  # its client went away while it waited
        holder.cancel()  # and this one's while it was being answered
        await asyncio.gather(holder, waiter, return_exceptions=True)

        async with asyncio.timeout(PROMPTLY_S):
            await enter_and_leave(b, ALICE)
            await enter_and_leave(a, ALICE)
        assert await advisory_locks_held(engine_a) == 0


async def test_a_turn_that_waits_too_long_for_another_process_fails_instead_of_hanging(
    db_url: str,
) -> None:
    async with engine_of(db_url) as engine_a, engine_of(db_url) as engine_b:
        a = AdvisoryLocks.for_pool(engine_a, DbSettings())
        b = AdvisoryLocks(engine_b, max_holders=4, wait_timeout_s=0.2)
        async with a.hold(ALICE):
            with pytest.raises(DBAPIError):  # the app answers 503: not stored, send it again
                await enter_and_leave(b, ALICE)
        await enter_and_leave(b, ALICE)


async def test_holders_leave_room_in_the_pool_for_the_work_of_their_turns(db_url: str) -> None:
    """Two connections in the pool, two customers at once, each turn needing one more connection
    while it holds its lock: one holds at a time, so neither waits for a connection for ever."""
    async with engine_of(db_url, pool_size=1, max_overflow=1) as engine:
        locks = AdvisoryLocks.for_pool(engine, DbSettings(pool_size=1, max_overflow=1))

        async def turn(key: str) -> None:
            async with locks.hold(key), engine.connect() as work:
                await work.execute(text("SELECT pg_sleep(0.2)"))

        async with asyncio.timeout(PROMPTLY_S):
            await asyncio.gather(turn(ALICE), turn(BOB))


async def _kill_lock_holders(db_url: str) -> None:
    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks JOIN pg_database d ON d.oid = database"
            " WHERE locktype = 'advisory' AND granted AND classid = $1 AND d.datname = current_database()",
            CUSTOMER_TURNS,
        )
    finally:
        await admin.close()
    assert killed == 1
